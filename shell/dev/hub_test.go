package dev

import (
	"bufio"
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/collage-dev/collage/build"
	"github.com/collage-dev/collage/shell/registry"
)

// exchange is a request to the hub and its answer, as a binding would
// pass them.
type exchange struct {
	method, path, query string
	header              http.Header
	out                 http.Header
	status              int
	body                []byte
	stream              io.ReadCloser
}

func (x *exchange) Method() string               { return x.method }
func (x *exchange) Path() string                 { return x.path }
func (x *exchange) RawQuery() string             { return x.query }
func (x *exchange) Host() string                 { return "127.0.0.1:3000" }
func (x *exchange) Scheme() string               { return "http" }
func (x *exchange) Header(name string) string    { return x.header.Get(name) }
func (x *exchange) RemoteAddr() string           { return "127.0.0.1:1" }
func (x *exchange) Body() (io.Reader, int64)     { return nil, 0 }
func (x *exchange) SetBodyDeadline(time.Time)    {}
func (x *exchange) SetHeader(name, value string) { x.out.Set(name, value) }
func (x *exchange) AddHeader(name, value string) { x.out.Add(name, value) }
func (x *exchange) DelHeader(name string)        { x.out.Del(name) }
func (x *exchange) CloseConnection()             {}
func (x *exchange) Send(status int, body []byte) { x.status, x.body = status, body }
func (x *exchange) Stream(status int, body io.ReadCloser, _ int64) {
	x.status, x.stream = status, body
}

// sse is one event of a stream.
type sse struct{ id, name, data string }

// client is a page's stream.
type client struct {
	events chan sse
	lastID string // of the events read so far
	ended  chan struct{}
}

// connect opens a page's stream at query (its path, versions and shared
// version), sending lastID as Last-Event-ID unless it is "".
func connect(t *testing.T, h *Hub, query, lastID string) *client {
	t.Helper()
	x := &exchange{method: http.MethodGet, path: EventsPath, query: query, header: http.Header{}, out: http.Header{}}
	if lastID != "" {
		x.header.Set("Last-Event-ID", lastID)
	}
	h.Serve(x, x)
	if x.stream == nil {
		t.Fatalf("GET %s?%s = %d %s, want a stream", EventsPath, query, x.status, x.body)
	}
	if x.status != 200 || x.out.Get("Content-Type") != "text/event-stream" || x.out.Get("Cache-Control") != "no-store" {
		t.Fatalf("stream: %d, headers %v", x.status, x.out)
	}
	pr, pw := io.Pipe()
	c := &client{events: make(chan sse, 256), ended: make(chan struct{})}
	go func() {
		x.stream.(io.WriterTo).WriteTo(pw)
		x.stream.Close()
		pw.Close()
	}()
	go func() {
		defer close(c.ended)
		sc := bufio.NewScanner(pr)
		var ev sse
		for sc.Scan() {
			line := sc.Text()
			if line == "" {
				if ev.name != "" || ev.id != "" {
					c.events <- ev
				}
				ev = sse{}
				continue
			}
			k, v, _ := strings.Cut(line, ": ")
			switch k {
			case "id":
				ev.id = v
			case "event":
				ev.name = v
			case "data":
				ev.data = v
			}
		}
	}()
	t.Cleanup(func() { pr.Close() })
	return c
}

// next returns the next event with a name, noting the ids it reads; it
// fails after 5s.
func (c *client) next(t *testing.T) sse {
	t.Helper()
	for {
		select {
		case ev := <-c.events:
			if ev.id != "" {
				c.lastID = ev.id
			}
			if ev.name != "" {
				return ev
			}
		case <-c.ended:
			t.Fatal("the stream ended")
		case <-time.After(5 * time.Second):
			t.Fatal("no event within 5s")
		}
	}
}

// quiet fails if an event with a name comes within wait.
func (c *client) quiet(t *testing.T, wait time.Duration) {
	t.Helper()
	for {
		select {
		case ev := <-c.events:
			if ev.id != "" {
				c.lastID = ev.id
			}
			if ev.name != "" {
				t.Fatalf("unexpected event %s %s", ev.name, ev.data)
			}
		case <-time.After(wait):
			return
		}
	}
}

func decode[T any](t *testing.T, ev sse) T {
	t.Helper()
	var v T
	if err := json.Unmarshal([]byte(ev.data), &v); err != nil {
		t.Fatalf("event %s: %v: %s", ev.name, err, ev.data)
	}
	return v
}

func manifest(name, version string) *build.Manifest {
	return &build.Manifest{Name: name, Version: version, Entry: name + "-" + version + ".js", CSS: []string{name + ".css"},
		Files: map[string]build.File{
			name + "-" + version + ".js": {Integrity: "sha384-js-" + version},
			name + ".css":                {Integrity: "sha384-css"},
		}}
}

