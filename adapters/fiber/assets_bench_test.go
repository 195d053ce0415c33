package fiber_test

import (
	"bytes"
	"compress/gzip"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"sync"
	"testing"

	shellfiber "github.com/collage-dev/collage/adapters/fiber"
	"github.com/collage-dev/collage/shell"
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

// benchAssets writes a version folder holding a 100 KB module, with the
// compressed copies collage build writes beside it. The brotli copy is a
// stand-in of the size brotli gives (go-brrr belongs to adapters/brotli): the
// shell sends it as it is and never decodes it.
func benchAssets(b *testing.B) string {
	b.Helper()
	dir := filepath.Join(b.TempDir(), "assets")
	js := syntheticJS(100 << 10)
	var gz bytes.Buffer
	zw, _ := gzip.NewWriterLevel(&gz, gzip.BestCompression)
	zw.Write(js)
	zw.Close()
	files := map[string][]byte{
		"app-AB.js":    js,
		"app-AB.js.gz": gz.Bytes(),
		"app-AB.js.br": gz.Bytes()[:gz.Len()*85/100],
	}
	for name, data := range files {
		p := filepath.Join(dir, "app", "v1", name)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			b.Fatal(err)
		}
		if err := os.WriteFile(p, data, 0o644); err != nil {
			b.Fatal(err)
		}
	}
	return dir
}

// BenchmarkAssetFirstRequest measures the first request for a 100 KB
// module on a fresh server, with and without concurrent first requests
// for it: what the first visitors after a deploy wait for.
func BenchmarkAssetFirstRequest(b *testing.B) {
	dir := benchAssets(b)
	sh, err := shell.New(shell.Options{Log: slog.New(slog.DiscardHandler)})
	if err != nil {
		b.Fatal(err)
	}
	for _, concurrent := range []int{1, 4} {
		b.Run(fmt.Sprintf("concurrent=%d", concurrent), func(b *testing.B) {
			b.ReportAllocs()
			for range b.N {
				b.StopTimer()
				app := shellfiber.New(sh, shellfiber.Config{Assets: dir})
				b.StartTimer()
				var wg sync.WaitGroup
				for range concurrent {
					wg.Go(func() { getBrotli(b, app) })
				}
				wg.Wait()
			}
		})
	}
	// The same request once the asset is in memory: what app.Test itself
	// costs, for comparison.
	b.Run("warm", func(b *testing.B) {
		b.ReportAllocs()
		app := shellfiber.New(sh, shellfiber.Config{Assets: dir})
		getBrotli(b, app)
		for b.Loop() {
			getBrotli(b, app)
		}
	})
}

func getBrotli(b *testing.B, app *fiber.App) {
	req := httptest.NewRequest(http.MethodGet, "/assets/app/v1/app-AB.js", nil)
	req.Header.Set("Accept-Encoding", "gzip, deflate, br")
	resp, err := app.Test(req, -1)
	if err != nil || resp.StatusCode != 200 || resp.Header.Get("Content-Encoding") != "br" {
		b.Errorf("request: %v %v", resp, err)
		return
	}
	resp.Body.Close()
}
