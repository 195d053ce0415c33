package edgetest

import (
	"bytes"
	"compress/gzip"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/collage-dev/collage/build"
	"github.com/collage-dev/collage/shell"
	"github.com/collage-dev/collage/shell/runtime"
)

const immutable = "public, max-age=31536000, immutable"

// brCopy stands for the brotli copy of catalog-AB.js: the shell sends the
// file's bytes as they are, so a body equal to them shows that nothing was
// compressed while the request waited.
const brCopy = "BROTLI COPY OF catalog-AB.js, AS collage build WROTE IT"

func gzipOf(t *testing.T, data []byte) []byte {
	t.Helper()
	var b bytes.Buffer
	zw, _ := gzip.NewWriterLevel(&b, gzip.BestCompression)
	zw.Write(data)
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

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

// assetDir writes dist/assets with one version of catalog, as collage build
// writes it, and a secret beside it that no URL may reach. It returns the
// folder and the module.
func assetDir(t *testing.T) (string, []byte) {
	t.Helper()
	root := t.TempDir()
	js := []byte(strings.Repeat("export const greeting = 'hello, world';\n", 40))
	plain := []byte(strings.Repeat("export const farewell = 'goodbye, world';\n", 40))
	files := map[string][]byte{
		"assets/catalog/v1/catalog-AB.js":        js,
		"assets/catalog/v1/catalog-AB.js.br":     []byte(brCopy),
		"assets/catalog/v1/catalog-AB.js.gz":     gzipOf(t, js),
		"assets/catalog/v1/catalog-AB.js.map":    []byte(`{"version":3,"sources":["../src/secret-plans.ts"]}`),
		"assets/catalog/v1/catalog-AB.js.map.gz": gzipOf(t, []byte(`{"version":3,"sources":["../src/secret-plans.ts"]}`)),
		"assets/catalog/v1/catalog-AB.js.map.br": []byte(`{"version":3,"sources":["../src/secret-plans.ts"]}`),
		"assets/catalog/v1/plain-CD.js":          plain, // built with compression off
		"assets/catalog/v1/tiny.css":             []byte("a{}"),
		"assets/catalog/v1/img/logo.svg":         []byte(`<svg xmlns="http://www.w3.org/2000/svg"></svg>`),
		"assets/secret.txt":                      []byte("secret"),
		"secret.txt":                             []byte("secret"),
	}
	for name, data := range files {
		p := filepath.Join(root, filepath.FromSlash(name))
		os.MkdirAll(filepath.Dir(p), 0o755)
		if err := os.WriteFile(p, data, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return filepath.Join(root, "assets"), js
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
	dir, js := assetDir(t)
	f := su.newFixture(t, shell.EdgeConfig{Assets: dir})
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
					t.Errorf("Accept-Encoding %q: the body is not the brotli file's bytes: %.40q", tt.accept, body)
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
	dir, _ := assetDir(t)
	f := su.newFixture(t, shell.EdgeConfig{Assets: dir})
	tests := []struct{ target, ctype, body string }{
		// A build with compression off: the file goes as it is, even to
		// a client that would take brotli.
		{"/assets/catalog/v1/plain-CD.js", "javascript", strings.Repeat("export const farewell = 'goodbye, world';\n", 40)},
		{"/assets/catalog/v1/tiny.css", "text/css", "a{}"},
		{"/assets/catalog/v1/img/logo.svg", "image/svg+xml", `<svg xmlns="http://www.w3.org/2000/svg"></svg>`},
	}
	for _, tt := range tests {
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

func (su suite) TestAssetsSourceMaps(t *testing.T) {
	t.Parallel()
	dir, _ := assetDir(t)
	maps := []string{
		"/assets/catalog/v1/catalog-AB.js.map",
		"/assets/catalog/v1/catalog-AB.js.map.gz",
		"/assets/catalog/v1/catalog-AB.js.map.br",
	}
	private := su.newFixture(t, shell.EdgeConfig{Assets: dir})
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

	public := su.newFixture(t, shell.EdgeConfig{Assets: dir, SourceMaps: true})
	resp, body := getAsset(t, public, maps[0], "")
	if resp.StatusCode != 200 || !strings.Contains(body, "secret-plans") || !strings.Contains(resp.Header.Get("Content-Type"), "json") {
		t.Errorf("with SourceMaps, %s = %d %q %q", maps[0], resp.StatusCode, resp.Header.Get("Content-Type"), body)
	}
	if resp, body := getAsset(t, public, maps[0], "gzip"); resp.Header.Get("Content-Encoding") != "gzip" || !strings.Contains(string(gunzip(t, []byte(body))), "secret-plans") {
		t.Errorf("with SourceMaps, a map's gzip copy: %v", resp.Header)
	}
	// The bundles carry no sourceMappingURL: the header says where the map is.
	if resp, _ := getAsset(t, public, "/assets/catalog/v1/catalog-AB.js", "br"); resp.Header.Get("SourceMap") != "catalog-AB.js.map" {
		t.Errorf("SourceMap = %q, want catalog-AB.js.map", resp.Header.Get("SourceMap"))
	}
	if resp, _ := getAsset(t, public, "/assets/catalog/v1/plain-CD.js", ""); resp.Header.Get("SourceMap") != "" {
		t.Errorf("SourceMap = %q for a file without a map", resp.Header.Get("SourceMap"))
	}
}

func (su suite) TestAssetsNotFound(t *testing.T) {
	t.Parallel()
	dir, _ := assetDir(t)
	f := su.newFixture(t, shell.EdgeConfig{Assets: dir})
	for _, target := range []string{
		"/assets/catalog/v1/missing.js",
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
	dir, js := assetDir(t)
	f := su.newFixture(t, shell.EdgeConfig{Assets: dir})
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
			want := map[string][]byte{"br": []byte(brCopy), "gzip": gzipOf(t, js), "": js}[accept]
			if !bytes.Equal(body, want) {
				t.Errorf("Accept-Encoding %q: %d bytes, want %d", accept, len(body), len(want))
			}
		})
	}
	wg.Wait()
}