func TestHubCatchUp(t *testing.T) {
	t.Parallel()
	snap := &registry.Snapshot{
		Shared:    &build.Manifest{Name: build.SharedName, Version: "s1"},
		Frontends: map[string]*build.Manifest{"recs": manifest("recs", "r2"), "cart": manifest("cart", "c1")},
		Versions:  map[string]string{"recs": "label-r2", "cart": "label-c1"},
	}
	h := NewHub(HubOptions{Current: func() *registry.Snapshot { return snap }})
	defer h.Close()
	h.Problem(Problem{Source: SourceBuild, Frontend: "cart", File: "frontends/cart/src/index.ts", Line: 3, Column: 7, Message: "Unexpected }"})
	h.Problem(Problem{Source: SourceFragment, Frontend: "recs", Path: "/other", Message: "recs failed"})

	// A page rendered with recs' old version is told of its new one, and of
	// the problem that stands; the fragment problem of another page is not
	// its.
	c := connect(t, h, url.Values{"path": {"/"}, "versions": {"recs=label-r1&cart=label-c1"}, "shared": {"s1"}}.Encode(), "")
	u := decode[Update](t, c.next(t))
	want := Update{Frontend: "recs", Label: "label-r2", Version: "r2", Entry: "/assets/recs/r2/recs-r2.js",
		CSS:       []string{"/assets/recs/r2/recs.css"},
		Integrity: map[string]string{"/assets/recs/r2/recs-r2.js": "sha384-js-r2", "/assets/recs/r2/recs.css": "sha384-css"}}
	if u.Frontend != want.Frontend || u.Label != want.Label || u.Entry != want.Entry || strings.Join(u.CSS, " ") != strings.Join(want.CSS, " ") ||
		u.Integrity[want.Entry] != "sha384-js-r2" || u.Integrity[want.CSS[0]] != "sha384-css" {
		t.Errorf("update = %+v\nwant %+v", u, want)
	}
	ev := c.next(t)
	if p := decode[Problem](t, ev); ev.name != EventError || p.Frontend != "cart" || p.Line != 3 {
		t.Errorf("then %s %+v, want cart's build error", ev.name, p)
	}
	c.quiet(t, 20*time.Millisecond)
	if !strings.HasPrefix(c.lastID, h.instance+".") {
		t.Errorf("last id %q, want this hub's", c.lastID)
	}

	// A page of other shared dependencies, or with a bundle that is gone,
	// reloads.
	for _, q := range []url.Values{
		{"path": {"/"}, "versions": {"recs=label-r2"}, "shared": {"s0"}},
		{"path": {"/"}, "versions": {"gone=label-g1"}, "shared": {"s1"}},
	} {
		c := connect(t, h, q.Encode(), "")
		if ev := c.next(t); ev.name != EventReload {
			t.Errorf("%s: first event %s %s, want reload", q.Encode(), ev.name, ev.data)
		}
	}

	// The fragment's problem goes to its page alone.
	other := connect(t, h, url.Values{"path": {"/other"}, "versions": {"recs=label-r2&cart=label-c1"}, "shared": {"s1"}}.Encode(), "")
	seen := map[string]bool{}
	for range 2 {
		p := decode[Problem](t, other.next(t))
		seen[p.Source+" "+p.Frontend] = true
	}
	if !seen["build cart"] || !seen["fragment recs"] {
		t.Errorf("the page of /other was told %v, want cart's build error and recs' fragment", seen)
	}
}

func TestHubLive(t *testing.T) {
	t.Parallel()
	h := NewHub(HubOptions{})
	defer h.Close()
	home := connect(t, h, "path=%2F", "")
	other := connect(t, h, "path=%2Fother", "")
	home.quiet(t, 10*time.Millisecond)

	h.Update(newUpdate("recs", "l2", manifest("recs", "r2")))
	for _, c := range []*client{home, other} {
		if ev := c.next(t); ev.name != EventUpdate || decode[Update](t, ev).Label != "l2" {
			t.Errorf("event %s %s, want recs' update", ev.name, ev.data)
		}
	}
	p := Problem{Source: SourceFragment, Frontend: "recs", Path: "/other", Message: "boom"}
	h.Problem(p)
	h.Problem(p) // the same again: nobody is told twice
	if ev := other.next(t); ev.name != EventError || decode[Problem](t, ev) != p {
		t.Errorf("event %s %s, want the fragment's problem", ev.name, ev.data)
	}
	h.Clear(SourceFragment, "recs", "/other")
	h.Clear(SourceFragment, "recs", "/other") // over already: nobody is told
	if ev := other.next(t); ev.name != EventClear || decode[Clear](t, ev) != (Clear{Source: SourceFragment, Frontend: "recs", Path: "/other"}) {
		t.Errorf("event %s %s, want the clear", ev.name, ev.data)
	}
	other.quiet(t, 20*time.Millisecond)
	h.Reload()
	if ev := home.next(t); ev.name != EventReload {
		t.Errorf("home: event %s, want the reload (it is told nothing of /other)", ev.name)
	}
	if len(h.problems) != 0 {
		t.Errorf("problems standing: %v", h.problems)
	}
}

