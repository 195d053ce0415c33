package cli

import (
	"bytes"
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

// TestServeFragmentCacheFlag serves a cacheable HTTP fragment and counts
// its fetches for two anonymous page views: --fragment-cache 0 means no
// cache, a number of bytes (or none, the default) means a cache, and a
// negative number is refused.
func TestServeFragmentCacheFlag(t *testing.T) {
	forEachServer(t, func(t *testing.T, server string) {
		var fetches atomic.Int32
		news := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Cache-Control", "max-age=300")
			fmt.Fprintf(w, "<p>news %d</p>", fetches.Add(1))
		}))
		defer news.Close()
		dir := t.TempDir()
		os.MkdirAll(filepath.Join(dir, "layouts"), 0o755)
		os.WriteFile(filepath.Join(dir, "layouts", "page.html"), []byte(
			`<!doctype html><html><head><title>n</title></head><body><collage-slot frontend="news" timeout="10s">no news</collage-slot></body></html>`), 0o644)
		cfg := filepath.Join(dir, "collage.yaml")
		os.WriteFile(cfg, []byte("routes:\n  /: page.html\nfrontends:\n  news: { bff: \""+news.URL+"\" }\n"), 0o644)

		tests := []struct {
			flags   []string
			fetches int32
		}{
			{nil, 1},
			{[]string{"--fragment-cache", "1048576"}, 1},
			{[]string{"--fragment-cache", "0"}, 2},
		}
		for _, tt := range tests {
			t.Run(strings.Join(append([]string{"flags"}, tt.flags...), " "), func(t *testing.T) {
				fetches.Store(0)
				url := start(t, append([]string{"serve", "--config", cfg, "--dist", filepath.Join(dir, "no-dist"), "--addr", "127.0.0.1:0", "--server", server}, tt.flags...)...)
				c := &http.Client{Timeout: 10 * time.Second}
				for range 2 {
					if resp, body := get(t, c, url+"/"); resp.StatusCode != 200 || !strings.Contains(body, "<p>news ") {
						t.Fatalf("GET / = %d\n%s", resp.StatusCode, body)
					}
				}
				if n := fetches.Load(); n != tt.fetches {
					t.Errorf("%d fragment fetches for two page views, want %d", n, tt.fetches)
				}
			})
		}

		var out bytes.Buffer
		m := &Main{BFFs: shop, Stdout: &out, Stderr: &out}
		err := m.Run(context.Background(), []string{"serve", "--config", cfg, "--fragment-cache", "-1", "--addr", "127.0.0.1:0", "--server", server, "--data", t.TempDir()})
		if err == nil || !strings.Contains(err.Error(), "--fragment-cache -1") {
			t.Errorf("serve --fragment-cache -1: err = %v, want it refused", err)
		}
	})
}
