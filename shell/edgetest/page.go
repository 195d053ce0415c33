package edgetest

import (
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/collage-dev/collage/internal/syncbuf"
	"github.com/collage-dev/collage/shell"
	"github.com/collage-dev/collage/shell/invoke"
	"github.com/collage-dev/collage/shell/layout"
)

// upstream is a BFF as a function of its request.
type upstream func(*http.Request) (*http.Response, error)

func (u upstream) RoundTrip(r *http.Request) (*http.Response, error) { return u(r) }

// fragment answers status with headers (name, value, …) and body.
func fragment(status int, body string, header ...string) upstream {
	return func(r *http.Request) (*http.Response, error) {
		h := http.Header{}
		for i := 0; i+1 < len(header); i += 2 {
			h.Add(header[i], header[i+1])
		}
		return invoke.NewResponse(r, status, h, []byte(body)), nil
	}
}

// pageApp serves one page, at /, of src with the given frontends.
func (su suite) pageApp(t *testing.T, src string, frontends map[string]shell.Frontend, opts shell.Options) *app {
	t.Helper()
	l, err := layout.Parse("page.html", []byte(src))
	if err != nil {
		t.Fatal(err)
	}
	opts.Routes = []shell.Route{{Pattern: "/", Layout: l}}
	opts.Frontends = frontends
	if opts.Log == nil {
		opts.Log = slog.New(slog.DiscardHandler)
	}
	sh, err := shell.New(opts)
	if err != nil {
		t.Fatal(err)
	}
	return su.newApp(t, sh, shell.EdgeConfig{})
}

// TestPrimaryFailureStatus: a primary slot that fails or times out makes
// the page a 502 or a 504, with its fallback shown and nothing cached.
func (su suite) TestPrimaryFailureStatus(t *testing.T) {
	t.Parallel()
	hang := upstream(func(r *http.Request) (*http.Response, error) {
		<-r.Context().Done()
		return nil, r.Context().Err()
	})
	refused := upstream(func(*http.Request) (*http.Response, error) {
		return nil, &net.OpError{Op: "dial", Net: "tcp", Err: syscall.ECONNREFUSED}
	})
	// Only the slot that hangs has a short timeout: one that answers at
	// once must not race its timer on a loaded machine.
	tests := []struct {
		name    string
		main    upstream
		timeout string
		status  int
		outcome string
	}{
		{"answers 500", fragment(500, "stack trace", "Set-Cookie", "a=1"), "30s", 502, "error"},
		{"unreachable", refused, "30s", 502, "error"},
		{"redirect without Location", fragment(302, ""), "30s", 502, "error"},
		{"times out", hang, "50ms", 504, "timeout"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			app := su.pageApp(t, `<head></head><body><collage-slot frontend=main primary timeout=`+tt.timeout+`><p>Try again soon.</p></collage-slot>`+
				`<collage-slot frontend=side>s</collage-slot></body>`,
				map[string]shell.Frontend{"main": {Invoker: tt.main}, "side": {Invoker: fragment(200, "<p>side</p>")}}, shell.Options{})
			resp, body := do(t, app, httptest.NewRequest(http.MethodGet, "/", nil))
			if resp.StatusCode != tt.status {
				t.Errorf("status = %d, want %d", resp.StatusCode, tt.status)
			}
			want := `<collage-slot frontend="main" primary data-collage-fallback="` + tt.outcome + `"><p>Try again soon.</p></collage-slot>`
			if !strings.Contains(body, want) || !strings.Contains(body, `<collage-slot frontend="side"><p>side</p></collage-slot>`) {
				t.Errorf("page lacks the fallback %s, or the other slot:\n%s", want, body)
			}
			if cc, sc := resp.Header.Get("Cache-Control"), resp.Header.Values("Set-Cookie"); cc != "no-store" || len(sc) != 0 {
				t.Errorf("Cache-Control %q, Set-Cookie %q; want no-store and none", cc, sc)
			}
			if st := resp.Header.Get("Server-Timing"); !strings.Contains(st, `slot-0-main;desc="`+tt.outcome+`"`) {
				t.Errorf("Server-Timing = %q", st)
			}
		})
	}
}

