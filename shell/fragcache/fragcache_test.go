package fragcache

import (
	"context"
	"net/http"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/collage-dev/collage/shell/compose"
	"github.com/collage-dev/collage/shell/layout"
)

// upstream is a fake fetcher that counts calls and answers with a
// Cache-Control of the test's choosing.
type upstream struct {
	calls   atomic.Int32
	header  http.Header
	release chan struct{} // if set, each fetch waits for it

	reuse    bool         // if set, bodies come with a Release that overwrites them, as reuse would
	released atomic.Int32 // calls of those Releases
}

func (u *upstream) Fetch(ctx context.Context, slot *layout.Slot, req *compose.Request) compose.Result {
	n := u.calls.Add(1)
	if u.release != nil {
		select {
		case <-u.release:
		case <-ctx.Done():
			return compose.Result{Err: ctx.Err(), Outcome: compose.Timeout}
		}
	}
	res := compose.Result{Status: 200, Header: u.header.Clone(), Body: []byte("body " + strconv.Itoa(int(n)) + " for " + req.Header.Get("Accept-Language")), Outcome: compose.OK}
	if u.reuse {
		body := res.Body
		res.Release = func() {
			for i := range body {
				body[i] = 'X'
			}
			u.released.Add(1)
		}
	}
	return res
}

// fetchTogether sends n identical requests through f at once while u
// holds its fetches, lets them go once the requests have had time to join
// the fetch in flight, and returns what each got.
func fetchTogether(f *Fetcher, u *upstream, n int) []compose.Result {
	var wg sync.WaitGroup
	results := make([]compose.Result, n)
	for i := range results {
		wg.Add(1)
		go func() {
			defer wg.Done()
			results[i] = f.Fetch(context.Background(), slot, request("en"))
		}()
	}
	for u.calls.Load() == 0 {
		time.Sleep(time.Millisecond)
	}
	time.Sleep(20 * time.Millisecond)
	close(u.release)
	wg.Wait()
	return results
}

// clock is a settable time.
type clock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *clock) Now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.now }
func (c *clock) Add(d time.Duration) {
	c.mu.Lock()
	c.now = c.now.Add(d)
	c.mu.Unlock()
}

var slot = &layout.Slot{Frontend: "recs", Timeout: time.Second}

func request(lang string) *compose.Request {
	return &compose.Request{Path: "/", Header: http.Header{"Accept-Language": {lang}}}
}

func TestCacheControl(t *testing.T) {
	t.Parallel()
	tests := []struct {
		cc     string
		vary   string
		cached bool
	}{
		{"max-age=60", "", true},
		{"public, max-age=60", "", true},
		{"s-maxage=60, max-age=0", "", true},
		{"max-age=0", "", false},
		{"", "", false},
		{"private, max-age=60", "", false},
		{"no-store", "", false},
		{"no-cache, max-age=60", "", false},
		{"max-age=sixty", "", false},
		{"max-age=-1", "", false},
		{"max-age", "", false},
		{"max-age=60", "*", false},
	}
	for _, tt := range tests {
		t.Run(tt.cc+"|"+tt.vary, func(t *testing.T) {
			t.Parallel()
			u := &upstream{header: http.Header{"Cache-Control": {tt.cc}}}
			if tt.vary != "" {
				u.header.Set("Vary", tt.vary)
			}
			f := New(u, Options{NoCollapse: true})
			f.Fetch(context.Background(), slot, request("en"))
			res := f.Fetch(context.Background(), slot, request("en"))
			if got := res.Outcome == compose.Cached; got != tt.cached {
				t.Errorf("cached = %v, want %v (outcome %s, %d upstream calls)", got, tt.cached, res.Outcome, u.calls.Load())
			}
		})
	}
}

func TestVary(t *testing.T) {
	t.Parallel()
	u := &upstream{header: http.Header{"Cache-Control": {"max-age=60"}, "Vary": {"Accept-Language"}}}
	f := New(u, Options{NoCollapse: true})
	en := f.Fetch(context.Background(), slot, request("en"))
	de := f.Fetch(context.Background(), slot, request("de"))
	if string(de.Body) == string(en.Body) || de.Outcome == compose.Cached {
		t.Fatalf("a German request got the English fragment: %q", de.Body)
	}
	if again := f.Fetch(context.Background(), slot, request("en")); again.Outcome != compose.Cached || string(again.Body) != string(en.Body) {
		t.Errorf("English again = %s %q, want the cached %q", again.Outcome, again.Body, en.Body)
	}
}

func TestStaleWhileRevalidate(t *testing.T) {
	t.Parallel()
	c := &clock{now: time.Unix(1000, 0)}
	u := &upstream{header: http.Header{"Cache-Control": {"max-age=10, stale-while-revalidate=30"}}}
	f := New(u, Options{NoCollapse: true, Now: c.Now})
	first := f.Fetch(context.Background(), slot, request("en"))

	c.Add(20 * time.Second) // stale, within the revalidate window
	stale := f.Fetch(context.Background(), slot, request("en"))
	if stale.Outcome != compose.Cached || string(stale.Body) != string(first.Body) {
		t.Fatalf("stale fetch = %s %q, want the stale body at once", stale.Outcome, stale.Body)
	}
	deadline := time.Now().Add(5 * time.Second)
	for u.calls.Load() < 2 && time.Now().Before(deadline) {
		time.Sleep(time.Millisecond)
	}
	if u.calls.Load() != 2 {
		t.Fatalf("no background revalidation: %d upstream calls", u.calls.Load())
	}
	for time.Now().Before(deadline) {
		if res := f.Fetch(context.Background(), slot, request("en")); string(res.Body) != string(first.Body) {
			return // the revalidated body replaced the stale one
		}
		time.Sleep(time.Millisecond)
	}
	t.Error("the revalidated fragment never replaced the stale one")
}

