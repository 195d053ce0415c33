// Package statetest is the suite every bff.StateStore passes: values,
// keys and names, expiry, atomic updates and the isolation of BFFs. A
// store's tests run it:
//
//	func TestState(t *testing.T) {
//		statetest.Run(t, func(t *testing.T) bff.StateStore { return bff.NewMemState() })
//	}
//
// It reaches the store the way a BFF does, through bff.BFF.State.
// Expiry is tested with short times to live on the real clock; no test
// asserts how long anything takes.
package statetest

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/collage-dev/collage/bff"
)

// Run runs the suite. newStore returns an empty store for each test, and
// registers with t.Cleanup whatever frees it.
func Run(t *testing.T, newStore func(t *testing.T) bff.StateStore) {
	tests := []struct {
		name string
		fn   func(*testing.T, bff.StateStore)
	}{
		{"GetSetDelete", testGetSetDelete},
		{"Copies", testCopies},
		{"Keys", testKeys},
		{"Names", testNames},
		{"NegativeTTL", testNegativeTTL},
		{"Expiry", testExpiry},
		{"SetRestartsTTL", testSetRestartsTTL},
		{"Touch", testTouch},
		{"Update", testUpdate},
		{"UpdateTTL", testUpdateTTL},
		{"UpdateAtomic", testUpdateAtomic},
		{"Namespaces", testNamespaces},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			tt.fn(t, newStore(t))
		})
	}
}

// stateOf returns the State of a BFF called name that keeps it in store.
func stateOf(store bff.StateStore, name string) bff.State {
	b := bff.New(name)
	b.UseState(store)
	return b.State()
}

// want fails t unless key holds value in st; a nil value means none.
func want(t *testing.T, st bff.State, key string, value []byte) {
	t.Helper()
	got, ok, err := st.Get(context.Background(), key)
	switch {
	case err != nil:
		t.Fatalf("Get(%q): %v", key, err)
	case value == nil && ok:
		t.Fatalf("Get(%q) = %q, want no value", key, got)
	case value != nil && !ok:
		t.Fatalf("Get(%q) found no value, want %q", key, value)
	case value != nil && string(got) != string(value):
		t.Fatalf("Get(%q) = %q, want %q", key, got, value)
	}
}

func set(t *testing.T, st bff.State, key, value string, ttl time.Duration) {
	t.Helper()
	if err := st.Set(context.Background(), key, []byte(value), ttl); err != nil {
		t.Fatalf("Set(%q, %v): %v", key, ttl, err)
	}
}

// gone waits until key has no value in st, failing t after ten seconds.
func gone(t *testing.T, st bff.State, key string) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		_, ok, err := st.Get(context.Background(), key)
		if err != nil {
			t.Fatalf("Get(%q): %v", key, err)
		}
		if !ok {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%q still has a value ten seconds on; it should have expired", key)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func testGetSetDelete(t *testing.T, store bff.StateStore) {
	ctx := context.Background()
	st := stateOf(store, "cart")
	want(t, st, "k", nil)
	set(t, st, "k", "one", 0)
	want(t, st, "k", []byte("one"))
	set(t, st, "k", "two", 0)
	want(t, st, "k", []byte("two"))
	set(t, st, "empty", "", 0)
	want(t, st, "empty", []byte{})
	if err := st.Delete(ctx, "k"); err != nil {
		t.Fatal(err)
	}
	want(t, st, "k", nil)
	if err := st.Delete(ctx, "k"); err != nil {
		t.Errorf("deleting a key without a value: %v, want no error", err)
	}
	want(t, st, "empty", []byte{})
}

func testCopies(t *testing.T, store bff.StateStore) {
	ctx := context.Background()
	st := stateOf(store, "cart")
	v := []byte("abc")
	if err := st.Set(ctx, "k", v, 0); err != nil {
		t.Fatal(err)
	}
	v[0] = 'x'
	got, _, err := st.Get(ctx, "k")
	if err != nil {
		t.Fatal(err)
	}
	got[1] = 'x'
	touched, _, err := st.Touch(ctx, "k", 0)
	if err != nil {
		t.Fatal(err)
	}
	touched[2] = 'x'
	updated, err := st.Update(ctx, "k", 0, func(old []byte, _ bool) ([]byte, error) {
		old[0] = 'y' // fn's own copy
		return []byte("def"), nil
	})
	if err != nil || string(updated) != "def" {
		t.Fatalf("Update = %q, %v; want def", updated, err)
	}
	updated[0] = 'x'
	want(t, st, "k", []byte("def"))
}

