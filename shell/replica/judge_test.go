package replica

import (
	"context"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/collage-dev/collage/internal/syncbuf"
	"github.com/collage-dev/collage/shell"
	"github.com/collage-dev/collage/shell/registry"
)

// canaryReplica is a replica whose store serves cart v1 with a canary of
// v2 at 50%.
func canaryReplica(t *testing.T, logs *syncbuf.Buffer) (*Replica, registry.Store) {
	t.Helper()
	ctx := context.Background()
	st := registry.NewMemStore()
	for _, l := range []string{"v1", "v2"} {
		if _, _, err := st.Publish(ctx, &registry.Release{Frontend: "cart", Label: l, BFF: "https://cart.example/" + l}); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := st.Promote(ctx, registry.Move{Frontend: "cart", Label: "v1"}); err != nil {
		t.Fatal(err)
	}
	if _, err := st.Promote(ctx, registry.Move{Frontend: "cart", Label: "v2", Percent: 50}); err != nil {
		t.Fatal(err)
	}
	r := New(Options{Store: st, Registry: registry.New(&registry.Snapshot{}), Releases: shell.NewReleases(nil, nil),
		Log: slog.New(slog.NewTextHandler(logs, nil)), Judge: JudgeOptions{MinSample: 100, MaxExcess: 5}})
	if err := r.Reload(ctx); err != nil {
		t.Fatal(err)
	}
	return r, st
}

func observe(r *Replica, label string, n, failed int) {
	for i := range n {
		r.ObserveVersion("cart", label, i < failed)
	}
}

func TestJudgeEndsAFailingCanary(t *testing.T) {
	logs := &syncbuf.Buffer{}
	r, st := canaryReplica(t, logs)
	ctx := context.Background()
	observe(r, "v2", 60, 30) // too few to judge
	observe(r, "v1", 500, 5)
	r.judgeCanaries(ctx)
	if len(r.o.Registry.Current().Canaries) != 1 {
		t.Fatalf("the canary ended after 60 slots, fewer than the sample asked")
	}
	observe(r, "v2", 60, 30)
	r.judgeCanaries(ctx)
	if c := r.o.Registry.Current().Canaries; len(c) != 0 {
		t.Fatalf("a canary failing 50%% of 120 against 1%% still runs: %v\n%s", c, logs)
	}
	f, _, err := st.List(ctx, "cart")
	if err != nil {
		t.Fatal(err)
	}
	last := f.History[len(f.History)-1]
	if f.Active != "v1" || last.Kind != registry.KindCanaryAbort || !strings.Contains(last.Reason, "v2 failed 50.0% of 120") ||
		!strings.Contains(last.Reason, "v1 1.0% of 500") {
		t.Errorf("active %s, last change %+v", f.Active, last)
	}
	if !strings.Contains(logs.String(), "canary ended by itself") {
		t.Errorf("the log does not say the canary ended:\n%s", logs)
	}
	// Outcomes seen after the end change nothing.
	observe(r, "v2", 500, 500)
	r.judgeCanaries(ctx)
	if f, _, _ := st.List(ctx, "cart"); f.Active != "v1" {
		t.Errorf("after the canary's end, the active version became %s", f.Active)
	}
}

func TestJudgeKeepsAHealthyCanary(t *testing.T) {
	r, _ := canaryReplica(t, &syncbuf.Buffer{})
	observe(r, "v2", 400, 12) // 3%
	observe(r, "v1", 400, 4)  // 1%
	r.judgeCanaries(context.Background())
	if len(r.o.Registry.Current().Canaries) != 1 {
		t.Errorf("a canary 2 points worse than its active version, under 5, ended")
	}
}

func TestJudgeEvery(t *testing.T) {
	logs := &syncbuf.Buffer{}
	r, _ := canaryReplica(t, logs)
	r.o.Judge.Every = 10 * time.Millisecond
	observe(r, "v2", 200, 200)
	observe(r, "v1", 200, 0)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	go r.Run(ctx)
	for len(r.o.Registry.Current().Canaries) != 0 {
		if ctx.Err() != nil {
			t.Fatalf("Run did not end a failing canary in 10s\n%s", logs)
		}
		time.Sleep(5 * time.Millisecond)
	}
}
