package registry_test

import (
	"context"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/collage-dev/collage/build"
	"github.com/collage-dev/collage/shell/registry"
	"github.com/collage-dev/collage/shell/registry/registrytest"
)

func TestDiskBlobs(t *testing.T) {
	dir := t.TempDir()
	blobs, err := registry.NewDiskBlobs(dir)
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	data := "export function mount() {}\n"
	for _, tc := range []struct {
		name, content, integrity, code string
	}{
		{"content that is not what the integrity says", "alert(1)", build.Integrity([]byte(data)), "bad_request"},
		{"an integrity of another kind", data, "sha256-x", "bad_request"},
		{"the content", data, build.Integrity([]byte(data)), ""},
		{"the same content again", data, build.Integrity([]byte(data)), ""},
	} {
		key, err := blobs.Put(ctx, strings.NewReader(tc.content), tc.integrity)
		if got := registrytest.Code(err); got != tc.code || tc.code == "" && err != nil {
			t.Fatalf("%s: %v, want code %q", tc.name, err, tc.code)
		}
		if tc.code != "" {
			continue
		}
		if want := filepath.Join(dir, "sha256", key[:2], key[2:]); !exists(want) {
			t.Errorf("%s: no file at %s", tc.name, want)
		}
		rc, err := blobs.Open(ctx, key)
		if err != nil {
			t.Fatal(err)
		}
		got, _ := io.ReadAll(rc)
		rc.Close()
		if string(got) != data {
			t.Errorf("%s: read %q back", tc.name, got)
		}
	}
	// Refused and repeated puts leave nothing but the one blob behind.
	var files []string
	filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
		if err == nil && !d.IsDir() {
			files = append(files, path)
		}
		return err
	})
	if len(files) != 1 {
		t.Errorf("files in the blob store: %q, want one blob", files)
	}
}

func exists(path string) bool {
	_, err := os.Stat(path)
	return err == nil
}
