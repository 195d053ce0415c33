package cli

import (
	"bytes"
	"context"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	buildlambda "github.com/collage-dev/collage/build/lambda"
	"github.com/collage-dev/collage/shell/runtime"
)

// TestServeAssetsURL serves the demo with --assets-url: its pages link
// every asset there, their CSP allows it, and the shell still serves
// /assets itself, as a CDN's origin.
func TestServeAssetsURL(t *testing.T) {
	dist := buildDemo(t)
	const cdn = "https://cdn.example/shop"
	forEachServer(t, func(t *testing.T, server string) {
		url := start(t, "serve", "--config", filepath.Join(root, "collage.yaml"), "--dist", dist, "--addr", "127.0.0.1:0",
			"--server", server, "--set", "recs.delay=1ms", "--assets-url", cdn+"/")
		c := &http.Client{Timeout: 10 * time.Second}
		resp, body := get(t, c, url+"/")
		if want := `<script type="module" src="` + cdn + `/_collage/` + runtime.File + `"`; resp.StatusCode != 200 || !strings.Contains(body, want) {
			t.Errorf("GET / = %d, no %s in\n%s", resp.StatusCode, want, body)
		}
		if strings.Contains(body, `"/assets/`) {
			t.Errorf("GET / still links an asset under /assets/:\n%s", body)
		}
		if csp := resp.Header.Get("Content-Security-Policy"); !strings.Contains(csp, "script-src https://cdn.example 'self'") {
			t.Errorf("CSP = %q, want https://cdn.example in script-src", csp)
		}
		if resp, _ := get(t, c, url+"/assets/_collage/"+runtime.File); resp.StatusCode != 200 || resp.Header.Get("Access-Control-Allow-Origin") != "*" {
			t.Errorf("the shell's own runtime = %d, Access-Control-Allow-Origin %q", resp.StatusCode, resp.Header.Get("Access-Control-Allow-Origin"))
		}
	})
}

// TestAssetsURLFlags checks that a wrong --assets-url, or a wrong
// COLLAGE_ASSETS_URL inside Lambda, stops the command with what is wrong,
// and that the flag wins over the variable.
func TestAssetsURLFlags(t *testing.T) {
	dir := t.TempDir()
	os.MkdirAll(filepath.Join(dir, "layouts"), 0o755)
	os.WriteFile(filepath.Join(dir, "layouts", "home.html"), []byte("<html><body><collage-slot frontend=header></collage-slot></body></html>"), 0o644)
	cfg := filepath.Join(dir, "collage.yaml")
	os.WriteFile(cfg, []byte("routes:\n  /: home.html\nfrontends:\n  header: { bff: \"http://127.0.0.1:1\" }\n"), 0o644)
	t.Setenv("AWS_LAMBDA_RUNTIME_API", "")
	tests := []struct {
		name string
		env  string
		args []string
		want string
	}{
		{"serve", "", []string{"serve", "--addr", "127.0.0.1:0", "--assets-url", "cdn.example/x"},
			`assets URL "cdn.example/x": want an absolute http:// or https:// URL`},
		{"serve query", "", []string{"serve", "--addr", "127.0.0.1:0", "--assets-url", "https://cdn.example/?v=2"},
			`assets URL "https://cdn.example/?v=2": must not have a query`},
		{"lambda-shell variable", "https://cdn.example/#x", []string{"lambda-shell"},
			`assets URL "https://cdn.example/#x": must not have a fragment`},
		{"lambda-shell flag over variable", "https://cdn.example/#x", []string{"lambda-shell", "--assets-url", "https://cdn.example/"},
			"AWS_LAMBDA_RUNTIME_API is not set"},
		{"lambda-shell empty flag over variable", "https://cdn.example/#x", []string{"lambda-shell", "--assets-url="},
			"AWS_LAMBDA_RUNTIME_API is not set"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Setenv(buildlambda.EnvAssetsURL, tt.env)
			var out bytes.Buffer
			m := &Main{BFFs: shop, Stdout: &out, Stderr: &out}
			args := append(tt.args, "--config", cfg, "--dist", filepath.Join(dir, "dist"))
			if tt.args[0] == "serve" {
				args = append(args, "--data", t.TempDir())
			}
			err := m.Run(context.Background(), args)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("collage %s = %v, want %s\n%s", strings.Join(tt.args, " "), err, tt.want, out.String())
			}
		})
	}
}
