package registry_test

import (
	"context"
	"errors"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/collage-dev/collage/build"
	"github.com/collage-dev/collage/shell/registry"
	"github.com/collage-dev/collage/shell/registry/registrytest"
)

// blobStore is one Blobs under test, with what its tests need to reach
// behind it.
type blobStore struct {
	name  string
	blobs registry.Blobs
	// age makes the blob of key last written at.
	age func(t *testing.T, key string, at time.Time)
	// dir is the folder of a DiskBlobs, "" for the others.
	dir string
}

func blobStores(t *testing.T) []blobStore {
	t.Helper()
	dir := t.TempDir()
	disk, err := registry.NewDiskBlobs(dir)
	if err != nil {
		t.Fatal(err)
	}
	mem := registry.NewMemBlobs()
	return []blobStore{
		{"disk", disk, func(t *testing.T, key string, at time.Time) {
			t.Helper()
			if err := os.Chtimes(filepath.Join(dir, "sha256", key[:2], key[2:]), at, at); err != nil {
				t.Fatal(err)
			}
		}, dir},
		{"memory", mem, func(t *testing.T, key string, at time.Time) { mem.SetWritten(key, at) }, ""},
	}
}

func TestBlobs(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	data := "export function mount() {}\n"
	for _, bs := range blobStores(t) {
		t.Run(bs.name, func(t *testing.T) {
			for _, tc := range []struct {
				name, content, integrity, code string
			}{
				{"content that is not what the integrity says", "alert(1)", build.Integrity([]byte(data)), "bad_request"},
				{"an integrity of another kind", data, "sha256-x", "bad_request"},
				{"the content", data, build.Integrity([]byte(data)), ""},
				{"the same content again", data, build.Integrity([]byte(data)), ""},
			} {
				key, err := bs.blobs.Put(ctx, strings.NewReader(tc.content), tc.integrity)
				if got := registrytest.Code(err); got != tc.code || tc.code == "" && err != nil {
					t.Fatalf("%s: %v, want code %q", tc.name, err, tc.code)
				}
				if tc.code != "" {
					continue
				}
				if want := filepath.Join(bs.dir, "sha256", key[:2], key[2:]); bs.dir != "" && !exists(want) {
					t.Errorf("%s: no file at %s", tc.name, want)
				}
				rc, err := bs.blobs.Open(ctx, key)
				if err != nil {
					t.Fatal(err)
				}
				got, _ := io.ReadAll(rc)
				rc.Close()
				if string(got) != data {
					t.Errorf("%s: read %q back", tc.name, got)
				}
			}
			for _, key := range []string{"00", strings.Repeat("A", 64), "../" + strings.Repeat("0", 61)} {
				if _, err := bs.blobs.Open(ctx, key); registrytest.Code(err) != "bad_request" {
					t.Errorf("open of the malformed key %q: %v, want bad_request", key, err)
				}
			}
			if _, err := bs.blobs.Open(ctx, strings.Repeat("0", 64)); !errors.Is(err, fs.ErrNotExist) {
				t.Errorf("open of an absent blob: %v, want fs.ErrNotExist", err)
			}
			if bs.dir == "" {
				return
			}
			// Refused and repeated puts leave nothing but the one blob behind.
			if files := files(t, bs.dir); len(files) != 1 {
				t.Errorf("files in the blob store: %q, want one blob", files)
			}
		})
	}
}

