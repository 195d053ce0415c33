package redis

import (
	"context"
	"slices"
	"testing"
	"time"

	"github.com/collage-dev/collage/shell/registry"
)

// watch runs st.Watch until t ends, and returns the channel that receives
// a value for each call of changed, and *err, set to what Watch returned
// once done is closed.
func watch(t *testing.T, st *Store) (calls <-chan struct{}, done <-chan struct{}, err *error) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	c := make(chan struct{}, 64)
	d := make(chan struct{})
	err = new(error)
	go func() {
		defer close(d)
		*err = st.Watch(ctx, func() {
			select {
			case c <- struct{}{}:
			default:
			}
		})
	}()
	t.Cleanup(func() {
		cancel()
		select {
		case <-d:
		case <-time.After(10 * time.Second):
			t.Error("Watch still runs 10s after its context ended")
		}
	})
	return c, d, err
}

// called waits for a call of changed, and drains the others.
func called(t *testing.T, calls <-chan struct{}, what string) {
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

// TestWatchReconnects takes Redis away from a watching replica while
// another changes the registry: the message is lost, and the replica is
// told all the same once Redis returns, by its new subscription.
func TestWatchReconnects(t *testing.T) {
	t.Parallel()
	p, rdb := startProxy(t)
	direct := openClient(t)
	prefix := freshPrefix(t, direct, true)
	watcher, writer := NewStore(rdb, prefix), NewStore(direct, prefix)
	ctx := context.Background()
	calls, _, _ := watch(t, watcher)
	called(t, calls, "on subscribing")
	p.down()
	if _, _, err := writer.Publish(ctx, &registry.Release{Frontend: "cart", Label: "v1", BFF: "local"}); err != nil {
		t.Fatal(err)
	}
	select {
	case <-calls:
		t.Fatal("changed was called while the watcher could not reach Redis")
	case <-time.After(300 * time.Millisecond):
	}
	p.up(t)
	called(t, calls, "on subscribing again")
	if rev, err := watcher.Revision(ctx); err != nil || rev != 1 {
		t.Errorf("revision %d, %v after subscribing again; want 1", rev, err)
	}
	if _, err := writer.Promote(ctx, registry.Move{Frontend: "cart", Label: "v1"}); err != nil {
		t.Fatal(err)
	}
	called(t, calls, "after a promote, subscribed again")
}

// TestWatchPings cuts the network under a watching replica without
// closing its connection: the replica notices by its ping, subscribes
// again, and is told.
func TestWatchPings(t *testing.T) {
	t.Parallel()
	p, rdb := startProxy(t)
	calls, _, _ := watch(t, NewStore(rdb, freshPrefix(t, openClient(t), true)))
	called(t, calls, "on subscribing")
	p.freeze()
	select {
	case <-calls:
		t.Fatal("changed was called with the network cut")
	case <-time.After(heartbeat):
	}
	// Expected at twice the heartbeat.
	select {
	case <-calls:
	case <-time.After(20 * heartbeat):
		t.Fatalf("changed was not called within %v of the network cut", 21*heartbeat)
	}
}

// TestWatchEndsWithItsClient closes the client under a Watch: it returns
// an error rather than trying again for ever.
func TestWatchEndsWithItsClient(t *testing.T) {
	t.Parallel()
	rdb := openClient(t)
	calls, done, err := watch(t, NewStore(rdb, freshPrefix(t, openClient(t), true)))
	called(t, calls, "on subscribing")
	rdb.Close()
	select {
	case <-done:
		if *err == nil {
			t.Error("Watch returned nil once its client was closed, want an error")
		}
	case <-time.After(10 * time.Second):
		t.Fatal("Watch still runs 10s after its client was closed")
	}
}

// BenchmarkPromoteTold promotes through one replica and waits until
// another's Watch tells of it, and reports the p50 and p99 of the promote
// alone and of the whole.
func BenchmarkPromoteTold(b *testing.B) {
	a, other := openClient(b), openClient(b)
	prefix := freshPrefix(b, a, true)
	writer, watcher := NewStore(a, prefix), NewStore(other, prefix)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	for _, l := range []string{"v1", "v2"} {
		if _, _, err := writer.Publish(ctx, &registry.Release{Frontend: "cart", Label: l, BFF: "http://127.0.0.1:9001/" + l}); err != nil {
			b.Fatal(err)
		}
	}
	calls := make(chan struct{}, 1)
	go watcher.Watch(ctx, func() { calls <- struct{}{} })
	<-calls
	var promote, told []time.Duration
	b.ResetTimer()
	for i := range b.N {
		start := time.Now()
		if _, err := writer.Promote(ctx, registry.Move{Frontend: "cart", Label: []string{"v1", "v2"}[i%2]}); err != nil {
			b.Fatal(err)
		}
		promote = append(promote, time.Since(start))
		<-calls
		told = append(told, time.Since(start))
	}
	b.StopTimer()
	for _, m := range []struct {
		name string
		d    []time.Duration
	}{{"promote", promote}, {"told", told}} {
		slices.Sort(m.d)
		at := func(p int) float64 { return float64(m.d[(len(m.d)-1)*p/100].Microseconds()) / 1000 }
		b.ReportMetric(at(50), m.name+"-p50-ms")
		b.ReportMetric(at(99), m.name+"-p99-ms")
	}
}
