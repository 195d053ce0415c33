package fsnotify_test

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/collage-dev/collage/adapters/fsnotify"
)

// seen gathers the paths a Watcher reports.
type seen chan string

// want waits, at most 5s, until every path of paths has been reported,
// and fails with what was reported otherwise.
func (s seen) want(t *testing.T, paths ...string) {
	t.Helper()
	missing := map[string]bool{}
	for _, p := range paths {
		missing[p] = true
	}
	var got []string
	timeout := time.After(5 * time.Second)
	for len(missing) > 0 {
		select {
		case p := <-s:
			got = append(got, p)
			delete(missing, p)
		case <-timeout:
			t.Fatalf("not reported within 5s: %v; reported: %q", missing, got)
		}
	}
}

// none fails if a path under prefix is reported within wait.
func (s seen) none(t *testing.T, prefix string, wait time.Duration) {
	t.Helper()
	timeout := time.After(wait)
	for {
		select {
		case p := <-s:
			if strings.HasPrefix(p, prefix) {
				t.Fatalf("reported %s, which is not watched", p)
			}
		case <-timeout:
			return
		}
	}
}

func write(t *testing.T, root, rel, data string) {
	t.Helper()
	p := filepath.Join(root, filepath.FromSlash(rel))
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(p, []byte(data), 0o644); err != nil {
		t.Fatal(err)
	}
}

func start(t *testing.T, root string, opts fsnotify.Options) seen {
	t.Helper()
	w, err := fsnotify.New(root, opts)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	s := make(seen, 1024)
	done := make(chan error, 1)
	go func() { done <- w.Run(ctx, func(p string) { s <- p }) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("Run: %v", err)
		}
	})
	return s
}

func TestWatcher(t *testing.T) {
	t.Parallel()
	root := t.TempDir()
	write(t, root, "frontends/cart/src/index.ts", "v1")
	write(t, root, "node_modules/preact/package.json", `{"version": "10.0.0"}`)
	write(t, root, "node_modules/other/index.js", "")
	write(t, root, ".git/HEAD", "")
	skip := func(rel string) bool { return rel == "node_modules" || strings.HasPrefix(filepath.Base(rel), ".") }
	s := start(t, root, fsnotify.Options{Skip: skip, Also: []string{"node_modules", "node_modules/preact"}})

	write(t, root, "frontends/cart/src/index.ts", "v2")
	s.want(t, "frontends/cart/src/index.ts")

	// A folder made after the start is watched, and what was written in
	// it before its watch began is reported.
	write(t, root, "frontends/recs/src/deep/view.tsx", "new")
	s.want(t, "frontends/recs", "frontends/recs/src/deep/view.tsx")
	write(t, root, "frontends/recs/src/deep/view.tsx", "edited")
	s.want(t, "frontends/recs/src/deep/view.tsx")

	// Removing reports the paths removed.
	if err := os.RemoveAll(filepath.Join(root, "frontends", "recs")); err != nil {
		t.Fatal(err)
	}
	s.want(t, "frontends/recs")

	// A folder of Also is watched where Skip leaves its parent out; the
	// rest of the skipped folder is not.
	write(t, root, "node_modules/preact/package.json", `{"version": "10.0.1"}`)
	s.want(t, "node_modules/preact/package.json")
	write(t, root, "node_modules/other/index.js", "changed")
	write(t, root, ".git/HEAD", "changed")
	write(t, root, "layouts/home.html", "<p>")
	s.want(t, "layouts", "layouts/home.html")
	s.none(t, "node_modules/other", 50*time.Millisecond)

	// An Also folder made again (npm install) is watched again.
	if err := os.RemoveAll(filepath.Join(root, "node_modules", "preact")); err != nil {
		t.Fatal(err)
	}
	s.want(t, "node_modules/preact")
	if err := os.Mkdir(filepath.Join(root, "node_modules", "preact"), 0o755); err != nil {
		t.Fatal(err)
	}
	s.want(t, "node_modules/preact")
	write(t, root, "node_modules/preact/package.json", `{"version": "10.0.2"}`)
	s.want(t, "node_modules/preact/package.json")
}

func TestWatcherMissingRoot(t *testing.T) {
	t.Parallel()
	if _, err := fsnotify.New(filepath.Join(t.TempDir(), "nope"), fsnotify.Options{}); err == nil {
		t.Error("New on a folder that does not exist: no error")
	}
}
