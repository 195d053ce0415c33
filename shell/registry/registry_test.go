package registry_test

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

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
// and a manifest for every version it names.
func dist(t *testing.T, idx build.Index) string {
	t.Helper()
	dir := t.TempDir()
	writeJSON(t, filepath.Join(dir, build.IndexFile), idx)
	manifest := func(name, version string) {
		m := build.Manifest{Name: name, Version: version, Entry: name + ".js",
			Files: map[string]build.File{name + ".js": {Size: 1, Integrity: "sha384-x"}}}
		writeJSON(t, filepath.Join(dir, "assets", name, version, build.ManifestFile), m)
	}
	if idx.Shared != "" {
		manifest(build.SharedName, idx.Shared)
	}
	for name, v := range idx.Frontends {
		manifest(name, v)
	}
	return dir
}

func TestLoadDir(t *testing.T) {
	t.Parallel()
	dir := dist(t, build.Index{Shared: "s1", Frontends: map[string]string{"catalog": "c1", "recs": "r-2.0"}})
	snap, err := registry.LoadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	if snap.Shared == nil || snap.Shared.Name != build.SharedName || snap.Shared.Version != "s1" {
		t.Errorf("Shared = %+v", snap.Shared)
	}
	if len(snap.Frontends) != 2 || snap.Frontends["catalog"].Version != "c1" || snap.Frontends["recs"].Entry != "recs.js" {
		t.Errorf("Frontends = %+v", snap.Frontends)
	}
}

func TestLoadDirWithoutShared(t *testing.T) {
	t.Parallel()
	snap, err := registry.LoadDir(dist(t, build.Index{Frontends: map[string]string{}}))
	if err != nil || snap.Shared != nil || snap.Frontends == nil || len(snap.Frontends) != 0 {
		t.Errorf("LoadDir = %+v, %v", snap, err)
	}
}

func TestLoadDirMissing(t *testing.T) {
	t.Parallel()
	snap, err := registry.LoadDir(filepath.Join(t.TempDir(), "dist"))
	if err != nil {
		t.Fatalf("a missing folder is an empty snapshot, got %v", err)
	}
	if snap.Shared != nil || snap.Frontends == nil || len(snap.Frontends) != 0 {
		t.Errorf("snapshot = %+v", snap)
	}
}

func TestLoadDirErrors(t *testing.T) {
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
			snap, err := registry.LoadDir(tt.setup(t))
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("LoadDir = %+v, %v; want an error containing %q", snap, err, tt.want)
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
