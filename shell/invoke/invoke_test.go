package invoke_test

import (
	"context"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"

	"github.com/collage-dev/collage/shell/invoke"
)

func readAll(t *testing.T, resp *http.Response) string {
	t.Helper()
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func TestLocal(t *testing.T) {
	t.Parallel()
	var got *http.Request
	var gotBody string
	h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		got = r
		b, _ := io.ReadAll(r.Body)
		gotBody = string(b)
		http.SetCookie(w, &http.Cookie{Name: "a", Value: "1", Path: "/"})
		http.SetCookie(w, &http.Cookie{Name: "b", Value: "2", HttpOnly: true})
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusCreated)
		w.Header().Set("X-Late", "ignored") // after WriteHeader, as on a connection
		io.WriteString(w, `{"ok":`)
		io.WriteString(w, `true}`)
	})
	req, _ := http.NewRequestWithContext(context.Background(), http.MethodPost, "/items?x=1&y=%2F", strings.NewReader(`{"id":1}`))
	req.Header.Set("Cookie", "session=s")
	resp, err := invoke.Local(h).RoundTrip(req)
	if err != nil {
		t.Fatal(err)
	}
	if resp.StatusCode != 201 || resp.Status != "201 Created" {
		t.Errorf("status = %d %q", resp.StatusCode, resp.Status)
	}
	if cookies := resp.Header.Values("Set-Cookie"); len(cookies) != 2 || cookies[0] != "a=1; Path=/" || cookies[1] != "b=2; HttpOnly" {
		t.Errorf("Set-Cookie = %q, want two separate values", cookies)
	}
	if resp.Header.Get("Content-Type") != "application/json" {
		t.Errorf("Content-Type = %q", resp.Header.Get("Content-Type"))
	}
	if v := resp.Header.Get("X-Late"); v != "" {
		t.Errorf("a header set after WriteHeader was sent: X-Late = %q", v)
	}
	if body := readAll(t, resp); body != `{"ok":true}` || resp.ContentLength != int64(len(body)) {
		t.Errorf("body = %q, ContentLength = %d", body, resp.ContentLength)
	}
	if got.Method != http.MethodPost || got.URL.Path != "/items" || got.URL.Query().Get("y") != "/" ||
		got.RequestURI != "/items?x=1&y=%2F" || got.Header.Get("Cookie") != "session=s" || gotBody != `{"id":1}` {
		t.Errorf("handler saw %s %s (RequestURI %q) cookie %q body %q", got.Method, got.URL, got.RequestURI, got.Header.Get("Cookie"), gotBody)
	}
}

func TestLocalDefaults(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name   string
		h      http.HandlerFunc
		status int
		body   string
	}{
		{"nothing written", func(http.ResponseWriter, *http.Request) {}, 200, ""},
		{"write without WriteHeader", func(w http.ResponseWriter, r *http.Request) { w.Write([]byte("hi")) }, 200, "hi"},
		{"second WriteHeader ignored", func(w http.ResponseWriter, r *http.Request) {
			w.WriteHeader(404)
			w.WriteHeader(500)
			w.Write([]byte("nf"))
		}, 404, "nf"},
		{"request body is never nil", func(w http.ResponseWriter, r *http.Request) {
			b, err := io.ReadAll(r.Body)
			if err != nil || len(b) != 0 {
				w.WriteHeader(500)
			}
		}, 200, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			req := &http.Request{Method: http.MethodGet, URL: &url.URL{Path: "/_fragment"}, Header: http.Header{}}
			resp, err := invoke.Local(tt.h).RoundTrip(req)
			if err != nil {
				t.Fatal(err)
			}
			if resp.StatusCode != tt.status {
				t.Errorf("status = %d, want %d", resp.StatusCode, tt.status)
			}
			if body := readAll(t, resp); body != tt.body {
				t.Errorf("body = %q, want %q", body, tt.body)
			}
		})
	}
}

