package registrytest

import (
	"context"
	"testing"
	"time"

	"github.com/collage-dev/collage/build"
	"github.com/collage-dev/collage/shell/registry"
)

// canaryOf returns the canary of frontend, nil when none runs.
func canaryOf(t *testing.T, st registry.Store, frontend string) *registry.Canary {
	t.Helper()
	f, _, err := st.List(context.Background(), frontend)
	if err != nil {
		t.Fatal(err)
	}
	return f.Canary
}

// TestCanary starts a canary, changes its share, and ends it by a rollback
// and by a promote; a canary's version cannot be yanked.
func TestCanary(t *testing.T, open Open) {
	ctx := context.Background()
	st := open(t)
	for _, l := range []string{"v1", "v2", "v3"} {
		publish(t, st, release("cart", l, "https://cart.example/"+l))
	}
	move := func(label string, percent int) (registry.Change, error) {
		return st.Promote(ctx, registry.Move{Frontend: "cart", Label: label, Percent: percent, By: "ci"})
	}
	_, err := move("v2", 10)
	wantCode(t, err, "conflict", "a canary with no active version")
	promote(t, st, "cart", "v1")
	for _, p := range []int{-1, 101} {
		_, err := move("v2", p)
		wantCode(t, err, "bad_request", "a canary of a share out of range")
	}
	_, err = move("v1", 10)
	wantCode(t, err, "conflict", "a canary of the active version")

	rev := revision(t, st)
	c, err := move("v2", 10)
	if err != nil || c.Kind != registry.KindCanary || c.Label != "v2" || c.From != "v1" || c.Percent != 10 || c.Revision != rev+1 {
		t.Fatalf("canary v2 at 10%% = %+v, %v", c, err)
	}
	first := canaryOf(t, st, "cart")
	if first == nil || first.Label != "v2" || first.Percent != 10 || active(t, st, "cart") != "v1" {
		t.Fatalf("canary %+v, active %s: want v2 at 10%% beside v1", first, active(t, st, "cart"))
	}
	if c, err := move("v2", 10); err != nil || c.Revision != rev+1 {
		t.Errorf("the same share again = %+v, %v: want no change", c, err)
	}
	time.Sleep(2 * time.Millisecond)
	if _, err := move("v2", 30); err != nil {
		t.Fatal(err)
	}
	if raised := canaryOf(t, st, "cart"); raised.Percent != 30 || !raised.Since.Equal(first.Since) {
		t.Errorf("raised canary %+v, want 30%% since %s", raised, first.Since)
	}
	_, err = st.Yank(ctx, "cart", "v2", "ci")
	wantCode(t, err, "conflict", "yank of the canary's version")

	// A rollback ends the canary; the active version stays.
	_, err = st.Rollback(ctx, registry.Move{Frontend: "cart", Canary: "v3", By: "shell"})
	wantCode(t, err, "precondition_failed", "a rollback of a canary that does not run")
	c, err = st.Rollback(ctx, registry.Move{Frontend: "cart", Expect: "v1", Canary: "v2", By: "shell", Reason: "errors"})
	if err != nil || c.Kind != registry.KindCanaryAbort || c.Label != "v2" || c.Reason != "errors" {
		t.Fatalf("rollback of the canary = %+v, %v", c, err)
	}
	if canaryOf(t, st, "cart") != nil || active(t, st, "cart") != "v1" {
		t.Errorf("after the rollback: canary %+v, active %s", canaryOf(t, st, "cart"), active(t, st, "cart"))
	}
	// A second replica's abort of the same canary changes nothing more.
	_, err = st.Rollback(ctx, registry.Move{Frontend: "cart", Expect: "v1", Canary: "v2", By: "shell"})
	wantCode(t, err, "precondition_failed", "a second abort of an ended canary")
	if active(t, st, "cart") != "v1" {
		t.Errorf("a second abort rolled the active version back to %s", active(t, st, "cart"))
	}
	// A promote of any version ends a canary too.
	if _, err := move("v2", 50); err != nil {
		t.Fatal(err)
	}
	if c := promote(t, st, "cart", "v3"); c.Kind != registry.KindPromote || canaryOf(t, st, "cart") != nil {
		t.Errorf("promote v3 during a canary = %+v, canary %+v", c, canaryOf(t, st, "cart"))
	}
	if _, err := move("v2", 20); err != nil {
		t.Fatal(err)
	}
	if promote(t, st, "cart", "v2"); active(t, st, "cart") != "v2" || canaryOf(t, st, "cart") != nil {
		t.Errorf("promote of the canary's version: active %s canary %+v", active(t, st, "cart"), canaryOf(t, st, "cart"))
	}

	state, err := st.Load(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := move("v1", 5); err != nil {
		t.Fatal(err)
	}
	state2, err := st.Load(ctx)
	if err != nil {
		t.Fatal(err)
	}
	snap := registry.NewSnapshot(state2, registry.Retention{}, time.Now())
	if snap.Canaries["cart"].Label != "v1" || snap.Release("cart", "v1") == nil || snap.Versions["cart"] != "v2" {
		t.Errorf("snapshot canaries %+v, versions %v", snap.Canaries, snap.Versions)
	}
	// Everything back to how it was before that canary: it ends.
	changes, err := st.RollbackAll(ctx, state.Frontends["cart"].History[len(state.Frontends["cart"].History)-1].At, "ci")
	if err != nil || len(changes) != 1 || changes[0].Kind != registry.KindCanaryAbort || canaryOf(t, st, "cart") != nil {
		t.Errorf("rollback of everything = %+v, %v; canary %+v", changes, err, canaryOf(t, st, "cart"))
	}
}

// TestCanaryShared refuses a canary of the shared dependencies.
func TestCanaryShared(t *testing.T, open Open) {
	st := open(t)
	ctx := context.Background()
	blobs := registry.NewMemBlobs()
	for _, l := range []string{"s1", "s2"} {
		m, files := Bundle(build.SharedName, l, 1, 100)
		m.Entry, m.Imports = "", map[string]string{"preact": "f0.js"}
		if _, _, err := registry.Publish(ctx, st, blobs, &registry.Release{Frontend: build.SharedName, Label: l, Manifest: m}, files); err != nil {
			t.Fatal(err)
		}
	}
	promote(t, st, build.SharedName, "s1")
	_, err := st.Promote(ctx, registry.Move{Frontend: build.SharedName, Label: "s2", Percent: 10})
	wantCode(t, err, "bad_request", "a canary of the shared dependencies")
}
