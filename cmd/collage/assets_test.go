package main

import (
	"bytes"
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

// TestServePrecompressedAssets builds the demo and serves it: each module
// goes out as the copy collage build wrote for the client's encoding, and
// source maps only with --source-maps.
func TestServePrecompressedAssets(t *testing.T) {
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
		for _, tt := range []struct{ accept, encoding, file string }{
			{"gzip, deflate, br", "br", module + ".br"},
			{"gzip", "gzip", module + ".gz"},
			{"identity", "", module},
		} {
			want, err := os.ReadFile(filepath.Join(dir, tt.file))
			if err != nil {
				t.Fatalf("collage build wrote no %s: %v", tt.file, err)
			}
			resp, body := fetch(private+u, tt.accept)
			if resp.StatusCode != 200 || resp.Header.Get("Content-Encoding") != tt.encoding || !bytes.Equal(body, want) {
				t.Errorf("Accept-Encoding %q: %d, Content-Encoding %q, %d bytes; want %s (%d bytes)",
					tt.accept, resp.StatusCode, resp.Header.Get("Content-Encoding"), len(body), tt.file, len(want))
			}
			if resp.Header.Get("SourceMap") != "" {
				t.Errorf("SourceMap = %q, without --source-maps", resp.Header.Get("SourceMap"))
			}
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
