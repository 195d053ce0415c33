package cli

import (
	"bytes"
	"compress/gzip"
	"io"
	"net/http"
	"os"
	"path"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/collage-dev/collage/build"
)

// TestServeCompressedAssets builds the demo and serves it: each module
// goes out as the copy the shell made for the client's encoding once it is
// made, and source maps only with --source-maps.
func TestServeCompressedAssets(t *testing.T) {
	forEachServer(t, func(t *testing.T, server string) {
		dist := buildDemo(t)
		idx, err := build.ReadIndex(dist)
		if err != nil {
			t.Fatal(err)
		}
		dir := filepath.Join(dist, "assets", build.SharedName, idx.Shared)
		m, err := build.ReadManifest(dir)
		if err != nil {
			t.Fatal(err)
		}
		var module string
		for name, f := range m.Files {
			if path.Ext(name) == ".js" && f.Size > 1000 {
				module = name
			}
		}
		if module == "" {
			t.Fatalf("no module of more than 1 kB among %v", m.Files)
		}
		u := "/assets/" + build.SharedName + "/" + idx.Shared + "/" + module
		fetch := func(url, accept string) (*http.Response, []byte) {
			t.Helper()
			req, _ := http.NewRequest(http.MethodGet, url, nil)
			req.Header.Set("Accept-Encoding", accept) // set by hand, the client leaves the body as it came
			resp, err := (&http.Client{Timeout: 10 * time.Second}).Do(req)
			if err != nil {
				t.Fatal(err)
			}
			defer resp.Body.Close()
			body, _ := io.ReadAll(resp.Body)
			return resp, body
		}

		private := start(t, "serve", "--config", filepath.Join(root, "collage.yaml"), "--dist", dist, "--addr", "127.0.0.1:0", "--server", server)
		want, err := os.ReadFile(filepath.Join(dir, module))
		if err != nil {
			t.Fatal(err)
		}
		// The copies are made in the background after the first request,
		// one after the other.
		for _, enc := range []string{"br", "gzip"} {
			for deadline := time.Now().Add(20 * time.Second); ; time.Sleep(10 * time.Millisecond) {
				resp, body := fetch(private+u, enc)
				if resp.StatusCode != 200 {
					t.Fatalf("%s: %d %s", u, resp.StatusCode, body)
				}
				if resp.Header.Get("Content-Encoding") == enc {
					if len(body) >= len(want) {
						t.Errorf("the %s copy is %d bytes, the file %d", enc, len(body), len(want))
					}
					break
				}
				if time.Now().After(deadline) {
					t.Fatalf("no %s copy of %s after 20s: %v", enc, u, resp.Header)
				}
			}
		}
		if resp, body := fetch(private+u, "gzip"); resp.Header.Get("Content-Encoding") != "gzip" || !bytes.Equal(gunzip(t, body), want) {
			t.Errorf("Accept-Encoding gzip: Content-Encoding %q, or the body does not decode to the file", resp.Header.Get("Content-Encoding"))
		}
		if resp, body := fetch(private+u, "identity"); resp.Header.Get("Content-Encoding") != "" || !bytes.Equal(body, want) {
			t.Errorf("Accept-Encoding identity: Content-Encoding %q, %d bytes, want the file", resp.Header.Get("Content-Encoding"), len(body))
		} else if resp.Header.Get("SourceMap") != "" {
			t.Errorf("SourceMap = %q, without --source-maps", resp.Header.Get("SourceMap"))
		}
		if resp, body := fetch(private+u+".map", ""); resp.StatusCode != 404 || strings.Contains(string(body), "mappings") {
			t.Errorf("%s.map = %d without --source-maps, want 404", u, resp.StatusCode)
		}

		public := start(t, "serve", "--config", filepath.Join(root, "collage.yaml"), "--dist", dist, "--addr", "127.0.0.1:0", "--server", server, "--source-maps")
		if resp, _ := fetch(public+u, "br"); resp.Header.Get("SourceMap") != module+".map" {
			t.Errorf("SourceMap = %q with --source-maps, want %s.map", resp.Header.Get("SourceMap"), module)
		}
		if resp, body := fetch(public+u+".map", ""); resp.StatusCode != 200 || !strings.Contains(string(body), "mappings") {
			t.Errorf("%s.map = %d with --source-maps, want the map", u, resp.StatusCode)
		}
	})
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
