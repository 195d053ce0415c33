package brotli_test

import (
	"bytes"
	"compress/gzip"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"

	"github.com/collage-dev/collage/adapters/brotli"
	"github.com/collage-dev/collage/build"
	brrr "github.com/molecule-man/go-brrr"
)

// bundler writes fixed files: a module and its map worth compressing, a
// module too small to, and an image.
type bundler struct{ files map[string]string }

func (b bundler) BundleShared(root string, specs []string, dir string, minify bool) (map[string]string, []build.Message) {
	os.MkdirAll(dir, 0o755)
	return map[string]string{}, nil
}

func (b bundler) BundleFrontend(root string, f build.Frontend, shared []string, dir string, minify bool) (build.Bundle, []build.Message) {
	os.MkdirAll(dir, 0o755)
	for name, data := range b.files {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(data), 0o644); err != nil {
			return build.Bundle{}, []build.Message{{Text: err.Error()}}
		}
	}
	return build.Bundle{Entry: "app.js"}, nil
}

func TestBuildWritesDecodableCopies(t *testing.T) {
	t.Parallel()
	root := t.TempDir()
	os.MkdirAll(filepath.Join(root, "frontends", "app"), 0o755)
	os.WriteFile(filepath.Join(root, "frontends", "app", build.FrontendFile), []byte(`{"name": "app", "entry": "i.ts"}`), 0o644)
	files := map[string]string{
		"app.js":     strings.Repeat("export const greeting = 'hello, world';\n", 50),
		"app.js.map": `{"version":3,"mappings":"` + strings.Repeat("AAAA,", 200) + `"}`,
		"tiny.js":    "export {};\n",
		"logo.png":   strings.Repeat("\x89PNG", 200),
	}
	res := build.Build(build.Options{Root: root, Compressors: []build.Compressor{brotli.Compressor, build.Gzip}}, bundler{files})
	if len(res.Errors) > 0 {
		t.Fatal(res.Errors)
	}
	m := res.Manifests["app"]
	dir := filepath.Join(root, "dist", "assets", "app", m.Version)
	decoders := map[string]func([]byte) ([]byte, error){
		".br": brrr.Decompress,
		".gz": func(b []byte) ([]byte, error) {
			zr, err := gzip.NewReader(bytes.NewReader(b))
			if err != nil {
				return nil, err
			}
			return io.ReadAll(zr)
		},
	}
	for name, data := range files {
		for ext, decode := range decoders {
			copy, err := os.ReadFile(filepath.Join(dir, name+ext))
			worth := name == "app.js" || name == "app.js.map"
			if !worth {
				if err == nil {
					t.Errorf("%s%s: written for a file not worth compressing", name, ext)
				}
				continue
			}
			if err != nil {
				t.Errorf("%s%s: %v", name, ext, err)
				continue
			}
			plain, err := decode(copy)
			if err != nil || string(plain) != data {
				t.Errorf("%s%s does not decode to the file (%v)", name, ext, err)
			}
			// A browser checks the integrity of what it decoded.
			if build.Integrity(plain) != m.Files[name].Integrity {
				t.Errorf("%s%s decodes to bytes whose integrity is not the manifest's", name, ext)
			}
			if len(copy) >= len(data) {
				t.Errorf("%s%s is %d bytes, the file %d", name, ext, len(copy), len(data))
			}
			if ext == ".gz" && int64(len(copy)) != m.Files[name].Gzip {
				t.Errorf("%s: manifest gzip size %d, the copy is %d bytes", name, m.Files[name].Gzip, len(copy))
			}
		}
	}
	if _, ok := m.Files["app.js.br"]; ok || len(m.Files) != len(files) {
		t.Errorf("the manifest lists %d files, want the bundle's %d without the copies", len(m.Files), len(files))
	}
}

func TestCompressorRoundTrip(t *testing.T) {
	t.Parallel()
	data := []byte(strings.Repeat("function f(a, b) { return a + b; }\n", 100))
	out, err := brotli.Compressor.Compress("app.js", data)
	if err != nil {
		t.Fatal(err)
	}
	if back, err := brrr.Decompress(out); err != nil || !bytes.Equal(back, data) {
		t.Errorf("round trip: %v", err)
	}
	if brotli.Compressor.Encoding != "br" || brotli.Compressor.Ext != ".br" {
		t.Errorf("Compressor = %+v, want Content-Encoding br and FILE.br", brotli.Compressor)
	}
}

// TestCompressorSmallFileSmallBuffers: the best level's buffers follow the
// window, so a small module must not cost the 38 MB of the default window,
// which a shell compressing its runtime at start kept as its heap's
// baseline. Not parallel: it reads the process's allocation counter.
func TestCompressorSmallFileSmallBuffers(t *testing.T) {
	data := []byte(strings.Repeat("export const greeting = 'hello, world'; function f(a,b){return a+b}\n", 400))
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	out, err := brotli.Compressor.Compress("app.js", data)
	runtime.ReadMemStats(&after)
	if err != nil {
		t.Fatal(err)
	}
	if back, err := brrr.Decompress(out); err != nil || !bytes.Equal(back, data) {
		t.Fatalf("round trip: %v", err)
	}
	if mb := float64(after.TotalAlloc-before.TotalAlloc) / (1 << 20); mb > 16 {
		t.Errorf("compressing %d bytes allocated %.1f MB, want at most 16", len(data), mb)
	}
}
