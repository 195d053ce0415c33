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

// TestPreview opens versions to preview links: a malformed nonce or a past
// end is refused, an ended preview is dropped at the next one, and a
// yanked version's preview ends.
func TestPreview(t *testing.T, open Open) {
	ctx := context.Background()
	st := open(t)
	for _, l := range []string{"v1", "v2", "v3"} {
		publish(t, st, release("cart", l, "https://cart.example/"+l))
	}
	promote(t, st, "cart", "v1")
	const nonce = "0123456789abcdef0123456789abcdef"
	now := time.Now()
	preview := func(label, nonce string, until time.Time) (registry.Change, error) {
		return st.Promote(ctx, registry.Move{Frontend: "cart", Label: label, Until: until, Nonce: nonce, By: "ci"})
	}
	_, err := preview("v2", "short", now.Add(time.Hour))
	wantCode(t, err, "bad_request", "a preview with a malformed nonce")
	_, err = preview("v2", nonce, now.Add(-time.Second))
	wantCode(t, err, "bad_request", "a preview that ended already")
	_, err = preview("v9", nonce, now.Add(time.Hour))
	wantCode(t, err, "not_found", "a preview of a version that is not there")

	c, err := preview("v2", nonce, now.Add(30*time.Millisecond))
	if err != nil || c.Kind != registry.KindPreview || c.Label != "v2" || c.Until.IsZero() {
		t.Fatalf("preview v2 = %+v, %v", c, err)
	}
	if active(t, st, "cart") != "v1" {
		t.Errorf("a preview changed the active version to %s", active(t, st, "cart"))
	}
	time.Sleep(40 * time.Millisecond)
	if _, err := preview("v3", nonce, time.Now().Add(time.Hour)); err != nil {
		t.Fatal(err)
	}
	f, _, err := st.List(ctx, "cart")
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := f.Previews["v2"]; ok || f.Previews["v3"].Nonce != nonce {
		t.Errorf("previews %+v: want v3's alone, v2's ended", f.Previews)
	}
	if _, err := st.Yank(ctx, "cart", "v3", "ci"); err != nil {
		t.Fatal(err)
	}
	if f, _, _ := st.List(ctx, "cart"); len(f.Previews) != 0 {
		t.Errorf("a yanked version is still previewed: %+v", f.Previews)
	}
}
