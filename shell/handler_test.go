package shell_test

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/collage-dev/collage/shell"
	"github.com/collage-dev/collage/shell/layout"
	"github.com/collage-dev/collage/shell/registry"
)

// exchange is an in-memory Request and Response.
type exchange struct {
	method, path, query string
	header              http.Header

	status int
	out    http.Header
	body   bytes.Buffer
	length int64 // as Send or Stream declared it
	// streaming, if not nil, is closed when Stream begins.
	streaming chan struct{}
}

func newExchange(method, target string) *exchange {
	path, query, _ := strings.Cut(target, "?")
	return &exchange{method: method, path: path, query: query, header: http.Header{}, out: http.Header{}}
}

func (x *exchange) Method() string               { return x.method }
func (x *exchange) Path() string                 { return x.path }
func (x *exchange) RawQuery() string             { return x.query }
func (x *exchange) Host() string                 { return "shop.example" }
func (x *exchange) Scheme() string               { return "http" }
func (x *exchange) Header(name string) string    { return x.header.Get(name) }
func (x *exchange) RemoteAddr() string           { return "127.0.0.1:1" }
func (x *exchange) Body() (io.Reader, int64)     { return nil, 0 }
func (x *exchange) SetBodyDeadline(time.Time)    {}
func (x *exchange) SetHeader(name, value string) { x.out.Set(name, value) }
func (x *exchange) AddHeader(name, value string) { x.out.Add(name, value) }
func (x *exchange) DelHeader(name string)        { x.out.Del(name) }
func (x *exchange) CloseConnection()             {}
func (x *exchange) Send(status int, body []byte) {
	x.status, x.length = status, int64(len(body))
	x.body.Write(body)
}
func (x *exchange) Stream(status int, body io.ReadCloser, length int64) {
	x.status, x.length = status, length
	if x.streaming != nil {
		close(x.streaming)
	}
	io.Copy(&x.body, body)
	body.Close()
}

// roundTrip is an invoker.
type roundTrip func(*http.Request) (*http.Response, error)

func (f roundTrip) RoundTrip(r *http.Request) (*http.Response, error) { return f(r) }

// pageShell is a shell whose routes are / and /only-NAME, each a page
// of one slot that says name; when release is not nil, the slot tells
// started, then waits for release to close.
func pageShell(t *testing.T, name string, started, release chan struct{}) *shell.Shell {
	t.Helper()
	l, err := layout.Parse(name+".html", []byte("<head></head><body>"+name+"<collage-slot frontend=x>fb</collage-slot></body>"))
	if err != nil {
		t.Fatal(err)
	}
	x := textBFF("x", name)
	if release != nil {
		next := x.Invoker
		x.Invoker = roundTrip(func(r *http.Request) (*http.Response, error) {
			started <- struct{}{}
			<-release
			return next.RoundTrip(r)
		})
	}
	sh, err := shell.New(shell.Options{
		Routes:    []shell.Route{{Pattern: "/", Layout: l}, {Pattern: "/only-" + name, Layout: l}},
		Frontends: map[string]shell.Frontend{"x": x},
		Log:       slog.New(slog.DiscardHandler),
	})
	if err != nil {
		t.Fatal(err)
	}
	return sh
}

// TestHandlerSwap swaps the shell over and over while 8 clients ask for
// 2,000 pages: each page is whole and of one shell, and the routes follow the
// shell. A page started before a swap finishes on its own shell.
func TestHandlerSwap(t *testing.T) {
	t.Parallel()
	one, two := pageShell(t, "one", nil, nil), pageShell(t, "two", nil, nil)
	page := func(name string) string {
		return `<head></head><body>` + name + `<collage-slot frontend="x">` + name + `</collage-slot></body>`
	}
	h := shell.NewHandler(one, shell.EdgeConfig{})
	stop := make(chan struct{})
	var wg sync.WaitGroup
	var served atomic.Int64
	errs := make(chan error, 8)
	for range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				select {
				case <-stop:
					return
				default:
				}
				x := newExchange(http.MethodGet, "/")
				h.Serve(x, x)
				if got := x.body.String(); x.status != 200 || (got != page("one") && got != page("two")) {
					errs <- fmt.Errorf("GET / = %d %q, want a whole page of one shell", x.status, got)
					return
				}
				served.Add(1)
			}
		}()
	}
	// Until 2,000 pages were served, or 10s.
	for i, end := 0, time.Now().Add(10*time.Second); served.Load() < 2000 && time.Now().Before(end); i++ {
		h.Swap([]*shell.Shell{one, two}[i%2])
		runtime.Gosched()
	}
	close(stop)
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}

	h.Swap(two)
	for path, want := range map[string]int{"/only-two": 200, "/only-one": 404} {
		x := newExchange(http.MethodGet, path)
		h.Serve(x, x)
		if x.status != want {
			t.Errorf("GET %s after the swap = %d, want %d", path, x.status, want)
		}
	}

	started, release := make(chan struct{}), make(chan struct{})
	slow := pageShell(t, "slow", started, release)
	h.Swap(slow)
	done := make(chan *exchange)
	go func() {
		x := newExchange(http.MethodGet, "/")
		h.Serve(x, x)
		done <- x
	}()
	<-started
	h.Swap(one)
	close(release)
	if x := <-done; !strings.Contains(x.body.String(), page("slow")) {
		t.Errorf("a page in flight during a swap = %q, want the old shell's", x.body.String())
	}
}

