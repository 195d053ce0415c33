package components

import (
	"context"
	"encoding/json"
	"html/template"
	"net/url"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/collage-dev/collage/adapters/esbuild"
	"github.com/collage-dev/collage/adapters/quickjs"
	"github.com/collage-dev/collage/bff"
	"github.com/collage-dev/collage/build"
	"github.com/collage-dev/collage/component"
	catalog "github.com/collage-dev/collage/frontends/catalog/bff"
)

// The benchmarks compare the catalog's home fragment (12 cards, 5.9 KB of
// HTML) rendered three ways, as a BFF linked into the shell answers it:
//
//   - template: the Go template the catalog had before it was written once
//     (testdata/catalog.tmpl.html), with bff.Fragment;
//   - component: bff.Component's data rendered by a quickjs pool, every
//     time (a cache miss, or per-user data);
//   - cached: the same through component.Cache (a hit).
//
// Each reports p50 and p99 of one fragment, and fragments/s with as many
// goroutines as cores. Run:
//
//	go test -run '^$' -bench . -benchtime 2000x ./tests/components

var benchOnce struct {
	sync.Once
	src, smap []byte
	err       error
}

func benchBundle(b *testing.B) (src, smap []byte) {
	b.Helper()
	benchOnce.Do(func() {
		out, err := os.MkdirTemp("", "collage-bench-")
		if err != nil {
			benchOnce.err = err
			return
		}
		defer os.RemoveAll(out)
		res := build.Build(build.Options{Root: root, Out: out, Minify: true, Only: "catalog"}, esbuild.Bundler{})
		if len(res.Errors) > 0 {
			b.Fatalf("build: %v", res.Errors)
		}
		m := res.Manifests["catalog"]
		dir := filepath.Join(out, "assets", "catalog", m.Version)
		benchOnce.src, benchOnce.err = os.ReadFile(filepath.Join(dir, m.Server))
		if benchOnce.err == nil {
			benchOnce.smap, benchOnce.err = os.ReadFile(filepath.Join(dir, m.Server+".map"))
		}
	})
	if benchOnce.err != nil {
		b.Fatal(benchOnce.err)
	}
	return benchOnce.src, benchOnce.smap
}

// templateBFF is the catalog's fragment as it was, from its Go template.
func templateBFF(b *testing.B) *bff.BFF {
	b.Helper()
	tmpl := template.Must(template.ParseFiles(filepath.Join("testdata", "catalog.tmpl.html"))).Lookup("catalog.tmpl.html")
	c := bff.New("catalog")
	type view struct {
		Listing *catalog.Listing
		Product any
	}
	bff.Fragment(c, tmpl, func(context.Context, *bff.FragmentRequest) (view, error) {
		l := catalogListing(b)
		return view{Listing: &l}, nil
	})
	return c
}

func catalogListing(b *testing.B) catalog.Listing {
	b.Helper()
	c, err := catalog.New(nil)
	if err != nil {
		b.Fatal(err)
	}
	ans, _ := c.RenderFragment(context.Background(), &bff.FragmentCall{Path: "/"})
	var v struct {
		Listing catalog.Listing `json:"listing"`
	}
	if err := json.Unmarshal(ans.Body, &v); err != nil {
		b.Fatal(err)
	}
	return v.Listing
}

// componentBFF is the catalog's BFF rendering its own component with r.
func componentBFF(b *testing.B, r component.Renderer) *bff.BFF {
	b.Helper()
	c, err := catalog.New(nil)
	if err != nil {
		b.Fatal(err)
	}
	c.Renderer = r
	return c
}

func BenchmarkCatalogFragment(b *testing.B) {
	src, smap := benchBundle(b)
	pool, err := quickjs.New(quickjs.Config{Frontend: "catalog", Source: src, SourceMap: smap})
	if err != nil {
		b.Fatal(err)
	}
	defer pool.Close()
	cache := component.NewCache(0)
	for _, bc := range []struct {
		name string
		bff  *bff.BFF
	}{
		{"template", templateBFF(b)},
		{"component", componentBFF(b, pool)},
		{"cached", componentBFF(b, cache.Renderer("v", pool))},
	} {
		call := &bff.FragmentCall{Path: "/", Params: url.Values{}.Encode()}
		fragment := func() {
			ans, ok := bc.bff.RenderFragment(context.Background(), call)
			if !ok || ans.Status != 200 || len(ans.Body) < 5000 {
				b.Fatalf("%s: %d, %d bytes", bc.name, ans.Status, len(ans.Body))
			}
			ans.Release()
		}
		b.Run(bc.name+"/latency", func(b *testing.B) {
			fragment() // warm: the cache holds the render, the pool's VMs have run once
			took := make([]time.Duration, 0, b.N)
			for b.Loop() {
				start := time.Now()
				fragment()
				took = append(took, time.Since(start))
			}
			slices.Sort(took)
			b.ReportMetric(float64(took[len(took)/2].Microseconds()), "p50-µs")
			b.ReportMetric(float64(took[len(took)*99/100].Microseconds()), "p99-µs")
		})
		b.Run(bc.name+"/throughput", func(b *testing.B) {
			b.SetParallelism(1) // GOMAXPROCS goroutines, one per VM
			start := time.Now()
			b.RunParallel(func(pb *testing.PB) {
				for pb.Next() {
					fragment()
				}
			})
			b.ReportMetric(float64(b.N)/time.Since(start).Seconds(), "fragments/s")
		})
	}
}

// BenchmarkColdStart measures what a pool costs before its first render:
// compiling the bundle and loading each of its 8 VMs from the bytecode. The
// resident memory the VMs add is measured on the first pool only, in a
// process that made none before (run it alone: -bench ColdStart).
func BenchmarkColdStart(b *testing.B) {
	src, smap := benchBundle(b)
	const vms = 8
	first := true
	for b.Loop() {
		runtime.GC()
		before := rss(b)
		p, err := quickjs.New(quickjs.Config{Frontend: "catalog", Source: src, SourceMap: smap, VMs: vms})
		if err != nil {
			b.Fatal(err)
		}
		if first {
			// One render each, as a serving pool has done.
			for range vms {
				if _, err := p.Render(context.Background(), []byte(`{"listing":{"title":"x","products":[]}}`)); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(rss(b)-before)/vms/(1<<20), "MiB/VM")
			first = false
		}
		p.Close()
	}
}

// rss returns the process's resident memory in bytes.
func rss(b *testing.B) int64 {
	b.Helper()
	data, err := os.ReadFile("/proc/self/statm")
	if err != nil {
		b.Skipf("no /proc/self/statm: %v", err)
	}
	pages, _ := strconv.ParseInt(strings.Fields(string(data))[1], 10, 64)
	return pages * int64(os.Getpagesize())
}
