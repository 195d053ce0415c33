package cache

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
		{"max-age=60", "Accept-Language, *", false},
		{"Max-Age=60", "", true},
		{"max-age=60, s-maxage=0", "", false},
		{`private="Set-Cookie", max-age=60`, "", false},
		{`no-cache="Set-Cookie", max-age=60`, "", false},
		{"max-age=60, stale-while-revalidate=x", "", false},
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

// TestBounded: many fragments of distinct pages leave at most the entries
// and the bytes the options allow, and the index no larger than the entries.
func TestBounded(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name       string
		opts       Options
		maxEntries int
		maxBytes   int64
	}{
		{"by entries", Options{MaxEntries: 10}, 10, DefaultMaxBytes},
		{"by bytes", Options{MaxBytes: 8 << 10}, DefaultMaxEntries, 8 << 10},
		{"by both", Options{MaxBytes: 8 << 10, MaxEntries: 3}, 3, 8 << 10},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			u := &upstream{header: http.Header{"Cache-Control": {"max-age=60"}, "Vary": {"Accept-Language"}}}
			tt.opts.NoCollapse = true
			f := New(u, tt.opts)
			for i := range 200 {
				f.Fetch(context.Background(), slot, &compose.Request{Path: "/p?" + strconv.Itoa(i), Header: http.Header{"Accept-Language": {"en"}}})
			}
			checkBounds(t, f.cache, tt.maxEntries, tt.maxBytes)
			if f.cache.lru.Len() == 0 {
				t.Errorf("cache holds nothing")
			}
		})
	}
}

// checkBounds fails t if c holds more entries or bytes than allowed, if its
// index outgrows its entries, or if its count of bytes is less than what
// its entries hold.
func checkBounds(t *testing.T, c *cache, maxEntries int, maxBytes int64) {
	t.Helper()
	c.mu.Lock()
	defer c.mu.Unlock()
	if n := c.lru.Len(); n > maxEntries || len(c.entries) != n {
		t.Errorf("cache holds %d entries (%d in its map), bound is %d", n, len(c.entries), maxEntries)
	}
	if c.bytes > maxBytes {
		t.Errorf("cache counts %d bytes, bound is %d", c.bytes, maxBytes)
	}
	var held, perBase = int64(0), map[string]int{}
	for el := c.lru.Front(); el != nil; el = el.Next() {
		e := el.Value.(*entry)
		held += int64(len(e.key) + len(e.base) + len(e.body))
		for k, vs := range e.header {
			held += int64(len(k))
			for _, v := range vs {
				held += int64(len(v))
			}
		}
		perBase[e.base]++
	}
	if held > c.bytes {
		t.Errorf("entries hold %d bytes of keys, headers and bodies, but the cache counts %d", held, c.bytes)
	}
	if len(c.index) != len(perBase) {
		t.Errorf("index has %d bases, entries have %d", len(c.index), len(perBase))
	}
	for base, ix := range c.index {
		if ix.n != perBase[base] {
			t.Errorf("index counts %d entries of %q, cache holds %d", ix.n, base, perBase[base])
		}
	}
}

// TestIndexPruned: the index forgets a page once its last entry is gone,
// by expiry or by eviction.
func TestIndexPruned(t *testing.T) {
	t.Parallel()
	c := &clock{now: time.Unix(1000, 0)}
	u := &upstream{header: http.Header{"Cache-Control": {"max-age=10"}, "Vary": {"Accept-Language"}}}
	f := New(u, Options{NoCollapse: true, MaxEntries: 2, Now: c.Now})
	for _, p := range []string{"/a", "/b", "/c"} { // /a is evicted
		f.Fetch(context.Background(), slot, &compose.Request{Path: p, Header: http.Header{"Accept-Language": {"en"}}})
	}
	if n := len(f.cache.index); n != 2 {
		t.Errorf("index has %d pages after an eviction, want 2", n)
	}
	c.Add(11 * time.Second)
	f.Fetch(context.Background(), slot, &compose.Request{Path: "/b", Header: http.Header{"Accept-Language": {"en"}}}) // expired: dropped, fetched, stored again
	f.Fetch(context.Background(), slot, &compose.Request{Path: "/c", Header: http.Header{"Accept-Language": {"en"}}})
	checkBounds(t, f.cache, 2, DefaultMaxBytes)
	if n := len(f.cache.index); n != 2 {
		t.Errorf("index has %d pages, want 2", n)
	}
}