func TestHTTP(t *testing.T) {
	t.Parallel()
	type seen struct {
		method, path, rawPath, query, host, body string
		header                                   http.Header
	}
	got := make(chan seen, 1)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		got <- seen{r.Method, r.URL.Path, r.URL.RawPath, r.URL.RawQuery, r.Host, string(b), r.Header.Clone()}
		w.Header().Add("Set-Cookie", "a=1")
		w.Header().Add("Set-Cookie", "b=2")
		w.WriteHeader(http.StatusTeapot)
		io.WriteString(w, "short and stout")
	}))
	defer srv.Close()
	host := strings.TrimPrefix(srv.URL, "http://")
	tests := []struct {
		name, base, path, query, wantPath, wantQuery string
		rawPath, wantRawPath                         string
	}{
		{name: "no base path", base: srv.URL, path: "/_fragment", wantPath: "/_fragment"},
		{name: "base path", base: srv.URL + "/bffs/cart", path: "/_fragment", wantPath: "/bffs/cart/_fragment"},
		{name: "base path with a slash", base: srv.URL + "/bffs/cart/", path: "/items/7", wantPath: "/bffs/cart/items/7"},
		{name: "trailing slash kept", base: srv.URL + "/cart", path: "/items/", wantPath: "/cart/items/"},
		{name: "root", base: srv.URL + "/cart", path: "/", wantPath: "/cart"},
		{name: "query kept", base: srv.URL + "/cart", path: "/items", query: "q=a+b&n=%2F&n=2", wantPath: "/cart/items", wantQuery: "q=a+b&n=%2F&n=2"},
		{name: "base query dropped", base: srv.URL + "/cart?key=secret", path: "/items", query: "x=1", wantPath: "/cart/items", wantQuery: "x=1"},
		{name: "encoded path kept", base: srv.URL + "/cart", path: "/items/a/b", rawPath: "/items/a%2Fb", wantPath: "/cart/items/a/b", wantRawPath: "/cart/items/a%2Fb"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			inv, err := invoke.HTTP(tt.base, invoke.HTTPOptions{})
			if err != nil {
				t.Fatal(err)
			}
			req, _ := http.NewRequestWithContext(context.Background(), http.MethodPut, "/", strings.NewReader("payload"))
			req.URL = &url.URL{Path: tt.path, RawPath: tt.rawPath, RawQuery: tt.query}
			req.Header.Set("Cookie", "session=s; x=y")
			req.Header.Set("Traceparent", "00-abc-def-01")
			req.Header.Set("Content-Type", "text/plain")
			resp, err := inv.RoundTrip(req)
			if err != nil {
				t.Fatal(err)
			}
			s := <-got
			if s.method != http.MethodPut || s.path != tt.wantPath || s.rawPath != tt.wantRawPath || s.query != tt.wantQuery || s.body != "payload" || s.host != host {
				t.Errorf("server saw %s path %q raw %q query %q host %q body %q, want path %q raw %q query %q",
					s.method, s.path, s.rawPath, s.query, s.host, s.body, tt.wantPath, tt.wantRawPath, tt.wantQuery)
			}
			for _, k := range []string{"Cookie", "Traceparent", "Content-Type"} {
				if s.header.Get(k) != req.Header.Get(k) {
					t.Errorf("%s = %q, want %q", k, s.header.Get(k), req.Header.Get(k))
				}
			}
			if resp.StatusCode != http.StatusTeapot || strings.Join(resp.Header.Values("Set-Cookie"), "|") != "a=1|b=2" {
				t.Errorf("response %d, Set-Cookie %q", resp.StatusCode, resp.Header.Values("Set-Cookie"))
			}
			if body := readAll(t, resp); body != "short and stout" {
				t.Errorf("body = %q", body)
			}
			// The caller's request is not changed.
			if req.URL.Path != tt.path || req.URL.Host != "" {
				t.Errorf("the caller's URL changed to %s", req.URL)
			}
		})
	}
}

func TestHTTPHonoursContext(t *testing.T) {
	t.Parallel()
	block := make(chan struct{})
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-block:
		case <-r.Context().Done():
		}
	}))
	defer srv.Close()
	defer close(block)
	inv, err := invoke.HTTP(srv.URL, invoke.HTTPOptions{})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	req, _ := http.NewRequestWithContext(ctx, http.MethodGet, "/_fragment", nil)
	if _, err := inv.RoundTrip(req); !errors.Is(err, context.Canceled) {
		t.Errorf("RoundTrip with a canceled context = %v, want context.Canceled", err)
	}
}

func TestHTTPBadURL(t *testing.T) {
	t.Parallel()
	for _, base := range []string{"", "127.0.0.1:9001", "ftp://host/x", "http://", "http//host", "lambda://cart", "http://[::1", "://x"} {
		if inv, err := invoke.HTTP(base, invoke.HTTPOptions{}); err == nil || inv != nil {
			t.Errorf("HTTP(%q) = %v, %v; want an error", base, inv, err)
		} else if !strings.Contains(err.Error(), "is not an http:// or https:// URL") {
			t.Errorf("HTTP(%q) error = %v", base, err)
		}
	}
	for _, base := range []string{"http://127.0.0.1:9001", "https://abc.lambda-url.eu-west-1.on.aws/", "HTTP://host"} {
		if _, err := invoke.HTTP(base, invoke.HTTPOptions{}); err != nil {
			t.Errorf("HTTP(%q) = %v", base, err)
		}
	}
}
