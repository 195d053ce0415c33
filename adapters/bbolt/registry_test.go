package bbolt_test

import (
	"context"
	"crypto/sha512"
	"encoding/base64"
	"fmt"
	"io"
	"io/fs"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"testing/fstest"
	"time"

	"github.com/collage-dev/collage/adapters/bbolt"
	"github.com/collage-dev/collage/shell/registry"
	"github.com/collage-dev/collage/shell/registry/registrytest"
)

func open(t testing.TB, dir string) *bbolt.Store {
	t.Helper()
	st, err := bbolt.Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	return st
}

func TestConformance(t *testing.T) {
	registrytest.Run(t, func(t *testing.T) registry.Store { return open(t, t.TempDir()) }, nil)
}

func TestSurvivesRestart(t *testing.T) {
	dir := t.TempDir()
	ctx := context.Background()
	st, err := bbolt.Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	for _, l := range []string{"v1", "v2"} {
		if _, _, err := st.Publish(ctx, &registry.Release{Frontend: "cart", Label: l, BFF: "http://127.0.0.1:9001/" + l}); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := st.Promote(ctx, registry.Move{Frontend: "cart", Label: "v2"}); err != nil {
		t.Fatal(err)
	}
	hash := strings.Repeat("ab", 32)
	if err := st.PutToken(ctx, &registry.Token{ID: "ci", Hash: hash, Frontends: []string{"cart"}, Can: []string{registry.CanPublish}}); err != nil {
		t.Fatal(err)
	}
	want, err := st.Load(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := bbolt.Open(dir); err == nil {
		t.Fatal("a second open of a store held open succeeded")
	}
	if err := st.Close(); err != nil {
		t.Fatal(err)
	}
	st = open(t, dir)
	got, err := st.Load(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if tok, err := st.TokenByHash(ctx, hash); err != nil || tok.ID != "ci" {
		t.Errorf("after a restart, the token: %+v, %v", tok, err)
	}
	if got.Revision != want.Revision || got.Frontends["cart"].Active != "v2" || len(got.Releases["cart"]) != 2 {
		t.Errorf("after a restart: revision %d, cart %+v; want revision %d, v2 active", got.Revision, got.Frontends["cart"], want.Revision)
	}
}

// The crash test runs a publish in a child process, the test binary run
// again with crashEnv naming where it dies, and checks the store it leaves.
const (
	crashEnv    = "COLLAGE_TEST_CRASH_AT"
	crashDirEnv = "COLLAGE_TEST_CRASH_DIR"
	crashFiles  = 4
	crashSize   = 256 << 10
)

// die ends the process at once, as a power cut or kill -9 would.
func die() {
	p, _ := os.FindProcess(os.Getpid())
	p.Kill()
	select {}
}

// dyingFS dies when the publish opens its file number at, or when it has
// read half of it with half set.
type dyingFS struct {
	fstest.MapFS
	at   int
	half bool
	n    int
}

func (d *dyingFS) Open(name string) (fs.File, error) {
	f, err := d.MapFS.Open(name)
	if d.n++; d.n == d.at && err == nil {
		if !d.half {
			die()
		}
		return &dyingFile{File: f, left: crashSize / 2}, nil
	}
	return f, err
}

type dyingFile struct {
	fs.File
	left int
}

func (f *dyingFile) Read(p []byte) (int, error) {
	if f.left <= 0 {
		die()
	}
	n, err := f.File.Read(p[:min(len(p), f.left)])
	f.left -= n
	return n, err
}

// dyingStore dies before or after the store's transaction.
type dyingStore struct {
	registry.Store
	after bool
}

func (d dyingStore) Publish(ctx context.Context, r *registry.Release) (*registry.Release, bool, error) {
	if !d.after {
		die()
	}
	d.Store.Publish(ctx, r)
	die()
	return nil, false, nil
}

// crashChild publishes versions of "cart" into the store of crashDirEnv
// and dies where crashEnv says: "file N", "half N", "before", "after", or
// "loop", which publishes until the parent kills it.
func crashChild() {
	dir := os.Getenv(crashDirEnv)
	st, err := bbolt.Open(filepath.Join(dir, "registry"))
	if err != nil {
		panic(err)
	}
	blobs, err := registry.NewDiskBlobs(filepath.Join(dir, "blobs"))
	if err != nil {
		panic(err)
	}
	var s registry.Store = st
	at := os.Getenv(crashEnv)
	for i := 2; ; i++ {
		m, files := registrytest.Bundle("cart", strconv.Itoa(i), crashFiles, crashSize)
		var src fs.FS = files
		switch at {
		case "before", "after":
			s = dyingStore{Store: st, after: at == "after"}
		case "loop":
		default:
			var n int
			var how string
			fmt.Sscan(at, &how, &n)
			src = &dyingFS{MapFS: files, at: n, half: how == "half"}
		}
		r := &registry.Release{Frontend: "cart", Label: "v" + strconv.Itoa(i), BFF: "local", Manifest: m}
		if _, _, err := registry.Publish(context.Background(), s, blobs, r, src); err != nil {
			panic(err)
		}
		if at != "loop" {
			fmt.Println("survived")
			os.Exit(0)
		}
	}
}

func TestCrashDuringPublish(t *testing.T) {
	if os.Getenv(crashEnv) != "" {
		crashChild()
		return
	}
	ctx := context.Background()
	cases := []struct {
		at      string
		visible bool // whether v2 is visible after the crash
	}{
		{"file 1", false},
		{"half 2", false},
		{"file 4", false},
		{"before", false},
		{"after", true},
	}
	for i := range 4 {
		cases = append(cases, struct {
			at      string
			visible bool
		}{fmt.Sprintf("loop %d", i), false})
	}
	for _, tc := range cases {
		t.Run(tc.at, func(t *testing.T) {
			dir := t.TempDir()
			st := open(t, filepath.Join(dir, "registry"))
			blobs, err := registry.NewDiskBlobs(filepath.Join(dir, "blobs"))
			if err != nil {
				t.Fatal(err)
			}
			m, files := registrytest.Bundle("cart", "1", crashFiles, crashSize)
			if _, _, err := registry.Publish(ctx, st, blobs, &registry.Release{Frontend: "cart", Label: "v1", BFF: "local", Manifest: m}, files); err != nil {
				t.Fatal(err)
			}
			if _, err := st.Promote(ctx, registry.Move{Frontend: "cart", Label: "v1"}); err != nil {
				t.Fatal(err)
			}
			st.Close()

			at := tc.at
			loop := at[:4] == "loop"
			if loop {
				at = "loop"
			}
			cmd := exec.Command(os.Args[0], "-test.run=^TestCrashDuringPublish$")
			cmd.Env = append(os.Environ(), crashEnv+"="+at, crashDirEnv+"="+dir)
			out := &cappedBuffer{}
			cmd.Stdout, cmd.Stderr = out, out
			if err := cmd.Start(); err != nil {
				t.Fatal(err)
			}
			if loop {
				// Kill the child at a random moment of its publishes: some
				// land inside a transaction or a blob write.
				time.Sleep(time.Duration(20+rand.IntN(300)) * time.Millisecond)
				cmd.Process.Kill()
			}
			done := make(chan error, 1)
			go func() { done <- cmd.Wait() }()
			select {
			case err = <-done:
			case <-time.After(time.Minute):
				cmd.Process.Kill()
				t.Fatalf("the child still runs after a minute: %s", out)
			}
			if err == nil {
				t.Fatalf("the child was to die at %q and did not: %s", tc.at, out)
			}

			st = open(t, filepath.Join(dir, "registry"))
			s := check(t, st, blobs)
			if f := s.Frontends["cart"]; f.Active != "v1" {
				t.Errorf("after the crash, active %s, want v1", f.Active)
			}
			if _, ok := s.Releases["cart"]["v2"]; !loop && ok != tc.visible {
				t.Errorf("after a crash at %s, v2 visible: %v, want %v", tc.at, ok, tc.visible)
			}
			t.Logf("%d versions visible after the crash", len(s.Releases["cart"]))
			// Publishing the same version again completes it, whatever the
			// crash left.
			m2, files2 := registrytest.Bundle("cart", "2", crashFiles, crashSize)
			if _, _, err := registry.Publish(ctx, st, blobs, &registry.Release{Frontend: "cart", Label: "v2", BFF: "local", Manifest: m2}, files2); err != nil {
				t.Fatalf("publish again after the crash: %v", err)
			}
			check(t, st, blobs)
		})
	}
}

// check loads the whole state and verifies that every visible release has
// every blob its manifest names, with the content its integrity says, and
// that the history accounts for the revision.
func check(t *testing.T, st registry.Store, blobs registry.Blobs) *registry.State {
	t.Helper()
	ctx := context.Background()
	s, err := st.Load(ctx)
	if err != nil {
		t.Fatal(err)
	}
	for _, rs := range s.Releases {
		for _, r := range rs {
			for name, file := range r.Manifest.Files {
				rc, err := blobs.Open(ctx, r.Blobs[name])
				if err != nil {
					t.Fatalf("%s %s is visible without its file %s: %v", r.Frontend, r.Label, name, err)
				}
				h := sha512.New384()
				_, err = io.Copy(h, rc)
				rc.Close()
				if got := "sha384-" + base64.StdEncoding.EncodeToString(h.Sum(nil)); err != nil || got != file.Integrity {
					t.Fatalf("%s %s: file %s is %s (%v), want %s", r.Frontend, r.Label, name, got, err, file.Integrity)
				}
			}
		}
	}
	h, err := st.History(ctx, 0)
	if err != nil {
		t.Fatal(err)
	}
	if len(h) == 0 || h[len(h)-1].Revision != s.Revision {
		t.Fatalf("revision %d, history of %d changes ends elsewhere", s.Revision, len(h))
	}
	return s
}

// cappedBuffer keeps the first 64 KiB a child writes.
type cappedBuffer struct{ b []byte }

func (c *cappedBuffer) Write(p []byte) (int, error) {
	c.b = append(c.b, p[:min(len(p), 64<<10-len(c.b))]...)
	return len(p), nil
}

func (c *cappedBuffer) String() string { return string(c.b) }

// BenchmarkPublish5MiB publishes a new 5 MiB bundle (five 1 MiB files)
// into the bbolt store and the disk blob store per iteration, and reports
// the p50 and p95 of a publish, blobs and transaction included.
func BenchmarkPublish5MiB(b *testing.B) {
	dir := b.TempDir()
	st := open(b, filepath.Join(dir, "registry"))
	blobs, err := registry.NewDiskBlobs(filepath.Join(dir, "blobs"))
	if err != nil {
		b.Fatal(err)
	}
	ctx := context.Background()
	var took []time.Duration
	b.SetBytes(5 << 20)
	b.ResetTimer()
	for i := range b.N {
		b.StopTimer()
		m, files := registrytest.Bundle("cart", strconv.Itoa(i), 5, 1<<20)
		r := &registry.Release{Frontend: "cart", BFF: "local", Manifest: m}
		b.StartTimer()
		start := time.Now()
		if _, created, err := registry.Publish(ctx, st, blobs, r, files); err != nil || !created {
			b.Fatalf("publish %d: created %v, %v", i, created, err)
		}
		took = append(took, time.Since(start))
	}
	report(b, took, 95)
}

// BenchmarkPromote moves the active version of a frontend back and forth
// with compare-and-set and reports the p50 and p99 of one promote.
func BenchmarkPromote(b *testing.B) {
	st := open(b, b.TempDir())
	ctx := context.Background()
	for _, l := range []string{"v1", "v2"} {
		if _, _, err := st.Publish(ctx, &registry.Release{Frontend: "cart", Label: l, BFF: "http://127.0.0.1:9001/" + l}); err != nil {
			b.Fatal(err)
		}
	}
	var took []time.Duration
	labels := []string{"v1", "v2"}
	b.ResetTimer()
	for i := range b.N {
		m := registry.Move{Frontend: "cart", Label: labels[i%2]}
		if i > 0 {
			m.Expect = labels[(i+1)%2]
		}
		start := time.Now()
		if _, err := st.Promote(ctx, m); err != nil {
			b.Fatal(err)
		}
		took = append(took, time.Since(start))
	}
	report(b, took, 99)
}

func report(b *testing.B, took []time.Duration, high int) {
	slices.Sort(took)
	at := func(p int) float64 { return float64(took[(len(took)-1)*p/100].Microseconds()) / 1000 }
	b.ReportMetric(at(50), "p50-ms")
	b.ReportMetric(at(high), fmt.Sprintf("p%d-ms", high))
}
