package replica_test

import (
	"bytes"
	"context"
	"errors"
	"log/slog"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"testing/fstest"
	"time"

	"github.com/collage-dev/collage/build"
	"github.com/collage-dev/collage/internal/syncbuf"
	"github.com/collage-dev/collage/shell"
	"github.com/collage-dev/collage/shell/invoke"
	"github.com/collage-dev/collage/shell/registry"
	"github.com/collage-dev/collage/shell/replica"
)

// named is an invoker that says which target made it.
type named string

func (n named) RoundTrip(*http.Request) (*http.Response, error) { return nil, errors.New(string(n)) }

// bind binds every target but those that name "broken".
func bind(frontend string, r *registry.Release) (invoke.Invoker, error) {
	if strings.Contains(r.BFF, "broken") {
		return nil, errors.New("no such host")
	}
	return named(frontend + " " + r.BFF), nil
}

// fixture is a replica of a MemStore and the registry it serves.
type fixture struct {
	st       *registry.MemStore
	blobs    registry.Blobs
	reg      *registry.Registry
	releases *shell.Releases
	log      *syncbuf.Buffer
	r        *replica.Replica
}

func newFixture(t *testing.T, o replica.Options) *fixture {
	t.Helper()
	f := &fixture{st: registry.NewMemStore(), reg: registry.New(&registry.Snapshot{}), log: &syncbuf.Buffer{}}
	f.blobs = o.Blobs
	if f.blobs == nil {
		f.blobs = registry.NewMemBlobs()
	}
	f.releases = shell.NewReleases(map[string]shell.Frontend{"cart": {Invoker: named("cart default")}}, bind)
	o.Blobs, o.Registry, o.Releases = f.blobs, f.reg, f.releases
	if o.Store == nil {
		o.Store = f.st
	}
	o.Log = slog.New(slog.NewTextHandler(f.log, nil))
	f.r = replica.New(o)
	return f
}

// publish publishes cart label with the BFF target, without a bundle.
func (f *fixture) publish(t *testing.T, label, target string) {
	t.Helper()
	if _, _, err := f.st.Publish(context.Background(), &registry.Release{Frontend: "cart", Label: label, BFF: target}); err != nil {
		t.Fatal(err)
	}
}

func (f *fixture) promote(t *testing.T, label string) {
	t.Helper()
	if _, err := f.st.Promote(context.Background(), registry.Move{Frontend: "cart", Label: label}); err != nil {
		t.Fatal(err)
	}
}