func TestExpiry(t *testing.T) {
	t.Parallel()
	c := &clock{now: time.Unix(1000, 0)}
	u := &upstream{header: http.Header{"Cache-Control": {"max-age=10"}}}
	f := New(u, Options{NoCollapse: true, Now: c.Now})
	f.Fetch(context.Background(), slot, request("en"))
	c.Add(11 * time.Second)
	if res := f.Fetch(context.Background(), slot, request("en")); res.Outcome == compose.Cached {
		t.Errorf("an expired fragment was served from the cache")
	}
}

func TestBoundedByBytes(t *testing.T) {
	t.Parallel()
	u := &upstream{header: http.Header{"Cache-Control": {"max-age=60"}}}
	f := New(u, Options{NoCollapse: true, MaxBytes: 8 * 20})
	for i := range 50 {
		f.Fetch(context.Background(), slot, &compose.Request{Path: "/p" + strconv.Itoa(i), Header: http.Header{}})
	}
	if f.cache.bytes > 8*20 {
		t.Errorf("cache holds %d bytes, bound is %d", f.cache.bytes, 8*20)
	}
	if f.cache.lru.Len() == 0 {
		t.Errorf("cache holds nothing")
	}
}

func TestCollapse(t *testing.T) {
	t.Parallel()
	u := &upstream{release: make(chan struct{})}
	results := fetchTogether(New(u, Options{MaxBytes: -1}), u, 10)
	if n := u.calls.Load(); n >= 10 {
		t.Errorf("%d upstream calls for 10 identical requests, want them collapsed", n)
	}
	for _, r := range results {
		if r.Status != 200 {
			t.Errorf("a collapsed request got %+v", r)
		}
	}
}

func TestNoCollapseWithCookie(t *testing.T) {
	t.Parallel()
	u := &upstream{release: make(chan struct{})}
	f := New(u, Options{MaxBytes: -1})
	var wg sync.WaitGroup
	for i := range 2 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			req := request("en")
			req.Header.Set("Cookie", "session="+strconv.Itoa(i))
			f.Fetch(context.Background(), slot, req)
		}()
	}
	deadline := time.Now().Add(5 * time.Second)
	for u.calls.Load() < 2 && time.Now().Before(deadline) {
		time.Sleep(time.Millisecond)
	}
	close(u.release)
	wg.Wait()
	if n := u.calls.Load(); n != 2 {
		t.Errorf("%d upstream calls for two users' requests, want 2: a session must not be shared", n)
	}
}

func TestCollapsedCallerTimesOutAlone(t *testing.T) {
	t.Parallel()
	u := &upstream{release: make(chan struct{})}
	defer close(u.release)
	f := New(u, Options{MaxBytes: -1})
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Millisecond)
	defer cancel()
	if res := f.Fetch(ctx, slot, request("en")); res.Outcome != compose.Timeout {
		t.Errorf("outcome = %s, want timeout when the caller's deadline passes", res.Outcome)
	}
}

func TestSetCookieNeverCached(t *testing.T) {
	t.Parallel()
	u := &upstream{header: http.Header{"Cache-Control": {"max-age=60"}, "Set-Cookie": {"session=abc"}}}
	f := New(u, Options{NoCollapse: true})
	f.Fetch(context.Background(), slot, request("en"))
	if res := f.Fetch(context.Background(), slot, request("en")); res.Outcome == compose.Cached {
		t.Errorf("a fragment that sets a cookie was cached")
	}
}

// TestReleasableBodies: a body its fetcher would reuse is copied before the
// cache keeps it or pages share it, and passes through otherwise.
func TestReleasableBodies(t *testing.T) {
	t.Parallel()
	cacheable := http.Header{"Cache-Control": {"max-age=60"}}

	u := &upstream{header: cacheable, reuse: true}
	f := New(u, Options{NoCollapse: true})
	for i := range 2 {
		res := f.Fetch(context.Background(), slot, request("en"))
		if res.Release != nil || string(res.Body) != "body 1 for en" {
			t.Errorf("fetch %d of a cached fragment: body %q, Release set %v", i, res.Body, res.Release != nil)
		}
	}
	if u.released.Load() != 1 {
		t.Errorf("the cached body was released %d times, want once, after its copy", u.released.Load())
	}

	u = &upstream{release: make(chan struct{}), reuse: true}
	for _, r := range fetchTogether(New(u, Options{MaxBytes: -1}), u, 4) {
		if r.Release != nil || r.Body[0] == 'X' {
			t.Errorf("a collapsed fetch: body %q, Release set %v", r.Body, r.Release != nil)
		}
	}

	u = &upstream{reuse: true}
	f = New(u, Options{MaxBytes: -1})
	req := request("en")
	req.Header.Set("Cookie", "s=1")
	if res := f.Fetch(context.Background(), slot, req); res.Release == nil {
		t.Error("a fetch neither cached nor shared lost its Release")
	}
}