func testKeys(t *testing.T, store bff.StateStore) {
	ctx := context.Background()
	st := stateOf(store, "cart")
	long := strings.Repeat("k", bff.MaxStateKeyBytes)
	keys := []string{"a", "A", "a:b", "{state:cart}:a", "a}", "\x00", "é", " ", long}
	for i, k := range keys {
		set(t, st, k, strconv.Itoa(i), 0)
	}
	for i, k := range keys {
		want(t, st, k, []byte(strconv.Itoa(i)))
	}

	for _, k := range []string{"", long + "k"} {
		errs := map[string]error{}
		_, _, errs["Get"] = st.Get(ctx, k)
		_, _, errs["Touch"] = st.Touch(ctx, k, 0)
		errs["Set"] = st.Set(ctx, k, []byte("v"), 0)
		errs["Delete"] = st.Delete(ctx, k)
		called := false
		_, errs["Update"] = st.Update(ctx, k, 0, func([]byte, bool) ([]byte, error) {
			called = true
			return []byte("v"), nil
		})
		for op, err := range errs {
			if err == nil || !strings.Contains(err.Error(), "key") {
				t.Errorf("%s of a key of %d bytes: error %v, want one about the key", op, len(k), err)
			}
		}
		if called {
			t.Errorf("Update ran fn for a key of %d bytes", len(k))
		}
	}
	want(t, st, long, []byte(strconv.Itoa(len(keys)-1)))
}

func testNames(t *testing.T, store bff.StateStore) {
	ctx := context.Background()
	for _, name := range []string{"", "a}b", "{cart}", "a b", "a:b", "a/b", strings.Repeat("n", bff.MaxStateNameBytes+1)} {
		st := stateOf(store, name)
		errs := map[string]error{}
		_, _, errs["Get"] = st.Get(ctx, "k")
		_, _, errs["Touch"] = st.Touch(ctx, "k", 0)
		errs["Set"] = st.Set(ctx, "k", []byte("v"), 0)
		errs["Delete"] = st.Delete(ctx, "k")
		_, errs["Update"] = st.Update(ctx, "k", 0, func([]byte, bool) ([]byte, error) { return []byte("v"), nil })
		for op, err := range errs {
			if err == nil || !strings.Contains(err.Error(), "name") {
				t.Errorf("%s in the state of a BFF called %q: error %v, want one about the name", op, name, err)
			}
		}
	}
	for _, name := range []string{"my-cart", "Cart_2.v", strings.Repeat("n", bff.MaxStateNameBytes)} {
		st := stateOf(store, name)
		set(t, st, "k", name, 0)
		want(t, st, "k", []byte(name))
	}
}

func testNegativeTTL(t *testing.T, store bff.StateStore) {
	ctx := context.Background()
	st := stateOf(store, "cart")
	set(t, st, "k", "v", 0)
	if err := st.Set(ctx, "k", []byte("w"), -time.Second); err == nil {
		t.Error("Set with a negative ttl: no error")
	}
	if _, _, err := st.Touch(ctx, "k", -time.Second); err == nil {
		t.Error("Touch with a negative ttl: no error")
	}
	if _, err := st.Update(ctx, "k", -time.Second, func([]byte, bool) ([]byte, error) { return []byte("w"), nil }); err == nil {
		t.Error("Update with a negative ttl: no error")
	}
	want(t, st, "k", []byte("v"))
}

func testExpiry(t *testing.T, store bff.StateStore) {
	st := stateOf(store, "cart")
	set(t, st, "never", "v", 0)
	set(t, st, "hour", "v", time.Hour)
	set(t, st, "short", "v", 100*time.Millisecond)
	set(t, st, "sub-ms", "v", time.Microsecond) // a store may round it up
	gone(t, st, "short")
	gone(t, st, "sub-ms")
	want(t, st, "hour", []byte("v"))
	want(t, st, "never", []byte("v"))

	// Get does not keep a value alive: read it until it expires.
	set(t, st, "read", "v", 100*time.Millisecond)
	gone(t, st, "read")
}

