package edgetest

import (
	"bytes"
	"compress/gzip"
	"compress/zlib"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"testing"

	"github.com/collage-dev/collage/shell"
	"github.com/collage-dev/collage/shell/invoke"
	"github.com/collage-dev/collage/shell/registry"
)

// seen is what the echo BFF saw of its last call.
type seen struct {
	mu     sync.Mutex
	body   string
	err    error
	header http.Header
	path   string
}

// bffApp is a shell with three BFFs: echo (in-process; reads the whole
// body, answers 200, with its own CSP when asked ?csp), lazy (in-process;
// answers without reading the body) and stream (over HTTP; GET
// /big?n=N[&length] answers N bytes, with a Content-Length or streamed).
func bffShell(t *testing.T) (*shell.Shell, *seen) {
	t.Helper()
	s := &seen{}
	echo := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, err := io.ReadAll(r.Body)
		s.mu.Lock()
		s.body, s.err, s.header, s.path = string(b), err, r.Header.Clone(), r.URL.Path
		s.mu.Unlock()
		if err != nil {
			http.Error(w, "reading the body: "+err.Error(), http.StatusBadRequest)
			return
		}
		if r.URL.Query().Has("csp") {
			w.Header().Set("Content-Security-Policy", "sandbox")
		}
		w.Header().Set("X-Content-Type-Options", "sniff-away")
		fmt.Fprintf(w, `{"bytes":%d}`, len(b))
	})
	lazy := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.WriteString(w, "not read")
	})
	big := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		n, _ := strconv.Atoi(r.URL.Query().Get("n"))
		if r.URL.Query().Has("length") {
			w.Header().Set("Content-Length", strconv.Itoa(n))
		}
		for ; n > 0; n -= 100 {
			w.Write(bytes.Repeat([]byte("x"), min(n, 100)))
			w.(http.Flusher).Flush()
		}
	}))
	t.Cleanup(big.Close)
	stream, err := invoke.HTTP(big.URL, invoke.HTTPOptions{})
	if err != nil {
		t.Fatal(err)
	}
	sh, err := shell.New(shell.Options{
		Frontends: map[string]shell.Frontend{
			"echo":   {Invoker: invoke.Local(echo)},
			"lazy":   {Invoker: invoke.Local(lazy)},
			"stream": {Invoker: stream},
		},
		Registry: registry.New(&registry.Snapshot{}),
		Log:      slog.New(slog.DiscardHandler),
	})
	if err != nil {
		t.Fatal(err)
	}
	return sh, s
}

func (su suite) bffApp(t *testing.T, cfg shell.EdgeConfig) (*app, *seen) {
	t.Helper()
	sh, s := bffShell(t)
	return su.newApp(t, sh, cfg), s
}

// start runs the binding's Serve on 127.0.0.1 until the test ends, for what
// app.Test cannot send (a chunked body) or read (an answer cut short).
func (su suite) start(t *testing.T, sh *shell.Shell, cfg shell.EdgeConfig) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- su.serve(ctx, ln, sh, cfg) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("Serve: %v", err)
		}
	})
	return "http://" + ln.Addr().String()
}

// send does req and reads the answer.
func send(t *testing.T, req *http.Request) (*http.Response, string, error) {
	t.Helper()
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	return resp, string(b), err
}

// errorOf is the code of a JSON error answer.
func errorOf(body string) string {
	var e struct {
		Error struct{ Code string } `json:"error"`
	}
	json.Unmarshal([]byte(body), &e)
	return e.Error.Code
}

func gzipped(b []byte) []byte {
	var out bytes.Buffer
	w := gzip.NewWriter(&out)
	w.Write(b)
	w.Close()
	return out.Bytes()
}

func zlibbed(b []byte) []byte {
	var out bytes.Buffer
	w := zlib.NewWriter(&out)
	w.Write(b)
	w.Close()
	return out.Bytes()
}