// TestKeysDistinct: requests that differ get different keys, whatever
// bytes their paths and header values hold.
func TestKeysDistinct(t *testing.T) {
	t.Parallel()
	vary := []string{"Accept-Language", "Cookie"}
	tests := []struct {
		name string
		a, b *compose.Request
	}{
		{"path and params", &compose.Request{Path: "/x\x00", Params: ""}, &compose.Request{Path: "/x", Params: "\x00"}},
		{"values split or joined",
			&compose.Request{Path: "/", Header: http.Header{"Accept-Language": {"en,de"}}},
			&compose.Request{Path: "/", Header: http.Header{"Accept-Language": {"en", "de"}}}},
		{"a value that spells the next field",
			&compose.Request{Path: "/", Header: http.Header{"Accept-Language": {"en\x006:Cookie1#1:a"}}},
			&compose.Request{Path: "/", Header: http.Header{"Accept-Language": {"en"}, "Cookie": {"a"}}}},
		{"absent or empty", &compose.Request{Path: "/", Header: http.Header{}}, &compose.Request{Path: "/", Header: http.Header{"Cookie": {""}}}},
	}
	for _, tt := range tests {
		a, b := baseKey(slot, tt.a), baseKey(slot, tt.b)
		if fullKey(a, vary, tt.a.Header) == fullKey(b, vary, tt.b.Header) {
			t.Errorf("%s: the same cache key for %+v and %+v", tt.name, tt.a, tt.b)
		}
		if headerKey(a, tt.a.Header) == headerKey(b, tt.b.Header) {
			t.Errorf("%s: the same collapse key for %+v and %+v", tt.name, tt.a, tt.b)
		}
	}
}

func TestCollapse(t *testing.T) {
	t.Parallel()
	u := &upstream{release: make(chan struct{})}
	results := fetchTogether(New(u, Options{NoCache: true}), u, 10)
	if n := u.calls.Load(); n >= 10 {
		t.Errorf("%d upstream calls for 10 identical requests, want them collapsed", n)
	}
	for _, r := range results {
		if r.Status != 200 {
			t.Errorf("a collapsed request got %+v", r)
		}
	}
}

func TestCollapsedCallerTimesOutAlone(t *testing.T) {
	t.Parallel()
	u := &upstream{release: make(chan struct{})}
	defer close(u.release)
	f := New(u, Options{NoCache: true})
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
	for _, r := range fetchTogether(New(u, Options{NoCache: true}), u, 4) {
		if r.Release != nil || r.Body[0] == 'X' {
			t.Errorf("a collapsed fetch: body %q, Release set %v", r.Body, r.Release != nil)
		}
	}

	u = &upstream{reuse: true}
	f = New(u, Options{NoCache: true})
	req := request("en")
	req.Header.Set("Cookie", "s=1")
	if res := f.Fetch(context.Background(), slot, req); res.Release == nil {
		t.Error("a fetch neither cached nor shared lost its Release")
	}
}

// constant answers every fetch with the same result, allocating nothing.
type constant struct{ res compose.Result }

func (c constant) Fetch(context.Context, *layout.Slot, *compose.Request) compose.Result { return c.res }

// TestPassThrough: with neither a cache nor collapsing, a fetch goes to
// the next fetcher as it is, without a key made for it.
func TestPassThrough(t *testing.T) {
	f := New(constant{compose.Result{Status: 200, Body: []byte("x"), Outcome: compose.OK, Took: time.Millisecond}},
		Options{NoCache: true, NoCollapse: true})
	req := request("en")
	if res := f.Fetch(context.Background(), slot, req); string(res.Body) != "x" || res.Took != time.Millisecond {
		t.Fatalf("fetch: %+v", res)
	}
	if n := testing.AllocsPerRun(100, func() { f.Fetch(context.Background(), slot, req) }); n != 0 {
		t.Errorf("a fetch passed through allocates %v times, want none", n)
	}
}

// beginning is an upstream that can begin fetches.
type beginning struct{ upstream }

func (b *beginning) Begin(ctx context.Context, slot *layout.Slot, req *compose.Request) compose.Pending {
	return pendingOf{b.Fetch(ctx, slot, req)}
}

type pendingOf struct{ res compose.Result }

func (p pendingOf) Send()                                 {}
func (p pendingOf) Close()                                {}
func (p pendingOf) Wait(time.Time) (compose.Result, bool) { return p.res, true }

// TestBeginOnlyPassingThrough: a fetch is begun below only when neither a
// cache nor collapsing needs its answer to pass through.
func TestBeginOnlyPassingThrough(t *testing.T) {
	for _, tt := range []struct {
		name  string
		opts  Options
		begun bool
	}{
		{"neither", Options{NoCache: true, NoCollapse: true}, true},
		{"a cache", Options{NoCollapse: true}, false},
		{"collapsing", Options{NoCache: true}, false},
	} {
		t.Run(tt.name, func(t *testing.T) {
			f := New(&beginning{}, tt.opts)
			if p := f.Begin(context.Background(), slot, request("en")); (p != nil) != tt.begun {
				t.Errorf("begun: %v, want %v", p != nil, tt.begun)
			}
		})
	}
}
