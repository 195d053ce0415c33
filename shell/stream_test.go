package shell

import (
	"bytes"
	"io"
	"log/slog"
	"net/http"
	"testing"

	"github.com/collage-dev/collage/shell/compose"
	"github.com/collage-dev/collage/shell/invoke"
	"github.com/collage-dev/collage/shell/layout"
)

// held answers a fragment once released.
type held chan struct{}

func (h held) RoundTrip(r *http.Request) (*http.Response, error) {
	<-h
	return invoke.NewResponse(r, http.StatusOK, http.Header{}, []byte("<p>late</p>")), nil
}

// TestPageStreamRead: a reader that does not take WriteTo gets
// the whole page through Read, and Close ends the page once.
func TestPageStreamRead(t *testing.T) {
	t.Parallel()
	release := make(held)
	l, err := layout.Parse("p.html", []byte("<head></head><body><collage-slot frontend=x>fb</collage-slot></body>"))
	if err != nil {
		t.Fatal(err)
	}
	sh, err := New(Options{
		Routes:    []Route{{Pattern: "/", Layout: l}},
		Frontends: map[string]Frontend{"x": {Invoker: release}},
		Log:       slog.New(slog.DiscardHandler),
	})
	if err != nil {
		t.Fatal(err)
	}
	render, done := sh.Compose(sh.Pages()[0], &compose.Request{Path: "/", Header: http.Header{}})
	var prefix bytes.Buffer
	if complete, err := render.WritePrefix(&prefix); complete || err != nil {
		t.Fatalf("WritePrefix = %v, %v; want a prefix of a page still waiting", complete, err)
	}
	close(release)
	ended := 0
	s := &pageStream{pw: pageWriter{buf: &prefix, render: render}, done: func() { ended++; done() }, log: sh.Log()}
	page, err := io.ReadAll(s)
	if err != nil {
		t.Fatal(err)
	}
	if want := `<head></head><body><collage-slot frontend="x"><p>late</p></collage-slot></body>`; string(page) != want {
		t.Errorf("page = %s, want %s", page, want)
	}
	s.Close()
	s.Close()
	if ended != 1 {
		t.Errorf("the page ended %d times", ended)
	}
}