func TestHubReconnect(t *testing.T) {
	t.Parallel()
	h := NewHub(HubOptions{})
	defer h.Close()
	c := connect(t, h, "path=%2F", "")
	h.Update(newUpdate("recs", "l1", manifest("recs", "r1")))
	c.next(t)
	last := c.lastID
	// What the page missed while it was away is sent again, in order.
	h.Update(newUpdate("recs", "l2", manifest("recs", "r2")))
	h.Problem(Problem{Source: SourceBuild, Frontend: "cart", Message: "broken"})
	again := connect(t, h, "path=%2F", last)
	if ev := again.next(t); ev.name != EventUpdate || decode[Update](t, ev).Label != "l2" {
		t.Errorf("first event again %s %s, want the update missed", ev.name, ev.data)
	}
	if ev := again.next(t); ev.name != EventError {
		t.Errorf("second event again %s, want the problem missed", ev.name)
	}
	again.quiet(t, 20*time.Millisecond)

	// Another process's id, or one too old, reloads the page.
	for _, id := range []string{"another.1", h.instance + ".999", "garbage"} {
		if ev := connect(t, h, "path=%2F", id).next(t); ev.name != EventReload {
			t.Errorf("Last-Event-ID %s: event %s, want reload", id, ev.name)
		}
	}
	for range ringSize {
		h.Reload()
	}
	if ev := connect(t, h, "path=%2F", last).next(t); ev.name != EventReload {
		t.Errorf("after more events than the hub keeps: event %s, want reload", ev.name)
	}
}

func TestHubStreamEnds(t *testing.T) {
	t.Parallel()
	h := NewHub(HubOptions{MaxStream: 50 * time.Millisecond, Heartbeat: 10 * time.Millisecond})
	c := connect(t, h, "path=%2F", "")
	select {
	case <-c.ended:
	case <-time.After(5 * time.Second):
		t.Fatal("the stream outlived MaxStream")
	}

	// A page that reads nothing is dropped once its events fill up: it
	// connects again for what it missed.
	x := &exchange{method: http.MethodGet, path: EventsPath, header: http.Header{}, out: http.Header{}}
	h.Serve(x, x)
	for range connBuffer + 1 {
		h.Reload()
	}
	h.mu.Lock()
	n := len(h.conns)
	h.mu.Unlock()
	if n != 0 {
		t.Errorf("%d page(s) kept, want the slow one dropped", n)
	}
	if _, err := x.stream.(io.WriterTo).WriteTo(io.Discard); err != nil {
		t.Errorf("the dropped page's stream: %v", err)
	}
	x.stream.Close()

	// Close ends the streams and refuses new ones.
	open := connect(t, h, "path=%2F", "")
	h.Close()
	select {
	case <-open.ended:
	case <-time.After(5 * time.Second):
		t.Fatal("the stream outlived Close")
	}
	x = &exchange{method: http.MethodGet, path: EventsPath, header: http.Header{}, out: http.Header{}}
	h.Serve(x, x)
	if x.status != http.StatusServiceUnavailable {
		t.Errorf("after Close: %d, want 503", x.status)
	}
}

func TestHubRefusals(t *testing.T) {
	t.Parallel()
	h := NewHub(HubOptions{})
	defer h.Close()
	for _, tt := range []struct {
		method, path, query string
		status              int
	}{
		{http.MethodGet, "/_collage/dev/other", "", 404},
		{http.MethodPost, EventsPath, "", 405},
		{http.MethodGet, EventsPath, "path=%zz", 400},
		{http.MethodGet, EventsPath, "versions=a%3D%25zz", 400},
	} {
		x := &exchange{method: tt.method, path: tt.path, query: tt.query, header: http.Header{}, out: http.Header{}}
		h.Serve(x, x)
		if x.status != tt.status || x.out.Get("Content-Type") != "application/json" || !strings.Contains(string(x.body), `"error"`) {
			t.Errorf("%s %s?%s = %d %s, want %d in the JSON error shape", tt.method, tt.path, tt.query, x.status, x.body, tt.status)
		}
	}
}