func (su suite) TestBFFBodies(t *testing.T) {
	t.Parallel()
	sh, s := bffShell(t)
	url := su.start(t, sh, shell.EdgeConfig{MaxBody: 1 << 20})
	big := bytes.Repeat([]byte("z"), 2<<20)
	tests := []struct {
		name     string
		body     []byte
		encoding string
		chunked  bool
		status   int
		code     string // of a JSON error
		got      string // what the BFF read
	}{
		{name: "plain", body: []byte(`{"qty":2}`), status: 200, got: `{"qty":2}`},
		{name: "plain, chunked", body: []byte(`{"qty":2}`), chunked: true, status: 200, got: `{"qty":2}`},
		{name: "gzip", body: gzipped([]byte(`{"qty":3}`)), encoding: "gzip", status: 200, got: `{"qty":3}`},
		{name: "deflate", body: zlibbed([]byte(`{"qty":4}`)), encoding: "deflate", status: 200, got: `{"qty":4}`},
		{name: "gzip, up to the bound", body: gzipped(big[:1<<20]), encoding: "gzip", status: 200, got: string(big[:1<<20])},
		{name: "brotli", body: []byte("x"), encoding: "br", status: 415, code: "unsupported_media_type"},
		{name: "two encodings", body: gzipped(gzipped([]byte("x"))), encoding: "gzip, gzip", status: 415, code: "unsupported_media_type"},
		{name: "not gzip", body: []byte("plain text"), encoding: "gzip", status: 400, code: "bad_request"},
		{name: "gzip over the bound", body: gzipped(big), encoding: "gzip", status: 413, code: "payload_too_large"},
		{name: "gzip over the bound, chunked", body: gzipped(big), encoding: "gzip", chunked: true, status: 413, code: "payload_too_large"},
		{name: "plain over the bound", body: big, status: 413, code: "payload_too_large"},
		{name: "plain over the bound, chunked", body: big, chunked: true, status: 413, code: "payload_too_large"},
	}
	for _, tt := range tests {
		var r io.Reader = bytes.NewReader(tt.body)
		if tt.chunked {
			r = io.MultiReader(r) // no length
		}
		req, _ := http.NewRequest(http.MethodPost, url+"/bff/echo/items", r)
		if tt.encoding != "" {
			req.Header.Set("Content-Encoding", tt.encoding)
		}
		s.mu.Lock()
		s.body, s.header = "", nil
		s.mu.Unlock()
		resp, body, _ := send(t, req)
		if resp.StatusCode != tt.status || (tt.code != "" && errorOf(body) != tt.code) {
			t.Errorf("%s: %d %s, want %d %s", tt.name, resp.StatusCode, body, tt.status, tt.code)
			continue
		}
		if tt.got == "" {
			continue
		}
		s.mu.Lock()
		if s.body != tt.got || s.header.Get("Content-Encoding") != "" {
			t.Errorf("%s: the BFF read %d bytes (Content-Encoding %q), want %d decoded", tt.name, len(s.body), s.header.Get("Content-Encoding"), len(tt.got))
		}
		s.mu.Unlock()
	}
}

func (su suite) TestBFFBodyNotRead(t *testing.T) {
	t.Parallel()
	sh, _ := bffShell(t)
	url := su.start(t, sh, shell.EdgeConfig{})
	for _, chunked := range []bool{false, true} {
		var r io.Reader = strings.NewReader(strings.Repeat("a", 100<<10))
		if chunked {
			r = io.MultiReader(r)
		}
		req, _ := http.NewRequest(http.MethodPost, url+"/bff/lazy/x", r)
		resp, body, err := send(t, req)
		if resp.StatusCode != 200 || body != "not read" || err != nil {
			t.Errorf("chunked %v: %d %q %v, want the BFF's answer", chunked, resp.StatusCode, body, err)
		}
	}
}

func (su suite) TestBFFAnswerBound(t *testing.T) {
	t.Parallel()
	sh, _ := bffShell(t)
	url := su.start(t, sh, shell.EdgeConfig{MaxBFFResponse: 1000})
	tests := []struct {
		target string
		status int
		whole  bool
	}{
		{"/bff/stream/big?n=1000&length", 200, true},
		{"/bff/stream/big?n=1000", 200, true},
		{"/bff/stream/big?n=1001&length", 502, false},
		{"/bff/stream/big?n=5000", 200, false},
	}
	for _, tt := range tests {
		req, _ := http.NewRequest(http.MethodGet, url+tt.target, nil)
		resp, body, err := send(t, req)
		switch {
		case resp.StatusCode != tt.status:
			t.Errorf("%s: status %d, want %d: %s", tt.target, resp.StatusCode, tt.status, body)
		case tt.status == 502 && errorOf(body) != "bad_gateway":
			t.Errorf("%s: %s, want a JSON error", tt.target, body)
		case tt.whole && (err != nil || len(body) != 1000):
			t.Errorf("%s: %d bytes, %v, want 1000", tt.target, len(body), err)
		case tt.status == 200 && !tt.whole && (err == nil || len(body) > 1000):
			t.Errorf("%s: %d bytes, %v, want an answer cut at 1000 bytes", tt.target, len(body), err)
		}
	}
}

