package redis

import (
	"context"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/collage-dev/collage/bff"
	"github.com/collage-dev/collage/build"
	"github.com/collage-dev/collage/shell/registry"
	"github.com/collage-dev/collage/shell/registry/registrytest"
)

func TestConformance(t *testing.T) {
	rdb := openClient(t)
	registrytest.Run(t, func(t *testing.T) registry.Store {
		return NewStore(rdb, freshPrefix(t, rdb, true))
	}, func(t *testing.T) (registry.Store, registry.Store) {
		// Two clients, as two replicas have.
		a, b := openClient(t), openClient(t)
		prefix := freshPrefix(t, a, true)
		return NewStore(a, prefix), NewStore(b, prefix)
	})
}

// TestKeys checks the layout of the store's keys, which the package doc
// tells operators.
func TestKeys(t *testing.T) {
	t.Parallel()
	rdb := openClient(t)
	prefix := freshPrefix(t, rdb, true)
	st := NewStore(rdb, prefix)
	ctx := context.Background()
	if _, _, err := st.Publish(ctx, &registry.Release{Frontend: "cart", Label: "v1", BFF: "local"}); err != nil {
		t.Fatal(err)
	}
	if err := st.PutToken(ctx, &registry.Token{ID: "ci", Hash: strings.Repeat("ab", 32)}); err != nil {
		t.Fatal(err)
	}
	want := map[string]string{"revision": "string", "frontends": "hash", "releases": "hash", "history": "stream", "tokens": "hash", "tokenhashes": "hash"}
	keys, err := keysOf(ctx, rdb, prefix)
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]string{}
	for _, k := range keys {
		got[strings.TrimPrefix(k, prefix)] = rdb.Type(ctx, k).Val()
	}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("keys %v, want %v", got, want)
	}
	if r, err := rdb.HGet(ctx, prefix+"releases", "cart/v1").Result(); err != nil || !strings.Contains(r, `"bff":"local"`) {
		t.Errorf("release cart/v1: %q, %v", r, err)
	}
	if e, err := rdb.XRange(ctx, prefix+"history", "-", "+").Result(); err != nil || len(e) != 1 || e[0].ID != "1-0" {
		t.Errorf("history %+v, %v; want one entry of ID 1-0", e, err)
	}
}

// TestPublishesRevision checks that every change, and only a change,
// publishes its revision.
func TestPublishesRevision(t *testing.T) {
	t.Parallel()
	rdb := openClient(t)
	prefix := freshPrefix(t, rdb, true)
	st := NewStore(rdb, prefix)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	ps := openClient(t).Subscribe(ctx, prefix+"changes")
	defer ps.Close()
	if _, err := ps.Receive(ctx); err != nil { // the confirmation
		t.Fatal(err)
	}
	next := func(want string) {
		t.Helper()
		m, err := ps.ReceiveMessage(ctx)
		if err != nil || m.Payload != want {
			t.Fatalf("message %+v, %v; want revision %s", m, err, want)
		}
	}
	r := &registry.Release{Frontend: "cart", Label: "v1", BFF: "local"}
	if _, _, err := st.Publish(ctx, r); err != nil {
		t.Fatal(err)
	}
	next("1")
	// The same publish, a promote of an unknown version, a token: no
	// revision, no message.
	if _, _, err := st.Publish(ctx, r); err != nil {
		t.Fatal(err)
	}
	if _, err := st.Promote(ctx, registry.Move{Frontend: "cart", Label: "v9"}); registrytest.Code(err) != bff.CodeNotFound {
		t.Fatalf("promote of an unknown version: %v", err)
	}
	if err := st.PutToken(ctx, &registry.Token{ID: "ci", Hash: strings.Repeat("ab", 32)}); err != nil {
		t.Fatal(err)
	}
	if _, err := st.Promote(ctx, registry.Move{Frontend: "cart", Label: "v1"}); err != nil {
		t.Fatal(err)
	}
	next("2")
}

// TestConflictAfterRetries makes another client commit between the reads
// and the writes of every try of a change: the change gives up, as a
// conflict, after maxTries.
func TestConflictAfterRetries(t *testing.T) {
	t.Parallel()
	rdb, other := openClient(t), openClient(t)
	prefix := freshPrefix(t, rdb, true)
	st := NewStore(rdb, prefix)
	ctx := context.Background()
	tries := 0
	err := st.update(ctx, func(tx registry.Tx) error {
		tries++
		rev, err := tx.Revision()
		if err != nil {
			return err
		}
		if err := other.Incr(ctx, prefix+"revision").Err(); err != nil {
			return err
		}
		return tx.SetRevision(rev + 1)
	})
	if registrytest.Code(err) != "conflict" || tries != maxTries {
		t.Errorf("after %d tries: %v; want a conflict after %d", tries, err, maxTries)
	}
	if rev, err := st.Revision(ctx); err != nil || rev != maxTries {
		t.Errorf("revision %d, %v; want the other client's %d and none of the change's", rev, err, maxTries)
	}
}

