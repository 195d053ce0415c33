package cache

import (
	"bytes"
	"context"
	"net/http"
	"runtime"
	"strconv"
	"strings"
	"testing"

	"github.com/collage-dev/collage/shell/compose"
	"github.com/collage-dev/collage/shell/layout"
)

// floodKeys is how many distinct keys a flood sends; fewer under the race
// detector (race_test.go), which makes each request ten times slower.
var floodKeys = 1_000_000

// fixedUpstream answers every fetch with a copy of the same small cacheable
// fragment, as a product page's slot would whatever the query string.
type fixedUpstream struct{ body []byte }

func (u fixedUpstream) Fetch(ctx context.Context, slot *layout.Slot, req *compose.Request) compose.Result {
	h := http.Header{
		"Cache-Control": {"max-age=300"},
		"Vary":          {"Accept-Language"},
		"Content-Type":  {"text/html; charset=utf-8"},
	}
	return compose.Result{Status: 200, Header: h, Body: bytes.Clone(u.body), Outcome: compose.OK}
}

// flood sends n anonymous requests through f, each with its own query
// string, or its own value of a header the fragment varies on, as a client
// choosing them at random would.
func flood(f *Fetcher, n int, byHeader bool) {
	slot := &layout.Slot{Frontend: "recs", Name: "related"}
	for i := range n {
		req := &compose.Request{
			Path:   "/products/42?utm=" + strconv.Itoa(i),
			Params: "id=42",
			Header: http.Header{"Accept-Language": {"en-GB,en;q=0.9"}, "User-Agent": {"flood/1.0"}},
		}
		if byHeader {
			req.Path = "/products/42"
			req.Header["Accept-Language"] = []string{"en-" + strconv.Itoa(i) + strings.Repeat("x", 100)}
		}
		f.Fetch(context.Background(), slot, req)
	}
}

// TestFlood: a flood of distinct query strings, or of distinct values of a
// header the fragment varies on, leaves a cache with default options within
// its bounds of entries and bytes, its index no larger than its entries, and
// the heap grown by less than twice its bound of bytes (the code before the
// bounds held 416 MB after a million query strings).
func TestFlood(t *testing.T) {
	for _, tt := range []struct {
		keys     int
		byHeader bool
	}{{floodKeys, false}, {40_000, true}} {
		before := liveHeap()
		f := New(fixedUpstream{body: bytes.Repeat([]byte("<li>x</li>"), 25)}, Options{NoCollapse: true})
		flood(f, tt.keys, tt.byHeader)
		after := liveHeap()
		checkBounds(t, f.cache, DefaultMaxEntries, DefaultMaxBytes)
		if f.cache.lru.Len() < DefaultMaxEntries/2 {
			t.Errorf("the cache holds %d entries after a flood, want it full", f.cache.lru.Len())
		}
		grew := int64(after) - int64(before)
		t.Logf("%d keys (by header: %v): %d entries, %d bytes counted, %d pages indexed, heap grew %.1f MiB",
			tt.keys, tt.byHeader, f.cache.lru.Len(), f.cache.bytes, len(f.cache.index), float64(grew)/(1<<20))
		if grew > 2*DefaultMaxBytes {
			t.Errorf("heap grew %d bytes, more than twice the cache's bound of %d", grew, int64(DefaultMaxBytes))
		}
		runtime.KeepAlive(f)
	}
}

// liveHeap is the bytes in use on the heap after a full collection.
func liveHeap() uint64 {
	runtime.GC()
	var m runtime.MemStats
	runtime.ReadMemStats(&m)
	return m.HeapAlloc
}

// BenchmarkFlood floods a cache with default options with floodKeys
// distinct query strings and reports the heap it holds afterwards
// (heap-MB) and the time per request. Run it once:
//
//	go test -run '^$' -bench Flood -benchtime 1x ./shell/cache
func BenchmarkFlood(b *testing.B) {
	up := fixedUpstream{body: bytes.Repeat([]byte("<li>x</li>"), 25)} // 250 bytes
	for range b.N {
		before := liveHeap()
		f := New(up, Options{NoCollapse: true})
		flood(f, floodKeys, false)
		after := liveHeap()
		runtime.KeepAlive(f)
		b.ReportMetric(float64(after-before)/(1<<20), "heap-MB")
		b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(floodKeys*b.N), "ns/request")
	}
}
