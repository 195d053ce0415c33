package invoke_test

import (
	"bufio"
	"bytes"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/collage-dev/collage/shell"
	"github.com/collage-dev/collage/shell/cache"
	"github.com/collage-dev/collage/shell/compose"
	"github.com/collage-dev/collage/shell/invoke"
	"github.com/collage-dev/collage/shell/layout"
)

// misbehaving fragment servers, each a real HTTP server on 127.0.0.1.
var upstreams = map[string]http.HandlerFunc{
	"good": func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprintf(w, "<p>good for %s</p>", r.Header.Get("Collage-Path"))
	},
	"slow": func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-time.After(2 * time.Second):
		case <-r.Context().Done():
		}
		io.WriteString(w, "<p>too late</p>")
	},
	"failing": func(w http.ResponseWriter, r *http.Request) {
		http.Error(w, "boom", http.StatusInternalServerError)
	},
	"hanging": func(w http.ResponseWriter, r *http.Request) {
		<-r.Context().Done()
	},
	"huge": func(w http.ResponseWriter, r *http.Request) {
		chunk := bytes.Repeat([]byte("x"), 64<<10)
		for range 40 { // 2.5 MiB
			if _, err := w.Write(chunk); err != nil {
				return
			}
		}
	},
	"cut": func(w http.ResponseWriter, r *http.Request) {
		conn, buf, err := w.(http.Hijacker).Hijack()
		if err != nil {
			return
		}
		buf.WriteString("HTTP/1.1 200 OK\r\nContent-Type: text/html\r\nContent-Length: 1000\r\n\r\n<p>half")
		buf.Flush()
		conn.Close()
	},
	"latin1": func(w http.ResponseWriter, r *http.Request) {
		w.Write([]byte("<p>caf\xe9</p>"))
	},
	"badcache": func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Cache-Control", "max-age=soon")
		io.WriteString(w, "<p>shown, not cached</p>")
	},
}

// bufWriter is a compose.Writer over a buffer.
type bufWriter struct{ *bufio.Writer }

// clients are the two paths of an HTTP invoker's fragments: its own
// client, and net/http (RoundTrip alone, as an Invoker that fetches no
// fragment itself is used), whose page it must match.
var clients = map[string]func(base string) (invoke.Invoker, error){
	"net/http": func(base string) (invoke.Invoker, error) {
		inv, err := invoke.HTTP(base, invoke.HTTPOptions{})
		return roundTripOnly{inv}, err
	},
	"fragments": func(base string) (invoke.Invoker, error) { return invoke.HTTP(base, invoke.HTTPOptions{}) },
}

// roundTripOnly hides an invoker's FetchFragment.
type roundTripOnly struct{ invoke.Invoker }

func TestMisbehavingUpstreams(t *testing.T) {
	t.Parallel()
	for name, client := range clients {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			misbehavingUpstreams(t, client)
		})
	}
}

func misbehavingUpstreams(t *testing.T, client func(string) (invoke.Invoker, error)) {
	frontends := map[string]shell.Frontend{}
	var src strings.Builder
	src.WriteString("<!doctype html><html><head><title>t</title></head><body>\n")
	for _, name := range []string{"good", "slow", "failing", "hanging", "huge", "cut", "latin1", "badcache"} {
		srv := httptest.NewServer(upstreams[name])
		t.Cleanup(srv.Close)
		inv, err := client(srv.URL)
		if err != nil {
			t.Fatal(err)
		}
		frontends[name] = shell.Frontend{Invoker: inv}
		// Only the slow and hanging slots should reach their deadline; the
		// others get time to spare on a loaded machine.
		timeout := "5s"
		if name == "slow" || name == "hanging" {
			timeout = "300ms"
		}
		fmt.Fprintf(&src, `<collage-slot frontend="%s" timeout="%s">fallback of %s</collage-slot>`+"\n", name, timeout, name)
	}
	src.WriteString("<footer>end</footer></body></html>")
	l, err := layout.Parse("page.html", []byte(src.String()))
	if err != nil {
		t.Fatal(err)
	}
	var logs bytes.Buffer
	log := slog.New(slog.NewTextHandler(&logs, nil))
	sh, err := shell.New(shell.Options{
		Routes:    []shell.Route{{Pattern: "/", Layout: l}},
		Frontends: frontends,
		Fetcher:   cache.New(shell.NewFetcher(shell.NewReleases(frontends, nil), 0), cache.Options{Log: log}),
		Log:       log,
	})
	if err != nil {
		t.Fatal(err)
	}

	var page bytes.Buffer
	render, done := sh.Compose(sh.Pages()[0], &compose.Request{Path: "/?q=1", Header: http.Header{}, Nonce: "n", ID: "req-1"})
	status, _ := render.Status()
	if err := render.WriteTo(bufWriter{bufio.NewWriter(&page)}); err != nil {
		t.Fatal(err)
	}
	done()

	if status != 200 {
		t.Errorf("status = %d, want 200: no failing slot is primary", status)
	}
	html := page.String()
	for _, want := range []string{
		`<collage-slot frontend="good"><p>good for /?q=1</p></collage-slot>`,
		`<collage-slot frontend="slow" data-collage-fallback="timeout">fallback of slow</collage-slot>`,
		`<collage-slot frontend="failing" data-collage-fallback="error">fallback of failing</collage-slot>`,
		`<collage-slot frontend="hanging" data-collage-fallback="timeout">fallback of hanging</collage-slot>`,
		`<collage-slot frontend="huge" data-collage-fallback="error">fallback of huge</collage-slot>`,
		`<collage-slot frontend="cut" data-collage-fallback="error">fallback of cut</collage-slot>`,
		`<collage-slot frontend="latin1" data-collage-fallback="error">fallback of latin1</collage-slot>`,
		`<collage-slot frontend="badcache"><p>shown, not cached</p></collage-slot>`,
		`<footer>end</footer></body></html>`,
	} {
		if !strings.Contains(html, want) {
			t.Errorf("page lacks %s\n%s", want, html)
		}
	}
	for _, want := range []string{"request_id=req-1", "slot.1.slow.err=", "slot.2.failing.err=", "larger than", "not valid UTF-8", "malformed Cache-Control"} {
		if !strings.Contains(logs.String(), want) {
			t.Errorf("log lacks %q:\n%s", want, logs.String())
		}
	}
}
