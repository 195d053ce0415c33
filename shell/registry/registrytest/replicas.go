package registrytest

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/collage-dev/collage/bff"
	"github.com/collage-dev/collage/shell/registry"
)

// TestRevision checks that Revision tells the revision of the last change,
// which only changes move, and that it honours its context.
func TestRevision(t *testing.T, open Open) {
	st := open(t)
	ctx := context.Background()
	for _, tc := range []struct {
		name   string
		change func() error
		want   uint64
	}{
		{"an empty store", func() error { return nil }, 0},
		{"a publish", func() error {
			_, _, err := st.Publish(ctx, release("cart", "v1", "local"))
			return err
		}, 1},
		{"the same publish again", func() error {
			_, _, err := st.Publish(ctx, release("cart", "v1", "local"))
			return err
		}, 1},
		{"a promote", func() error {
			_, err := st.Promote(ctx, registry.Move{Frontend: "cart", Label: "v1"})
			return err
		}, 2},
		{"the same promote again", func() error {
			_, err := st.Promote(ctx, registry.Move{Frontend: "cart", Label: "v1"})
			return err
		}, 2},
		{"a refused yank", func() error {
			_, err := st.Yank(ctx, "cart", "v1", "ci")
			if Code(err) == "conflict" {
				return nil
			}
			return fmt.Errorf("yank of the active version: %v, want a conflict", err)
		}, 2},
		{"a token", func() error {
			return st.PutToken(ctx, &registry.Token{ID: "ci", Hash: hash(1), Frontends: []string{"cart"}, Can: []string{registry.CanPublish}})
		}, 2},
	} {
		if err := tc.change(); err != nil {
			t.Fatalf("%s: %v", tc.name, err)
		}
		if got := revision(t, st); got != tc.want {
			t.Errorf("after %s: revision %d, want %d", tc.name, got, tc.want)
		}
	}
	h, err := st.History(ctx, 0)
	if err != nil || len(h) != 2 || h[1].Revision != 2 {
		t.Errorf("history %+v, %v: want two changes, the last of revision 2", h, err)
	}
	canceled, cancel := context.WithCancel(ctx)
	cancel()
	if _, err := st.Revision(canceled); err == nil {
		t.Error("Revision with a canceled context succeeded")
	}
}