// TestPageLength: a page written whole by its prefix (here one with no
// slot, which has nothing to wait for) goes with its length; one still
// waiting for a slot streams, its length unknown.
func TestPageLength(t *testing.T) {
	t.Parallel()
	l, err := layout.Parse("whole.html", []byte("<head></head><body>whole</body>"))
	if err != nil {
		t.Fatal(err)
	}
	whole, err := shell.New(shell.Options{Routes: []shell.Route{{Pattern: "/", Layout: l}}, Log: slog.New(slog.DiscardHandler)})
	if err != nil {
		t.Fatal(err)
	}
	x := newExchange(http.MethodGet, "/")
	shell.NewHandler(whole, shell.EdgeConfig{}).Serve(x, x)
	if want := `<head></head><body>whole</body>`; x.body.String() != want || x.length != int64(len(want)) {
		t.Errorf("a page written whole = %q of declared length %d, want %q of %d", x.body.String(), x.length, want, len(want))
	}

	started, release := make(chan struct{}), make(chan struct{})
	h := shell.NewHandler(pageShell(t, "late", started, release), shell.EdgeConfig{})
	x = newExchange(http.MethodGet, "/")
	x.streaming = make(chan struct{})
	done := make(chan struct{})
	go func() {
		h.Serve(x, x)
		close(done)
	}()
	<-started
	<-x.streaming
	close(release)
	<-done
	if want := `<head></head><body>late<collage-slot frontend="x">late</collage-slot></body>`; x.body.String() != want || x.length != -1 {
		t.Errorf("a streamed page = %q of declared length %d, want %q of -1", x.body.String(), x.length, want)
	}
}

// TestHandlerRoutes: the router matches literals in any case, ignores a
// trailing slash, hands parameters over still encoded, and answers 405 to
// a method other than GET and HEAD on a page.
func TestHandlerRoutes(t *testing.T) {
	t.Parallel()
	h := shell.NewHandler(pageShell(t, "one", nil, nil), shell.EdgeConfig{})
	tests := []struct {
		method, path string
		status       int
	}{
		{"GET", "/", 200},
		{"HEAD", "/", 200},
		{"GET", "/only-one", 200},
		{"GET", "/only-one/", 200},
		{"GET", "/Only-One", 200},
		{"GET", "/only-one/x", 404},
		{"GET", "/only", 404},
		{"POST", "/only-one", 405},
		{"GET", "/_collage/health", 200},
		{"POST", "/_collage/health", 405},
		{"GET", "/assets/_collage/nothing.js", 404},
		{"DELETE", "/assets/x/y/z.js", 405},
		{"GET", "/bff/nobody/x", 404},
	}
	for _, tt := range tests {
		x := newExchange(tt.method, tt.path)
		h.Serve(x, x)
		if x.status != tt.status {
			t.Errorf("%s %s = %d %s, want %d", tt.method, tt.path, x.status, x.body.String(), tt.status)
		}
		if id := x.out.Get("X-Request-Id"); len(id) != 32 {
			t.Errorf("%s %s: X-Request-Id %q, want one made by the shell", tt.method, tt.path, id)
		}
	}
}

func TestHealthDegraded(t *testing.T) {
	reg := registry.New(&registry.Snapshot{Revision: 4, Versions: map[string]string{"x": "v1"}})
	sh, err := shell.New(shell.Options{Registry: reg, Log: slog.New(slog.DiscardHandler)})
	if err != nil {
		t.Fatal(err)
	}
	h := shell.NewHandler(sh, shell.EdgeConfig{})
	health := func() map[string]any {
		t.Helper()
		x := newExchange("GET", shell.HealthPath)
		h.Serve(x, x)
		var got map[string]any
		if err := json.Unmarshal(x.body.Bytes(), &got); err != nil || x.status != 200 {
			t.Fatalf("health = %d %q: %v", x.status, x.body.String(), err)
		}
		return got
	}
	reg.Checked(time.Now())
	if got := health(); got["status"] != "ok" || got["revision"] != 4.0 || got["registry"] != nil {
		t.Errorf("health = %v, want ok at revision 4", got)
	}
	reg.Failed(errors.New("dial tcp 10.1.2.3:6379: connection refused"), time.Now())
	got := health()
	if got["status"] != "degraded" || got["revision"] != 4.0 {
		t.Errorf("health = %v, want degraded, still at revision 4", got)
	}
	if body, _ := json.Marshal(got); strings.Contains(string(body), "10.1.2.3") {
		t.Errorf("health shows the store's error to anyone: %s", body)
	}
	reg.Checked(time.Now())
	if got := health(); got["status"] != "ok" {
		t.Errorf("health = %v once the store answers again", got)
	}
}
