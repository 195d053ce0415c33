package cli

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"os"
	"path/filepath"
	"regexp"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/collage-dev/collage/build"
	"github.com/collage-dev/collage/internal/syncbuf"
)

const root = ".."

// needNodeModules skips a test that builds the demo when npm packages are
// not installed, and fails it under CI, where they always are.
func needNodeModules(t testing.TB) {
	t.Helper()
	if _, err := os.Stat(filepath.Join(root, "node_modules", "preact")); err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatal("node_modules is missing under CI: the test command runs npm ci first")
		}
		t.Skip("SKIPPING: node_modules is missing; run `npm ci` (the README's test command does)")
	}
}

// start runs collage with args until the test ends and returns its URL. A
// server that exits before it listens fails the test at once, with its
// output; one that does not listen in 60s is asked to stop, then fails it.
func start(t *testing.T, args ...string) string {
	t.Helper()
	url, _ := startOut(t, args...)
	return url
}

// startOut is start, and the command's output so far, which grows while
// it runs.
func startOut(t *testing.T, args ...string) (string, *syncbuf.Buffer) {
	t.Helper()
	if (args[0] == "serve" || args[0] == "dev") && !slices.Contains(args, "--data") {
		args = append(args, "--data", t.TempDir())
	}
	ctx, cancel := context.WithCancel(context.Background())
	listening := make(chan string, 1)
	out := &syncbuf.Buffer{}
	m := &Main{BFFs: shop, Stdout: out, Stderr: out, Listening: listening}
	done := make(chan error, 1)
	go func() { done <- m.Run(ctx, args) }()
	select {
	case url := <-listening:
		t.Cleanup(func() {
			cancel()
			if err := <-done; err != nil {
				t.Errorf("collage %s: %v\n%s", args[0], err, out)
			}
		})
		return url, out
	case err := <-done:
		cancel()
		t.Fatalf("collage %s exited before listening: %v\n%s", args[0], err, out)
	case <-time.After(60 * time.Second):
		cancel()
		select {
		case err := <-done:
			t.Fatalf("collage %s did not listen in 60s, and stopped: %v\n%s", args[0], err, out)
		case <-time.After(10 * time.Second):
			t.Fatalf("collage %s did not listen in 60s, nor stop 10s after it was asked to\n%s", args[0], out)
		}
	}
	return "", out
}

