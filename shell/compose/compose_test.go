package compose_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/collage-dev/collage/internal/golden"
	"github.com/collage-dev/collage/shell/compose"
	"github.com/collage-dev/collage/shell/layout"
)

// fetchFunc answers one slot.
type fetchFunc func(ctx context.Context, s *layout.Slot, req *compose.Request) compose.Result

// fetcher is a fake compose.Fetcher: one fetchFunc per frontend.
type fetcher map[string]fetchFunc

func (f fetcher) Fetch(ctx context.Context, s *layout.Slot, req *compose.Request) compose.Result {
	return f[s.Frontend](ctx, s, req)
}

func answer(status int, body string, header ...string) fetchFunc {
	return func(context.Context, *layout.Slot, *compose.Request) compose.Result {
		h := http.Header{}
		for i := 0; i+1 < len(header); i += 2 {
			h.Add(header[i], header[i+1])
		}
		return compose.Result{Status: status, Header: h, Body: []byte(body), Outcome: compose.OK}
	}
}

// held answers body once release is closed, or times out with its context.
func held(release <-chan struct{}, body string) fetchFunc {
	return func(ctx context.Context, s *layout.Slot, r *compose.Request) compose.Result {
		select {
		case <-release:
			return answer(200, body)(ctx, s, r)
		case <-ctx.Done():
			return compose.Result{Err: ctx.Err(), Outcome: compose.Timeout}
		}
	}
}

// untilDone blocks until the slot's context ends, as a well-behaved slow fetch.
func untilDone(ctx context.Context, _ *layout.Slot, _ *compose.Request) compose.Result {
	<-ctx.Done()
	return compose.Result{Err: ctx.Err(), Outcome: compose.Timeout}
}

// buffer is a compose.Writer that records what was flushed when.
type buffer struct {
	mu      sync.Mutex
	buf     bytes.Buffer
	flushes []string      // the whole output at each Flush
	flushed chan struct{} // receives once per Flush, if not nil
}

func (b *buffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *buffer) Flush() error {
	b.mu.Lock()
	b.flushes = append(b.flushes, b.buf.String())
	b.mu.Unlock()
	if b.flushed != nil {
		b.flushed <- struct{}{}
	}
	return nil
}