func TestSweep(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	now := time.Now()
	old, grace := now.Add(-time.Hour), now.Add(-time.Minute)
	for _, bs := range blobStores(t) {
		t.Run(bs.name, func(t *testing.T) {
			put := func(content string) string {
				t.Helper()
				key, err := bs.blobs.Put(ctx, strings.NewReader(content), build.Integrity([]byte(content)))
				if err != nil {
					t.Fatal(err)
				}
				return key
			}
			kept, swept, young, again := put("kept"), put("swept, 12 bytes"), put("young"), put("put again")
			for _, key := range []string{kept, swept, again} {
				bs.age(t, key, old)
			}
			// A publish that puts a stored blob renews it: the sweep
			// must not take it from under that publish.
			put("put again")
			want := registry.Swept{Blobs: 1, Bytes: int64(len("swept, 12 bytes"))}
			var stale, fresh, other string
			if bs.dir != "" {
				stale, fresh, other = filepath.Join(bs.dir, ".put-1"), filepath.Join(bs.dir, ".put-2"), filepath.Join(bs.dir, "notes.txt")
				for _, path := range []string{stale, fresh, other} {
					if err := os.WriteFile(path, []byte("half a blob"), 0o644); err != nil {
						t.Fatal(err)
					}
				}
				for _, path := range []string{stale, other} {
					if err := os.Chtimes(path, old, old); err != nil {
						t.Fatal(err)
					}
				}
				want.Temp, want.Bytes = 1, want.Bytes+int64(len("half a blob"))
			}
			keep := func(key string) bool { return key == kept }
			canceled, cancel := context.WithCancel(ctx)
			cancel()
			if sw, err := bs.blobs.Sweep(canceled, keep, grace); !errors.Is(err, context.Canceled) || sw != (registry.Swept{}) {
				t.Errorf("a canceled sweep: %+v, %v; want nothing swept and the context's error", sw, err)
			}
			sw, err := bs.blobs.Sweep(ctx, keep, grace)
			if err != nil {
				t.Fatal(err)
			}
			if sw != want {
				t.Errorf("swept %+v, want %+v", sw, want)
			}
			for _, tc := range []struct {
				name, key string
				there     bool
			}{
				{"a blob kept", kept, true},
				{"an old blob not kept", swept, false},
				{"a young blob not kept", young, true},
				{"an old blob put again", again, true},
			} {
				_, err := bs.blobs.Open(ctx, tc.key)
				if there := err == nil; there != tc.there || err != nil && !errors.Is(err, fs.ErrNotExist) {
					t.Errorf("%s: open: %v, want it there: %v", tc.name, err, tc.there)
				}
			}
			if bs.dir != "" {
				for path, there := range map[string]bool{stale: false, fresh: true, other: true} {
					if exists(path) != there {
						t.Errorf("%s: there %v after the sweep, want %v", filepath.Base(path), !there, there)
					}
				}
			}
			if sw, err := bs.blobs.Sweep(ctx, keep, grace); err != nil || sw != (registry.Swept{}) {
				t.Errorf("a second sweep: %+v, %v; want nothing swept", sw, err)
			}
		})
	}
}

// TestSweepDuringPut sweeps an old blob no release keeps while a publish
// puts it again: whichever comes first, the blob is there once the put
// returns.
func TestSweepDuringPut(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	content := "export const shared = 1\n"
	integrity := build.Integrity([]byte(content))
	for _, bs := range blobStores(t) {
		t.Run(bs.name, func(t *testing.T) {
			for round := range 50 {
				key, err := bs.blobs.Put(ctx, strings.NewReader(content), integrity)
				if err != nil {
					t.Fatal(err)
				}
				bs.age(t, key, time.Now().Add(-time.Hour))
				var wg sync.WaitGroup
				wg.Go(func() {
					if _, err := bs.blobs.Sweep(ctx, func(string) bool { return false }, time.Now().Add(-time.Minute)); err != nil {
						t.Error(err)
					}
				})
				_, err = bs.blobs.Put(ctx, strings.NewReader(content), integrity)
				wg.Wait()
				if err != nil {
					t.Fatal(err)
				}
				rc, err := bs.blobs.Open(ctx, key)
				if err != nil {
					t.Fatalf("round %d: the blob a put returned is gone: %v", round, err)
				}
				rc.Close()
			}
		})
	}
}

// files lists every file under dir.
func files(t *testing.T, dir string) []string {
	t.Helper()
	var files []string
	err := filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
		if err == nil && !d.IsDir() {
			files = append(files, path)
		}
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return files
}

func exists(path string) bool {
	_, err := os.Stat(path)
	return err == nil
}