// warmComponents asks the demo served at url for its home page until none
// of its slots falls back, at most 10 times. Under the race detector the JavaScript engine
// renders a component about 50 times slower than it does in the binary
// users run: the demo catalog's first render can outlast its slot's
// 500 ms, where it takes a few milliseconds without -race. Once rendered,
// its HTML is in the render cache, and the tests' pages are served as
// users' are.
func warmComponents(url string) {
	c := &http.Client{Timeout: 10 * time.Second}
	for range 10 {
		resp, err := c.Get(url + "/")
		if err != nil {
			return
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != 200 || !bytes.Contains(body, []byte("data-collage-fallback")) {
			return
		}
	}
}

// demoConfig writes a copy of the repository's collage.yaml into a
// temporary folder and returns its path: its layouts are the repository's,
// and each frontend in bffs (name → target) has that bff instead. The rest
// of the file is kept as it is, so the test runs the project with however
// many frontends it has, and what else the file says about each.
func demoConfig(t *testing.T, bffs map[string]string) string {
	t.Helper()
	src, err := os.ReadFile(filepath.Join(root, "collage.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	text := string(src)
	abs, err := filepath.Abs(root)
	if err != nil {
		t.Fatal(err)
	}
	layouts := regexp.MustCompile(`(?m)^layouts:.*$`)
	if !layouts.MatchString(text) {
		t.Fatalf("%s/collage.yaml has no top-level layouts: line to point at its layouts", abs)
	}
	text = layouts.ReplaceAllLiteralString(text, "layouts: "+strconv.Quote(filepath.Join(abs, "layouts")))
	for name, target := range bffs {
		entry := regexp.MustCompile(`(?m)^(\s+` + regexp.QuoteMeta(name) + `:\s*(?:\{[^}\n]*?\b)?bff:\s*)("[^"]*"|[^,}\s]+)`)
		if !entry.MatchString(text) {
			t.Fatalf("%s/collage.yaml has no frontend %s whose bff the test could replace: write `%s: { bff: … }`", abs, name, name)
		}
		text = entry.ReplaceAllString(text, "${1}"+strings.ReplaceAll(strconv.Quote(target), "$", "$$"))
	}
	p := filepath.Join(t.TempDir(), "collage.yaml")
	if err := os.WriteFile(p, []byte(text), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

// buildDemo builds the demo into a temporary folder.
func buildDemo(t *testing.T) string {
	t.Helper()
	needNodeModules(t)
	dist := filepath.Join(t.TempDir(), "dist")
	var out bytes.Buffer
	m := &Main{BFFs: shop, Stdout: &out, Stderr: &out}
	if err := m.Run(context.Background(), []string{"build", "--root", root, "--out", dist, "--lambda=false"}); err != nil {
		t.Fatalf("collage build: %v\n%s", err, out.String())
	}
	return dist
}

func get(t *testing.T, c *http.Client, url string) (*http.Response, string) {
	t.Helper()
	resp, err := c.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp, string(body)
}

var (
	slotRE   = regexp.MustCompile(`<collage-slot frontend="([a-z0-9-]+)"[^>]*>`)
	assetRE  = regexp.MustCompile(`(?:href|src)="(/assets/[^"]+)"(?: integrity="([^"]+)")?`)
	importRE = regexp.MustCompile(`<script type="importmap" nonce="[^"]+">(.*?)</script>`)
)

// demo are the frontends of the demo shop; a project may add more.
var demo = []string{"header", "catalog", "cart", "recs"}

// hasAll tells whether names holds every name of want.
func hasAll(names, want []string) bool {
	for _, n := range want {
		if !slices.Contains(names, n) {
			return false
		}
	}
	return true
}

// slotFrontends returns the frontend of every slot of html, in order.
func slotFrontends(html string) []string {
	var out []string
	for _, m := range slotRE.FindAllStringSubmatch(html, -1) {
		out = append(out, m[1])
	}
	return out
}

// layoutFrontends returns the frontend of every slot of the repository's
// layout file, in order: what a page of that layout must compose.
func layoutFrontends(t *testing.T, file string) []string {
	t.Helper()
	src, err := os.ReadFile(filepath.Join(root, "layouts", file))
	if err != nil {
		t.Fatal(err)
	}
	return slotFrontends(string(src))
}

// TestDemo serves the built demo and checks every page, asset and BFF route.
func TestDemo(t *testing.T) {
	forEachServer(t, func(t *testing.T, server string) {
		dist := buildDemo(t)
		checkDemo(t, start(t, "serve", "--config", filepath.Join(root, "collage.yaml"), "--dist", dist, "--addr", "127.0.0.1:0", "--server", server))
	})
}

// checkDemo checks every page, asset and BFF route of the demo served at
// url.
func checkDemo(t *testing.T, url string) {
	t.Helper()
	c := &http.Client{Timeout: 10 * time.Second}

	warmComponents(url)
	resp, home := get(t, c, url+"/")
	if resp.StatusCode != 200 {
		t.Fatalf("GET / = %d\n%s", resp.StatusCode, home)
	}
	if got, want := slotFrontends(home), layoutFrontends(t, "home.html"); !slices.Equal(got, want) || !hasAll(got, demo) {
		t.Errorf("slots on / = %v, want those of home.html, %v, among them at least %v", got, want, demo)
	}
	if strings.Contains(home, "data-collage-fallback") {
		t.Errorf("a slot of / fell back:\n%s", home)
	}
	csp := resp.Header.Get("Content-Security-Policy")
	if !strings.Contains(csp, "'nonce-") {
		t.Errorf("CSP %q has no nonce", csp)
	}

	// Every asset the page names loads, with the integrity it claims.
	im := importRE.FindStringSubmatch(home)
	if im == nil {
		t.Fatalf("no import map in /:\n%s", home)
	}
	var imports struct {
		Imports   map[string]string `json:"imports"`
		Integrity map[string]string `json:"integrity"`
	}
	if err := json.Unmarshal([]byte(im[1]), &imports); err != nil {
		t.Fatalf("import map: %v", err)
	}
	specs := []string{"preact", "preact/hooks", "preact/jsx-runtime"}
	frontends, msgs := build.Discover(root, "frontends")
	if len(msgs) > 0 {
		t.Fatalf("frontends: %v", msgs)
	}
	for _, f := range frontends {
		if f.Entry != "" {
			specs = append(specs, "@collage/"+f.Name)
		}
	}
	for _, spec := range specs {
		if imports.Imports[spec] == "" {
			t.Errorf("import map lacks %q", spec)
		}
	}
	assets := map[string]string{}
	for _, m := range assetRE.FindAllStringSubmatch(home, -1) {
		assets[m[1]] = m[2]
	}
	for _, u := range imports.Imports {
		assets[u] = imports.Integrity[u]
	}
	for u, integrity := range assets {
		resp, body := get(t, c, url+u)
		if resp.StatusCode != 200 {
			t.Errorf("GET %s = %d", u, resp.StatusCode)
			continue
		}
		if cc := resp.Header.Get("Cache-Control"); cc != "public, max-age=31536000, immutable" {
			t.Errorf("GET %s Cache-Control = %q", u, cc)
		}
		if integrity == "" {
			t.Errorf("%s has no integrity", u)
		} else if got := build.Integrity([]byte(body)); got != integrity {
			t.Errorf("%s integrity = %s, page says %s", u, got, integrity)
		}
	}

	resp, product := get(t, c, url+"/products/1")
	if resp.StatusCode != 200 || !strings.Contains(product, `frontend="catalog" primary`) {
		t.Errorf("GET /products/1 = %d\n%s", resp.StatusCode, product)
	}
	if resp, body := get(t, c, url+"/products/nope"); resp.StatusCode != 404 {
		t.Errorf("GET /products/nope = %d, want 404\n%s", resp.StatusCode, body)
	}
	if resp, _ := get(t, c, url+"/no/such/page"); resp.StatusCode != 404 {
		t.Errorf("GET /no/such/page = %d, want 404", resp.StatusCode)
	}

	resp, health := get(t, c, url+"/_collage/health")
	if resp.StatusCode != 200 || !strings.Contains(health, `"status":"ok"`) {
		t.Errorf("health = %d %s", resp.StatusCode, health)
	}
}

// TestCartPersistsPerCookie adds to the cart through /bff/cart and reads it
// back with the same cookie, and not with another.
func TestCartPersistsPerCookie(t *testing.T) {
	forEachServer(t, func(t *testing.T, server string) {
		dist := buildDemo(t)
		checkCart(t, start(t, "serve", "--config", filepath.Join(root, "collage.yaml"), "--dist", dist, "--addr", "127.0.0.1:0", "--server", server))
	})
}

// checkCart adds to the cart of the demo served at url, and reads it back
// with the same cookie, and not with another.
func checkCart(t *testing.T, url string) {
	t.Helper()
	jar, _ := cookiejar.New(nil)
	alice := &http.Client{Jar: jar, Timeout: 10 * time.Second}

	resp, err := alice.Post(url+"/bff/cart/items", "application/json", strings.NewReader(`{"productId":"2","qty":3}`))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 200 {
		t.Fatalf("POST /bff/cart/items = %d", resp.StatusCode)
	}
	var cookie *http.Cookie
	for _, c := range resp.Cookies() {
		if c.Name == "collage_cart" {
			cookie = c
		}
	}
	if cookie == nil || !cookie.HttpOnly || cookie.SameSite != http.SameSiteLaxMode {
		t.Fatalf("session cookie = %+v, want HttpOnly SameSite=Lax collage_cart", cookie)
	}
	_, cart := get(t, alice, url+"/bff/cart/cart")
	if !strings.Contains(cart, `"count":3`) {
		t.Errorf("alice's cart = %s, want count 3", cart)
	}
	_, page := get(t, alice, url+"/")
	if !strings.Contains(page, `<span class="cart-count">3</span>`) || !strings.Contains(page, `<span class="cart-item-meta">3 × $18.75</span>`) {
		t.Errorf("alice's page does not show her cart server-side:\n%s", page)
	}
	bob := &http.Client{Timeout: 10 * time.Second}
	if _, cart := get(t, bob, url+"/bff/cart/cart"); !strings.Contains(cart, `"count":0`) {
		t.Errorf("bob's cart = %s, want empty", cart)
	}
	resp, err = alice.Post(url+"/bff/cart/items", "application/json", strings.NewReader(`{"productId":"2","qty":"three"}`))
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 400 || !strings.Contains(string(body), `"field":"qty"`) {
		t.Errorf("bad qty = %d %s, want 400 naming qty", resp.StatusCode, body)
	}
}

// TestBuildSyntaxError checks a TypeScript error is printed like a compiler's
// and the output folder is left as it was.
func TestBuildSyntaxError(t *testing.T) {
	needNodeModules(t)
	abs, _ := filepath.Abs(root)
	proj := t.TempDir()
	if err := os.Symlink(filepath.Join(abs, "node_modules"), filepath.Join(proj, "node_modules")); err != nil {
		t.Fatal(err)
	}
	src := filepath.Join(proj, "frontends", "hello", "src")
	os.MkdirAll(src, 0o755)
	os.WriteFile(filepath.Join(proj, "frontends", "hello", "frontend.json"), []byte(`{"name":"hello","entry":"src/index.tsx"}`), 0o644)
	os.WriteFile(filepath.Join(src, "index.tsx"), []byte("export function mount(el: HTMLElement) {\n  el.textContent = \"hi\";\n}\n"), 0o644)
	dist := filepath.Join(proj, "dist")
	var out bytes.Buffer
	m := &Main{BFFs: shop, Stdout: &out, Stderr: &out}
	if err := m.Run(context.Background(), []string{"build", "--root", proj, "--out", dist}); err != nil {
		t.Fatalf("first build: %v\n%s", err, out.String())
	}
	before, _ := os.ReadFile(filepath.Join(dist, build.IndexFile))

	os.WriteFile(filepath.Join(src, "index.tsx"), []byte("export function mount(el: HTMLElement) {\n  el.textContent = \"hi\" +;\n}\n"), 0o644)
	out.Reset()
	if err := m.Run(context.Background(), []string{"build", "--root", proj, "--out", dist}); err == nil {
		t.Fatal("build of a syntax error succeeded")
	}
	if !strings.Contains(out.String(), "frontends/hello/src/index.tsx:2:26: Unexpected \";\"") {
		t.Errorf("error output does not name file:line:col:\n%s", out.String())
	}
	after, _ := os.ReadFile(filepath.Join(dist, build.IndexFile))
	if !bytes.Equal(before, after) || len(after) == 0 {
		t.Errorf("dist changed after a failed build")
	}
}

// TestBadConfig checks start-up fails with the file and line at fault.
func TestBadConfig(t *testing.T) {
	dir := t.TempDir()
	os.MkdirAll(filepath.Join(dir, "layouts"), 0o755)
	os.WriteFile(filepath.Join(dir, "layouts", "home.html"), []byte("<html><body>\n<collage-slot frontend=\"nope\"></collage-slot>\n</body></html>"), 0o644)
	os.WriteFile(filepath.Join(dir, "collage.yaml"), []byte("routes:\n  /: home.html\nfrontends:\n  header: { bff: \"http://127.0.0.1:1\" }\n"), 0o644)
	var out bytes.Buffer
	m := &Main{BFFs: shop, Stdout: &out, Stderr: &out}
	err := m.Run(context.Background(), []string{"serve", "--config", filepath.Join(dir, "collage.yaml"), "--addr", "127.0.0.1:0", "--data", t.TempDir()})
	if err == nil || !strings.Contains(err.Error(), "home.html:2: unknown frontend \"nope\"") {
		t.Errorf("serve with an unknown frontend: err = %v", err)
	}
}

// TestDev builds and serves the demo in one command.
func TestDev(t *testing.T) {
	forEachServer(t, func(t *testing.T, server string) {
		needNodeModules(t)
		url := start(t, "dev", "--config", filepath.Join(root, "collage.yaml"), "--addr", "127.0.0.1:0", "--server", server, "--set", "recs.delay=1ms")
		resp, body := get(t, &http.Client{Timeout: 10 * time.Second}, url+"/")
		if resp.StatusCode != 200 || !strings.Contains(body, `"@collage/catalog"`) {
			t.Errorf("GET / under dev = %d\n%s", resp.StatusCode, body)
		}
		if resp, _ := get(t, &http.Client{}, url+"/_collage/metrics"); resp.StatusCode != 200 {
			t.Errorf("GET /_collage/metrics = %d", resp.StatusCode)
		}
	})
}

// TestHelp checks every command answers --help.
func TestHelp(t *testing.T) {
	for _, cmd := range []string{"dev", "build", "serve"} {
		var out bytes.Buffer
		m := &Main{BFFs: shop, Stdout: &out, Stderr: &out}
		err := m.Run(context.Background(), []string{cmd, "--help"})
		if !errors.Is(err, flag.ErrHelp) || !strings.Contains(out.String(), "Usage: collage "+cmd) {
			t.Errorf("collage %s --help: err %v\n%s", cmd, err, out.String())
		}
	}
}

// TestServeHTTPFragmentsWithoutDist composes a page from fragments served
// over HTTP, with no client bundle and no dist folder.
func TestServeHTTPFragmentsWithoutDist(t *testing.T) {
	forEachServer(t, func(t *testing.T, server string) {
		var got http.Header
		var mu sync.Mutex
		news := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			mu.Lock()
			got = r.Header.Clone()
			mu.Unlock()
			if r.URL.Path != "/news/_fragment" {
				http.NotFound(w, r)
				return
			}
			fmt.Fprintf(w, "<p>news for %s</p>", r.Header.Get("Collage-Params"))
		}))
		defer news.Close()
		dir := t.TempDir()
		os.MkdirAll(filepath.Join(dir, "layouts"), 0o755)
		os.WriteFile(filepath.Join(dir, "layouts", "page.html"), []byte(
			"<!doctype html><html><head><title>n</title></head><body>"+
				`<collage-slot frontend="news" name="top">no news</collage-slot>`+
				// A refused connection fails at once: a long timeout
				// keeps it from racing the slot's timer on a loaded machine.
				`<collage-slot frontend="down" timeout="10s">down fallback</collage-slot></body></html>`), 0o644)
		os.WriteFile(filepath.Join(dir, "collage.yaml"), []byte(
			"routes:\n  /topics/{topic}: page.html\nfrontends:\n"+
				"  news: { bff: \""+news.URL+"/news\", cookies: [a] }\n"+
				"  down: { bff: \"http://127.0.0.1:1\" }\n"), 0o644)
		url := start(t, "serve", "--config", filepath.Join(dir, "collage.yaml"), "--dist", filepath.Join(dir, "no-dist"), "--addr", "127.0.0.1:0", "--server", server)

		req, _ := http.NewRequest("GET", url+"/topics/go?page=2", nil)
		req.Header.Set("Accept-Language", "de")
		req.Header.Set("Cookie", "a=1; b=2") // news declares a alone
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		page := string(body)
		if resp.StatusCode != 200 || !strings.Contains(page, `<collage-slot frontend="news" name="top"><p>news for topic=go</p></collage-slot>`) ||
			!strings.Contains(page, `data-collage-fallback="error">down fallback</collage-slot>`) {
			t.Fatalf("GET /topics/go = %d\n%s", resp.StatusCode, page)
		}
		if strings.Contains(page, "importmap") {
			t.Errorf("a page with no client bundles has an import map:\n%s", page)
		}
		mu.Lock()
		defer mu.Unlock()
		for k, want := range map[string]string{"Collage-Path": "/topics/go?page=2", "Collage-Slot": "top", "Accept-Language": "de", "Cookie": "a=1"} {
			if got.Get(k) != want {
				t.Errorf("fragment request %s = %q, want %q", k, got.Get(k), want)
			}
		}
		if got.Get("X-Request-Id") == "" {
			t.Errorf("fragment request has no X-Request-Id")
		}
	})
}

// forEachServer runs test once over each HTTP binding --server takes, as
// a subtest named for it.
func forEachServer(t *testing.T, test func(t *testing.T, server string)) {
	t.Helper()
	for _, server := range []string{"fiber", "nethttp"} {
		t.Run(server, func(t *testing.T) { test(t, server) })
	}
}

// TestVersion prints what the binary is, the Go that built it included.
func TestVersion(t *testing.T) {
	var out bytes.Buffer
	m := &Main{BFFs: shop, Stdout: &out, Stderr: &out}
	if err := m.Run(context.Background(), []string{"version"}); err != nil {
		t.Fatal(err)
	}
	if s := out.String(); !strings.HasPrefix(s, "collage ") || !strings.Contains(s, runtime.Version()) || strings.Count(s, "\n") != 1 {
		t.Errorf("collage version printed %q", s)
	}
}