func (b *buffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

func parse(t *testing.T, src string) *layout.Layout {
	t.Helper()
	l, err := layout.Parse(t.Name()+".html", []byte(src))
	if err != nil {
		t.Fatal(err)
	}
	return l
}

// page composes l with f, once every slot is decided, and returns the
// status, headers (with Server-Timing) and body.
func page(t *testing.T, l *layout.Layout, f compose.Fetcher, req *compose.Request) (int, http.Header, string) {
	t.Helper()
	if req == nil {
		req = &compose.Request{Path: "/", Nonce: "n0nce"}
	}
	r := compose.Start(context.Background(), l, f, compose.NewHead("<!--head-->", "{nonce}"), req)
	defer r.Close()
	r.Results() // every slot decided, so that Server-Timing lists them all
	status, h := r.Status()
	h.Set("Server-Timing", r.ServerTiming())
	var w buffer
	if !compose.Redirect(status) {
		if err := r.WriteTo(&w); err != nil {
			t.Fatalf("WriteTo: %v", err)
		}
	}
	return status, h, w.String()
}

func TestSlotsInDocumentOrder(t *testing.T) {
	t.Parallel()
	l := parse(t, `<collage-slot frontend=a></collage-slot>|<collage-slot frontend=b></collage-slot>|<collage-slot frontend=c></collage-slot>`)
	// c answers first, a last: the page keeps the layout's order.
	cDone, bDone := make(chan struct{}), make(chan struct{})
	f := fetcher{
		"a": func(ctx context.Context, s *layout.Slot, r *compose.Request) compose.Result {
			<-bDone
			return answer(200, "A")(ctx, s, r)
		},
		"b": func(ctx context.Context, s *layout.Slot, r *compose.Request) compose.Result {
			<-cDone
			defer close(bDone)
			return answer(200, "B")(ctx, s, r)
		},
		"c": func(ctx context.Context, s *layout.Slot, r *compose.Request) compose.Result {
			defer close(cDone)
			return answer(200, "C")(ctx, s, r)
		},
	}
	_, _, body := page(t, l, f, nil)
	want := `<collage-slot frontend="a">A</collage-slot>|<collage-slot frontend="b">B</collage-slot>|<collage-slot frontend="c">C</collage-slot>`
	if body != want {
		t.Errorf("body:\n got %s\nwant %s", body, want)
	}
}

func TestSlotsFetchedConcurrently(t *testing.T) {
	t.Parallel()
	l := parse(t, `<collage-slot frontend=a></collage-slot><collage-slot frontend=b></collage-slot>`)
	// Each fetch waits for the other to start: sequential fetching deadlocks
	// until the slot deadline and shows the fallbacks.
	var started sync.WaitGroup
	started.Add(2)
	both := func(ctx context.Context, s *layout.Slot, r *compose.Request) compose.Result {
		started.Done()
		started.Wait()
		return answer(200, s.Frontend)(ctx, s, r)
	}
	_, _, body := page(t, l, fetcher{"a": both, "b": both}, nil)
	if want := `<collage-slot frontend="a">a</collage-slot><collage-slot frontend="b">b</collage-slot>`; body != want {
		t.Errorf("body:\n got %s\nwant %s", body, want)
	}
}

func TestOutcomes(t *testing.T) {
	t.Parallel()
	hang := make(chan struct{})
	t.Cleanup(func() { close(hang) })
	tests := []struct {
		name    string
		attrs   string // of the slot under test
		fetch   fetchFunc
		status  int
		header  http.Header // headers the page must have (and only these, of Location and Set-Cookie)
		slot    string      // the slot as written
		outcome string      // in Server-Timing
	}{
		{
			name: "ok", fetch: answer(200, "<p>hi</p>"),
			status: 200, slot: `<collage-slot frontend="x"><p>hi</p></collage-slot>`, outcome: "ok",
		},
		{
			name: "201 is shown", fetch: answer(201, "made"),
			status: 200, slot: `<collage-slot frontend="x">made</collage-slot>`, outcome: "ok",
		},
		{
			name: "cached", fetch: func(context.Context, *layout.Slot, *compose.Request) compose.Result {
				return compose.Result{Status: 200, Body: []byte("c"), Outcome: compose.Cached}
			},
			status: 200, slot: `<collage-slot frontend="x">c</collage-slot>`, outcome: "cache",
		},
		{
			name: "timeout", attrs: "timeout=20ms", fetch: untilDone,
			status: 200, slot: `<collage-slot frontend="x" data-collage-fallback="timeout">fallback</collage-slot>`, outcome: "timeout",
		},
		{
			name: "fetch ignoring its deadline", attrs: "timeout=20ms",
			fetch: func(context.Context, *layout.Slot, *compose.Request) compose.Result {
				<-hang
				return compose.Result{Status: 200, Body: []byte("late")}
			},
			status: 200, slot: `<collage-slot frontend="x" data-collage-fallback="timeout">fallback</collage-slot>`, outcome: "timeout",
		},
		{
			name: "error", fetch: func(context.Context, *layout.Slot, *compose.Request) compose.Result {
				return compose.Result{Outcome: compose.Failed, Err: errors.New("connection refused")}
			},
			status: 200, slot: `<collage-slot frontend="x" data-collage-fallback="error">fallback</collage-slot>`, outcome: "error",
		},
		{
			name: "error with a body shows no body", fetch: func(context.Context, *layout.Slot, *compose.Request) compose.Result {
				return compose.Result{Status: 200, Body: []byte("secret"), Outcome: compose.Failed, Err: errors.New("cut short")}
			},
			status: 200, slot: `<collage-slot frontend="x" data-collage-fallback="error">fallback</collage-slot>`, outcome: "error",
		},
		{
			name: "5xx", fetch: answer(503, "<p>stack trace</p>"),
			status: 200, slot: `<collage-slot frontend="x" data-collage-fallback="error">fallback</collage-slot>`, outcome: "error",
		},
		{
			name: "4xx of a non-primary slot", fetch: answer(404, "<p>not found</p>", "Set-Cookie", "a=1"),
			status: 200, slot: `<collage-slot frontend="x" data-collage-fallback="error">fallback</collage-slot>`, outcome: "error",
		},
		{
			name: "redirect of a non-primary slot", fetch: answer(302, "", "Location", "/elsewhere"),
			status: 200, slot: `<collage-slot frontend="x" data-collage-fallback="error">fallback</collage-slot>`, outcome: "error",
		},
		{
			name: "Set-Cookie of a non-primary slot is dropped", fetch: answer(200, "ok", "Set-Cookie", "a=1"),
			status: 200, slot: `<collage-slot frontend="x">ok</collage-slot>`, outcome: "ok",
		},
		{
			name: "primary 404", attrs: "primary", fetch: answer(404, "<h1>No such product</h1>"),
			status: 404, slot: `<collage-slot frontend="x" primary><h1>No such product</h1></collage-slot>`, outcome: "ok",
		},
		{
			name: "primary 410 with cookies", attrs: "primary", fetch: answer(410, "gone", "Set-Cookie", "a=1; Path=/", "Set-Cookie", "b=2; HttpOnly"),
			status: 410, header: http.Header{"Set-Cookie": {"a=1; Path=/", "b=2; HttpOnly"}},
			slot: `<collage-slot frontend="x" primary>gone</collage-slot>`, outcome: "ok",
		},
		{
			name: "primary Set-Cookie", attrs: "primary", fetch: answer(200, "hi", "Set-Cookie", "session=abc; Path=/; HttpOnly", "Set-Cookie", "seen=1"),
			status: 200, header: http.Header{"Set-Cookie": {"session=abc; Path=/; HttpOnly", "seen=1"}},
			slot: `<collage-slot frontend="x" primary>hi</collage-slot>`, outcome: "ok",
		},
		{
			name: "primary redirect", attrs: "primary", fetch: answer(302, "", "Location", "/login?next=%2F", "Set-Cookie", "next=1"),
			status: 302, header: http.Header{"Location": {"/login?next=%2F"}, "Set-Cookie": {"next=1"}}, outcome: "ok",
		},
		{
			name: "primary 301", attrs: "primary", fetch: answer(301, "", "Location", "/products/new"),
			status: 301, header: http.Header{"Location": {"/products/new"}}, outcome: "ok",
		},
		{
			name: "primary redirect without Location", attrs: "primary", fetch: answer(302, ""),
			status: 502, slot: `<collage-slot frontend="x" primary data-collage-fallback="error">fallback</collage-slot>`, outcome: "error",
		},
		{
			name: "primary 5xx", attrs: "primary", fetch: answer(500, "boom", "Set-Cookie", "a=1"),
			status: 502, slot: `<collage-slot frontend="x" primary data-collage-fallback="error">fallback</collage-slot>`, outcome: "error",
		},
		{
			name: "primary timeout", attrs: "primary timeout=20ms", fetch: untilDone,
			status: 504, slot: `<collage-slot frontend="x" primary data-collage-fallback="timeout">fallback</collage-slot>`, outcome: "timeout",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			l := parse(t, "<div><collage-slot frontend=x "+tt.attrs+">fallback</collage-slot></div>")
			status, h, body := page(t, l, fetcher{"x": tt.fetch}, nil)
			if status != tt.status {
				t.Errorf("status = %d, want %d", status, tt.status)
			}
			for _, k := range []string{"Location", "Set-Cookie"} {
				if got, want := h.Values(k), tt.header.Values(k); strings.Join(got, "\n") != strings.Join(want, "\n") {
					t.Errorf("%s = %q, want %q", k, got, want)
				}
			}
			timing := h.Get("Server-Timing")
			wantTiming := `^slot-0-x;desc="` + tt.outcome + `";dur=\d+\.\d$`
			if !regexp.MustCompile(wantTiming).MatchString(timing) {
				t.Errorf("Server-Timing = %q, want %s", timing, wantTiming)
			}
			if compose.Redirect(status) {
				return
			}
			if want := "<div>" + tt.slot + "</div>"; body != want {
				t.Errorf("body:\n got %s\nwant %s", body, want)
			}
		})
	}
}

