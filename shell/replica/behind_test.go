package replica

import (
	"context"
	"log/slog"
	"strings"
	"testing"

	"github.com/collage-dev/collage/shell"
	"github.com/collage-dev/collage/shell/registry"
)

// TestStoreWentBack keeps the snapshot served when the store's revision
// goes back, as a Redis restarted without its data does, and says why.
func TestStoreWentBack(t *testing.T) {
	ctx := context.Background()
	full := registry.NewMemStore()
	for _, l := range []string{"v1", "v2"} {
		if _, _, err := full.Publish(ctx, &registry.Release{Frontend: "cart", Label: l, BFF: "https://cart.example/" + l}); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := full.Promote(ctx, registry.Move{Frontend: "cart", Label: "v2"}); err != nil {
		t.Fatal(err)
	}
	st := &swappable{Store: full}
	reg := registry.New(&registry.Snapshot{})
	r := New(Options{Store: st, Registry: reg, Releases: shell.NewReleases(nil, nil), Log: slog.New(slog.DiscardHandler)})
	if err := r.Reload(ctx); err != nil {
		t.Fatal(err)
	}
	st.Store = registry.NewMemStore() // emptied
	r.sync(ctx, false)
	if got := reg.Current(); got.Revision != 3 || got.Versions["cart"] != "v2" {
		t.Errorf("after the store went back: revision %d, versions %v; want the last snapshot", got.Revision, got.Versions)
	}
	if err := reg.Sync().Err; err == nil || !strings.Contains(err.Error(), "behind the 3 served") {
		t.Errorf("Sync().Err = %v, want why", err)
	}
	if err := r.Reload(ctx); err == nil {
		t.Error("Reload from a store behind the snapshot: no error")
	}
}

// swappable is a store that can be replaced under the replica.
type swappable struct{ registry.Store }
