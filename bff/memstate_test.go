package bff_test

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/collage-dev/collage/bff"
	"github.com/collage-dev/collage/bff/statetest"
)

func TestMemState(t *testing.T) {
	t.Parallel()
	statetest.Run(t, func(*testing.T) bff.StateStore { return bff.NewMemState() })
}

func TestMemStateZeroValue(t *testing.T) {
	t.Parallel()
	statetest.Run(t, func(*testing.T) bff.StateStore { return &bff.MemState{} })
}

// clock is a time that tests move by hand.
type clock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *clock) Add(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
}

func newClock() *clock { return &clock{now: time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)} }

// has reports whether key has a value in st, failing t on an error.
func has(t *testing.T, st bff.State, key string) bool {
	t.Helper()
	_, ok, err := st.Get(context.Background(), key)
	if err != nil {
		t.Fatal(err)
	}
	return ok
}

func TestMemStateExpiresOnTheClock(t *testing.T) {
	t.Parallel()
	c := newClock()
	m := &bff.MemState{Now: c.Now}
	st := m.Namespace("cart")
	ctx := context.Background()
	st.Set(ctx, "k", []byte("v"), time.Hour)
	c.Add(time.Hour - time.Nanosecond)
	if !has(t, st, "k") {
		t.Fatal("a value with an hour to live is gone a nanosecond before the hour")
	}
	st.Touch(ctx, "k", time.Hour)
	c.Add(time.Hour - time.Nanosecond)
	if !has(t, st, "k") {
		t.Fatal("a value touched with an hour to live is gone a nanosecond before the hour")
	}
	c.Add(time.Nanosecond)
	if has(t, st, "k") {
		t.Fatal("a value outlived its time to live")
	}
}

// TestMemStateMaxKeys: a full namespace drops the key that expires
// soonest for a new one, whatever its order of writing; keys that never
// expire are never dropped, and when only they are left a new key is an
// error. Other namespaces are not touched.
func TestMemStateMaxKeys(t *testing.T) {
	t.Parallel()
	c := newClock()
	m := &bff.MemState{MaxKeys: 4, Now: c.Now}
	ctx := context.Background()
	st, other := m.Namespace("cart"), m.Namespace("recs")
	for i := range 4 {
		if err := other.Set(ctx, fmt.Sprint(i), []byte("v"), 0); err != nil {
			t.Fatalf("the other namespace, key %d: %v", i, err)
		}
	}
	set := func(key string, ttl time.Duration) error { return st.Set(ctx, key, []byte("v"), ttl) }
	for _, kv := range []struct {
		key string
		ttl time.Duration
	}{{"week", 7 * 24 * time.Hour}, {"never", 0}, {"hour", time.Hour}, {"day", 24 * time.Hour}} {
		if err := set(kv.key, kv.ttl); err != nil {
			t.Fatal(err)
		}
	}
	check := func(keys string) {
		t.Helper()
		var got []string
		for _, k := range []string{"week", "never", "hour", "day", "new", "new2", "new3"} {
			if has(t, st, k) {
				got = append(got, k)
			}
		}
		if strings.Join(got, " ") != keys {
			t.Fatalf("the namespace holds %q, want %q", strings.Join(got, " "), keys)
		}
	}
	// Writing a key that is there drops nothing.
	if err := set("week", 7*24*time.Hour); err != nil {
		t.Fatal(err)
	}
	check("week never hour day")
	if err := set("new", 2*time.Hour); err != nil {
		t.Fatal(err)
	}
	check("week never day new")
	// An Update that makes a key drops the soonest too.
	if _, err := st.Update(ctx, "new2", 0, func([]byte, bool) ([]byte, error) { return []byte("v"), nil }); err != nil {
		t.Fatal(err)
	}
	check("week never day new2")
	if err := set("new3", 0); err != nil {
		t.Fatal(err)
	}
	check("week never new2 new3")
	if err := set("new4", 0); err != nil {
		t.Fatal(err)
	}
	check("never new2 new3")
	err := set("new5", time.Hour)
	if err == nil || !strings.Contains(err.Error(), "none of them expires") {
		t.Fatalf("a new key in a namespace full of keys that never expire: error %v", err)
	}
	// An expired key is not counted: it makes room.
	if err := st.Delete(ctx, "new4"); err != nil {
		t.Fatal(err)
	}
	if err := set("brief", time.Minute); err != nil {
		t.Fatal(err)
	}
	c.Add(time.Minute)
	if err := set("new5", 0); err != nil {
		t.Fatalf("a new key in a namespace whose fourth key expired: %v", err)
	}
	for i := range 4 {
		if !has(t, other, fmt.Sprint(i)) {
			t.Errorf("the other namespace lost key %d", i)
		}
	}
}

// TestMemStateSweeps: expired values nobody reads are removed by the
// calls on other keys, a few per call, until none is left, so that a
// full namespace of expired keys takes new keys.
func TestMemStateSweeps(t *testing.T) {
	t.Parallel()
	c := newClock()
	const n = 1000
	m := &bff.MemState{MaxKeys: n, Now: c.Now}
	st := m.Namespace("cart")
	ctx := context.Background()
	for i := range n {
		if err := st.Set(ctx, fmt.Sprint(i), []byte("v"), time.Minute); err != nil {
			t.Fatal(err)
		}
	}
	c.Add(time.Minute)
	// New keys that never expire: each needs room, which only the swept
	// or the dropped expired keys make.
	for i := range n {
		if err := st.Set(ctx, fmt.Sprint("new", i), []byte("v"), 0); err != nil {
			t.Fatalf("new key %d: %v", i, err)
		}
	}
	for i := range n {
		if has(t, st, fmt.Sprint(i)) {
			t.Fatalf("expired key %d has a value", i)
		}
	}
}

func TestMemStateConcurrent(t *testing.T) {
	t.Parallel()
	m := &bff.MemState{MaxKeys: 50}
	ctx := context.Background()
	var wg sync.WaitGroup
	for g := range 8 {
		st := m.Namespace(fmt.Sprint("ns", g%3))
		wg.Go(func() {
			for i := range 2000 {
				key := fmt.Sprint(g, "-", i%80)
				ttl := time.Duration(i%3) * time.Millisecond
				switch i % 5 {
				case 0:
					st.Set(ctx, key, []byte("v"), ttl)
				case 1:
					st.Get(ctx, key)
				case 2:
					st.Touch(ctx, key, ttl)
				case 3:
					st.Delete(ctx, key)
				case 4:
					st.Update(ctx, key, ttl, func(old []byte, ok bool) ([]byte, error) { return append(old, 'x'), nil })
				}
			}
		})
	}
	wg.Wait()
}
