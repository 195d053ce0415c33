package redis

import (
	"context"
	"errors"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	goredis "github.com/redis/go-redis/v9"

	"github.com/collage-dev/collage/build"
	"github.com/collage-dev/collage/shell/registry"
	"github.com/collage-dev/collage/shell/registry/registrytest"
)

// blobStore is a Blobs under test, with what its tests reach behind it.
type blobStore struct {
	*Blobs
	rdb    goredis.UniversalClient
	prefix string
	dir    string
}

func newBlobStore(t *testing.T) blobStore {
	t.Helper()
	rdb := openClient(t)
	prefix, dir := freshPrefix(t, rdb, false), t.TempDir()
	b, err := NewBlobs(rdb, prefix, dir)
	if err != nil {
		t.Fatal(err)
	}
	return blobStore{b, rdb, prefix, dir}
}

// age makes the blob of key last written at.
func (bs blobStore) age(t *testing.T, key string, at time.Time) {
	t.Helper()
	ctx := context.Background()
	if err := bs.rdb.HSet(ctx, bs.prefix+"blob:"+key, "written", at.UnixMilli()).Err(); err != nil {
		t.Fatal(err)
	}
	if err := bs.rdb.ZAdd(ctx, bs.prefix+"blobtimes", goredis.Z{Score: float64(at.UnixMilli()), Member: key}).Err(); err != nil {
		t.Fatal(err)
	}
}

func (bs blobStore) put(t *testing.T, content string) string {
	t.Helper()
	key, err := bs.Put(context.Background(), strings.NewReader(content), build.Integrity([]byte(content)))
	if err != nil {
		t.Fatal(err)
	}
	return key
}

// read returns the content of the blob of key, or the error of Open.
func (bs blobStore) read(key string) (string, error) {
	rc, err := bs.Open(context.Background(), key)
	if err != nil {
		return "", err
	}
	defer rc.Close()
	data, err := io.ReadAll(rc)
	return string(data), err
}

func TestBlobs(t *testing.T) {
	t.Parallel()
	bs := newBlobStore(t)
	ctx := context.Background()
	data := "export function mount() {}\n"
	var key string
	for _, tc := range []struct {
		name, content, integrity, code string
	}{
		{"content that is not what the integrity says", "alert(1)", build.Integrity([]byte(data)), "bad_request"},
		{"an integrity of another kind", data, "sha256-x", "bad_request"},
		{"the content", data, build.Integrity([]byte(data)), ""},
		{"the same content again", data, build.Integrity([]byte(data)), ""},
	} {
		var err error
		key, err = bs.Put(ctx, strings.NewReader(tc.content), tc.integrity)
		if got := registrytest.Code(err); got != tc.code || tc.code == "" && err != nil {
			t.Fatalf("%s: %v, want code %q", tc.name, err, tc.code)
		}
		if tc.code != "" {
			continue
		}
		if got, err := bs.read(key); err != nil || got != data {
			t.Errorf("%s: read %q back, %v", tc.name, got, err)
		}
	}
	if _, err := os.Stat(filepath.Join(bs.dir, "sha256", key[:2], key[2:])); err != nil {
		t.Errorf("the blob read is not in the cache: %v", err)
	}
	for _, bad := range []string{"00", strings.Repeat("A", 64), "../" + strings.Repeat("0", 61)} {
		if _, err := bs.Open(ctx, bad); registrytest.Code(err) != "bad_request" {
			t.Errorf("open of the malformed key %q: %v, want bad_request", bad, err)
		}
	}
	if _, err := bs.Open(ctx, strings.Repeat("0", 64)); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("open of an absent blob: %v, want fs.ErrNotExist", err)
	}
	// Refused and repeated puts leave nothing but the one blob behind.
	keys, err := keysOf(ctx, bs.rdb, bs.prefix)
	slices.Sort(keys)
	if want := []string{bs.prefix + "blob:" + key, bs.prefix + "blobtimes"}; err != nil || !slices.Equal(keys, want) {
		t.Errorf("keys %q, %v; want %q", keys, err, want)
	}
	if n := bs.rdb.ZCard(ctx, bs.prefix+"blobtimes").Val(); n != 1 {
		t.Errorf("%d blobs in the index, want 1", n)
	}
	if files := files(t, bs.dir); len(files) != 1 {
		t.Errorf("files in the cache: %q, want the one blob read", files)
	}
}

