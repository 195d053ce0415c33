package registrytest

import (
	"context"
	"testing"
	"testing/fstest"

	"github.com/collage-dev/collage/bff"
	"github.com/collage-dev/collage/build"
	"github.com/collage-dev/collage/shell/registry"
)

// TestPublishShared checks that the shared dependencies publish as a
// release of their own, a manifest of imports with no entry and no BFF
// target, while every frontend still needs a target.
func TestPublishShared(t *testing.T, open Open) {
	st := open(t)
	ctx := context.Background()
	blobs, err := registry.NewDiskBlobs(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	shared := func(seed string) (*build.Manifest, fstest.MapFS) {
		m, files := Bundle(build.SharedName, seed, 2, 100)
		m.Entry, m.Imports, m.Packages = "", map[string]string{"preact": "f0.js", "preact/hooks": "f1.js"}, map[string]string{"preact": "10.19.3"}
		return m, files
	}
	m, files := shared("a")
	got, created, err := registry.Publish(ctx, st, blobs, &registry.Release{Frontend: build.SharedName, Manifest: m, PublishedBy: "ci"}, files)
	if err != nil || !created {
		t.Fatalf("publish the shared dependencies: %v, %v", created, err)
	}
	promote(t, st, build.SharedName, got.Label)
	_, rs, err := st.List(ctx, build.SharedName)
	if err != nil || len(rs) != 1 || rs[0].BFF != "" || rs[0].Manifest.Packages["preact"] != "10.19.3" {
		t.Fatalf("list: %+v, %v; want the release as published", rs, err)
	}

	withEntry, _ := shared("b")
	withEntry.Entry = "f0.js"
	noImports, _ := shared("c")
	noImports.Imports = nil
	frontend, _ := Bundle("header", "a", 1, 10)
	for _, tc := range []struct {
		name string
		r    *registry.Release
	}{
		{"a BFF target", &registry.Release{Frontend: build.SharedName, Label: "v2", BFF: "local", Manifest: m}},
		{"settings", &registry.Release{Frontend: build.SharedName, Label: "v2", Manifest: m, Settings: bff.Settings{"delay": "1s"}}},
		{"no manifest", &registry.Release{Frontend: build.SharedName, Label: "v2"}},
		{"a manifest with an entry", &registry.Release{Frontend: build.SharedName, Label: "v2", Manifest: withEntry}},
		{"a manifest without imports", &registry.Release{Frontend: build.SharedName, Label: "v2", Manifest: noImports}},
		{"a frontend without a BFF target", &registry.Release{Frontend: "header", Label: "v1", Manifest: frontend}},
		{"a frontend of no client bundle without a BFF target", &registry.Release{Frontend: "header", Label: "v1"}},
	} {
		before := revision(t, st)
		if tc.r.Manifest != nil {
			// Blobs of the right shape: the refusal is for what the
			// release is, not for its blobs.
			tc.r.Blobs = map[string]string{}
			for name := range tc.r.Manifest.Files {
				tc.r.Blobs[name] = got.Blobs["f0.js"]
			}
		}
		_, _, err := st.Publish(ctx, tc.r)
		wantCode(t, err, bff.CodeBadRequest, tc.name)
		if after := revision(t, st); after != before {
			t.Errorf("%s: revision %d → %d after a refusal", tc.name, before, after)
		}
	}
}
