package shoptest

import (
	"bytes"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"path/filepath"
	"strings"
	"testing"

	"github.com/collage-dev/collage/bff"
	"github.com/collage-dev/collage/internal/golden"
)

// FragmentRequest returns the request the shell sends to render a slot of
// the page at pagePath (path and query) with the route params.
func FragmentRequest(pagePath string, params url.Values) *http.Request {
	r := httptest.NewRequest(http.MethodGet, bff.FragmentPath, nil)
	r.Header.Set(bff.HeaderPath, pagePath)
	r.Header.Set(bff.HeaderParams, params.Encode())
	r.Header.Set(bff.HeaderSlot, "")
	return r
}

// Serve answers r with h and returns the recorded response.
func Serve(h http.Handler, r *http.Request) *httptest.ResponseRecorder {
	w := httptest.NewRecorder()
	h.ServeHTTP(w, r)
	return w
}

// Browser sends requests to a handler the way a browser does: it keeps the
// cookies responses set and sends them back on later requests.
type Browser struct {
	h   http.Handler
	jar *cookiejar.Jar
}

// NewBrowser returns a Browser with no cookies that talks to h.
func NewBrowser(h http.Handler) *Browser {
	jar, err := cookiejar.New(nil)
	if err != nil {
		panic(err)
	}
	return &Browser{h: h, jar: jar}
}

// Do sends r with the browser's cookies and keeps the cookies of the response.
func (b *Browser) Do(r *http.Request) *httptest.ResponseRecorder {
	u := &url.URL{Scheme: "http", Host: r.Host, Path: r.URL.Path}
	for _, c := range b.jar.Cookies(u) {
		r.AddCookie(c)
	}
	w := Serve(b.h, r)
	b.jar.SetCookies(u, w.Result().Cookies())
	return w
}

// JSONRequest returns a request whose body is the JSON encoding of body,
// or no body when body is nil. A string body is sent as is.
func JSONRequest(method, target string, body any) *http.Request {
	var rd io.Reader
	switch b := body.(type) {
	case nil:
	case string:
		rd = strings.NewReader(b)
	default:
		data, err := json.Marshal(b)
		if err != nil {
			panic(err)
		}
		rd = bytes.NewReader(data)
	}
	r := httptest.NewRequest(method, target, rd)
	if rd != nil {
		r.Header.Set("Content-Type", "application/json")
	}
	return r
}

// Decode decodes the JSON body of w into a V, failing the test if it is not JSON.
func Decode[V any](t testing.TB, w *httptest.ResponseRecorder) V {
	t.Helper()
	var v V
	if ct := w.Header().Get("Content-Type"); ct != "application/json" {
		t.Fatalf("Content-Type = %q, want application/json; body: %s", ct, w.Body)
	}
	if err := json.Unmarshal(w.Body.Bytes(), &v); err != nil {
		t.Fatalf("decode %s: %v", w.Body, err)
	}
	return v
}

// ErrorBody is the JSON shape of a BFF's error responses.
type ErrorBody struct {
	Error struct {
		Code    string `json:"code"`
		Message string `json:"message"`
		Field   string `json:"field"`
	} `json:"error"`
}

// New builds a BFF with factory and settings, failing t on an error. Its
// log is discarded: tests that read it set their own.
func New(t testing.TB, factory bff.Factory, s bff.Settings) *bff.BFF {
	t.Helper()
	b, err := factory(s)
	if err != nil {
		t.Fatal(err)
	}
	b.Log = slog.New(slog.NewTextHandler(io.Discard, nil))
	return b
}

// Golden compares got with the file testdata/name, or writes got to it when
// the environment has UPDATE_GOLDEN=1.
func Golden(t testing.TB, name string, got []byte) {
	t.Helper()
	golden.Check(t, filepath.Join("testdata", name), got)
}