func TestSweep(t *testing.T) {
	t.Parallel()
	bs := newBlobStore(t)
	ctx := context.Background()
	now := time.Now()
	old, grace := now.Add(-time.Hour), now.Add(-time.Minute)
	kept, swept, young, again := bs.put(t, "kept"), bs.put(t, "swept, 12 bytes"), bs.put(t, "young"), bs.put(t, "put again")
	for _, key := range []string{kept, swept, again} {
		bs.age(t, key, old)
	}
	// A publish that puts a stored blob renews it: the sweep must not
	// take it from under that publish.
	bs.put(t, "put again")
	// Read once, so that the cache holds a copy the sweep must delete.
	if _, err := bs.read(swept); err != nil {
		t.Fatal(err)
	}
	want := registry.Swept{Blobs: 1, Bytes: int64(len("swept, 12 bytes") + len("half a blob")), Temp: 1}
	stale, fresh, other := filepath.Join(bs.dir, cacheTemp+"1"), filepath.Join(bs.dir, cacheTemp+"2"), filepath.Join(bs.dir, "notes.txt")
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
	keep := func(key string) bool { return key == kept }
	canceled, cancel := context.WithCancel(ctx)
	cancel()
	if sw, err := bs.Sweep(canceled, keep, grace); !errors.Is(err, context.Canceled) || sw != (registry.Swept{}) {
		t.Errorf("a canceled sweep: %+v, %v; want nothing swept and the context's error", sw, err)
	}
	sw, err := bs.Sweep(ctx, keep, grace)
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
		_, err := bs.read(tc.key)
		if there := err == nil; there != tc.there || err != nil && !errors.Is(err, fs.ErrNotExist) {
			t.Errorf("%s: open: %v, want it there: %v", tc.name, err, tc.there)
		}
	}
	if score, err := bs.rdb.ZScore(ctx, bs.prefix+"blobtimes", swept).Result(); !errors.Is(err, goredis.Nil) {
		t.Errorf("the swept blob is still in the index (%v, %v)", score, err)
	}
	for path, there := range map[string]bool{stale: false, fresh: true, other: true} {
		if _, err := os.Stat(path); (err == nil) != there {
			t.Errorf("%s: there %v after the sweep, want %v", filepath.Base(path), !there, there)
		}
	}
	if sw, err := bs.Sweep(ctx, keep, grace); err != nil || sw != (registry.Swept{}) {
		t.Errorf("a second sweep: %+v, %v; want nothing swept", sw, err)
	}
}

// TestSweepElsewhere sweeps a blob through one replica: another, which
// cached it, drops its copy at its own sweep, without counting it.
func TestSweepElsewhere(t *testing.T) {
	t.Parallel()
	a := newBlobStore(t)
	other, err := NewBlobs(openClient(t), a.prefix, t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	b := blobStore{other, a.rdb, a.prefix, other.dir}
	ctx := context.Background()
	key := a.put(t, "gone soon")
	if _, err := b.read(key); err != nil {
		t.Fatal(err)
	}
	old, grace := time.Now().Add(-time.Hour), time.Now().Add(-time.Minute)
	a.age(t, key, old)
	none := func(string) bool { return false }
	if sw, err := a.Sweep(ctx, none, grace); err != nil || sw.Blobs != 1 {
		t.Fatalf("sweep through a: %+v, %v; want the blob", sw, err)
	}
	cached := filepath.Join(b.dir, "sha256", key[:2], key[2:])
	if err := os.Chtimes(cached, old, old); err != nil {
		t.Fatal(err)
	}
	if sw, err := b.Sweep(ctx, func(k string) bool { return k == key }, grace); err != nil || sw != (registry.Swept{}) {
		t.Errorf("sweep through b keeping the blob: %+v, %v; want nothing", sw, err)
	}
	if _, err := os.Stat(cached); err != nil {
		t.Errorf("b dropped a blob kept from its cache: %v", err)
	}
	if sw, err := b.Sweep(ctx, none, grace); err != nil || sw != (registry.Swept{}) {
		t.Errorf("sweep through b: %+v, %v; want nothing counted", sw, err)
	}
	if _, err := os.Stat(cached); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("b's cache still holds the blob a swept: %v", err)
	}
}

// TestSweepDuringPut sweeps an old blob no release keeps while a publish
// puts it again: whichever comes first, the blob is there once the put
// returns.
func TestSweepDuringPut(t *testing.T) {
	t.Parallel()
	bs := newBlobStore(t)
	ctx := context.Background()
	content := "export const shared = 1\n"
	for round := range 50 {
		key := bs.put(t, content)
		bs.age(t, key, time.Now().Add(-time.Hour))
		var wg sync.WaitGroup
		wg.Go(func() {
			if _, err := bs.Sweep(ctx, func(string) bool { return false }, time.Now().Add(-time.Minute)); err != nil {
				t.Error(err)
			}
		})
		_, err := bs.Put(ctx, strings.NewReader(content), build.Integrity([]byte(content)))
		wg.Wait()
		if err != nil {
			t.Fatal(err)
		}
		if _, err := bs.read(key); err != nil {
			t.Fatalf("round %d: the blob a put returned is gone: %v", round, err)
		}
		// Read from Redis each round, not from the cache.
		os.Remove(filepath.Join(bs.dir, "sha256", key[:2], key[2:]))
	}
}

