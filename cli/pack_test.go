package cli

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"io"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/collage-dev/collage/adapters/bbolt"
	"github.com/collage-dev/collage/build"
	"github.com/collage-dev/collage/internal/syncbuf"
	"github.com/collage-dev/collage/shell/registry"
)

// TestPackPublish packs the demo's catalog, reads the archive as the
// registry does, and publishes it into the embedded store and a disk blob
// store: every file lands in the blob store, and publishing it again is
// the same release.
func TestPackPublish(t *testing.T) {
	needNodeModules(t)
	distBefore := stat(t, filepath.Join(root, "dist"))
	archive := filepath.Join(t.TempDir(), "catalog.tar.gz")
	out := &syncbuf.Buffer{}
	m := &Main{BFFs: shop, Stdout: out, Stderr: io.Discard}
	// Flags before and after the positional name.
	if err := m.Run(context.Background(), []string{"pack", "--root", root, filepath.Join(root, "frontends", "catalog"),
		"--out", archive, "--label", "v1", "--bff", "https://catalog.example/v1"}); err != nil {
		t.Fatal(err)
	}
	if got := strings.TrimSpace(out.String()); got != archive {
		t.Errorf("printed %q, want the archive's path %s", got, archive)
	}
	if after := stat(t, filepath.Join(root, "dist")); after != distBefore {
		t.Errorf("pack touched dist/: %s, then %s", distBefore, after)
	}

	f, err := os.Open(archive)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	rel, files, err := registry.ReadArchive(f, registry.ArchiveLimits{})
	if err != nil {
		t.Fatal(err)
	}
	if rel.Frontend != "catalog" || rel.Label != "v1" || rel.BFF != "https://catalog.example/v1" || rel.Manifest == nil || rel.Manifest.Entry == "" {
		t.Fatalf("release = %+v", rel)
	}
	for name := range rel.Manifest.Files {
		if strings.HasSuffix(name, ".br") || strings.HasSuffix(name, ".gz") {
			t.Errorf("the archive holds the compressed copy %s", name)
		}
	}

	dir := t.TempDir()
	st, err := bbolt.Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	blobs, err := registry.NewDiskBlobs(filepath.Join(dir, "blobs"))
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	got, created, err := registry.Publish(ctx, st, blobs, rel, files)
	if err != nil || !created {
		t.Fatalf("Publish = %v, %v", created, err)
	}
	for name, file := range got.Manifest.Files {
		r, err := blobs.Open(ctx, got.Blobs[name])
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		data, err := io.ReadAll(r)
		r.Close()
		if err != nil || build.Integrity(data) != file.Integrity {
			t.Errorf("%s in the blob store: %d bytes, %v", name, len(data), err)
		}
	}
	again, created, err := registry.Publish(ctx, st, blobs, rel, files)
	if err != nil || created || again.Digest != got.Digest {
		t.Errorf("publishing again = %+v, %v, %v; want the same release", again, created, err)
	}
}

