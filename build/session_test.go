package build_test

import (
	"os"
	"path/filepath"
	"reflect"
	"testing"

	"github.com/collage-dev/collage/build"
)

// contexts is a build.ContextBundler over fake: each context builds with
// fake, and counts what it was asked.
type contexts struct {
	fake
	made     map[string]int // contexts made, by frontend
	disposed map[string]int
}

func (c *contexts) FrontendContext(root string, f build.Frontend, shared []string, minify bool) (build.FrontendContext, []build.Message) {
	c.made[f.Name]++
	return &fakeContext{c: c, root: root, f: f, shared: shared}, nil
}

type fakeContext struct {
	c      *contexts
	root   string
	f      build.Frontend
	shared []string
}

func (x *fakeContext) Rebuild(dir string) (build.Bundle, []build.Message) {
	b, msgs := x.c.BundleFrontend(x.root, x.f, x.shared, dir, false)
	b.Inputs = []string{x.f.Dir + "/" + x.f.Entry}
	return b, msgs
}

func (x *fakeContext) Dispose() { x.c.disposed[x.f.Name]++ }

func TestSession(t *testing.T) {
	t.Parallel()
	root := project(t)
	b := &contexts{made: map[string]int{}, disposed: map[string]int{}}
	s := build.NewSession(build.Options{Root: root, Out: ".collage/dev"}, b)
	fs, msgs := s.Discover()
	if len(msgs) > 0 || len(fs) != 3 {
		t.Fatalf("discovered %+v, %v", fs, msgs)
	}
	cart := fs[0]
	first, msgs := s.Frontend(cart)
	if len(msgs) > 0 {
		t.Fatal(msgs)
	}
	if want := filepath.Join(root, ".collage", "dev", "assets", "cart", first.Manifest.Version); first.Dir != want {
		t.Errorf("dir = %s, want %s", first.Dir, want)
	}
	if m, err := build.ReadManifest(first.Dir); err != nil || !reflect.DeepEqual(m, first.Manifest) {
		t.Errorf("manifest on disk = %+v, %v; want %+v", m, err, first.Manifest)
	}
	if !reflect.DeepEqual(first.Inputs, []string{"frontends/cart/src/index.ts"}) {
		t.Errorf("inputs = %q", first.Inputs)
	}

	// The same source again: the same version, from the same context.
	again, msgs := s.Frontend(cart)
	if len(msgs) > 0 || again.Manifest.Version != first.Manifest.Version || again.Dir != first.Dir {
		t.Errorf("rebuilt unchanged: %+v, %v", again, msgs)
	}
	// A change: a new version beside the first, still one context.
	write(t, root, map[string]string{"frontends/cart/src/index.ts": "cart v2"})
	second, msgs := s.Frontend(cart)
	if len(msgs) > 0 || second.Manifest.Version == first.Manifest.Version {
		t.Fatalf("rebuilt changed: %+v, %v", second, msgs)
	}
	for _, dir := range []string{first.Dir, second.Dir} {
		if _, err := os.Stat(filepath.Join(dir, build.ManifestFile)); err != nil {
			t.Errorf("version folder %s: %v", dir, err)
		}
	}
	if b.made["cart"] != 1 {
		t.Errorf("contexts made for cart = %d, want 1", b.made["cart"])
	}

	// A failed build leaves no stage behind.
	b.fail = map[string][]build.Message{"cart": {{File: "frontends/cart/src/index.ts", Line: 1, Text: "broken"}}}
	if built, msgs := s.Frontend(cart); built != nil || len(msgs) != 1 {
		t.Errorf("failed build = %+v, %v", built, msgs)
	}
	entries, _ := os.ReadDir(s.Out())
	if len(entries) != 1 || entries[0].Name() != "assets" {
		t.Errorf("out holds %v after a failed build, want assets alone", entries)
	}
	b.fail = nil

	// Another entry is another context.
	moved := cart
	moved.Entry = "src/main.ts"
	write(t, root, map[string]string{"frontends/cart/src/main.ts": "cart main"})
	if _, msgs := s.Frontend(moved); len(msgs) > 0 {
		t.Fatal(msgs)
	}
	if b.made["cart"] != 2 || b.disposed["cart"] != 1 {
		t.Errorf("after the entry moved: made %d, disposed %d; want 2 and 1", b.made["cart"], b.disposed["cart"])
	}

	shared, msgs := s.Shared()
	if len(msgs) > 0 || shared.Manifest.Name != build.SharedName || len(shared.Manifest.Imports) != len(build.DefaultShared) {
		t.Errorf("shared = %+v, %v", shared, msgs)
	}
	if _, msgs := s.Frontend(fs[1]); len(msgs) != 1 {
		t.Errorf("a frontend without an entry built: %v", msgs)
	}
	s.Close()
	if b.disposed["cart"] != 2 {
		t.Errorf("Close disposed cart's context %d time(s) in all, want 2", b.disposed["cart"])
	}
}
