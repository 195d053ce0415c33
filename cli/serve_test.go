package cli

import (
	"flag"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/collage-dev/collage/shell/compose"
	"github.com/collage-dev/collage/shell/layout"
)

// TestServeOptions: a flag's 0 means zero, which the shell's options spell
// with a bool of its own, since their zero is the default.
func TestServeOptions(t *testing.T) {
	t.Parallel()
	tests := []struct {
		args       string
		coalesce   time.Duration
		noCoalesce bool
		err        string
	}{
		{args: "", coalesce: compose.DefaultCoalesce},
		{args: "--coalesce 5ms", coalesce: 5 * time.Millisecond},
		{args: "--coalesce 0", noCoalesce: true},
		{args: "--coalesce -1ms", err: "--coalesce -1ms: give 0 (flush at once) or a positive duration"},
	}
	for _, tt := range tests {
		fs := flag.NewFlagSet("serve", flag.ContinueOnError)
		fs.SetOutput(io.Discard)
		var o serveOptions
		o.flags(fs)
		if err := fs.Parse(strings.Fields(tt.args)); err != nil {
			t.Fatalf("%q: %v", tt.args, err)
		}
		opts, err := o.shellOptions()
		if tt.err != "" {
			if err == nil || err.Error() != tt.err {
				t.Errorf("%q: err = %v, want %s", tt.args, err, tt.err)
			}
			continue
		}
		if err != nil || opts.Coalesce != tt.coalesce || opts.NoCoalesce != tt.noCoalesce || opts.PageTimeout != 10*time.Second {
			t.Errorf("%q: Coalesce %s NoCoalesce %v PageTimeout %s (err %v), want %s %v 10s",
				tt.args, opts.Coalesce, opts.NoCoalesce, opts.PageTimeout, err, tt.coalesce, tt.noCoalesce)
		}
	}
}

// TestServeRedirects serves a page whose primary slot redirects where
// Collage-Path says, with collage.yaml allowing one origin: paths, the
// shell's own origin and the allowed one pass; others make a 502.
func TestServeRedirects(t *testing.T) {
	t.Parallel()
	forEachServer(t, func(t *testing.T, server string) {
		login := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			to, _ := url.ParseQuery(strings.TrimPrefix(r.Header.Get("Collage-Path"), "/go?"))
			w.Header().Set("Location", to.Get("to"))
			w.WriteHeader(http.StatusFound)
		}))
		defer login.Close()
		dir := t.TempDir()
		os.MkdirAll(filepath.Join(dir, "layouts"), 0o755)
		os.WriteFile(filepath.Join(dir, "layouts", "go.html"), []byte(
			`<!doctype html><html><head></head><body><collage-slot frontend="login" primary>sign-in is down</collage-slot></body></html>`), 0o644)
		os.WriteFile(filepath.Join(dir, "collage.yaml"), []byte("routes:\n  /go: go.html\nfrontends:\n"+
			"  login: { bff: \""+login.URL+"\" }\nredirects: [https://login.example.com]\n"), 0o644)
		base := start(t, "serve", "--config", filepath.Join(dir, "collage.yaml"), "--dist", filepath.Join(dir, "no-dist"), "--addr", "127.0.0.1:0", "--server", server)
		client := &http.Client{Timeout: 10 * time.Second, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
		for _, tt := range []struct {
			to     string
			status int
		}{
			{"/account", 302},
			{base + "/account", 302},
			{"https://login.example.com/sso", 302},
			{"https://evil.example/", 502},
			{"//evil.example/", 502},
			{"javascript:alert(1)", 502},
		} {
			resp, body := get(t, client, base+"/go?to="+url.QueryEscape(tt.to))
			if resp.StatusCode != tt.status {
				t.Errorf("redirect to %s = %d, want %d", tt.to, resp.StatusCode, tt.status)
			}
			if tt.status == 302 && resp.Header.Get("Location") != tt.to {
				t.Errorf("redirect to %s: Location %q", tt.to, resp.Header.Get("Location"))
			}
			if tt.status == 502 && (resp.Header.Get("Location") != "" || !strings.Contains(body, `data-collage-fallback="error">sign-in is down`)) {
				t.Errorf("refused redirect to %s: Location %q, page:\n%s", tt.to, resp.Header.Get("Location"), body)
			}
		}
	})
}

// pageCount counts the pages it observes.
type pageCount struct{ n atomic.Int32 }

func (p *pageCount) ObservePage(string, []*layout.Slot, []*compose.Result, time.Duration) { p.n.Add(1) }

// TestFirstPage: every page reaches the metrics, and the first, once
// written, has the executable's pages given back, once.
func TestFirstPage(t *testing.T) {
	var pages pageCount
	released := make(chan struct{}, 2)
	f := firstPage{Observer: &pages, once: new(sync.Once), release: func() { released <- struct{}{} }}
	for range 3 {
		f.ObservePage("/", nil, nil, time.Millisecond)
	}
	if n := pages.n.Load(); n != 3 {
		t.Errorf("the metrics saw %d pages, want 3", n)
	}
	select {
	case <-released:
	case <-time.After(10 * time.Second):
		t.Fatal("the first page did not release the executable's pages")
	}
	time.Sleep(50 * time.Millisecond)
	if len(released) != 0 {
		t.Error("released more than once")
	}
}