// TestPackDefaultLabel packs without a label: the archive is named for the
// label the registry gives the release, its content digest.
func TestPackDefaultLabel(t *testing.T) {
	needNodeModules(t)
	absRoot, err := filepath.Abs(root)
	if err != nil {
		t.Fatal(err)
	}
	t.Chdir(t.TempDir())
	out := &syncbuf.Buffer{}
	m := &Main{BFFs: shop, Stdout: out, Stderr: io.Discard}
	if err := m.Run(context.Background(), []string{"pack", "--root", absRoot, filepath.Join(absRoot, "frontends", "header")}); err != nil {
		t.Fatal(err)
	}
	path := strings.TrimSpace(out.String())
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	rel, files, err := registry.ReadArchive(f, registry.ArchiveLimits{})
	if err != nil {
		t.Fatal(err)
	}
	st, err := bbolt.Open(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	blobs, err := registry.NewDiskBlobs(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	got, _, err := registry.Publish(context.Background(), st, blobs, rel, files)
	if err != nil {
		t.Fatal(err)
	}
	if want := "header-" + got.Label + ".tar.gz"; path != want {
		t.Errorf("archive %s, want %s (the registry's label)", path, want)
	}
}

// TestPackShared packs the shared dependencies alone, publishes them, and
// checks a frontend packed from the same node_modules against them.
func TestPackShared(t *testing.T) {
	needNodeModules(t)
	absRoot, err := filepath.Abs(root)
	if err != nil {
		t.Fatal(err)
	}
	distBefore := stat(t, filepath.Join(absRoot, "dist"))
	t.Chdir(t.TempDir())
	out := &syncbuf.Buffer{}
	m := &Main{BFFs: shop, Stdout: out, Stderr: io.Discard}
	if err := m.Run(context.Background(), []string{"pack", "--shared", "--root", absRoot}); err != nil {
		t.Fatal(err)
	}
	if after := stat(t, filepath.Join(absRoot, "dist")); after != distBefore {
		t.Errorf("pack touched dist/: %s, then %s", distBefore, after)
	}
	path := strings.TrimSpace(out.String())
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	rel, files, err := registry.ReadArchive(f, registry.ArchiveLimits{})
	if err != nil {
		t.Fatal(err)
	}
	var pkg struct{ Version string }
	data, err := os.ReadFile(filepath.Join(absRoot, "node_modules", "preact", "package.json"))
	if err != nil || json.Unmarshal(data, &pkg) != nil {
		t.Fatalf("preact's package.json: %v", err)
	}
	man := rel.Manifest
	if rel.Frontend != build.SharedName || rel.BFF != "" || man == nil || man.Entry != "" || man.Packages["preact"] != pkg.Version {
		t.Fatalf("release = %+v, manifest %+v; want _shared, no BFF, built from preact %s", rel, man, pkg.Version)
	}
	for _, spec := range build.DefaultShared {
		if man.Imports[spec] == "" {
			t.Errorf("imports = %v, want %s", man.Imports, spec)
		}
	}
	st, err := bbolt.Open(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	blobs, err := registry.NewDiskBlobs(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	got, _, err := registry.Publish(context.Background(), st, blobs, rel, files)
	if err != nil {
		t.Fatal(err)
	}
	if want := build.SharedName + "-" + got.Label + ".tar.gz"; path != want {
		t.Errorf("archive %s, want %s (the registry's label)", path, want)
	}

	out = &syncbuf.Buffer{}
	m = &Main{BFFs: shop, Stdout: out, Stderr: io.Discard}
	if err := m.Run(context.Background(), []string{"pack", "--root", absRoot, filepath.Join(absRoot, "frontends", "catalog")}); err != nil {
		t.Fatal(err)
	}
	cf, err := os.Open(strings.TrimSpace(out.String()))
	if err != nil {
		t.Fatal(err)
	}
	defer cf.Close()
	catalog, _, err := registry.ReadArchive(cf, registry.ArchiveLimits{})
	if err != nil {
		t.Fatal(err)
	}
	if catalog.Manifest.Packages["preact"] != pkg.Version {
		t.Errorf("catalog's packages = %v, want preact %s", catalog.Manifest.Packages, pkg.Version)
	}
	if err := registry.CheckShared(got.Manifest, catalog.Manifest); err != nil {
		t.Errorf("catalog against the shared dependencies packed beside it: %v", err)
	}
}

func TestPackRefuses(t *testing.T) {
	needNodeModules(t)
	for _, tc := range []struct {
		name string
		args []string
		want string
	}{
		{"no folder", nil, "want one frontend folder"},
		{"two folders", []string{"frontends/cart", "frontends/recs"}, "got 2 arguments"},
		{"a folder and --shared", []string{"--shared", "frontends/cart"}, "or --shared alone; got 1 arguments"},
		{"a BFF for the shared dependencies", []string{"--shared", "--bff", "https://shared.example"}, `--bff "https://shared.example": the shared dependencies have no BFF`},
		{"an unknown frontend", []string{"frontends/nope"}, `no frontend "nope"`},
		{"a folder outside the project", []string{"/tmp/cart"}, "is not inside the project folder"},
		{"a bad label", []string{"frontends/cart", "--label", "../v1"}, `--label "../v1"`},
		{"a mutable Lambda target", []string{"frontends/cart", "--bff", "arn:aws:lambda:eu-west-1:1:function:cart:$LATEST"}, "$LATEST"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			out := t.TempDir()
			stderr := &syncbuf.Buffer{}
			m := &Main{BFFs: shop, Stdout: io.Discard, Stderr: stderr}
			args := append([]string{"pack", "--root", root, "--out", filepath.Join(out, "a.tar.gz")}, tc.args...)
			for i, a := range args {
				if strings.HasPrefix(a, "frontends/") {
					args[i] = filepath.Join(root, a)
				}
			}
			err := m.Run(context.Background(), args)
			if err == nil {
				t.Fatal("pack succeeded")
			}
			if msg := err.Error() + stderr.String(); !strings.Contains(msg, tc.want) {
				t.Errorf("error = %v, output %s; want …%s…", err, stderr, tc.want)
			}
			if entries, _ := os.ReadDir(out); len(entries) != 0 {
				t.Errorf("a failed pack left %v", entries)
			}
		})
	}
}

func TestParseAnywhere(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		args       []string
		pos        []string
		label, out string
	}{
		{[]string{"frontends/cart"}, []string{"frontends/cart"}, "", ""},
		{[]string{"--label", "v2", "frontends/cart"}, []string{"frontends/cart"}, "v2", ""},
		{[]string{"frontends/cart", "--label", "v2", "--out", "a.tgz"}, []string{"frontends/cart"}, "v2", "a.tgz"},
		{[]string{"a", "--label=v2", "b"}, []string{"a", "b"}, "v2", ""},
		{[]string{"--out", "a.tgz", "a", "--", "--label"}, []string{"a", "--label"}, "", "a.tgz"},
	} {
		fs := flag.NewFlagSet("pack", flag.ContinueOnError)
		label, out := fs.String("label", "", ""), fs.String("out", "", "")
		pos, err := parseAnywhere(fs, tc.args)
		if err != nil || !reflect.DeepEqual(pos, tc.pos) || *label != tc.label || *out != tc.out {
			t.Errorf("%q: %q, label %q, out %q, %v; want %q, %q, %q", tc.args, pos, *label, *out, err, tc.pos, tc.label, tc.out)
		}
	}
	fs := flag.NewFlagSet("pack", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	if _, err := parseAnywhere(fs, []string{"a", "--nope"}); err == nil || errors.Is(err, flag.ErrHelp) {
		t.Errorf("an unknown flag after a name: %v", err)
	}
}

// stat describes path's state, to tell whether a command changed it.
func stat(t *testing.T, path string) string {
	t.Helper()
	fi, err := os.Stat(path)
	if errors.Is(err, os.ErrNotExist) {
		return "absent"
	}
	if err != nil {
		t.Fatal(err)
	}
	return fi.ModTime().String()
}

// TestPackTakesTheConfig packs recs, whose entry in collage.yaml has
// settings: the release carries them and the entry's BFF target, unless
// --bff names another.
func TestPackTakesTheConfig(t *testing.T) {
	needNodeModules(t)
	absRoot, err := filepath.Abs(root)
	if err != nil {
		t.Fatal(err)
	}
	t.Chdir(t.TempDir())
	for _, tt := range []struct {
		args   []string
		target string
	}{
		{nil, "local"},
		{[]string{"--bff", "https://recs.example/v7"}, "https://recs.example/v7"},
	} {
		out := &syncbuf.Buffer{}
		m := &Main{BFFs: shop, Stdout: out, Stderr: io.Discard}
		args := append([]string{"pack", "--root", absRoot, "--out", "recs.tar.gz", filepath.Join(absRoot, "frontends", "recs")}, tt.args...)
		if err := m.Run(context.Background(), args); err != nil {
			t.Fatal(err)
		}
		f, err := os.Open("recs.tar.gz")
		if err != nil {
			t.Fatal(err)
		}
		rel, _, err := registry.ReadArchive(f, registry.ArchiveLimits{})
		f.Close()
		if err != nil {
			t.Fatal(err)
		}
		if rel.BFF != tt.target || rel.Settings["delay"] != "0s" {
			t.Errorf("%v: BFF %q settings %v, want %q and collage.yaml's delay: 0s", tt.args, rel.BFF, rel.Settings, tt.target)
		}
	}
}