// testSetRestartsTTL: a value set again expires as its last Set says. In
// each case the key's last write is checked against a control key written
// after it with the ttl the key first had: when the control is gone, a
// key that kept its first ttl would be gone too.
func testSetRestartsTTL(t *testing.T, store bff.StateStore) {
	st := stateOf(store, "cart")
	const short = 150 * time.Millisecond
	set(t, st, "to-never", "v", short)
	set(t, st, "to-never", "w", 0)
	set(t, st, "to-hour", "v", short)
	set(t, st, "to-hour", "w", time.Hour)
	set(t, st, "to-short", "v", time.Hour)
	set(t, st, "to-short", "w", short)
	set(t, st, "control", "v", short)
	gone(t, st, "control")
	gone(t, st, "to-short")
	want(t, st, "to-never", []byte("w"))
	want(t, st, "to-hour", []byte("w"))
}

func testTouch(t *testing.T, store bff.StateStore) {
	ctx := context.Background()
	st := stateOf(store, "cart")
	if v, ok, err := st.Touch(ctx, "none", time.Hour); err != nil || ok || v != nil {
		t.Fatalf("Touch of a key without a value = %q, %v, %v; want nothing", v, ok, err)
	}
	want(t, st, "none", nil)

	const short = 150 * time.Millisecond
	// touch sets key with ttl short and touches it with ttl: it returns
	// false when the machine stalled past short in between, and the
	// caller tries again.
	touch := func(key string, ttl time.Duration) bool {
		t.Helper()
		start := time.Now()
		set(t, st, key, "v", short)
		v, ok, err := st.Touch(ctx, key, ttl)
		if err != nil {
			t.Fatalf("Touch(%q): %v", key, err)
		}
		if !ok && time.Since(start) < short {
			t.Fatalf("Touch(%q) found no value right after Set", key)
		}
		if ok && string(v) != "v" {
			t.Fatalf("Touch(%q) = %q, want v", key, v)
		}
		return ok
	}
	for _, c := range []struct {
		key string
		ttl time.Duration
	}{{"to-hour", time.Hour}, {"to-never", 0}} {
		for attempt := 0; !touch(c.key, c.ttl); attempt++ {
			if attempt == 5 {
				t.Fatalf("five attempts at Set then Touch of %q each took longer than %v", c.key, short)
			}
		}
	}
	set(t, st, "control", "v", short)
	gone(t, st, "control")
	want(t, st, "to-hour", []byte("v"))
	want(t, st, "to-never", []byte("v"))

	set(t, st, "to-short", "v", time.Hour)
	if _, ok, err := st.Touch(ctx, "to-short", short); err != nil || !ok {
		t.Fatalf("Touch(to-short) = %v, %v", ok, err)
	}
	gone(t, st, "to-short")
}

func testUpdate(t *testing.T, store bff.StateStore) {
	ctx := context.Background()
	st := stateOf(store, "cart")
	type call struct {
		old string
		ok  bool
	}
	var calls []call
	update := func(ret []byte, err error) ([]byte, error) {
		calls = calls[:0]
		return st.Update(ctx, "k", 0, func(old []byte, ok bool) ([]byte, error) {
			calls = append(calls, call{string(old), ok})
			return ret, err
		})
	}

	if v, err := update(nil, nil); err != nil || v != nil || len(calls) != 1 || calls[0] != (call{"", false}) {
		t.Fatalf("Update returning nil on no value = %q, %v, fn saw %v; want nil, nil, one call without a value", v, err, calls)
	}
	want(t, st, "k", nil)

	if v, err := update([]byte("one"), nil); err != nil || string(v) != "one" || calls[len(calls)-1] != (call{"", false}) {
		t.Fatalf("Update creating = %q, %v, fn saw %v", v, err, calls)
	}
	want(t, st, "k", []byte("one"))

	boom := errors.New("boom")
	if v, err := update([]byte("two"), boom); !errors.Is(err, boom) || v != nil || calls[len(calls)-1] != (call{"one", true}) {
		t.Fatalf("Update whose fn fails = %q, %v, fn saw %v; want fn's error", v, err, calls)
	}
	want(t, st, "k", []byte("one"))

	if v, err := update([]byte{}, nil); err != nil || v == nil || len(v) != 0 {
		t.Fatalf("Update storing an empty value = %q, %v", v, err)
	}
	want(t, st, "k", []byte{})

	if v, err := update(nil, nil); err != nil || v != nil || calls[len(calls)-1] != (call{"", true}) {
		t.Fatalf("Update deleting = %q, %v, fn saw %v", v, err, calls)
	}
	want(t, st, "k", nil)
}

