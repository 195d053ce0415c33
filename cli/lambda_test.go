package cli

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/cookiejar"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"

	buildlambda "github.com/collage-dev/collage/build/lambda"
	"github.com/collage-dev/collage/internal/emulator"
)

// TestServeCartOnLambda serves the demo's home page with the cart BFF on
// Lambda: the cart's bootstrap runs under the Lambda emulator, and both the
// page's cart slot and /bff/cart/* reach it through Lambda Invoke, with the
// endpoint and credentials from the standard AWS environment variables.
func TestServeCartOnLambda(t *testing.T) {
	rie := emulator.Require(t)
	bin := filepath.Join(t.TempDir(), "bootstrap")
	ctx, cancel := context.WithTimeout(context.Background(), 8*time.Minute)
	defer cancel()
	if err := buildlambda.BuildBootstrap(ctx, "go", root, "./frontends/cart/bff/cmd/bootstrap", "linux", runtime.GOARCH, bin); err != nil {
		t.Fatal(err)
	}
	em := emulator.StartT(t, rie, bin)
	// The first invocation starts the bootstrap; do it before the page,
	// whose cart slot has a 500ms deadline, on a busy machine.
	if _, _, err := em.Invoke(ctx, []byte(`{"version":"2.0","rawPath":"/cart","requestContext":{"http":{"method":"GET"}}}`)); err != nil {
		t.Fatal(err)
	}
	for k, v := range map[string]string{"AWS_ENDPOINT_URL_LAMBDA": em.URL, "AWS_REGION": "us-east-1",
		"AWS_ACCESS_KEY_ID": "test", "AWS_SECRET_ACCESS_KEY": "test", "AWS_SESSION_TOKEN": "", "AWS_PROFILE": "",
		"AWS_CONFIG_FILE": os.DevNull, "AWS_SHARED_CREDENTIALS_FILE": os.DevNull} {
		t.Setenv(k, v)
	}
	cfg := demoConfig(t, map[string]string{"cart": "lambda://function"})
	url := start(t, "serve", "--config", cfg, "--dist", filepath.Join(t.TempDir(), "no-dist"), "--addr", "127.0.0.1:0")

	jar, _ := cookiejar.New(nil)
	c := &http.Client{Jar: jar, Timeout: 30 * time.Second}
	resp, page := get(t, c, url+"/")
	if resp.StatusCode != 200 || !strings.Contains(page, `<p class="cart-empty">`) || strings.Contains(page, "cart-fallback") {
		t.Fatalf("GET / = %d; want the empty cart from Lambda, not the fallback:\n%s", resp.StatusCode, page)
	}

	resp, err := c.Post(url+"/bff/cart/items", "application/json", strings.NewReader(`{"productId":"1","qty":2}`))
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	var cart struct{ Count int }
	if resp.StatusCode != 200 || json.Unmarshal(body, &cart) != nil || cart.Count != 2 {
		t.Fatalf("POST /bff/cart/items = %d %s", resp.StatusCode, body)
	}
	if cookies := resp.Header.Values("Set-Cookie"); len(cookies) != 1 || !strings.HasPrefix(cookies[0], "collage_cart=") {
		t.Errorf("Set-Cookie from Lambda = %q", cookies)
	}
	resp, body2 := get(t, c, url+"/bff/cart/cart")
	if resp.StatusCode != 200 || !strings.Contains(body2, `"count":2`) {
		t.Errorf("GET /bff/cart/cart = %d %s; want the cart of the cookie's session", resp.StatusCode, body2)
	}
	resp, body2 = get(t, c, url+"/bff/cart/items")
	if resp.StatusCode != http.StatusMethodNotAllowed || !strings.Contains(resp.Header.Get("Allow"), "POST") {
		t.Errorf("GET /bff/cart/items = %d, Allow %q", resp.StatusCode, resp.Header.Get("Allow"))
	}
	_, page = get(t, c, url+"/")
	if !strings.Contains(page, `<span class="cart-count">2</span>`) {
		t.Errorf("the page's cart slot does not show the 2 items added:\n%s", page)
	}

	// With the function gone, the slot falls back and /bff answers 502.
	em.Close()
	resp, page = get(t, c, url+"/")
	if resp.StatusCode != 200 || !strings.Contains(page, "cart-fallback") {
		t.Errorf("GET / with the Lambda down = %d; want the cart's fallback:\n%s", resp.StatusCode, page)
	}
	if resp, _ := get(t, c, url+"/bff/cart/cart"); resp.StatusCode != http.StatusBadGateway {
		t.Errorf("GET /bff/cart/cart with the Lambda down = %d, want 502", resp.StatusCode)
	}
}

// TestBuildLambda checks collage build packages every demo BFF with the
// settings of collage.yaml, prints the sizes, and that a packaging error
// leaves the output folder as it was.
func TestBuildLambda(t *testing.T) {
	needNodeModules(t)
	dist := filepath.Join(t.TempDir(), "dist")
	var out strings.Builder
	m := &Main{BFFs: shop, Stdout: &out, Stderr: &out}
	if err := m.Run(context.Background(), []string{"build", "--root", root, "--out", dist}); err != nil {
		t.Fatalf("collage build: %v\n%s", err, out.String())
	}
	for _, name := range []string{"cart", "catalog", "header", "recs"} {
		zip := filepath.Join(dist, "lambda", name+".zip")
		if _, err := os.Stat(zip); err != nil {
			t.Error(err)
		}
		if !strings.Contains(out.String(), zip) {
			t.Errorf("the output does not give the size of %s:\n%s", zip, out.String())
		}
	}
	tmpl, err := os.ReadFile(filepath.Join(dist, "template.yaml"))
	if err != nil || !strings.Contains(string(tmpl), "- arm64") || !strings.Contains(string(tmpl), `COLLAGE_SETTING_delay: "0s"`) {
		t.Errorf("template.yaml: %v\n%s", err, tmpl)
	}

	out.Reset()
	if err := m.Run(context.Background(), []string{"build", "--root", root, "--out", dist, "--lambda-arch", "x86"}); err == nil {
		t.Fatal("build with --lambda-arch x86 succeeded")
	}
	if !strings.Contains(out.String(), `architecture "x86": use arm64 or amd64`) {
		t.Errorf("output:\n%s", out.String())
	}
	if after, _ := os.ReadFile(filepath.Join(dist, "template.yaml")); string(after) != string(tmpl) {
		t.Error("a failed build changed the template")
	}
	entries, _ := os.ReadDir(filepath.Dir(dist))
	if len(entries) != 1 {
		t.Errorf("a failed build left %d entries beside dist, want none", len(entries)-1)
	}
}
