package fiberhttp_test

import (
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"syscall"
	"testing"

	"github.com/collage-dev/collage/shell"
	"github.com/collage-dev/collage/shell/fiberhttp"
	"github.com/collage-dev/collage/shell/invoke"
	"github.com/collage-dev/collage/shell/layout"
	"github.com/gofiber/fiber/v2"
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
func pageApp(t *testing.T, src string, frontends map[string]shell.Frontend, opts shell.Options) *fiber.App {
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
	return fiberhttp.New(sh, fiberhttp.Config{})
}

// TestPrimaryFailureStatus: a primary slot that fails or times out makes
// the page a 502 or a 504, with its fallback shown and nothing cached.
func TestPrimaryFailureStatus(t *testing.T) {
	t.Parallel()
	hang := upstream(func(r *http.Request) (*http.Response, error) {
		<-r.Context().Done()
		return nil, r.Context().Err()
	})
	refused := upstream(func(*http.Request) (*http.Response, error) {
		return nil, &net.OpError{Op: "dial", Net: "tcp", Err: syscall.ECONNREFUSED}
	})
	tests := []struct {
		name    string
		main    upstream
		status  int
		outcome string
	}{
		{"answers 500", fragment(500, "stack trace", "Set-Cookie", "a=1"), 502, "error"},
		{"unreachable", refused, 502, "error"},
		{"redirect without Location", fragment(302, ""), 502, "error"},
		{"times out", hang, 504, "timeout"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			app := pageApp(t, `<head></head><body><collage-slot frontend=main primary timeout=50ms><p>Try again soon.</p></collage-slot>`+
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