// TestLocation: a primary slot's redirect is the page's when its Location
// is a path on the site, or an http(s) URL on the page's origin or an
// allowed one; otherwise the slot has failed, and says why.
func TestLocation(t *testing.T) {
	t.Parallel()
	tests := []struct {
		location string
		ok       bool
	}{
		{"/", true},
		{"/login?next=%2Fcart", true},
		{"/a//b", true},
		{"/a\\b", true},
		{"/caf%C3%A9#top", true},
		{"https://shop.example/cart", true},
		{"https://SHOP.example:443/cart", true},
		{"HTTPS://shop.example", true},
		{"https://login.example.com/?next=https%3A%2F%2Fevil.example", true},
		{"https://shop.example:8443/", false},
		{"http://shop.example/", false},
		{"https://login.example.com.evil.example/", false},
		{"https://evil.example/", false},
		{"http://evil.example/", false},
		{"//evil.example/x", false},
		{"///evil.example/x", false},
		{"/\\evil.example/x", false},
		{"/\t/evil.example", false},
		{"/x\n", false},
		{"/x\x7f", false},
		{"javascript:alert(1)", false},
		{"JavaScript:alert(1)", false},
		{"data:text/html,<script>alert(1)</script>", false},
		{"https:evil.example", false},
		{"https://shop.example@evil.example/", false},
		{"https://shop.example\\@evil.example/", false},
		{"https://evil.example\\.shop.example/", false},
		{"ftp://shop.example/", false},
		{"cart", false},
		{"?page=2", false},
		{" https://shop.example/", false},
	}
	l := parse(t, `<p><collage-slot frontend=x primary>fb</collage-slot></p>`)
	for _, tt := range tests {
		f := fetcher{"x": answer(302, "", "Location", tt.location)}
		r := compose.Start(context.Background(), l, f, compose.Head{}, &compose.Request{Origin: "https://shop.example"})
		r.Redirects = []string{"https://login.example.com"}
		status, h := r.Status()
		timing := r.ServerTiming()
		err := r.Results()[0].Err
		r.Close()
		if tt.ok {
			if status != 302 || h.Get("Location") != tt.location || err != nil {
				t.Errorf("%q: status %d Location %q err %v, want the redirect passed on", tt.location, status, h.Get("Location"), err)
			}
			continue
		}
		var le *compose.LocationError
		if status != 502 || h.Get("Location") != "" || !errors.As(err, &le) || le.Location != tt.location ||
			!strings.Contains(timing, `desc="error: redirect refused"`) {
			t.Errorf("%q: status %d Location %q err %v Server-Timing %q, want a 502 that says the redirect was refused",
				tt.location, status, h.Get("Location"), err, timing)
		}
	}
}

