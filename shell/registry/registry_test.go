package registry_test

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/collage-dev/collage/build"
	"github.com/collage-dev/collage/shell/registry"
)

func writeJSON(t *testing.T, path string, v any) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	data, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, data, 0o644); err != nil {
		t.Fatal(err)
	}
}

// dist writes an output folder with an index naming shared and frontends,
// and a manifest and its file for every version it names.
func dist(t *testing.T, idx build.Index) string {
	t.Helper()
	dir := t.TempDir()
	writeJSON(t, filepath.Join(dir, build.IndexFile), idx)
	manifest := func(name, version string) {
		if !build.ValidVersion(version) {
			return
		}
		data := []byte("export const v = " + strconv.Quote(name+version) + ";")
		m := build.Manifest{Name: name, Version: version, Entry: name + ".js",
			Files: map[string]build.File{name + ".js": {Size: int64(len(data)), Integrity: build.Integrity(data)}}}
		if name == build.SharedName {
			m.Entry, m.Imports = "", map[string]string{"preact": name + ".js"}
		}
		vdir := filepath.Join(dir, "assets", name, version)
		writeJSON(t, filepath.Join(vdir, build.ManifestFile), m)
		if err := os.WriteFile(filepath.Join(vdir, name+".js"), data, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	if idx.Shared != "" {
		manifest(build.SharedName, idx.Shared)
	}
	for name, v := range idx.Frontends {
		manifest(name, v)
	}
	return dir
}

// declared are the descriptors of the frontends a config declares.
func declared(names ...string) map[string]registry.Descriptor {
	ds := map[string]registry.Descriptor{}
	for _, n := range names {
		ds[n] = registry.Descriptor{Frontend: n, BFF: "local"}
	}
	return ds
}

func importDir(t *testing.T, st registry.Store, blobs registry.Blobs, dir string, ds map[string]registry.Descriptor) []registry.Imported {
	t.Helper()
	im, err := registry.ImportDir(context.Background(), st, blobs, dir, ds, "test")
	if err != nil {
		t.Fatal(err)
	}
	return im
}

func snapshotOf(t *testing.T, st registry.Store) *registry.Snapshot {
	t.Helper()
	state, err := st.Load(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	return registry.NewSnapshot(state, registry.Retention{}, time.Now())
}

func TestImportDir(t *testing.T) {
	t.Parallel()
	st, blobs := registry.NewMemStore(), registry.NewMemBlobs()
	dir := dist(t, build.Index{Shared: "s1", Frontends: map[string]string{"catalog": "c1", "recs": "r-2.0"}})
	im := importDir(t, st, blobs, dir, declared("catalog", "recs", "header"))
	if len(im) != 4 {
		t.Fatalf("imported %+v, want _shared, catalog, header and recs", im)
	}
	for _, i := range im {
		if !i.Created || !i.Promoted {
			t.Errorf("first import: %+v, want created and promoted", i)
		}
	}
	snap := snapshotOf(t, st)
	if snap.Shared == nil || snap.Shared.Name != build.SharedName || snap.Shared.Version != "s1" {
		t.Errorf("Shared = %+v", snap.Shared)
	}
	if len(snap.Frontends) != 2 || snap.Frontends["catalog"].Version != "c1" || snap.Frontends["recs"].Entry != "recs.js" {
		t.Errorf("Frontends = %+v", snap.Frontends)
	}
	// header has no bundle: a release all the same, of its BFF.
	if snap.Versions["header"] == "" || snap.Release("header", snap.Versions["header"]).BFF != "local" {
		t.Errorf("header: %+v", snap.Versions)
	}
	if _, ok := snap.Blob("catalog", "c1", "catalog.js"); !ok {
		t.Error("catalog.js of c1 is not served")
	}

	// A team publishes and promotes catalog c2; the shell restarts with
	// the same build: nothing changes.
	rev := snap.Revision
	other := dist(t, build.Index{Frontends: map[string]string{"catalog": "c2"}})
	importDir(t, st, blobs, other, declared("catalog"))
	for _, i := range importDir(t, st, blobs, dir, declared("catalog", "recs", "header")) {
		if i.Created || i.Promoted {
			t.Errorf("the same build again: %+v", i)
		}
	}
	if snap := snapshotOf(t, st); snap.Frontends["catalog"].Version != "c2" {
		t.Errorf("after a restart, catalog serves %s, want c2, promoted since", snap.Frontends["catalog"].Version)
	} else if snap.Revision != rev+2 {
		t.Errorf("revision %d, want %d: a publish and a promote", snap.Revision, rev+2)
	}
}

func TestImportDirMissing(t *testing.T) {
	t.Parallel()
	st := registry.NewMemStore()
	im := importDir(t, st, registry.NewMemBlobs(), filepath.Join(t.TempDir(), "dist"), declared("header"))
	if len(im) != 1 || im[0].Frontend != "header" || !im[0].Promoted {
		t.Errorf("without a build: %+v, want header's BFF alone", im)
	}
	if snap := snapshotOf(t, st); snap.Shared != nil || len(snap.Frontends) != 0 {
		t.Errorf("snapshot = %+v", snap)
	}
}

func TestImportDirErrors(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name  string
		setup func(t *testing.T) string
		want  string
	}{
		{
			name: "version escapes the folder",
			setup: func(t *testing.T) string {
				return dist(t, build.Index{Frontends: map[string]string{"catalog": "../../etc"}})
			},
			want: `catalog has an invalid version "../../etc"`,
		},
		{
			name: "invalid shared version",
			setup: func(t *testing.T) string {
				return dist(t, build.Index{Shared: "a/b", Frontends: map[string]string{}})
			},
			want: `_shared has an invalid version "a/b"`,
		},
		{
			name: "missing manifest",
			setup: func(t *testing.T) string {
				dir := dist(t, build.Index{Frontends: map[string]string{"catalog": "c1"}})
				os.Remove(filepath.Join(dir, "assets", "catalog", "c1", build.ManifestFile))
				return dir
			},
			want: "frontend catalog version c1:",
		},
		{
			name: "malformed manifest",
			setup: func(t *testing.T) string {
				dir := dist(t, build.Index{Frontends: map[string]string{"catalog": "c1"}})
				os.WriteFile(filepath.Join(dir, "assets", "catalog", "c1", build.ManifestFile), []byte("{"), 0o644)
				return dir
			},
			want: "manifest.json: unexpected end of JSON input",
		},
		{
			name: "a file that is not what the manifest says",
			setup: func(t *testing.T) string {
				dir := dist(t, build.Index{Frontends: map[string]string{"catalog": "c1"}})
				os.WriteFile(filepath.Join(dir, "assets", "catalog", "c1", "catalog.js"), []byte("tampered"), 0o644)
				return dir
			},
			want: "importing catalog from",
		},
		{
			name: "a frontend the config does not declare",
			setup: func(t *testing.T) string {
				return dist(t, build.Index{Frontends: map[string]string{"catalog": "c1", "stray": "x1"}})
			},
			want: "frontend stray is not in the config",
		},
		{
			name: "malformed index",
			setup: func(t *testing.T) string {
				dir := t.TempDir()
				os.WriteFile(filepath.Join(dir, build.IndexFile), []byte(`{"frontends": 3}`), 0o644)
				return dir
			},
			want: build.IndexFile + ": json: cannot unmarshal",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			st := registry.NewMemStore()
			im, err := registry.ImportDir(context.Background(), st, registry.NewMemBlobs(), tt.setup(t), declared("catalog"), "test")
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("ImportDir = %+v, %v; want an error containing %q", im, err, tt.want)
			}
		})
	}
}

func TestRegistrySet(t *testing.T) {
	t.Parallel()
	first := &registry.Snapshot{}
	r := registry.New(first)
	if r.Current() != first || first.Frontends == nil {
		t.Fatalf("Current = %+v, want the first snapshot with a non-nil map", r.Current())
	}
	second := &registry.Snapshot{Frontends: map[string]*build.Manifest{"a": {Name: "a", Version: "2"}}}
	var wg sync.WaitGroup
	for range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if c := r.Current(); c != first && c != second {
				t.Errorf("Current = %p, neither snapshot", c)
			}
		}()
	}
	r.Set(second)
	wg.Wait()
	if r.Current() != second {
		t.Errorf("Current is not the snapshot set last")
	}
}