// TestLoadIsConsistent loads through one replica while the other promotes:
// every state loaded is of one revision.
func TestLoadIsConsistent(t *testing.T) {
	t.Parallel()
	a, b := openClient(t), openClient(t)
	prefix := freshPrefix(t, a, true)
	writer, reader := NewStore(a, prefix), NewStore(b, prefix)
	ctx := context.Background()
	for _, l := range []string{"v1", "v2"} {
		if _, _, err := writer.Publish(ctx, &registry.Release{Frontend: "cart", Label: l, BFF: "http://127.0.0.1:9001/" + l}); err != nil {
			t.Fatal(err)
		}
	}
	done := make(chan struct{})
	var wg sync.WaitGroup
	wg.Go(func() {
		defer close(done)
		for i := range 100 {
			if _, err := writer.Promote(ctx, registry.Move{Frontend: "cart", Label: []string{"v1", "v2"}[i%2]}); err != nil {
				t.Error(err)
				return
			}
		}
	})
	loads := 0
	for stop := false; !stop; loads++ {
		select {
		case <-done:
			stop = true
		default:
		}
		s, err := reader.Load(ctx)
		if err != nil {
			t.Error(err)
			break
		}
		if f := s.Frontends["cart"]; s.Revision > 2 {
			last := f.History[len(f.History)-1]
			if last.Revision != s.Revision || last.Label != f.Active {
				t.Errorf("load %d: revision %d, active %s, but the last change is %+v", loads, s.Revision, f.Active, last)
				break
			}
		}
	}
	wg.Wait()
	t.Logf("%d loads during 100 promotes", loads)
}

// TestUnavailable checks that every call to a store and a blob store
// whose Redis does not answer fails fast, as service_unavailable (503),
// naming the Redis.
func TestUnavailable(t *testing.T) {
	t.Parallel()
	rdb, addr := deadClient(t)
	st := NewStore(rdb, "")
	blobs, err := NewBlobs(rdb, "", t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	r := &registry.Release{Frontend: "cart", Label: "v1", BFF: "local"}
	m := registry.Move{Frontend: "cart", Label: "v1"}
	for _, tc := range []struct {
		name string
		call func() error
	}{
		{"Publish", func() error { _, _, err := st.Publish(ctx, r); return err }},
		{"Promote", func() error { _, err := st.Promote(ctx, m); return err }},
		{"Rollback", func() error { _, err := st.Rollback(ctx, m); return err }},
		{"RollbackAll", func() error { _, err := st.RollbackAll(ctx, time.Now(), "ops"); return err }},
		{"Yank", func() error { _, err := st.Yank(ctx, "cart", "v1", "ci"); return err }},
		{"List", func() error { _, _, err := st.List(ctx, "cart"); return err }},
		{"History", func() error { _, err := st.History(ctx, 0); return err }},
		{"Load", func() error { _, err := st.Load(ctx); return err }},
		{"Revision", func() error { _, err := st.Revision(ctx); return err }},
		{"PutToken", func() error { return st.PutToken(ctx, &registry.Token{ID: "ci", Hash: strings.Repeat("ab", 32)}) }},
		{"TokenByHash", func() error { _, err := st.TokenByHash(ctx, strings.Repeat("ab", 32)); return err }},
		{"Tokens", func() error { _, err := st.Tokens(ctx); return err }},
		{"RevokeToken", func() error { return st.RevokeToken(ctx, "ci") }},
		{"Put", func() error {
			_, err := blobs.Put(ctx, strings.NewReader("x"), build.Integrity([]byte("x")))
			return err
		}},
		{"Open", func() error { _, err := blobs.Open(ctx, strings.Repeat("0", 64)); return err }},
		{"Sweep", func() error { _, err := blobs.Sweep(ctx, func(string) bool { return false }, time.Now()); return err }},
	} {
		start := time.Now()
		err := tc.call()
		took := time.Since(start)
		e, ok := err.(*bff.Error)
		want := fmt.Sprintf("(Redis at %s) does not answer", addr)
		if !ok || bff.StatusOf(e.Code) != http.StatusServiceUnavailable || !strings.Contains(e.Message, want) {
			t.Errorf("%s: %v; want a service_unavailable error that says %q", tc.name, err, want)
		}
		if took > 20*time.Second {
			t.Errorf("%s took %v to fail", tc.name, took)
		}
	}
}

// TestRedisGoesAndReturns takes Redis away from a store and gives it
// back: writes fail with 503 meanwhile, then work again with the same
// client.
func TestRedisGoesAndReturns(t *testing.T) {
	t.Parallel()
	p, rdb := startProxy(t)
	prefix := freshPrefix(t, openClient(t), true)
	st := NewStore(rdb, prefix)
	ctx := context.Background()
	publish := func(label string) error {
		_, _, err := st.Publish(ctx, &registry.Release{Frontend: "cart", Label: label, BFF: "local"})
		return err
	}
	if err := publish("v1"); err != nil {
		t.Fatal(err)
	}
	p.down()
	if err := publish("v2"); registrytest.Code(err) != bff.CodeServiceUnavailable {
		t.Fatalf("publish with Redis gone: %v, want service_unavailable", err)
	}
	p.up(t)
	deadline := time.Now().Add(20 * time.Second)
	for err := publish("v2"); err != nil; err = publish("v2") {
		if time.Now().After(deadline) {
			t.Fatalf("publish 20s after Redis returned: %v", err)
		}
		time.Sleep(100 * time.Millisecond)
	}
	f, _, err := st.List(ctx, "cart")
	if err != nil || !slices.Equal(f.Versions, []string{"v1", "v2"}) {
		t.Errorf("versions %+v, %v; want v1 and v2", f, err)
	}
}
