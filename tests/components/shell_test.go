package components

import (
	"bytes"
	"context"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/collage-dev/collage/adapters/esbuild"
	"github.com/collage-dev/collage/adapters/quickjs"
	"github.com/collage-dev/collage/bff"
	"github.com/collage-dev/collage/build"
	"github.com/collage-dev/collage/component"
	"github.com/collage-dev/collage/shell"
	"github.com/collage-dev/collage/shell/compose"
	"github.com/collage-dev/collage/shell/invoke"
	"github.com/collage-dev/collage/shell/layout"
	"github.com/collage-dev/collage/shell/registry"
)

// TestShellFallsBack composes pages whose slot renders the component of
// testdata/frontends/broken through the shell: one that throws shows the
// slot's fallback and logs the stack in the frontend's source; one that
// loops is stopped at the slot's deadline, and the next page renders.
func TestShellFallsBack(t *testing.T) {
	if _, err := os.Stat(filepath.Join(root, "node_modules", "preact-render-to-string")); err != nil {
		t.Skip("no node_modules/preact-render-to-string: run npm install at the repository root")
	}
	out := t.TempDir()
	res := build.Build(build.Options{Root: root, Frontends: "tests/components/testdata/frontends", Out: out}, esbuild.Bundler{})
	if len(res.Errors) > 0 {
		t.Fatalf("build: %v", res.Errors)
	}
	m := res.Manifests["broken"]
	dir := filepath.Join(out, "assets", "broken", m.Version)
	blobs := registry.NewMemBlobs()
	rel := &registry.Release{Frontend: "broken", Label: "v1", Manifest: m, Blobs: map[string]string{}}
	for _, f := range []string{m.Server, m.Server + ".map"} {
		data, err := os.ReadFile(filepath.Join(dir, f))
		if err != nil {
			t.Fatal(err)
		}
		if rel.Blobs[f], err = blobs.Put(context.Background(), bytes.NewReader(data), build.Integrity(data)); err != nil {
			t.Fatal(err)
		}
	}
	reg := registry.New(&registry.Snapshot{Versions: map[string]string{"broken": "v1"},
		Served: map[string]map[string]*registry.Release{"broken": {"v1": rel}}})

	b := bff.New("broken")
	bff.Component(b, func(_ context.Context, f *bff.FragmentRequest) (map[string]bool, error) {
		return map[string]bool{"boom": f.Path == "/boom", "spin": f.Path == "/spin"}, nil
	})
	frontends := map[string]shell.Frontend{"broken": {Invoker: invoke.Local(b)}}
	releases := shell.NewReleases(frontends, nil)
	var logs bytes.Buffer
	log := slog.New(slog.NewTextHandler(&logs, nil))
	l, err := layout.Parse("page.html", []byte(`<main><collage-slot frontend="broken" timeout="1s">FALLBACK</collage-slot></main>`))
	if err != nil {
		t.Fatal(err)
	}
	components := shell.NewComponents(shell.NewFetcher(releases, 0), shell.ComponentOptions{Registry: reg, Blobs: blobs, Log: log,
		Engine: func(frontend string, source, sourceMap []byte) (component.Renderer, error) {
			return quickjs.New(quickjs.Config{Frontend: frontend, Source: source, SourceMap: sourceMap, VMs: 1})
		}})
	components.Warm(reg.Current()) // as Releases.OnInstall does: no page waits for the engine
	sh, err := shell.New(shell.Options{
		Routes: []shell.Route{{Pattern: "/{page}", Layout: l}}, Frontends: frontends, Registry: reg, Releases: releases, Log: log,
		Fetcher: components,
	})
	if err != nil {
		t.Fatal(err)
	}
	page := func(path string) string {
		r, done := sh.Compose(sh.Pages()[0], &compose.Request{Path: path})
		defer done()
		var w flusher
		r.Status()
		if complete, err := r.WritePrefix(&w); err != nil {
			t.Fatal(err)
		} else if !complete {
			if err := r.WriteTo(&w); err != nil {
				t.Fatal(err)
			}
		}
		return w.String()
	}

	if got := page("/fine"); !strings.Contains(got, `<p class="broken">fine</p>`) || !strings.Contains(got, `data-collage-data>{"boom":false,"spin":false}<`) {
		t.Errorf("a component that renders: %s", got)
	}
	if got := page("/boom"); !strings.Contains(got, "FALLBACK") {
		t.Errorf("a component that throws: %s", got)
	}
	if l := logs.String(); !strings.Contains(l, shell.ComponentFailed) || !strings.Contains(l, "the shelf fell over") ||
		!strings.Contains(l, "tests/components/testdata/frontends/broken/src/index.tsx:4:") {
		t.Errorf("no log line with the component's stack:\n%s", l)
	}
	if got := page("/spin"); !strings.Contains(got, "FALLBACK") {
		t.Errorf("a component that loops: %s", got)
	}
	// The pool's one VM was stopped mid-render and replaced.
	if got := page("/fine"); !strings.Contains(got, `<p class="broken">fine</p>`) {
		t.Errorf("after the loop: %s", got)
	}
}