func testUpdateTTL(t *testing.T, store bff.StateStore) {
	ctx := context.Background()
	st := stateOf(store, "cart")
	const short = 150 * time.Millisecond
	put := func(key string, ttl time.Duration) {
		t.Helper()
		if _, err := st.Update(ctx, key, ttl, func([]byte, bool) ([]byte, error) { return []byte("w"), nil }); err != nil {
			t.Fatalf("Update(%q, %v): %v", key, ttl, err)
		}
	}
	put("new-short", short)
	set(t, st, "to-short", "v", time.Hour)
	put("to-short", short)
	set(t, st, "to-never", "v", short)
	put("to-never", 0)
	set(t, st, "to-hour", "v", short)
	put("to-hour", time.Hour)
	set(t, st, "control", "v", short)
	gone(t, st, "new-short")
	gone(t, st, "to-short")
	gone(t, st, "control")
	want(t, st, "to-never", []byte("w"))
	want(t, st, "to-hour", []byte("w"))
}

// testUpdateAtomic: 8 goroutines add 1 to one counter 100 times each,
// on two BFFs of one name, as two replicas do; no increment is lost.
func testUpdateAtomic(t *testing.T, store bff.StateStore) {
	ctx := context.Background()
	replicas := []bff.State{stateOf(store, "counter"), stateOf(store, "counter")}
	const goroutines, increments = 8, 100
	var runs atomic.Int64
	var wg sync.WaitGroup
	errs := make(chan error, goroutines)
	for g := range goroutines {
		st := replicas[g%len(replicas)]
		wg.Go(func() {
			for range increments {
				_, err := st.Update(ctx, "n", time.Hour, func(old []byte, ok bool) ([]byte, error) {
					runs.Add(1)
					n := 0
					if ok {
						var err error
						if n, err = strconv.Atoi(string(old)); err != nil {
							return nil, fmt.Errorf("the counter holds %q", old)
						}
					}
					return strconv.AppendInt(nil, int64(n+1), 10), nil
				})
				if err != nil {
					errs <- err
					return
				}
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	want(t, replicas[0], "n", []byte(strconv.Itoa(goroutines*increments)))
	if r := runs.Load(); r < goroutines*increments {
		t.Errorf("fn ran %d times for %d updates", r, goroutines*increments)
	}
}

// testNamespaces: BFFs of different names never see each other's keys;
// BFFs of one name, as the replicas of one BFF, share theirs.
func testNamespaces(t *testing.T, store bff.StateStore) {
	ctx := context.Background()
	cart, cart2, recs := stateOf(store, "cart"), stateOf(store, "cart"), stateOf(store, "recs")
	set(t, cart, "k", "cart's", 0)
	want(t, recs, "k", nil)
	want(t, cart2, "k", []byte("cart's"))
	set(t, recs, "k", "recs'", 0)
	want(t, cart, "k", []byte("cart's"))
	if _, err := recs.Update(ctx, "k", 0, func(old []byte, _ bool) ([]byte, error) {
		if string(old) != "recs'" {
			return nil, fmt.Errorf("recs' Update saw %q", old)
		}
		return nil, nil
	}); err != nil {
		t.Fatal(err)
	}
	want(t, recs, "k", nil)
	want(t, cart, "k", []byte("cart's"))
	if err := cart2.Delete(ctx, "k"); err != nil {
		t.Fatal(err)
	}
	want(t, cart, "k", nil)

	// A name that looks like another's key under a prefix stays apart.
	set(t, stateOf(store, "a"), "b:c", "1", 0)
	want(t, stateOf(store, "a.b"), "c", nil)
	want(t, stateOf(store, "a-b"), "c", nil)
}