func (su suite) TestBFFCrossOrigin(t *testing.T) {
	t.Parallel()
	app, _ := su.bffApp(t, shell.EdgeConfig{})
	tests := []struct {
		method string
		header map[string]string
		status int
	}{
		{"POST", nil, 200}, // curl, another server
		{"POST", map[string]string{"Sec-Fetch-Site": "same-origin"}, 200},
		{"POST", map[string]string{"Sec-Fetch-Site": "cross-site"}, 403},
		{"DELETE", map[string]string{"Sec-Fetch-Site": "same-site"}, 403},
		{"POST", map[string]string{"Origin": "http://example.com"}, 200}, // httptest's host
		{"PUT", map[string]string{"Origin": "https://evil.example"}, 403},
		{"POST", map[string]string{"Origin": "null"}, 403},
		{"GET", map[string]string{"Sec-Fetch-Site": "cross-site"}, 200},
		{"HEAD", map[string]string{"Origin": "https://evil.example"}, 200},
	}
	for _, tt := range tests {
		req := httptest.NewRequest(tt.method, "/bff/echo/items", strings.NewReader("{}"))
		for k, v := range tt.header {
			req.Header.Set(k, v)
		}
		resp, body := do(t, app, req)
		if resp.StatusCode != tt.status || (tt.status == 403 && errorOf(body) != "forbidden") {
			t.Errorf("%s with %v: %d %s, want %d", tt.method, tt.header, resp.StatusCode, body, tt.status)
		}
	}
}

func (su suite) TestBFFSecurityHeaders(t *testing.T) {
	t.Parallel()
	app, _ := su.bffApp(t, shell.EdgeConfig{})
	tests := []struct {
		target, csp string
		status      int
	}{
		{"/bff/echo/x", "default-src 'none'; frame-ancestors 'none'", 200},
		{"/bff/echo/x?csp", "sandbox", 200},
		{"/bff/nope/x", "default-src 'none'; frame-ancestors 'none'", 404},
		{"/bff/echo/_fragment", "default-src 'none'; frame-ancestors 'none'", 404},
	}
	for _, tt := range tests {
		resp, body := do(t, app, httptest.NewRequest(http.MethodGet, tt.target, nil))
		if resp.StatusCode != tt.status {
			t.Errorf("%s: status %d, want %d: %s", tt.target, resp.StatusCode, tt.status, body)
		}
		if got := resp.Header.Values("Content-Security-Policy"); len(got) != 1 || got[0] != tt.csp {
			t.Errorf("%s: Content-Security-Policy %q, want %q", tt.target, got, tt.csp)
		}
		if got := resp.Header.Values("X-Content-Type-Options"); len(got) != 1 || got[0] != "nosniff" {
			t.Errorf("%s: X-Content-Type-Options %q, want nosniff", tt.target, got)
		}
	}
}

func (su suite) TestBFFFragmentPath(t *testing.T) {
	t.Parallel()
	for _, expose := range []bool{false, true} {
		app, s := su.bffApp(t, shell.EdgeConfig{ExposeFragments: expose})
		for _, target := range []string{"/bff/echo/_fragment", "/bff/echo/_fragment/", "/bff/echo/_fragment/x", "/bff/echo/%5Ffragment"} {
			resp, body := do(t, app, httptest.NewRequest(http.MethodGet, target, nil))
			want := 404
			if expose {
				want = 200
			}
			if resp.StatusCode != want {
				t.Errorf("%s with ExposeFragments %v: %d %s, want %d", target, expose, resp.StatusCode, body, want)
			}
		}
		if expose {
			s.mu.Lock()
			if !strings.HasPrefix(s.path, "/_fragment") {
				t.Errorf("the BFF saw %q", s.path)
			}
			s.mu.Unlock()
		}
	}
}

var hexID = regexp.MustCompile(`^[0-9a-f]{32}$`)

func (su suite) TestRequestIDs(t *testing.T) {
	t.Parallel()
	app, s := su.bffApp(t, shell.EdgeConfig{})
	tests := []struct {
		sent string
		kept bool
	}{
		{"", false},
		{"req-7", true},
		{"0af7651916cd43dd.8448eb211c80319c_b7ad", true},
		{"has space", false},
		{"<script>", false},
		{strings.Repeat("a", 65), false},
	}
	ids := map[string]bool{}
	for _, tt := range tests {
		req := httptest.NewRequest(http.MethodGet, "/bff/echo/x", nil)
		if tt.sent != "" {
			req.Header.Set("X-Request-Id", tt.sent)
		}
		resp, _ := do(t, app, req)
		got := resp.Header.Get("X-Request-Id")
		s.mu.Lock()
		bffGot := s.header.Get("X-Request-Id")
		s.mu.Unlock()
		switch {
		case tt.kept && got != tt.sent:
			t.Errorf("sent %q, got %q, want it kept", tt.sent, got)
		case !tt.kept && !hexID.MatchString(got):
			t.Errorf("sent %q, got %q, want 128 random bits in hex", tt.sent, got)
		case bffGot != got:
			t.Errorf("sent %q: the BFF saw %q, the client %q", tt.sent, bffGot, got)
		case ids[got]:
			t.Errorf("id %q given twice", got)
		}
		ids[got] = true
	}
}