// TestRedirectRefused: a primary slot's redirect leaves as the page's when
// its Location is on the site, the request's origin or an allowed one;
// otherwise the page is a 502 with the slot's fallback, and says why.
func (su suite) TestRedirectRefused(t *testing.T) {
	t.Parallel()
	tests := []struct {
		host, location string
		header         []string // of the request
		ok             bool
	}{
		{host: "shop.example", location: "/login?next=%2F", ok: true},
		{host: "shop.example", location: "http://shop.example/login", ok: true},
		{host: "shop.example:8080", location: "http://shop.example:8080/login", ok: true},
		{host: "shop.example", location: "https://login.example.com/sso", ok: true},
		{host: "shop.example", location: "https://shop.example/login", header: []string{"X-Forwarded-Proto", "https"}, ok: true},
		{host: "shop.example", location: "https://shop.example/login"},
		{host: "shop.example", location: "http://shop.example:8080/login"},
		{host: "shop.example", location: "//evil.example/x"},
		{host: "shop.example", location: "/\\evil.example/x"},
		{host: "shop.example", location: "javascript:alert(document.cookie)"},
		{host: "shop.example", location: "data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg=="},
		{host: "shop.example", location: "https://evil.example/"},
	}
	for _, tt := range tests {
		app := su.pageApp(t, `<body><collage-slot frontend=main primary>main fallback</collage-slot></body>`,
			map[string]shell.Frontend{"main": {Invoker: fragment(302, "", "Location", tt.location, "Set-Cookie", "next=1"), Cookies: []string{"next"}}},
			shell.Options{Redirects: []string{"https://login.example.com"}})
		req := httptest.NewRequest(http.MethodGet, "/", nil)
		req.Host = tt.host
		for i := 0; i+1 < len(tt.header); i += 2 {
			req.Header.Set(tt.header[i], tt.header[i+1])
		}
		resp, body := do(t, app, req)
		if tt.ok {
			if resp.StatusCode != 302 || resp.Header.Get("Location") != tt.location || resp.Header.Get("Set-Cookie") != "next=1" || body != "" {
				t.Errorf("%s to %s = %d Location %q Set-Cookie %q body %q, want the redirect", tt.host, tt.location,
					resp.StatusCode, resp.Header.Get("Location"), resp.Header.Get("Set-Cookie"), body)
			}
			continue
		}
		st := resp.Header.Get("Server-Timing")
		if resp.StatusCode != 502 || resp.Header.Get("Location") != "" || resp.Header.Get("Set-Cookie") != "" ||
			!strings.Contains(body, `<collage-slot frontend="main" primary data-collage-fallback="error">main fallback</collage-slot>`) ||
			!strings.Contains(st, `desc="error: redirect refused"`) || resp.Header.Get("Cache-Control") != "no-store" {
			t.Errorf("%s to %s = %d Location %q Set-Cookie %q Server-Timing %q, want a 502 with the fallback:\n%s", tt.host, tt.location,
				resp.StatusCode, resp.Header.Get("Location"), resp.Header.Get("Set-Cookie"), st, body)
		}
	}
}

// TestEarlyAnswers: a redirect, and an answer to HEAD, leave as soon as
// the primary slot decides them, not when a slow slot of the page ends.
func (su suite) TestEarlyAnswers(t *testing.T) {
	t.Parallel()
	const slowFor = 5 * time.Second
	slow := upstream(func(r *http.Request) (*http.Response, error) {
		select {
		case <-time.After(slowFor):
			return invoke.NewResponse(r, http.StatusOK, http.Header{}, []byte("late")), nil
		case <-r.Context().Done():
			return nil, r.Context().Err()
		}
	})
	for _, tt := range []struct {
		name, method string
		main         upstream
		status       int
	}{
		{"redirect", http.MethodGet, fragment(http.StatusSeeOther, "", "Location", "/login"), http.StatusSeeOther},
		{"HEAD", http.MethodHead, fragment(http.StatusOK, "<p>main</p>"), http.StatusOK},
		{"HEAD of a redirect", http.MethodHead, fragment(http.StatusFound, "", "Location", "/login"), http.StatusFound},
	} {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			var logs syncbuf.Buffer
			app := su.pageApp(t, `<head></head><body><collage-slot frontend=slow timeout=10s>s</collage-slot>`+
				`<collage-slot frontend=main primary>m</collage-slot><collage-slot frontend=recs async timeout=10s>r</collage-slot></body>`,
				map[string]shell.Frontend{"slow": {Invoker: slow}, "main": {Invoker: tt.main}, "recs": {Invoker: slow}},
				shell.Options{Log: slog.New(slog.NewTextHandler(&logs, nil))})
			start := time.Now()
			resp, body := do(t, app, httptest.NewRequest(tt.method, "/", nil))
			took := time.Since(start)
			if resp.StatusCode != tt.status || body != "" {
				t.Errorf("status %d body %q, want %d and none", resp.StatusCode, body, tt.status)
			}
			// A generous bound: the page waits for none of the slow slots.
			if took > slowFor/5 {
				t.Errorf("the answer took %s, with slots that take %s", took, slowFor)
			}
			for _, want := range []string{`slot.0.slow="canceled `, `slot.1.main="ok `, `slot.2.recs="canceled `} {
				if !strings.Contains(logs.String(), want) {
					t.Errorf("log %q lacks %s", logs.String(), want)
				}
			}
		})
	}
}