func TestParseOrigin(t *testing.T) {
	t.Parallel()
	tests := []struct{ in, want, err string }{
		{in: "https://login.example.com", want: "https://login.example.com"},
		{in: "https://Login.Example.COM/", want: "https://login.example.com"},
		{in: "https://login.example.com:443", want: "https://login.example.com"},
		{in: "http://127.0.0.1:80", want: "http://127.0.0.1"},
		{in: "http://127.0.0.1:3000", want: "http://127.0.0.1:3000"},
		{in: "https://[::1]:8443", want: "https://[::1]:8443"},
		{in: "login.example.com", err: `origin "login.example.com": write scheme://host[:port], with http or https`},
		{in: "ftp://login.example.com", err: `origin "ftp://login.example.com": write scheme://host[:port], with http or https`},
		{in: "https://login.example.com/sso", err: `origin "https://login.example.com/sso": an origin is scheme://host[:port] alone, with no user, path, query or fragment`},
		{in: "https://u@login.example.com", err: `origin "https://u@login.example.com": an origin is scheme://host[:port] alone, with no user, path, query or fragment`},
		{in: "https://login.example.com?", err: `origin "https://login.example.com?": an origin is scheme://host[:port] alone, with no user, path, query or fragment`},
		{in: "https://login.example.com:x", err: `origin "https://login.example.com:x": invalid port ":x" after host`},
	}
	for _, tt := range tests {
		got, err := compose.ParseOrigin(tt.in)
		if got != tt.want || (err == nil) != (tt.err == "") || (err != nil && err.Error() != tt.err) {
			t.Errorf("ParseOrigin(%q) = %q, %v; want %q, %s", tt.in, got, err, tt.want, tt.err)
		}
	}
}

func TestTimeoutIsPerSlot(t *testing.T) {
	t.Parallel()
	// The fast slot's short deadline does not cut the slow one short.
	l := parse(t, `<collage-slot frontend=fast timeout=20ms>f</collage-slot><collage-slot frontend=slow timeout=10s>s</collage-slot>`)
	f := fetcher{
		"fast": untilDone,
		"slow": func(ctx context.Context, s *layout.Slot, r *compose.Request) compose.Result {
			select {
			case <-time.After(100 * time.Millisecond):
				return answer(200, "S")(ctx, s, r)
			case <-ctx.Done():
				return compose.Result{Err: ctx.Err(), Outcome: compose.Timeout}
			}
		},
	}
	_, _, body := page(t, l, f, nil)
	want := `<collage-slot frontend="fast" data-collage-fallback="timeout">f</collage-slot><collage-slot frontend="slow">S</collage-slot>`
	if body != want {
		t.Errorf("body:\n got %s\nwant %s", body, want)
	}
}

// TestPageBoundsSlots: a slot whose own timeout is an hour still ends at
// the page's bound, given as Start's context or as the request's deadline.
func TestPageBoundsSlots(t *testing.T) {
	t.Parallel()
	l := parse(t, `<collage-slot frontend=x timeout=1h>fb</collage-slot>`)
	for name, start := range map[string]func() *compose.Render{
		"context": func() *compose.Render {
			ctx, cancel := context.WithTimeout(context.Background(), 20*time.Millisecond)
			t.Cleanup(cancel)
			return compose.Start(ctx, l, fetcher{"x": untilDone}, compose.Head{}, &compose.Request{})
		},
		"request deadline": func() *compose.Render {
			req := &compose.Request{Deadline: time.Now().Add(20 * time.Millisecond)}
			return compose.Start(context.Background(), l, fetcher{"x": untilDone}, compose.Head{}, req)
		},
	} {
		r := start()
		defer r.Close()
		var w buffer
		if err := r.WriteTo(&w); err != nil {
			t.Fatal(err)
		}
		if want := `<collage-slot frontend="x" data-collage-fallback="timeout">fb</collage-slot>`; w.String() != want {
			t.Errorf("%s: body = %s, want %s", name, w.String(), want)
		}
	}
}

func TestRequestReachesFetcher(t *testing.T) {
	t.Parallel()
	l := parse(t, `<collage-slot frontend=x name=main></collage-slot>`)
	req := &compose.Request{Path: "/p?q=1", Params: "id=7", Header: http.Header{"Cookie": {"a=1"}}, Nonce: "n", ID: "r1"}
	var got *compose.Request
	var slot *layout.Slot
	f := fetcher{"x": func(ctx context.Context, s *layout.Slot, r *compose.Request) compose.Result {
		got, slot = r, s
		if _, ok := ctx.Deadline(); !ok {
			t.Error("the fetch context has no deadline")
		}
		return answer(200, "")(ctx, s, r)
	}}
	page(t, l, f, req)
	if got != req || slot != l.Slots[0] {
		t.Errorf("fetcher got request %+v slot %+v", got, slot)
	}
}

func TestHeadAndParams(t *testing.T) {
	t.Parallel()
	l := parse(t, "<head><title>t</title></head><body></body>")
	head := compose.NewHead(`<script nonce="{nonce}">1</script><script nonce="{nonce}">2</script>`+"\n", "{nonce}")
	r := compose.Start(context.Background(), l, fetcher{}, head, &compose.Request{Params: `id=a"b&c=<d>`, Nonce: "Zm9v+/=="})
	defer r.Close()
	var w buffer
	if err := r.WriteTo(&w); err != nil {
		t.Fatal(err)
	}
	want := `<head><title>t</title><meta name="collage-params" content="id=a&#34;b&amp;c=&lt;d&gt;">` + "\n" +
		`<script nonce="Zm9v+/==">1</script><script nonce="Zm9v+/==">2</script>` + "\n</head><body></body>"
	if w.String() != want {
		t.Errorf("page:\n got %s\nwant %s", w.String(), want)
	}
}

func TestNoHeadNoTags(t *testing.T) {
	t.Parallel()
	l := parse(t, "<p>fragment page</p>")
	r := compose.Start(context.Background(), l, fetcher{}, compose.NewHead("<script>", "{nonce}"), &compose.Request{Params: "id=1"})
	defer r.Close()
	var w buffer
	if err := r.WriteTo(&w); err != nil {
		t.Fatal(err)
	}
	if w.String() != "<p>fragment page</p>" {
		t.Errorf("page = %q", w.String())
	}
}

