package components

import (
	"bytes"
	"context"
	"log/slog"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/collage-dev/collage/adapters/quickjs"
	"github.com/collage-dev/collage/bff"
	"github.com/collage-dev/collage/build"
	"github.com/collage-dev/collage/component"
	cart "github.com/collage-dev/collage/frontends/cart/bff"
	header "github.com/collage-dev/collage/frontends/header/bff"
	"github.com/collage-dev/collage/shell"
	"github.com/collage-dev/collage/shell/compose"
	"github.com/collage-dev/collage/shell/invoke"
	"github.com/collage-dev/collage/shell/layout"
	"github.com/collage-dev/collage/shell/registry"
)

// flusher is a compose.Writer that keeps the page.
type flusher struct{ bytes.Buffer }

func (*flusher) Flush() error { return nil }

// BenchmarkHomePage composes the demo's home page (header, catalog, cart;
// recs, async and slow by design, left out) through the shell, with the
// BFFs linked in, the catalog rendered three ways:
//
//   - template: from its old Go template;
//   - component-miss: from its component, every render a cache miss;
//   - component-hit: from its component, every render a cache hit.
//
// It reports pages/s with as many goroutines as cores, and p50 of a page:
//
//	go test -run '^$' -bench HomePage -benchtime 2000x ./tests/components
func BenchmarkHomePage(b *testing.B) {
	src, smap := benchBundle(b)
	home, err := os.ReadFile(filepath.Join(root, "layouts", "home.html"))
	if err != nil {
		b.Fatal(err)
	}
	home = regexp.MustCompile(`<collage-slot frontend="recs"[^>]*>.*?</collage-slot>`).ReplaceAll(home, nil)
	l, err := layout.Parse("home.html", home)
	if err != nil {
		b.Fatal(err)
	}
	blobs := registry.NewMemBlobs()
	put := func(data []byte) string {
		key, err := blobs.Put(context.Background(), bytes.NewReader(data), build.Integrity(data))
		if err != nil {
			b.Fatal(err)
		}
		return key
	}
	reg := registry.New(&registry.Snapshot{
		Versions: map[string]string{"catalog": "v1"},
		Served: map[string]map[string]*registry.Release{"catalog": {"v1": {
			Frontend: "catalog", Label: "v1",
			Manifest: &build.Manifest{Name: "catalog", Version: "v1", Server: "server.js"},
			Blobs:    map[string]string{"server.js": put(src), "server.js.map": put(smap)},
		}}},
	})
	h, err := header.New(nil)
	if err != nil {
		b.Fatal(err)
	}
	c, err := cart.New(bff.Settings{"session_key": strings.Repeat("ab", 32)})
	if err != nil {
		b.Fatal(err)
	}
	engine := func(frontend string, source, sourceMap []byte) (component.Renderer, error) {
		return quickjs.New(quickjs.Config{Frontend: frontend, Source: source, SourceMap: sourceMap})
	}
	for _, bc := range []struct {
		name    string
		catalog *bff.BFF
		cache   *component.Cache
	}{
		{"template", templateBFF(b), component.NewCache(0)},
		{"component-miss", componentBFF(b, nil), component.NewCache(1)}, // keeps nothing
		{"component-hit", componentBFF(b, nil), component.NewCache(0)},
	} {
		frontends := map[string]shell.Frontend{
			"header": {Invoker: invoke.Local(h)}, "catalog": {Invoker: invoke.Local(bc.catalog)}, "cart": {Invoker: invoke.Local(c)},
		}
		releases := shell.NewReleases(frontends, nil)
		log := slog.New(slog.DiscardHandler)
		sh, err := shell.New(shell.Options{
			Routes: []shell.Route{{Pattern: "/", Layout: l}}, Frontends: frontends, Registry: reg, Releases: releases,
			Fetcher: shell.NewComponents(shell.NewFetcher(releases, 0), shell.ComponentOptions{
				Registry: reg, Blobs: blobs, Engine: engine, Cache: bc.cache, Log: log}),
			Log: log,
		})
		if err != nil {
			b.Fatal(err)
		}
		p := sh.Pages()[0]
		page := func() {
			r, done := sh.Compose(p, &compose.Request{Path: "/", Nonce: "bm9uY2U"})
			defer done()
			var w flusher
			if status, _ := r.Status(); status != 200 {
				b.Fatalf("%s: status %d", bc.name, status)
			}
			if complete, err := r.WritePrefix(&w); err != nil {
				b.Fatal(err)
			} else if !complete {
				if err := r.WriteTo(&w); err != nil {
					b.Fatal(err)
				}
			}
			if !bytes.Contains(w.Bytes(), []byte("Desk Lamp")) {
				b.Fatalf("%s: the page has no catalog:\n%s", bc.name, w.Bytes())
			}
		}
		page() // loads the engine
		b.Run(bc.name, func(b *testing.B) {
			b.SetParallelism(1)
			took := make(chan time.Duration, b.N+64)
			start := time.Now()
			b.RunParallel(func(pb *testing.PB) {
				for pb.Next() {
					t := time.Now()
					page()
					took <- time.Since(t)
				}
			})
			b.ReportMetric(float64(b.N)/time.Since(start).Seconds(), "pages/s")
			close(took)
			var all []time.Duration
			for d := range took {
				all = append(all, d)
			}
			slices.Sort(all)
			b.ReportMetric(float64(all[len(all)/2].Microseconds()), "p50-µs")
		})
	}
}
