package edgetest

import (
	"bytes"
	"compress/gzip"
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/collage-dev/collage/build"
	"github.com/collage-dev/collage/shell"
	"github.com/collage-dev/collage/shell/registry"
	"github.com/collage-dev/collage/shell/runtime"
)

const immutable = "public, max-age=31536000, immutable"

// brCopy stands for the brotli copy of catalog-AB.js, which the fixture's
// compressor writes: a body equal to it is the copy.
const brCopy = "BROTLI COPY OF catalog-AB.js, AS collage build WROTE IT"

func gunzip(t *testing.T, data []byte) []byte {
	t.Helper()
	zr, err := gzip.NewReader(bytes.NewReader(data))
	if err != nil {
		t.Fatalf("gunzip: %v", err)
	}
	plain, err := io.ReadAll(zr)
	if err != nil {
		t.Fatalf("gunzip: %v", err)
	}
	return plain
}

// assetStore publishes one version of catalog, as collage build makes it,
// to a blob store, and returns the fixture's options serving it, the
// snapshot, and the module. The brotli "compressor" writes brCopy, so that
// a body equal to it shows which copy was sent.
func assetStore(t *testing.T, sourceMaps bool) (shell.EdgeConfig, *registry.Snapshot, []byte) {
	t.Helper()
	blobs, err := registry.NewDiskBlobs(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	js := []byte(strings.Repeat("export const greeting = 'hello, world';\n", 40))
	files := map[string][]byte{
		"catalog-AB.js":     js,
		"catalog-AB.js.map": []byte(`{"version":3,"sources":["../src/secret-plans.ts"]}`),
		"tiny.css":          []byte("a{}"),
		"img/logo.svg":      []byte(`<svg xmlns="http://www.w3.org/2000/svg"></svg>`),
		"font-EF.woff2":     bytes.Repeat([]byte{0x77, 0x4f, 0x46, 0x32}, 200),
	}
	m := &build.Manifest{Name: "catalog", Version: "v1", Entry: "catalog-AB.js", Files: map[string]build.File{}}
	rel := &registry.Release{Frontend: "catalog", Label: "1.0.0", BFF: "local", Manifest: m, Blobs: map[string]string{}}
	for name, data := range files {
		m.Files[name] = build.File{Size: int64(len(data)), Integrity: build.Integrity(data)}
		key, err := blobs.Put(context.Background(), bytes.NewReader(data), build.Integrity(data))
		if err != nil {
			t.Fatal(err)
		}
		rel.Blobs[name] = key
	}
	snap := &registry.Snapshot{Frontends: map[string]*build.Manifest{"catalog": m},
		Versions: map[string]string{"catalog": "1.0.0"}, Served: map[string]map[string]*registry.Release{"catalog": {"1.0.0": rel}}}
	br := build.Compressor{Encoding: "br", Ext: ".br", Compress: func(string, []byte) ([]byte, error) { return []byte(brCopy), nil }}
	return shell.EdgeConfig{Blobs: blobs, Compressors: []build.Compressor{br, build.Gzip}, SourceMaps: sourceMaps}, snap, js
}

// assetFixture is a fixture serving assetStore's version, once its
// compressed copies are made (in the background, after a first request).
func (su suite) assetFixture(t *testing.T, sourceMaps bool) (*fixture, []byte) {
	t.Helper()
	cfg, snap, js := assetStore(t, sourceMaps)
	f := su.newFixtureOf(t, cfg, snap)
	for _, enc := range []string{"br", "gzip"} { // made one after the other
		for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(5 * time.Millisecond) {
			resp, _ := getAsset(t, f, "/assets/catalog/v1/catalog-AB.js", enc)
			if resp.Header.Get("Content-Encoding") == enc {
				break
			}
			if time.Now().After(deadline) {
				t.Fatalf("no %s copy of catalog-AB.js 10s after its first request: %v", enc, resp.Header)
			}
		}
	}
	return f, js
}

func getAsset(t *testing.T, f *fixture, target, acceptEncoding string) (*http.Response, string) {
	t.Helper()
	req := httptest.NewRequest(http.MethodGet, target, nil)
	if acceptEncoding != "" {
		req.Header.Set("Accept-Encoding", acceptEncoding)
	}
	return do(t, f.app, req)
}

func (su suite) TestAssetsEncoding(t *testing.T) {
	t.Parallel()
	f, js := su.assetFixture(t, false)
	tests := []struct {
		accept, encoding string
	}{
		{"", ""},
		{"identity", ""},
		{"gzip", "gzip"},
		{"br", "br"},
		{"gzip, deflate, br", "br"},
		{"gzip;q=1.0, br;q=0.5", "br"}, // the shell's preference among the accepted
		{"br;q=0, gzip", "gzip"},
		{"BR", "br"},
		{"*", "br"},
		{"gzip, *;q=0", "gzip"},
		{"br;q=0.000, gzip;q=0", ""},
		{"deflate", ""},
	}
	for _, tt := range tests {
		for range 2 { // the second time from memory
			resp, body := getAsset(t, f, "/assets/catalog/v1/catalog-AB.js", tt.accept)
			if resp.StatusCode != 200 || resp.Header.Get("Cache-Control") != immutable {
				t.Errorf("Accept-Encoding %q: status %d Cache-Control %q", tt.accept, resp.StatusCode, resp.Header.Get("Cache-Control"))
			}
			if ct := resp.Header.Get("Content-Type"); !strings.Contains(ct, "javascript") {
				t.Errorf("Content-Type = %q", ct)
			}
			if v := resp.Header.Get("Vary"); v != "Accept-Encoding" {
				t.Errorf("Accept-Encoding %q: Vary = %q", tt.accept, v)
			}
			if got := resp.Header.Get("Content-Encoding"); got != tt.encoding {
				t.Errorf("Accept-Encoding %q: Content-Encoding = %q, want %q", tt.accept, got, tt.encoding)
			}
			// The integrity in the page is of the file: what a browser
			// checks once it has decoded the body.
			switch tt.encoding {
			case "br":
				if body != brCopy {
					t.Errorf("Accept-Encoding %q: the body is not the brotli copy: %.40q", tt.accept, body)
				}
			case "gzip":
				if build.Integrity(gunzip(t, []byte(body))) != build.Integrity(js) {
					t.Errorf("Accept-Encoding %q: the gzip body does not decode to the file", tt.accept)
				}
			default:
				if body != string(js) {
					t.Errorf("Accept-Encoding %q: the body is not the file", tt.accept)
				}
			}
		}
	}
}

func (su suite) TestAssetsWithoutCopies(t *testing.T) {
	t.Parallel()
	f, _ := su.assetFixture(t, false)
	tests := []struct{ target, ctype, body string }{
		// Too small for a copy to pay, or compressed already.
		{"/assets/catalog/v1/tiny.css", "text/css", "a{}"},
		{"/assets/catalog/v1/img/logo.svg", "image/svg+xml", `<svg xmlns="http://www.w3.org/2000/svg"></svg>`},
		{"/assets/catalog/v1/font-EF.woff2", "font/woff2", strings.Repeat("wOF2", 200)},
	}
	for _, tt := range tests {
		for range 2 {
			resp, body := getAsset(t, f, tt.target, "gzip, deflate, br")
			if resp.StatusCode != 200 || body != tt.body || !strings.Contains(resp.Header.Get("Content-Type"), tt.ctype) ||
				resp.Header.Get("Cache-Control") != immutable {
				t.Errorf("%s: %d %q %v", tt.target, resp.StatusCode, body, resp.Header)
			}
			if ce, v := resp.Header.Get("Content-Encoding"), resp.Header.Get("Vary"); ce != "" || v != "" {
				t.Errorf("%s: Content-Encoding %q, Vary %q: want the file as it is, for everyone", tt.target, ce, v)
			}
		}
	}
}

func (su suite) TestAssetsSourceMaps(t *testing.T) {
	t.Parallel()
	maps := []string{"/assets/catalog/v1/catalog-AB.js.map"}
	private, _ := su.assetFixture(t, false)
	for _, target := range maps {
		for _, accept := range []string{"", "gzip, br"} {
			if resp, body := getAsset(t, private, target, accept); resp.StatusCode != 404 || strings.Contains(body, "secret-plans") {
				t.Errorf("by default, %s (Accept-Encoding %q) = %d %q, want 404", target, accept, resp.StatusCode, body)
			}
		}
	}
	if resp, _ := getAsset(t, private, "/assets/catalog/v1/catalog-AB.js", "br"); resp.Header.Get("SourceMap") != "" {
		t.Errorf("SourceMap = %q while maps are not served", resp.Header.Get("SourceMap"))
	}

	public, _ := su.assetFixture(t, true)
	resp, body := getAsset(t, public, maps[0], "")
	if resp.StatusCode != 200 || !strings.Contains(body, "secret-plans") || !strings.Contains(resp.Header.Get("Content-Type"), "json") {
		t.Errorf("with SourceMaps, %s = %d %q %q", maps[0], resp.StatusCode, resp.Header.Get("Content-Type"), body)
	}
	// The bundles carry no sourceMappingURL: the header says where the map is.
	if resp, _ := getAsset(t, public, "/assets/catalog/v1/catalog-AB.js", "br"); resp.Header.Get("SourceMap") != "catalog-AB.js.map" {
		t.Errorf("SourceMap = %q, want catalog-AB.js.map", resp.Header.Get("SourceMap"))
	}
	if resp, _ := getAsset(t, public, "/assets/catalog/v1/tiny.css", ""); resp.Header.Get("SourceMap") != "" {
		t.Errorf("SourceMap = %q for a file without a map", resp.Header.Get("SourceMap"))
	}
}

func (su suite) TestAssetsNotFound(t *testing.T) {
	t.Parallel()
	f, _ := su.assetFixture(t, false)
	for _, target := range []string{
		"/assets/catalog/v1/missing.js",
		"/assets/catalog/1.0.0/catalog-AB.js", // a label is not a bundle version
		"/assets/header/v1/catalog-AB.js",
		"/assets/catalog/v2/catalog-AB.js",
		"/assets/catalog/v1/",
		"/assets/catalog/v1/img",
		"/assets/catalog/v1/../../secret.txt",
		"/assets/catalog/v1/..%2F..%2F..%2Fsecret.txt",
		"/assets/catalog/v1/%2e%2e/%2e%2e/%2e%2e/secret.txt",
		"/assets/catalog/..%2F..%2F/secret.txt",
		"/assets/..%2F../v1/secret.txt",
		"/assets/catalog/v1/%2Fetc%2Fpasswd",
		"/assets/catalog/v1//etc/passwd",
	} {
		for _, accept := range []string{"", "gzip, br"} {
			resp, body := getAsset(t, f, target, accept)
			if resp.StatusCode != 404 || errorOf(body) != "not_found" || strings.Contains(body, "secret") || strings.Contains(body, "root:") {
				t.Errorf("%s (Accept-Encoding %q) = %d %q, want 404", target, accept, resp.StatusCode, body)
			}
		}
	}
}

func (su suite) TestRuntimeEncoding(t *testing.T) {
	t.Parallel()
	f := su.newFixture(t, shell.EdgeConfig{})
	// The runtime is in the binary, not built: it is gzipped once, when
	// the server is made, and brotli-only clients get it as it is.
	for _, tt := range []struct{ accept, encoding string }{{"gzip, deflate, br", "gzip"}, {"br", ""}, {"", ""}} {
		resp, body := getAsset(t, f, shell.RuntimePath, tt.accept)
		if resp.StatusCode != 200 || resp.Header.Get("Content-Encoding") != tt.encoding || resp.Header.Get("Vary") != "Accept-Encoding" {
			t.Errorf("Accept-Encoding %q: %d %v", tt.accept, resp.StatusCode, resp.Header)
			continue
		}
		plain := []byte(body)
		if tt.encoding == "gzip" {
			plain = gunzip(t, plain)
		}
		if build.Integrity(plain) != runtime.Integrity {
			t.Errorf("Accept-Encoding %q: the runtime does not match the integrity in the head", tt.accept)
		}
	}
}

func (su suite) TestAssetsConcurrentFirstRequests(t *testing.T) {
	t.Parallel()
	cfg, snap, js := assetStore(t, false)
	f := su.newFixtureOf(t, cfg, snap)
	var wg sync.WaitGroup
	for i := range 8 {
		wg.Go(func() {
			accept := []string{"br", "gzip", ""}[i%3]
			req := httptest.NewRequest(http.MethodGet, "/assets/catalog/v1/catalog-AB.js", nil)
			req.Header.Set("Accept-Encoding", accept)
			resp, err := f.app.Test(req, 10_000)
			if err != nil {
				t.Error(err)
				return
			}
			defer resp.Body.Close()
			body, _ := io.ReadAll(resp.Body)
			// Whether the copies are made yet or not, each answer is the
			// file in an encoding the client accepts.
			switch ce := resp.Header.Get("Content-Encoding"); {
			case ce == "" && bytes.Equal(body, js):
			case ce == "br" && accept == "br" && string(body) == brCopy:
			case ce == "gzip" && accept == "gzip" && bytes.Equal(gunzip(t, body), js):
			default:
				t.Errorf("Accept-Encoding %q: Content-Encoding %q, %d bytes", accept, ce, len(body))
			}
		})
	}
	wg.Wait()
}