// TestHeadFlushedBeforeSlowSlot proves the first byte does not wait for a
// non-primary fragment: the fragment cannot arrive until the test has seen
// the head flushed.
func TestHeadFlushedBeforeSlowSlot(t *testing.T) {
	t.Parallel()
	l := parse(t, `<html><head><title>t</title></head><body><collage-slot frontend=slow timeout=1m>fb</collage-slot></body></html>`)
	release := make(chan struct{})
	f := fetcher{"slow": held(release, "S")}
	r := compose.Start(context.Background(), l, f, compose.NewHead(`<link rel="stylesheet" href="/a.css">`, "{nonce}"), &compose.Request{})
	defer r.Close()

	statusDone := make(chan int)
	go func() {
		status, _ := r.Status()
		statusDone <- status
	}()
	select {
	case status := <-statusDone:
		if status != 200 {
			t.Errorf("status = %d", status)
		}
	case <-time.After(10 * time.Second):
		close(release)
		t.Fatal("Status waited for a non-primary slot")
	}

	w := &buffer{flushed: make(chan struct{}, 16)}
	errc := make(chan error, 1)
	go func() { errc <- r.WriteTo(w) }()
	select {
	case <-w.flushed:
	case err := <-errc:
		t.Fatalf("WriteTo returned (%v) without flushing while a slot was pending", err)
	case <-time.After(10 * time.Second):
		close(release)
		t.Fatal("nothing flushed while the slow slot was pending")
	}
	w.mu.Lock()
	first := w.flushes[0]
	w.mu.Unlock()
	wantFirst := `<html><head><title>t</title><link rel="stylesheet" href="/a.css"></head><body>`
	if first != wantFirst {
		t.Errorf("first flush:\n got %s\nwant %s", first, wantFirst)
	}
	close(release)
	select {
	case err := <-errc:
		if err != nil {
			t.Fatal(err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("WriteTo did not finish after the slow slot was released")
	}
	want := wantFirst + `<collage-slot frontend="slow">S</collage-slot></body></html>`
	if got := w.String(); got != want {
		t.Errorf("page:\n got %s\nwant %s", got, want)
	}
	if last := w.flushes[len(w.flushes)-1]; last != want {
		t.Errorf("the end of the page was not flushed: last flush %q", last)
	}
}

func TestStatusWaitsForPrimaryOnly(t *testing.T) {
	t.Parallel()
	l := parse(t, `<collage-slot frontend=slow timeout=1m></collage-slot><collage-slot frontend=main primary></collage-slot>`)
	release := make(chan struct{})
	defer close(release)
	f := fetcher{
		"slow": func(ctx context.Context, s *layout.Slot, r *compose.Request) compose.Result {
			select {
			case <-release:
			case <-ctx.Done():
			}
			return compose.Result{Err: errors.New("released"), Outcome: compose.Failed}
		},
		"main": answer(404, "nope"),
	}
	r := compose.Start(context.Background(), l, f, compose.Head{}, &compose.Request{})
	defer r.Close()
	type answer struct {
		status int
		timing string
	}
	done := make(chan answer, 1)
	go func() { s, _ := r.Status(); done <- answer{s, r.ServerTiming()} }()
	select {
	case a := <-done:
		if a.status != 404 {
			t.Errorf("status = %d, want the primary's 404", a.status)
		}
		// The pending slot is not in Server-Timing: it is not known yet.
		re := regexp.MustCompile(`^slot-1-main;desc="ok";dur=\d+\.\d$`)
		if got := a.timing; !re.MatchString(got) {
			t.Errorf("Server-Timing = %q, want %s", got, re)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("Status waited for a non-primary slot")
	}
}

func TestServerTimingBeforeAnySlot(t *testing.T) {
	t.Parallel()
	l := parse(t, `<collage-slot frontend=slow timeout=1m></collage-slot>`)
	release := make(chan struct{})
	defer close(release)
	f := fetcher{"slow": func(ctx context.Context, _ *layout.Slot, _ *compose.Request) compose.Result {
		<-release
		return compose.Result{Status: 200}
	}}
	r := compose.Start(context.Background(), l, f, compose.Head{}, &compose.Request{})
	defer r.Close()
	if got, re := r.ServerTiming(), regexp.MustCompile(`^compose;dur=\d+\.\d$`); !re.MatchString(got) {
		t.Errorf("Server-Timing = %q, want %s", got, re)
	}
}

func TestServerTimingListsResolvedSlots(t *testing.T) {
	t.Parallel()
	l := parse(t, `<collage-slot frontend=a></collage-slot><collage-slot frontend=b-c primary></collage-slot>`)
	aDone := make(chan struct{})
	f := fetcher{
		"a": func(ctx context.Context, s *layout.Slot, r *compose.Request) compose.Result {
			defer close(aDone)
			return answer(500, "")(ctx, s, r)
		},
		"b-c": func(ctx context.Context, s *layout.Slot, r *compose.Request) compose.Result {
			<-aDone
			return answer(200, "")(ctx, s, r)
		},
	}
	r := compose.Start(context.Background(), l, f, compose.Head{}, &compose.Request{})
	defer r.Close()
	r.Status()
	re := regexp.MustCompile(`^slot-0-a;desc="error";dur=\d+\.\d, slot-1-b-c;desc="ok";dur=\d+\.\d$`)
	if got := r.ServerTiming(); !re.MatchString(got) {
		t.Errorf("Server-Timing = %q, want %s", got, re)
	}
	res := r.Results()
	if len(res) != 2 || res[0].Outcome != compose.Failed || res[0].Err == nil || res[1].Outcome != compose.OK {
		t.Errorf("Results = %+v", res)
	}
}

// errWriter fails every write and flush after the first n; with n < 0 it
// only counts them.
type errWriter struct{ n, calls int }

var errClosed = errors.New("connection closed")

func (w *errWriter) call() error {
	w.calls++
	if w.n >= 0 && w.calls > w.n {
		return errClosed
	}
	return nil
}

func (w *errWriter) Write(p []byte) (int, error) {
	if err := w.call(); err != nil {
		return 0, err
	}
	return len(p), nil
}
func (w *errWriter) Flush() error { return w.call() }

func TestWriteErrorStopsThePage(t *testing.T) {
	t.Parallel()
	l := parse(t, `<head></head><body><collage-slot frontend=a></collage-slot><collage-slot frontend=b async></collage-slot></body>`)
	f := fetcher{"a": answer(200, "A"), "b": answer(200, "B")}
	write := func(w *errWriter) error {
		r := compose.Start(context.Background(), l, f, compose.NewHead("<x>", "{nonce}"), &compose.Request{Nonce: "n", Params: "p=1"})
		defer r.Close()
		r.Results() // every slot ready: the calls are the same each time
		return r.WriteTo(w)
	}
	count := &errWriter{n: -1}
	if err := write(count); err != nil {
		t.Fatal(err)
	}
	for n := 0; n < count.calls; n++ {
		if err := write(&errWriter{n: n}); !errors.Is(err, errClosed) {
			t.Errorf("failing after %d of %d calls: WriteTo = %v, want the writer's error", n, count.calls, err)
		}
	}
}

func TestGoldenPage(t *testing.T) {
	t.Parallel()
	src, err := os.ReadFile(filepath.Join("testdata", "page.html"))
	if err != nil {
		t.Fatal(err)
	}
	l, err := layout.Parse("page.html", src)
	if err != nil {
		t.Fatal(err)
	}
	f := fetcher{
		"header":  answer(200, `<nav><a href="/">Shop</a></nav>`),
		"catalog": answer(200, `<h1>Mug</h1><p>A mug.</p>`),
		"cart":    answer(503, "down"),
		"recs":    untilDone,
		"reviews": answer(200, `<ol><li>Great</li></ol>`),
		"promo": func(context.Context, *layout.Slot, *compose.Request) compose.Result {
			return compose.Result{Outcome: compose.Failed, Err: errors.New("refused")}
		},
	}
	head := compose.NewHead(`<script type="importmap" nonce="{nonce}">{"imports":{}}</script>`+"\n"+
		`<link rel="stylesheet" href="/assets/catalog/v1/catalog.css">`+"\n", "{nonce}")
	req := &compose.Request{Path: "/products/7?ref=home", Params: "id=7", Nonce: "bm9uY2U"}
	r := compose.Start(context.Background(), l, f, head, req)
	defer r.Close()
	status, _ := r.Status()
	if status != 200 {
		t.Errorf("status = %d", status)
	}
	var w buffer
	if err := r.WriteTo(&w); err != nil {
		t.Fatal(err)
	}
	golden.Check(t, filepath.Join("testdata", "page.golden.html"), []byte(w.String()))
}

// TestWritePrefixWholePage: slots that answer at once are in the prefix,
// which is then the whole page, written without a flush.
func TestWritePrefixWholePage(t *testing.T) {
	t.Parallel()
	l := parse(t, `<head></head><body><collage-slot frontend=a></collage-slot><collage-slot frontend=b async></collage-slot></body>`)
	r := compose.Start(context.Background(), l, fetcher{"a": answer(200, "A"), "b": answer(200, "B")}, compose.NewHead("<!--h-->", "{nonce}"), &compose.Request{Nonce: "n"})
	defer r.Close()
	r.Coalesce = time.Minute // however loaded the machine, both answer within it
	var w buffer
	complete, err := r.WritePrefix(&w)
	if err != nil || !complete {
		t.Fatalf("WritePrefix = %v, %v; want a complete page", complete, err)
	}
	if len(w.flushes) != 0 {
		t.Errorf("WritePrefix flushed %d times", len(w.flushes))
	}
	for _, want := range []string{`<head><!--h--></head>`, `<collage-slot frontend="a">A</collage-slot>`, `<template data-collage-fill="1">B</template>`} {
		if !strings.Contains(w.String(), want) {
			t.Errorf("page lacks %s:\n%s", want, w.String())
		}
	}
	if got := r.ServerTiming(); !strings.Contains(got, "slot-0-a") || !strings.Contains(got, "slot-1-b") {
		t.Errorf("Server-Timing after a whole page = %q, want both slots", got)
	}
}

// TestWritePrefixStopsAtSlowSlot: the prefix stops at the first slot still
// pending after the coalescing window; WriteTo goes on from there, flushing the prefix at
// once, and writes every slot exactly once.
func TestWritePrefixStopsAtSlowSlot(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct{ name, layout, want string }{
		{
			name:   "in place",
			layout: `<head></head><body><collage-slot frontend=fast></collage-slot><collage-slot frontend=slow timeout=1m></collage-slot></body>`,
			want:   `<head></head><body><collage-slot frontend="fast">F</collage-slot><collage-slot frontend="slow">S</collage-slot></body>`,
		},
		{
			name:   "async",
			layout: `<body><collage-slot frontend=fast async></collage-slot><collage-slot frontend=slow async timeout=1m></collage-slot></body>`,
			want: `<body><collage-slot frontend="fast" async data-collage-async="0"></collage-slot><collage-slot frontend="slow" async data-collage-async="1"></collage-slot>` +
				`<template data-collage-fill="0">F</template><script/>` +
				`<template data-collage-fill="1">S</template><script/></body>`,
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			release := make(chan struct{})
			f := fetcher{"fast": answer(200, "F"), "slow": held(release, "S")}
			r := compose.Start(context.Background(), parse(t, tc.layout), f, compose.Head{}, &compose.Request{Nonce: "n"})
			defer r.Close()
			// On a loaded machine the fast slot may take longer than the
			// coalescing window: the prefix is only sure to hold it once
			// it has resolved.
			waitTiming(t, r, "slot-0-fast")
			w := &buffer{flushed: make(chan struct{}, 16)}
			complete, err := r.WritePrefix(w)
			if err != nil || complete {
				t.Fatalf("WritePrefix = %v, %v; want a prefix", complete, err)
			}
			prefix := w.String()
			if !strings.Contains(prefix, "F") || strings.Contains(prefix, "S<") {
				t.Errorf("prefix = %s", prefix)
			}
			errc := make(chan error, 1)
			go func() { errc <- r.WriteTo(w) }()
			select {
			case <-w.flushed:
			case <-time.After(10 * time.Second):
				t.Fatal("WriteTo did not flush the prefix while the slow slot was pending")
			}
			if w.flushes[0] != prefix {
				t.Errorf("first flush = %q, want the prefix %q", w.flushes[0], prefix)
			}
			close(release)
			if err := <-errc; err != nil {
				t.Fatal(err)
			}
			// The fill scripts are the golden page's business.
			got := regexp.MustCompile(`<script nonce="n">[^<]*</script>`).ReplaceAllString(w.String(), "<script/>")
			if got != tc.want {
				t.Errorf("page:\n got %s\nwant %s", got, tc.want)
			}
		})
	}
}

// waitTiming waits until r's Server-Timing, which lists the slots resolved,
// holds entry.
func waitTiming(t *testing.T, r *compose.Render, entry string) {
	t.Helper()
	for deadline := time.Now().Add(10 * time.Second); !strings.Contains(r.ServerTiming(), entry); {
		if time.Now().After(deadline) {
			t.Fatalf("%s did not resolve: Server-Timing %q", entry, r.ServerTiming())
		}
		time.Sleep(time.Millisecond)
	}
}

// TestCloseReleasesBodies: Close hands back, once, the body of every fetch
// that has answered; a fetch still running when the page closes hands its
// body back, once, when it ends.
func TestCloseReleasesBodies(t *testing.T) {
	t.Parallel()
	var released [2]atomic.Int32
	releasing := func(i int, wait <-chan struct{}) fetchFunc {
		return func(ctx context.Context, s *layout.Slot, r *compose.Request) compose.Result {
			<-wait // ignoring ctx, as a fetch past its deadline may
			res := answer(200, "F")(ctx, s, r)
			res.Release = func() { released[i].Add(1) }
			return res
		}
	}
	now, late := make(chan struct{}), make(chan struct{})
	close(now)
	l := parse(t, `<collage-slot frontend=a></collage-slot><collage-slot frontend=b timeout=20ms></collage-slot>`)
	r := compose.Start(context.Background(), l, fetcher{"a": releasing(0, now), "b": releasing(1, late)}, compose.Head{}, &compose.Request{})
	var w buffer
	if err := r.WriteTo(&w); err != nil {
		t.Fatal(err)
	}
	r.Close()
	r.Close()
	if a, b := released[0].Load(), released[1].Load(); a != 1 || b != 0 {
		t.Errorf("after Close: released a %d times and b %d times, want 1 and 0", a, b)
	}
	close(late)
	for deadline := time.Now().Add(10 * time.Second); released[1].Load() == 0 && time.Now().Before(deadline); {
		time.Sleep(time.Millisecond)
	}
	time.Sleep(10 * time.Millisecond) // room for a second release, which must not come
	if a, b := released[0].Load(), released[1].Load(); a != 1 || b != 1 {
		t.Errorf("after b's fetch ended: released a %d times and b %d times, want 1 and 1", a, b)
	}
}

// TestLateFetchLeavesNextPagesAlone: a page's slots are reused by later
// pages only once every fetch of it has ended: a fetch that ignores its
// deadline and answers after its page is over writes into no other page.
func TestLateFetchLeavesNextPagesAlone(t *testing.T) {
	t.Parallel()
	l := parse(t, `<collage-slot frontend=a timeout=10ms>fa</collage-slot><collage-slot frontend=b>fb</collage-slot>`)
	late := make(chan struct{})
	ignoring := func(ctx context.Context, s *layout.Slot, r *compose.Request) compose.Result {
		<-late // past its deadline
		return answer(200, "LATE")(ctx, s, r)
	}
	first := compose.Start(context.Background(), l, fetcher{"a": ignoring, "b": answer(200, "B")}, compose.Head{}, &compose.Request{})
	var w buffer
	if err := first.WriteTo(&w); err != nil {
		t.Fatal(err)
	}
	first.Close()
	const want = `<collage-slot frontend="a" data-collage-fallback="timeout">fa</collage-slot><collage-slot frontend="b">B</collage-slot>`
	if !strings.Contains(w.String(), want) {
		t.Fatalf("first page = %q, want it to hold %q", w.String(), want)
	}
	// Later pages, of slots with no tight deadline, take the room of
	// pages over while the first page's fetch ends among them.
	next := parse(t, `<collage-slot frontend=a>fa</collage-slot><collage-slot frontend=b>fb</collage-slot>`)
	var pages sync.WaitGroup
	for i := range 50 {
		pages.Add(1)
		go func() {
			defer pages.Done()
			body := fmt.Sprintf("A%d", i)
			_, _, got := page(t, next, fetcher{"a": answer(200, body), "b": answer(200, "B")}, nil)
			if want := `<collage-slot frontend="a">` + body + `</collage-slot><collage-slot frontend="b">B</collage-slot>`; !strings.Contains(got, want) {
				t.Errorf("page %d = %q, want it to hold %q", i, got, want)
			}
		}()
		if i == 25 {
			close(late)
		}
	}
	pages.Wait()
}

// TestNoCoalesce: the prefix stops at the first slot not ready at once,
// however long Coalesce would have it wait.
func TestNoCoalesce(t *testing.T) {
	t.Parallel()
	l := parse(t, `<head></head><body><collage-slot frontend=slow timeout=1h>fb</collage-slot></body>`)
	release := make(chan struct{})
	r := compose.Start(context.Background(), l, fetcher{"slow": held(release, "S")}, compose.Head{}, &compose.Request{})
	defer r.Close()
	defer close(release)
	r.Coalesce, r.NoCoalesce = time.Hour, true
	done := make(chan bool, 1)
	var w buffer
	go func() {
		complete, _ := r.WritePrefix(&w)
		done <- complete
	}()
	select {
	case complete := <-done:
		if complete || w.String() != "<head></head><body>" {
			t.Errorf("WritePrefix = %v with %q, want the part before the slot", complete, w.String())
		}
	case <-time.After(10 * time.Second):
		t.Fatal("WritePrefix waited for a pending slot under NoCoalesce")
	}
}

// TestCancel: a page over before its slots, as a redirect, decides every
// slot at once, as it ended or as canceled, and stops their fetches.
func TestCancel(t *testing.T) {
	t.Parallel()
	hang := make(chan struct{})
	defer close(hang)
	stopped := make(chan struct{})
	l := parse(t, `<collage-slot frontend=main primary></collage-slot><collage-slot frontend=polite timeout=1h></collage-slot>`+
		`<collage-slot frontend=deaf timeout=1h></collage-slot><collage-slot frontend=done></collage-slot><collage-slot frontend=late timeout=1ms></collage-slot>`)
	doneOnce := make(chan struct{})
	f := fetcher{
		"main": answer(302, "", "Location", "/login"),
		"polite": func(ctx context.Context, _ *layout.Slot, _ *compose.Request) compose.Result {
			<-ctx.Done()
			close(stopped)
			return compose.Result{Err: ctx.Err(), Outcome: compose.Timeout}
		},
		"deaf": func(context.Context, *layout.Slot, *compose.Request) compose.Result {
			<-hang // ignores its context
			return compose.Result{Status: 200}
		},
		"done": func(ctx context.Context, s *layout.Slot, r *compose.Request) compose.Result {
			defer close(doneOnce)
			return answer(200, "D")(ctx, s, r)
		},
		"late": untilDone,
	}
	r := compose.Start(context.Background(), l, f, compose.Head{}, &compose.Request{})
	defer r.Close()
	if status, _ := r.Status(); status != 302 {
		t.Fatalf("status = %d", status)
	}
	<-doneOnce
	waitTiming(t, r, "slot-3-done")
	time.Sleep(5 * time.Millisecond) // late's 1ms deadline passes
	finished := make(chan []*compose.Result, 1)
	go func() {
		r.Cancel()
		finished <- r.Results()
	}()
	select {
	case res := <-finished:
		want := []compose.Outcome{compose.OK, compose.Canceled, compose.Canceled, compose.OK, compose.Timeout}
		for i, w := range want {
			if res[i].Outcome != w {
				t.Errorf("slot %d: outcome %s (err %v), want %s", i, res[i].Outcome, res[i].Err, w)
			}
		}
		if res[1].Err != nil || res[2].Err != nil {
			t.Errorf("a canceled slot has an error: %v, %v", res[1].Err, res[2].Err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("Cancel or Results waited for a slot")
	}
	select {
	case <-stopped:
	case <-time.After(10 * time.Second):
		t.Fatal("Cancel did not stop the fetch of a slot still running")
	}
	if got := r.ServerTiming(); !strings.Contains(got, `slot-1-polite;desc="canceled"`) {
		t.Errorf("Server-Timing = %q", got)
	}
}
