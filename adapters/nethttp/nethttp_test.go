package nethttp_test

import (
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/collage-dev/collage/adapters/nethttp"
	"github.com/collage-dev/collage/shell"
	"github.com/collage-dev/collage/shell/layout"
)

// roundTrip is an invoker.
type roundTrip func(*http.Request) (*http.Response, error)

func (f roundTrip) RoundTrip(r *http.Request) (*http.Response, error) { return f(r) }

// TestHandlerAlone: the handler answers with no server around it (an
// httptest.ResponseRecorder, as a Lambda entry gives it a writer of its
// own), and a panic of the shell's is a 500 in the JSON error shape.
func TestHandlerAlone(t *testing.T) {
	t.Parallel()
	l, err := layout.Parse("p.html", []byte("<head></head><body><collage-slot frontend=x>fb</collage-slot></body>"))
	if err != nil {
		t.Fatal(err)
	}
	page := roundTrip(func(r *http.Request) (*http.Response, error) {
		return &http.Response{StatusCode: 200, Header: http.Header{}, Body: http.NoBody, Request: r}, nil
	})
	boom := roundTrip(func(*http.Request) (*http.Response, error) { panic("boom") })
	sh, err := shell.New(shell.Options{
		Routes:    []shell.Route{{Pattern: "/", Layout: l}},
		Frontends: map[string]shell.Frontend{"x": {Invoker: page}, "boom": {Invoker: boom}},
		Log:       slog.New(slog.DiscardHandler),
	})
	if err != nil {
		t.Fatal(err)
	}
	h := nethttp.New(sh, nethttp.Config{})
	tests := []struct {
		target string
		status int
		body   string
	}{
		{"/", 200, `<collage-slot frontend="x"></collage-slot>`},
		{"/bff/boom/x", 500, `{"error":{"code":"internal_server_error","message":"Internal Server Error"}}`},
		{"/nowhere", 404, `{"error":{"code":"not_found","message":"Cannot GET /nowhere"}}`},
	}
	for _, tt := range tests {
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, tt.target, nil))
		if rec.Code != tt.status || !strings.Contains(rec.Body.String(), tt.body) || rec.Header().Get("X-Request-Id") == "" {
			t.Errorf("GET %s = %d %s (X-Request-Id %q), want %d with %s", tt.target, rec.Code, rec.Body, rec.Header().Get("X-Request-Id"), tt.status, tt.body)
		}
	}
}
