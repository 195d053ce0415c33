package registry_test

import (
	"context"
	"testing"
	"time"

	"github.com/collage-dev/collage/shell/registry"
	"github.com/collage-dev/collage/shell/registry/registrytest"
)

// TestNewSnapshot publishes three bundles of catalog and promotes each in
// turn: the snapshot serves the active one and those the retention keeps,
// their files by bundle version, and no yanked one.
func TestNewSnapshot(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	st, blobs := registry.NewMemStore(), registry.NewMemBlobs()
	for _, label := range []string{"v1", "v2", "v3"} {
		m, files := registrytest.Bundle("catalog", label, 2, 100)
		r := &registry.Release{Frontend: "catalog", Label: label, BFF: "https://catalog.example/" + label, Manifest: m}
		if _, _, err := registry.Publish(ctx, st, blobs, r, files); err != nil {
			t.Fatal(err)
		}
		if _, err := st.Promote(ctx, registry.Move{Frontend: "catalog", Label: label, By: "test"}); err != nil {
			t.Fatal(err)
		}
	}
	state, err := st.Load(ctx)
	if err != nil {
		t.Fatal(err)
	}
	now := time.Now()
	for _, tt := range []struct {
		name   string
		keep   registry.Retention
		served []string
	}{
		{"by default", registry.Retention{}, []string{"v1", "v2", "v3"}},
		{"the last one before", registry.Retention{Versions: 1, Age: -1}, []string{"v2", "v3"}},
		{"none", registry.Retention{Versions: -1, Age: -1}, []string{"v3"}},
	} {
		snap := registry.NewSnapshot(state, tt.keep, now)
		if snap.Revision != state.Revision || snap.Versions["catalog"] != "v3" {
			t.Errorf("%s: revision %d versions %v", tt.name, snap.Revision, snap.Versions)
		}
		if m := snap.Frontends["catalog"]; m == nil || m.Version != state.Releases["catalog"]["v3"].Manifest.Version {
			t.Errorf("%s: the active manifest is not v3's", tt.name)
		}
		for _, label := range []string{"v1", "v2", "v3"} {
			want := false
			for _, l := range tt.served {
				want = want || l == label
			}
			rel := state.Releases["catalog"][label]
			var file string
			for f := range rel.Manifest.Files {
				file = f
			}
			key, ok := snap.Blob("catalog", rel.Manifest.Version, file)
			if got := snap.Release("catalog", label) != nil; got != want || ok != want || (ok && key != rel.Blobs[file]) {
				t.Errorf("%s: %s served %v, its file %v (%s), want %v", tt.name, label, got, ok, key, want)
			}
		}
	}

	// A yanked version is served no more, retained or not.
	if _, err := st.Yank(ctx, "catalog", "v2", "test"); err != nil {
		t.Fatal(err)
	}
	if state, err = st.Load(ctx); err != nil {
		t.Fatal(err)
	}
	if snap := registry.NewSnapshot(state, registry.Retention{}, now); snap.Release("catalog", "v2") != nil || snap.Release("catalog", "v1") == nil {
		t.Errorf("after yanking v2: served %v", snap.Served["catalog"])
	}
	if snap := registry.NewSnapshot(state, registry.Retention{}, now); snap.Shared != nil || len(snap.Frontends) != 1 {
		t.Errorf("shared %v frontends %v", snap.Shared, snap.Frontends)
	}
}
