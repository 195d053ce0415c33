package fiber_test

import (
	"bytes"
	"context"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	shellfiber "github.com/collage-dev/collage/adapters/fiber"
	"github.com/collage-dev/collage/build"
	"github.com/collage-dev/collage/shell"
	"github.com/collage-dev/collage/shell/registry"
	"github.com/gofiber/fiber/v2"
)

// syntheticJS returns about n bytes of JavaScript-like text that compresses
// about as well as a real unminified bundle: a deterministic mix of a small
// vocabulary of identifiers, keywords, strings and numbers.
func syntheticJS(n int) []byte {
	rng := rand.New(rand.NewPCG(1, 2))
	words := []string{"const", "let", "return", "function", "if", "else", "this", "props", "state", "render",
		"children", "value", "options", "length", "push", "map", "filter", "undefined", "null", "true", "false"}
	var b bytes.Buffer
	for b.Len() < n {
		fmt.Fprintf(&b, "function f%d(%s, %s) {\n  %s %s%d = %s.%s(%q, %d);\n  if (%s) return %s%d;\n}\n",
			rng.IntN(5000), words[rng.IntN(len(words))], words[rng.IntN(len(words))],
			words[rng.IntN(3)], words[rng.IntN(len(words))], rng.IntN(100), words[rng.IntN(len(words))],
			words[rng.IntN(len(words))], words[rng.IntN(len(words))]+words[rng.IntN(len(words))], rng.IntN(1e6),
			words[rng.IntN(len(words))], words[rng.IntN(len(words))], rng.IntN(100))
	}
	return b.Bytes()
}

// benchAssets publishes a version holding a 100 KB module to a blob store,
// and returns the shell serving it and the store.
func benchAssets(b *testing.B) (*shell.Shell, registry.Blobs) {
	b.Helper()
	blobs, err := registry.NewDiskBlobs(b.TempDir())
	if err != nil {
		b.Fatal(err)
	}
	js := syntheticJS(100 << 10)
	key, err := blobs.Put(context.Background(), bytes.NewReader(js), build.Integrity(js))
	if err != nil {
		b.Fatal(err)
	}
	m := &build.Manifest{Name: "app", Version: "v1", Entry: "app-AB.js",
		Files: map[string]build.File{"app-AB.js": {Size: int64(len(js)), Integrity: build.Integrity(js)}}}
	rel := &registry.Release{Frontend: "app", Label: "1", BFF: "local", Manifest: m, Blobs: map[string]string{"app-AB.js": key}}
	snap := &registry.Snapshot{Frontends: map[string]*build.Manifest{"app": m}, Versions: map[string]string{"app": "1"},
		Served: map[string]map[string]*registry.Release{"app": {"1": rel}}}
	sh, err := shell.New(shell.Options{Registry: registry.New(snap), Log: slog.New(slog.DiscardHandler)})
	if err != nil {
		b.Fatal(err)
	}
	return sh, blobs
}

// BenchmarkAssetFirstRequest measures the first request for a 100 KB
// module on a fresh server, with and without concurrent first requests
// for it: what the first visitors after a deploy wait for. The file is read
// from the blob store and sent as it is; its copies are made after.
func BenchmarkAssetFirstRequest(b *testing.B) {
	sh, blobs := benchAssets(b)
	for _, concurrent := range []int{1, 4} {
		b.Run(fmt.Sprintf("concurrent=%d", concurrent), func(b *testing.B) {
			b.ReportAllocs()
			for range b.N {
				b.StopTimer()
				app := shellfiber.New(sh, shellfiber.Config{Blobs: blobs})
				b.StartTimer()
				var wg sync.WaitGroup
				for range concurrent {
					wg.Go(func() { getAsset(b, app, "") })
				}
				wg.Wait()
			}
		})
	}
	// The same request once the asset and its gzip copy are in memory.
	b.Run("warm", func(b *testing.B) {
		b.ReportAllocs()
		app := shellfiber.New(sh, shellfiber.Config{Blobs: blobs})
		for getAsset(b, app, "gzip") != "gzip" {
			time.Sleep(time.Millisecond)
		}
		for b.Loop() {
			getAsset(b, app, "gzip")
		}
	})
}

// getAsset requests the module, and returns its Content-Encoding.
func getAsset(b *testing.B, app *fiber.App, accept string) string {
	req := httptest.NewRequest(http.MethodGet, "/assets/app/v1/app-AB.js", nil)
	req.Header.Set("Accept-Encoding", accept)
	resp, err := app.Test(req, -1)
	if err != nil || resp.StatusCode != 200 {
		b.Fatalf("request: %v %v", resp, err)
	}
	resp.Body.Close()
	return resp.Header.Get("Content-Encoding")
}