// TestReplicas checks that what one replica changes, the other reads at
// once: releases, the active version, the history and tokens.
func TestReplicas(t *testing.T, replicas Replicas) {
	a, b := replicas(t)
	ctx := context.Background()
	publish(t, a, release("cart", "v1", "local"))
	publish(t, b, release("cart", "v2", "http://127.0.0.1:9001/v2"))
	promote(t, b, "cart", "v2")
	if rev := revision(t, a); rev != 3 {
		t.Errorf("revision through a: %d, want 3", rev)
	}
	if got := active(t, a, "cart"); got != "v2" {
		t.Errorf("active through a: %s, want v2 as b promoted", got)
	}
	s, err := a.Load(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if len(s.Releases["cart"]) != 2 || s.Releases["cart"]["v2"].BFF != "http://127.0.0.1:9001/v2" {
		t.Errorf("releases through a: %+v, want v1 and v2", s.Releases["cart"])
	}
	if h, err := a.History(ctx, 1); err != nil || len(h) != 2 || h[1].Kind != registry.KindPromote {
		t.Errorf("history since 1 through a: %+v, %v; want b's publish and promote", h, err)
	}
	if err := b.PutToken(ctx, &registry.Token{ID: "ci", Hash: hash(7), Frontends: []string{"cart"}, Can: []string{registry.CanPublish}}); err != nil {
		t.Fatal(err)
	}
	if tok, err := a.TokenByHash(ctx, hash(7)); err != nil || tok.ID != "ci" {
		t.Errorf("token through a: %+v, %v; want the one b put", tok, err)
	}
	if err := a.RevokeToken(ctx, "ci"); err != nil {
		t.Fatal(err)
	}
	if _, err := b.TokenByHash(ctx, hash(7)); Code(err) != bff.CodeNotFound {
		t.Errorf("token through b after a revoked it: %v, want not_found", err)
	}
}

// TestConcurrentPublishes publishes different versions of one frontend at
// once through both replicas: every publish lands, whole and once, with a
// revision of its own.
func TestConcurrentPublishes(t *testing.T, replicas Replicas) {
	a, b := replicas(t)
	ctx := context.Background()
	const workers, each = 3, 4 // per replica
	errs := make(chan error, 2*workers*each)
	var wg sync.WaitGroup
	start := make(chan struct{})
	for side, st := range []registry.Store{a, b} {
		for w := range workers {
			wg.Go(func() {
				<-start
				for i := range each {
					label := fmt.Sprintf("s%d-w%d-%d", side, w, i)
					out, created, err := st.Publish(ctx, release("cart", label, "http://127.0.0.1:9001/"+label))
					if err != nil || !created || out.Label != label {
						errs <- fmt.Errorf("publish %s: %+v, created %v, %v", label, out, created, err)
					}
				}
			})
		}
	}
	close(start)
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	const n = 2 * workers * each
	f, rs, err := b.List(ctx, "cart")
	if err != nil {
		t.Fatal(err)
	}
	seen := map[string]bool{}
	for i, r := range rs {
		if seen[r.Label] || r.BFF != "http://127.0.0.1:9001/"+r.Label || f.Versions[i] != r.Label {
			t.Errorf("version %d: %s (target %s), listed as %s, seen before: %v", i, r.Label, r.BFF, f.Versions[i], seen[r.Label])
		}
		seen[r.Label] = true
	}
	if len(rs) != n || len(f.History) != n {
		t.Errorf("%d versions, %d changes in the frontend's history; want %d of each", len(rs), len(f.History), n)
	}
	if rev := revision(t, a); rev != n {
		t.Errorf("revision %d after %d publishes", rev, n)
	}
	h, err := a.History(ctx, 0)
	if err != nil {
		t.Fatal(err)
	}
	for i, c := range h {
		if c.Revision != uint64(i+1) || c.Kind != registry.KindPublish || !seen[c.Label] {
			t.Errorf("history[%d]: %+v, want a publish of revision %d", i, c, i+1)
		}
	}
	if len(h) != n {
		t.Errorf("history of %d changes, want %d", len(h), n)
	}
}

// TestWatch checks that a store replicas share tells one of them of the
// changes the other commits, and of its connecting. A store one process
// holds alone is no registry.Watcher: the test skips it.
func TestWatch(t *testing.T, replicas Replicas) {
	a, b := replicas(t)
	w, ok := a.(registry.Watcher)
	if !ok {
		t.Skipf("%T is no registry.Watcher: no other process changes it", a)
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	calls := make(chan struct{}, 64)
	done := make(chan error, 1)
	go func() {
		done <- w.Watch(ctx, func() {
			select {
			case calls <- struct{}{}:
			default:
			}
		})
	}()
	wait := func(what string) {
		t.Helper()
		select {
		case <-calls:
		case <-time.After(10 * time.Second):
			t.Fatalf("changed was not called %s within 10s", what)
		}
		for len(calls) > 0 {
			<-calls
		}
	}
	wait("on connecting")
	publish(t, b, release("cart", "v1", "local"))
	wait("after a publish through the other replica")
	if rev := revision(t, a); rev != 1 {
		t.Errorf("revision %d when told of the publish, want 1", rev)
	}
	promote(t, b, "cart", "v1")
	wait("after a promote through the other replica")
	cancel()
	select {
	case err := <-done:
		if err != nil {
			t.Errorf("Watch ended with %v, want nil once its context is done", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("Watch still runs 10s after its context ended")
	}
}