// hgets counts the HGET commands of a client.
type hgets struct{ n atomic.Int64 }

func (h *hgets) DialHook(next goredis.DialHook) goredis.DialHook { return next }

func (h *hgets) ProcessHook(next goredis.ProcessHook) goredis.ProcessHook {
	return func(ctx context.Context, cmd goredis.Cmder) error {
		if cmd.Name() == "hget" {
			h.n.Add(1)
		}
		return next(ctx, cmd)
	}
}

func (h *hgets) ProcessPipelineHook(next goredis.ProcessPipelineHook) goredis.ProcessPipelineHook {
	return next
}

// TestOpenAsksOnce reads a blob from many goroutines at once, then again:
// Redis is asked for it once.
func TestOpenAsksOnce(t *testing.T) {
	t.Parallel()
	bs := newBlobStore(t)
	key := bs.put(t, "read by all")
	rdb := openClient(t)
	counter := &hgets{}
	rdb.AddHook(counter)
	b, err := NewBlobs(rdb, bs.prefix, t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	reader := blobStore{b, rdb, bs.prefix, b.dir}
	var wg sync.WaitGroup
	for range 8 {
		wg.Go(func() {
			if got, err := reader.read(key); err != nil || got != "read by all" {
				t.Errorf("read %q, %v", got, err)
			}
		})
	}
	wg.Wait()
	for range 3 {
		if _, err := reader.read(key); err != nil {
			t.Fatal(err)
		}
	}
	if n := counter.n.Load(); n != 1 {
		t.Errorf("Redis was asked %d times for the blob, want once", n)
	}
}

// TestOpenChecksContent changes a blob behind the store's back: Open
// refuses what is not the blob of its key, and caches nothing.
func TestOpenChecksContent(t *testing.T) {
	t.Parallel()
	bs := newBlobStore(t)
	key := bs.put(t, "the real thing")
	if err := bs.rdb.HSet(context.Background(), bs.prefix+"blob:"+key, "data", "alert(1)").Err(); err != nil {
		t.Fatal(err)
	}
	if got, err := bs.read(key); err == nil || errors.Is(err, fs.ErrNotExist) || !strings.Contains(err.Error(), "other content") {
		t.Errorf("read %q, %v; want an error that says the content is another's", got, err)
	}
	if files := files(t, bs.dir); len(files) != 0 {
		t.Errorf("the cache holds %q, want nothing", files)
	}
}

// TestBlobsWithoutRedis reads blobs once, then takes Redis away: the
// cached blobs are still served, by this client and by a client that never
// reached Redis; the others fail as service_unavailable until Redis
// returns.
func TestBlobsWithoutRedis(t *testing.T) {
	t.Parallel()
	p, rdb := startProxy(t)
	prefix := freshPrefix(t, openClient(t), false)
	dir := t.TempDir()
	b, err := NewBlobs(rdb, prefix, dir)
	if err != nil {
		t.Fatal(err)
	}
	bs := blobStore{b, rdb, prefix, dir}
	cached, uncached := bs.put(t, "read before"), bs.put(t, "never read")
	if _, err := bs.read(cached); err != nil {
		t.Fatal(err)
	}
	p.down()
	dead, _ := deadClient(t)
	b2, err := NewBlobs(dead, prefix, dir)
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range []blobStore{bs, {b2, dead, prefix, dir}} {
		if got, err := s.read(cached); err != nil || got != "read before" {
			t.Errorf("a cached blob with Redis gone: %q, %v", got, err)
		}
		if _, err := s.read(uncached); registrytest.Code(err) != "service_unavailable" {
			t.Errorf("a blob never read, with Redis gone: %v; want service_unavailable", err)
		}
	}
	p.up(t)
	deadline := time.Now().Add(20 * time.Second)
	for _, err := bs.read(uncached); err != nil; _, err = bs.read(uncached) {
		if time.Now().After(deadline) {
			t.Fatalf("a blob never read, 20s after Redis returned: %v", err)
		}
		time.Sleep(100 * time.Millisecond)
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