func (f *fixture) revision(t *testing.T) uint64 {
	t.Helper()
	st, err := f.st.Load(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	return st.Revision
}

func invokerName(rs *shell.Releases, frontend, label string) string {
	inv, _ := rs.Invoker(frontend, label)
	if n, ok := inv.(named); ok {
		return string(n)
	}
	return "?"
}

// TestReloadSwapsTheSnapshot: each Reload serves the store's revision and
// active versions, with the BFF of every version served bound first, and
// logs a snapshot only when the revision moved.
func TestReloadSwapsTheSnapshot(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	f := newFixture(t, replica.Options{})
	f.publish(t, "v1", "https://cart/v1")
	f.publish(t, "v2", "https://cart/v2")
	f.promote(t, "v1")
	before := f.reg.Current()
	if err := f.r.Reload(ctx); err != nil {
		t.Fatal(err)
	}
	snap := f.reg.Current()
	if snap == before || snap.Revision != f.revision(t) || snap.Versions["cart"] != "v1" {
		t.Fatalf("after Reload: revision %d, versions %v; want a new snapshot at %d with cart v1", snap.Revision, snap.Versions, f.revision(t))
	}
	if got := invokerName(f.releases, "cart", ""); got != "cart https://cart/v1" {
		t.Errorf("the active BFF = %s, want v1's", got)
	}

	f.promote(t, "v2")
	if f.reg.Current() != snap {
		t.Fatal("the store's change reached the registry before a Reload")
	}
	if err := f.r.Reload(ctx); err != nil {
		t.Fatal(err)
	}
	snap = f.reg.Current()
	if snap.Revision != f.revision(t) || snap.Versions["cart"] != "v2" {
		t.Fatalf("after the promote: revision %d, versions %v; want %d with cart v2", snap.Revision, snap.Versions, f.revision(t))
	}
	// The version replaced stays served to the pages rendered with it.
	if snap.Release("cart", "v1") == nil || invokerName(f.releases, "cart", "v1") != "cart https://cart/v1" {
		t.Errorf("v1 after the promote: release %v, BFF %s; want it served through its own BFF",
			snap.Release("cart", "v1"), invokerName(f.releases, "cart", "v1"))
	}
	if got := invokerName(f.releases, "cart", ""); got != "cart https://cart/v2" {
		t.Errorf("the active BFF = %s, want v2's", got)
	}
	if n := strings.Count(f.log.String(), "registry snapshot"); n != 2 {
		t.Errorf("%d snapshot lines after two changes, want 2:\n%s", n, f.log)
	}
	if err := f.r.Reload(ctx); err != nil {
		t.Fatal(err)
	}
	if n := strings.Count(f.log.String(), "registry snapshot"); n != 2 {
		t.Errorf("a Reload without a change logged a snapshot:\n%s", f.log)
	}
}

// TestReloadLogsBindErrors: a version whose BFF cannot be bound is logged
// and served through the frontend's default invoker; the snapshot is
// served all the same.
func TestReloadLogsBindErrors(t *testing.T) {
	t.Parallel()
	f := newFixture(t, replica.Options{})
	f.publish(t, "v1", "https://broken/v1")
	f.promote(t, "v1")
	if err := f.r.Reload(context.Background()); err != nil {
		t.Fatalf("Reload = %v, want the bind error logged, not returned", err)
	}
	if f.reg.Current().Versions["cart"] != "v1" {
		t.Errorf("versions %v, want cart v1 served", f.reg.Current().Versions)
	}
	if log := f.log.String(); !strings.Contains(log, "binding the BFFs") || !strings.Contains(log, "cart v1") || !strings.Contains(log, "no such host") {
		t.Errorf("the log does not say which BFF failed and why:\n%s", log)
	}
	if got := invokerName(f.releases, "cart", "v1"); got != "cart default" {
		t.Errorf("the BFF of v1 = %s, want the frontend's default", got)
	}
}

// failingStore is a store whose Load fails.
type failingStore struct{ registry.Store }

func (failingStore) Load(context.Context) (*registry.State, error) {
	return nil, errors.New("the store is down")
}

// TestReloadKeepsTheSnapshotWhenTheStoreFails: the error is returned and
// the snapshot served stays.
func TestReloadKeepsTheSnapshotWhenTheStoreFails(t *testing.T) {
	t.Parallel()
	f := newFixture(t, replica.Options{Store: failingStore{}})
	before := f.reg.Current()
	if err := f.r.Reload(context.Background()); err == nil || !strings.Contains(err.Error(), "the store is down") {
		t.Errorf("Reload = %v, want the store's error", err)
	}
	if _, err := f.r.Collect(context.Background(), time.Hour); err == nil {
		t.Error("Collect with the store down: no error")
	}
	if f.reg.Current() != before {
		t.Error("a failed Reload changed the snapshot")
	}
}

// TestCollectKeepsYoungBlobs: an unreferenced blob younger than the grace
// stays (a publish in flight wrote it), and goes once older, with the
// leftovers of a crashed put; referenced blobs stay whatever their age.
func TestCollectKeepsYoungBlobs(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	dir := t.TempDir()
	blobs, err := registry.NewDiskBlobs(dir)
	if err != nil {
		t.Fatal(err)
	}
	now := time.Now()
	f := newFixture(t, replica.Options{Blobs: blobs, Now: func() time.Time { return now }})

	used, loose := []byte("export const used = 1;"), []byte("export const loose = 2;")
	m := &build.Manifest{Name: "cart", Version: "b1", Entry: "cart.js",
		Files: map[string]build.File{"cart.js": {Size: int64(len(used)), Integrity: build.Integrity(used)}}}
	rel, _, err := registry.Publish(ctx, f.st, blobs, &registry.Release{Frontend: "cart", Label: "v1", BFF: "local", Manifest: m},
		fstest.MapFS{"cart.js": {Data: used}})
	if err != nil {
		t.Fatal(err)
	}
	key := rel.Blobs["cart.js"]
	looseKey, err := blobs.Put(ctx, bytes.NewReader(loose), build.Integrity(loose))
	if err != nil {
		t.Fatal(err)
	}
	temp := filepath.Join(dir, ".put-crashed")
	if err := os.WriteFile(temp, loose, 0o644); err != nil {
		t.Fatal(err)
	}
	exists := func(key string) bool {
		rc, err := blobs.Open(ctx, key)
		if err == nil {
			rc.Close()
		}
		return err == nil
	}

	sw, err := f.r.Collect(ctx, time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	if sw.Blobs != 0 || sw.Temp != 0 || !exists(looseKey) || !exists(key) {
		t.Fatalf("within the grace: swept %+v, loose blob kept %v, used blob kept %v; want nothing swept", sw, exists(looseKey), exists(key))
	}

	now = now.Add(2 * time.Hour)
	sw, err = f.r.Collect(ctx, time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	if sw.Blobs != 1 || sw.Temp != 1 || sw.Bytes != int64(2*len(loose)) {
		t.Errorf("past the grace: swept %+v, want the loose blob and the temporary file, %d bytes", sw, 2*len(loose))
	}
	if exists(looseKey) || !exists(key) {
		t.Errorf("past the grace: loose blob kept %v, used blob kept %v; want only the used one", exists(looseKey), exists(key))
	}
	if _, err := os.Stat(temp); !os.IsNotExist(err) {
		t.Errorf("the temporary file of a crashed put is still there: %v", err)
	}
	if !strings.Contains(f.log.String(), "collected blobs") {
		t.Errorf("the log does not say what was collected:\n%s", f.log)
	}
}

// TestRunReloadsUntilCancelled: Run picks up the store's changes every
// Options.Every, and returns once its context is done.
func TestRunReloadsUntilCancelled(t *testing.T) {
	t.Parallel()
	f := newFixture(t, replica.Options{Every: 5 * time.Millisecond})
	f.publish(t, "v1", "https://cart/v1")
	f.promote(t, "v1")
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		f.r.Run(ctx)
		close(done)
	}()
	deadline := time.Now().Add(10 * time.Second)
	for f.reg.Current().Versions["cart"] != "v1" {
		if time.Now().After(deadline) {
			cancel()
			t.Fatal("Run did not reload within 10s")
		}
		time.Sleep(time.Millisecond)
	}
	cancel()
	select {
	case <-done:
	case <-time.After(10 * time.Second):
		t.Fatal("Run did not return within 10s of its context's end")
	}
	rev := f.reg.Current().Revision
	f.publish(t, "v2", "https://cart/v2")
	time.Sleep(20 * time.Millisecond)
	if f.reg.Current().Revision != rev {
		t.Error("the registry changed after Run returned")
	}
}

// gatedStore holds every Revision until open is closed, and counts them;
// while down is set, they fail.
type gatedStore struct {
	*registry.MemStore
	open  chan struct{}
	reads atomic.Int32
	down  atomic.Bool
}

func (s *gatedStore) Revision(ctx context.Context) (uint64, error) {
	s.reads.Add(1)
	<-s.open
	if s.down.Load() {
		return 0, errors.New("the store is down")
	}
	return s.MemStore.Revision(ctx)
}

// TestCatchUp: CatchUp serves the store's change at once, without Run, and
// the CatchUps of one moment share reads of the store's revision: the
// first, and one more for those asked while it ran.
func TestCatchUp(t *testing.T) {
	t.Parallel()
	st := &gatedStore{MemStore: registry.NewMemStore(), open: make(chan struct{})}
	f := newFixture(t, replica.Options{Store: st})
	f.st = st.MemStore
	f.publish(t, "v1", "https://cart/v1")
	f.promote(t, "v1")
	if err := f.r.Reload(t.Context()); err != nil {
		t.Fatal(err)
	}
	f.publish(t, "v2", "https://cart/v2")
	f.promote(t, "v2")
	var wg sync.WaitGroup
	for range 8 {
		wg.Go(func() { f.r.CatchUp(t.Context()) })
	}
	for st.reads.Load() == 0 {
		time.Sleep(time.Millisecond)
	}
	time.Sleep(20 * time.Millisecond) // the others wait behind the first
	close(st.open)
	wg.Wait()
	if snap := f.reg.Current(); snap.Revision != f.revision(t) || snap.Versions["cart"] != "v2" {
		t.Errorf("after CatchUp: revision %d, versions %v; want the store's %d, with cart v2", snap.Revision, snap.Versions, f.revision(t))
	}
	if n := st.reads.Load(); n > 2 {
		t.Errorf("8 CatchUps at once read the store's revision %d times, want at most 2", n)
	}
	// A CatchUp asked after those looks looks again.
	n := st.reads.Load()
	f.r.CatchUp(t.Context())
	if st.reads.Load() != n+1 {
		t.Errorf("a CatchUp after the others did not read the store")
	}
}

// TestCatchUpWhileTheStoreIsDown: once a look finds the store down, a
// CatchUp returns without reading it, so that requests do not wait on it;
// the poll of Run finds when it answers again.
func TestCatchUpWhileTheStoreIsDown(t *testing.T) {
	t.Parallel()
	st := &gatedStore{MemStore: registry.NewMemStore(), open: make(chan struct{})}
	close(st.open)
	st.down.Store(true)
	f := newFixture(t, replica.Options{Store: st})
	f.r.CatchUp(t.Context())
	if st.reads.Load() != 1 || f.reg.Sync().Err == nil {
		t.Fatalf("the first CatchUp: %d reads, sync error %v; want one read that failed", st.reads.Load(), f.reg.Sync().Err)
	}
	f.r.CatchUp(t.Context())
	if n := st.reads.Load(); n != 1 {
		t.Errorf("a CatchUp with the store down read it: %d reads", n)
	}
}
