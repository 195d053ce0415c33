package shell_test

import (
	"context"
	"io/fs"
	"strings"
	"testing"
	"time"

	"github.com/collage-dev/collage/shell"
	"github.com/collage-dev/collage/shell/registry"
	"github.com/collage-dev/collage/shell/registry/registrytest"
)

// TestNewVersionsMadeElsewhere: an asset of a version, or a /bff call
// pinned to one, that the snapshot does not hold makes the shell catch up
// with its store before it answers: another replica may have made the
// version active, and sent the browser here, a moment ago. What the
// snapshot holds makes it wait on nothing.
func TestNewVersionsMadeElsewhere(t *testing.T) {
	st, blobs, ctx := registry.NewMemStore(), registry.NewMemBlobs(), t.Context()
	var (
		catchUps int
		reg      *registry.Registry
		releases *shell.Releases
	)
	load := func() {
		state, err := st.Load(ctx)
		if err != nil {
			t.Fatal(err)
		}
		snap := registry.NewSnapshot(state, registry.Retention{}, time.Now())
		if err := releases.Install(snap); err != nil {
			t.Fatal(err)
		}
		reg.Set(snap)
	}
	h, reg, releases, _ := versioned(t, shell.EdgeConfig{Blobs: blobs}, func(context.Context) {
		catchUps++
		load()
	})
	files := map[string][]byte{}
	publish := func(label string) {
		m, fsys := registrytest.Bundle("cart", "b-"+label, 1, 50)
		r := &registry.Release{Frontend: "cart", Label: label, BFF: "https://cart.example/" + label, Manifest: m}
		if _, _, err := registry.Publish(ctx, st, blobs, r, fsys); err != nil {
			t.Fatal(err)
		}
		if _, err := st.Promote(ctx, registry.Move{Frontend: "cart", Label: label}); err != nil {
			t.Fatal(err)
		}
		data, err := fs.ReadFile(fsys, m.Entry)
		if err != nil {
			t.Fatal(err)
		}
		files[label] = data
	}
	publish("v1")
	load()

	publish("v2") // through another replica
	if x := serveGet(h, "/bff/cart@v2/items"); x.status != 200 || x.body.String() != `"cart v2"` || catchUps != 1 {
		t.Errorf("a call pinned to a version made elsewhere = %d %s after %d catch-ups, want v2's answer after one",
			x.status, x.body.String(), catchUps)
	}
	publish("v3")
	if x := serveGet(h, "/assets/cart/b-v3/f0.js"); x.status != 200 || x.body.String() != string(files["v3"]) || catchUps != 2 {
		t.Errorf("an asset of a version made elsewhere = %d %.40q after %d catch-ups, want its file after a second",
			x.status, x.body.String(), catchUps)
	}
	if x := serveGet(h, "/assets/cart/b-nope/f0.js"); x.status != 404 || catchUps != 3 {
		t.Errorf("an asset of no version = %d after %d catch-ups, want 404 after a third", x.status, catchUps)
	}
	for _, path := range []string{"/assets/cart/b-v1/f0.js", "/bff/cart@v1/items", "/bff/cart/items"} {
		if x := serveGet(h, path); x.status != 200 || catchUps != 3 {
			t.Errorf("%s, which the snapshot serves = %d, with %d catch-ups: want 200 and no catch-up", path, x.status, catchUps-3)
		}
	}
	if !strings.Contains(serveGet(h, "/").body.String(), "cart v3") {
		t.Error("the page after the catch-ups does not show v3")
	}
}
