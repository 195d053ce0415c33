package edgetest

import (
	"context"
	"encoding/json"
	"errors"
	"html/template"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/collage-dev/collage/bff"
	"github.com/collage-dev/collage/build"
	"github.com/collage-dev/collage/shell"
	"github.com/collage-dev/collage/shell/invoke"
	"github.com/collage-dev/collage/shell/layout"
	"github.com/collage-dev/collage/shell/registry"
	"github.com/collage-dev/collage/shell/runtime"
)

// call is what the cart BFF saw of one /bff request.
type call struct {
	method, path, rawPath, query, body string
	header                             http.Header
}

// fixture is a shell with three frontends: catalog (a fragment that is the
// primary of /products/{id}), header, and cart (a BFF API that records its
// calls).
type fixture struct {
	app *app

	mu    sync.Mutex
	calls []call
	frag  []*bff.FragmentRequest
	fragH []http.Header
}

func (f *fixture) lastCall(t *testing.T) call {
	t.Helper()
	f.mu.Lock()
	defer f.mu.Unlock()
	if len(f.calls) == 0 {
		t.Fatal("the BFF was not called")
	}
	return f.calls[len(f.calls)-1]
}

const productLayout = "<!doctype html><html><head><title>p</title></head><body>\n" +
	"<collage-slot frontend=header>h</collage-slot>\n" +
	"<collage-slot frontend=catalog primary>catalog is down</collage-slot>\n" +
	"</body></html>"

func (su suite) newFixture(t *testing.T, cfg shell.EdgeConfig) *fixture {
	t.Helper()
	return su.newFixtureOf(t, cfg, &registry.Snapshot{Revision: 7, Frontends: map[string]*build.Manifest{
		"catalog": {Name: "catalog", Version: "v1", Entry: "catalog-AB.js", Files: map[string]build.File{"catalog-AB.js": {Size: 1, Integrity: "sha384-x"}}},
	}, Versions: map[string]string{"catalog": "1.0.0"}})
}

// newFixtureOf is newFixture serving the versions of snap.
func (su suite) newFixtureOf(t *testing.T, cfg shell.EdgeConfig, snap *registry.Snapshot) *fixture {
	t.Helper()
	f := &fixture{}

	catalog := bff.New("catalog")
	catalog.Log = slog.New(slog.DiscardHandler)
	tmpl := template.Must(template.New("").Parse(`<h1>{{.}}</h1>`))
	bff.Fragment(catalog, tmpl, func(ctx context.Context, r *bff.FragmentRequest) (string, error) {
		f.mu.Lock()
		f.frag = append(f.frag, r)
		f.fragH = append(f.fragH, http.Header{
			"Cookie":          {bff.Header(ctx, "Cookie")},
			"Accept-Language": {bff.Header(ctx, "Accept-Language")},
			"X-Request-Id":    {bff.Header(ctx, "X-Request-Id")},
		})
		f.mu.Unlock()
		switch id := r.Param("id"); id {
		case "missing":
			return "", bff.NotFound("no product %s", id)
		case "old":
			return "", bff.Redirect(http.StatusMovedPermanently, "/products/new")
		default:
			bff.SetCookie(ctx, &http.Cookie{Name: "seen", Value: "1"})
			return "product " + id, nil
		}
	})

	cart := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		f.mu.Lock()
		f.calls = append(f.calls, call{r.Method, r.URL.Path, r.URL.RawPath, r.URL.RawQuery, string(body), r.Header.Clone()})
		f.mu.Unlock()
		w.Header().Add("Set-Cookie", "cart=42; Path=/; HttpOnly")
		w.Header().Add("Set-Cookie", "lang=de; Path=/")
		w.Header().Add("Set-Cookie", "cart=; Path=/old; Max-Age=0")
		w.Header().Set("X-Cart", "yes")
		w.Header().Add("Link", "</a.js>; rel=preload")
		w.Header().Add("Link", "</b.js>; rel=preload")
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusCreated)
		io.WriteString(w, `{"items":1}`)
	})

	parse := func(name, src string) *layout.Layout {
		l, err := layout.Parse(name, []byte(src))
		if err != nil {
			t.Fatal(err)
		}
		return l
	}
	header := bff.New("header")
	bff.Fragment(header, template.Must(template.New("").Parse(`<nav>{{.}}</nav>`)), func(context.Context, *bff.FragmentRequest) (string, error) {
		return "menu", nil
	})
	sh, err := shell.New(shell.Options{
		Routes: []shell.Route{
			{Pattern: "/", Layout: parse("home.html", "<head></head><body><collage-slot frontend=header>h</collage-slot></body>")},
			{Pattern: "/products/{id}", Layout: parse("product.html", productLayout)},
		},
		Frontends: map[string]shell.Frontend{
			"catalog": {Invoker: invoke.Local(catalog), Cookies: []string{"session", "seen"}},
			"header":  {Invoker: invoke.Local(header)},
			"cart":    {Invoker: invoke.Local(cart), Cookies: []string{"session", "theme", "cart", "lang"}, Headers: []string{"Authorization"}},
			"down":    {Invoker: failing{}},
		},
		Registry: registry.New(snap),
		// Every fragment here answers at once; a wide window makes sure
		// each page leaves whole even on a loaded machine.
		Coalesce: time.Minute,
		Log:      slog.New(slog.DiscardHandler),
	})
	if err != nil {
		t.Fatal(err)
	}
	f.app = su.newApp(t, sh, cfg)
	return f
}

type failing struct{}

func (failing) RoundTrip(*http.Request) (*http.Response, error) {
	return nil, errors.New("dial tcp 10.0.0.1:443: i/o timeout")
}

// do sends req through the app, without a socket, and reads the body.
func do(t *testing.T, app *app, req *http.Request) (*http.Response, string) {
	t.Helper()
	resp, err := app.Test(req, 10_000)
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

var nonceRE = regexp.MustCompile(`script-src 'self' 'nonce-([A-Za-z0-9+/=]+)'`)

func (su suite) TestPage(t *testing.T) {
	t.Parallel()
	f := su.newFixture(t, shell.EdgeConfig{})
	req := httptest.NewRequest(http.MethodGet, "/products/7?ref=home", nil)
	req.Header.Set("Cookie", "session=abc")
	req.Header.Set("Accept-Language", "fr")
	resp, body := do(t, f.app, req)
	if resp.StatusCode != 200 {
		t.Fatalf("status = %d: %s", resp.StatusCode, body)
	}
	if ct := resp.Header.Get("Content-Type"); ct != "text/html; charset=utf-8" {
		t.Errorf("Content-Type = %q", ct)
	}
	m := nonceRE.FindStringSubmatch(resp.Header.Get("Content-Security-Policy"))
	if m == nil {
		t.Fatalf("CSP %q has no nonce", resp.Header.Get("Content-Security-Policy"))
	}
	if n := strings.Count(body, `nonce="`+m[1]+`"`); n != 2 {
		t.Errorf("the CSP nonce %q appears %d times in the page, want 2 (import map and runtime):\n%s", m[1], n, body)
	}
	if strings.Count(body, "nonce=") != 2 {
		t.Errorf("some script has another nonce:\n%s", body)
	}
	for k, want := range map[string]string{"X-Content-Type-Options": "nosniff", "Cache-Control": "no-store", "Set-Cookie": "seen=1"} {
		if got := resp.Header.Get(k); got != want {
			t.Errorf("%s = %q, want %q", k, got, want)
		}
	}
	// Both fragments answer at once: the page leaves whole, with a length,
	// and Server-Timing has every slot.
	if st := resp.Header.Get("Server-Timing"); !strings.Contains(st, `slot-0-header;desc="ok"`) || !strings.Contains(st, `slot-1-catalog;desc="ok"`) {
		t.Errorf("Server-Timing = %q", st)
	}
	if resp.ContentLength != int64(len(body)) || len(resp.TransferEncoding) != 0 {
		t.Errorf("a page composed at once has Content-Length %d and Transfer-Encoding %q, want %d and none", resp.ContentLength, resp.TransferEncoding, len(body))
	}
	for _, want := range []string{
		`<meta name="collage-params" content="id=7">`,
		`"@collage/catalog":"/assets/catalog/v1/catalog-AB.js"`,
		`<script type="module" src="` + shell.RuntimePath + `"`,
		`<collage-slot frontend="header"><nav>menu</nav></collage-slot>`,
		`<collage-slot frontend="catalog" primary><h1>product 7</h1></collage-slot>`,
	} {
		if !strings.Contains(body, want) {
			t.Errorf("page lacks %s:\n%s", want, body)
		}
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	fr, h := f.frag[0], f.fragH[0]
	if fr.Path != "/products/7" || fr.Query.Get("ref") != "home" || fr.Param("id") != "7" {
		t.Errorf("the fragment saw path %q query %v params %v", fr.Path, fr.Query, fr.Params)
	}
	if h.Get("Cookie") != "session=abc" || h.Get("Accept-Language") != "fr" || h.Get("X-Request-Id") != resp.Header.Get("X-Request-Id") || h.Get("X-Request-Id") == "" {
		t.Errorf("the fragment saw headers %v (response X-Request-Id %q)", h, resp.Header.Get("X-Request-Id"))
	}
}

func (su suite) TestNonceIsPerResponse(t *testing.T) {
	t.Parallel()
	f := su.newFixture(t, shell.EdgeConfig{})
	seen := map[string]bool{}
	for range 3 {
		resp, _ := do(t, f.app, httptest.NewRequest(http.MethodGet, "/", nil))
		m := nonceRE.FindStringSubmatch(resp.Header.Get("Content-Security-Policy"))
		if m == nil || len(m[1]) < 16 || seen[m[1]] {
			t.Fatalf("nonce %v is missing, short or repeated", m)
		}
		seen[m[1]] = true
	}
}

func (su suite) TestCustomCSP(t *testing.T) {
	t.Parallel()
	f := su.newFixture(t, shell.EdgeConfig{CSP: "script-src 'nonce-{nonce}' https://cdn.example"})
	resp, body := do(t, f.app, httptest.NewRequest(http.MethodGet, "/products/7", nil))
	m := regexp.MustCompile(`^script-src 'nonce-([^']+)' https://cdn.example$`).FindStringSubmatch(resp.Header.Get("Content-Security-Policy"))
	if m == nil || !strings.Contains(body, `nonce="`+m[1]+`"`) {
		t.Errorf("CSP = %q, page:\n%s", resp.Header.Get("Content-Security-Policy"), body)
	}
}

func (su suite) TestPageParamsAreDecoded(t *testing.T) {
	t.Parallel()
	f := su.newFixture(t, shell.EdgeConfig{})
	resp, body := do(t, f.app, httptest.NewRequest(http.MethodGet, "/products/caf%C3%A9%20au%20lait", nil))
	if resp.StatusCode != 200 {
		t.Fatalf("status = %d", resp.StatusCode)
	}
	f.mu.Lock()
	id := f.frag[0].Param("id")
	f.mu.Unlock()
	if id != "café au lait" {
		t.Errorf("the BFF saw id %q, want %q", id, "café au lait")
	}
	if !strings.Contains(body, `<meta name="collage-params" content="id=caf%C3%A9+au+lait">`) {
		t.Errorf("params meta:\n%s", body)
	}
}

func (su suite) TestPrimaryStatus(t *testing.T) {
	t.Parallel()
	f := su.newFixture(t, shell.EdgeConfig{})
	resp, body := do(t, f.app, httptest.NewRequest(http.MethodGet, "/products/missing", nil))
	if resp.StatusCode != 404 {
		t.Errorf("status = %d, want the primary slot's 404", resp.StatusCode)
	}
	if !strings.Contains(body, `<collage-slot frontend="catalog" primary><p class="collage-error" role="alert">no product missing</p></collage-slot>`) ||
		!strings.HasPrefix(body, "<!doctype html>") || resp.Header.Get("Content-Type") != "text/html; charset=utf-8" {
		t.Errorf("404 page (%s):\n%s", resp.Header.Get("Content-Type"), body)
	}

	resp, body = do(t, f.app, httptest.NewRequest(http.MethodGet, "/products/old", nil))
	if resp.StatusCode != 301 || resp.Header.Get("Location") != "/products/new" || body != "" {
		t.Errorf("redirect = %d Location %q body %q", resp.StatusCode, resp.Header.Get("Location"), body)
	}
}

func (su suite) TestUnknownPath(t *testing.T) {
	t.Parallel()
	f := su.newFixture(t, shell.EdgeConfig{})
	resp, body := do(t, f.app, httptest.NewRequest(http.MethodGet, "/nowhere", nil))
	if resp.StatusCode != 404 || resp.Header.Get("Content-Type") != "application/json" ||
		body != `{"error":{"code":"not_found","message":"Cannot GET /nowhere"}}` {
		t.Errorf("status %d %s: %s", resp.StatusCode, resp.Header.Get("Content-Type"), body)
	}
}

func (su suite) TestBFFProxy(t *testing.T) {
	t.Parallel()
	f := su.newFixture(t, shell.EdgeConfig{})
	req := httptest.NewRequest(http.MethodPost, "/bff/cart/x?y=1&z=a%20b", strings.NewReader(`{"qty":2}`))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Cookie", "session=abc; theme=dark")
	req.Header.Set("Traceparent", "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01")
	req.Header.Set("X-Request-Id", "req-7")
	req.Header.Set("Authorization", "Bearer t")
	req.Header.Set("X-Private", "not forwarded")
	resp, body := do(t, f.app, req)
	if resp.StatusCode != http.StatusCreated || body != `{"items":1}` {
		t.Errorf("response %d %q", resp.StatusCode, body)
	}
	if got, want := resp.Header.Values("Set-Cookie"), []string{"cart=42; Path=/; HttpOnly", "lang=de; Path=/", "cart=; Path=/old; Max-Age=0"}; strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("Set-Cookie = %q, want %q, each a header of its own", got, want)
	}
	// Both values, in order: as two fields, or joined into one as HTTP
	// allows (a payload-2.0 answer has one value per header name).
	if got := strings.Join(resp.Header.Values("Link"), ", "); got != "</a.js>; rel=preload, </b.js>; rel=preload" {
		t.Errorf("Link = %q, want both values", resp.Header.Values("Link"))
	}
	if resp.Header.Get("X-Cart") != "yes" || resp.Header.Get("Content-Type") != "application/json" {
		t.Errorf("headers = %v", resp.Header)
	}
	c := f.lastCall(t)
	if c.method != http.MethodPost || c.path != "/x" || c.query != "y=1&z=a%20b" || c.body != `{"qty":2}` {
		t.Errorf("the BFF saw %s %s ? %s body %q", c.method, c.path, c.query, c.body)
	}
	for k, want := range map[string]string{
		"Cookie": "session=abc; theme=dark", "Content-Type": "application/json", "X-Request-Id": "req-7",
		"Traceparent": "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01", "Authorization": "Bearer t", "X-Private": "",
	} {
		if got := c.header.Get(k); got != want {
			t.Errorf("the BFF saw %s = %q, want %q", k, got, want)
		}
	}
}

func (su suite) TestBFFProxyPaths(t *testing.T) {
	t.Parallel()
	f := su.newFixture(t, shell.EdgeConfig{})
	tests := []struct{ target, path, rawPath string }{
		{"/bff/cart", "/", ""},
		{"/bff/cart/", "/", ""},
		{"/bff/cart/items/7", "/items/7", ""},
		{"/bff/cart/items/a%20b", "/items/a b", ""},
		{"/bff/cart/items/a%2Fb", "/items/a/b", "/items/a%2Fb"},
	}
	for _, tt := range tests {
		resp, _ := do(t, f.app, httptest.NewRequest(http.MethodGet, tt.target, nil))
		if resp.StatusCode != http.StatusCreated {
			t.Errorf("%s: status %d", tt.target, resp.StatusCode)
			continue
		}
		if c := f.lastCall(t); c.path != tt.path || c.rawPath != tt.rawPath || c.method != http.MethodGet {
			t.Errorf("%s reached the BFF as %s %q (raw %q), want %q (raw %q)", tt.target, c.method, c.path, c.rawPath, tt.path, tt.rawPath)
		}
	}
}

func (su suite) TestBFFErrors(t *testing.T) {
	t.Parallel()
	f := su.newFixture(t, shell.EdgeConfig{})
	tests := []struct {
		target string
		status int
		code   string
		msg    string
	}{
		{"/bff/nope/x", 404, "not_found", "no frontend called nope"},
		{"/bff/down/x", 502, "bad_gateway", "Bad Gateway"},
		{"/bff/cart/%2e%2e/admin", 400, "bad_request", "the path may not hold . or .. segments"},
		{"/bff/cart/a/./b", 400, "bad_request", "the path may not hold . or .. segments"},
	}
	for _, tt := range tests {
		resp, body := do(t, f.app, httptest.NewRequest(http.MethodGet, tt.target, nil))
		var got struct {
			Error struct{ Code, Message string } `json:"error"`
		}
		if err := json.Unmarshal([]byte(body), &got); err != nil {
			t.Errorf("%s: body %q is not JSON: %v", tt.target, body, err)
		}
		if resp.StatusCode != tt.status || got.Error.Code != tt.code || got.Error.Message != tt.msg ||
			!strings.HasPrefix(resp.Header.Get("Content-Type"), "application/json") {
			t.Errorf("%s = %d %s %s, want %d %s %q", tt.target, resp.StatusCode, resp.Header.Get("Content-Type"), body, tt.status, tt.code, tt.msg)
		}
		if strings.Contains(body, "10.0.0.1") {
			t.Errorf("%s: internal detail reached the browser: %s", tt.target, body)
		}
	}
}

func (su suite) TestHealth(t *testing.T) {
	t.Parallel()
	f := su.newFixture(t, shell.EdgeConfig{})
	resp, body := do(t, f.app, httptest.NewRequest(http.MethodGet, "/_collage/health", nil))
	var got struct {
		Status    string            `json:"status"`
		Revision  uint64            `json:"revision"`
		Frontends map[string]string `json:"frontends"`
		Routes    int               `json:"routes"`
	}
	if err := json.Unmarshal([]byte(body), &got); err != nil {
		t.Fatalf("body %q: %v", body, err)
	}
	if resp.StatusCode != 200 || !strings.HasPrefix(resp.Header.Get("Content-Type"), "application/json") ||
		got.Status != "ok" || got.Routes != 2 || got.Revision != 7 || len(got.Frontends) != 1 || got.Frontends["catalog"] != "1.0.0" {
		t.Errorf("health = %d %s %s", resp.StatusCode, resp.Header.Get("Content-Type"), body)
	}
}

func (su suite) TestRuntime(t *testing.T) {
	t.Parallel()
	f := su.newFixture(t, shell.EdgeConfig{}) // no assets folder: the runtime is still served
	resp, body := do(t, f.app, httptest.NewRequest(http.MethodGet, shell.RuntimePath, nil))
	if resp.StatusCode != 200 || body != string(runtime.Source()) {
		t.Fatalf("runtime: %d, %d bytes", resp.StatusCode, len(body))
	}
	if ct := resp.Header.Get("Content-Type"); !strings.Contains(ct, "javascript") {
		t.Errorf("Content-Type = %q", ct)
	}
	if cc := resp.Header.Get("Cache-Control"); cc != "public, max-age=31536000, immutable" {
		t.Errorf("Cache-Control = %q", cc)
	}
	if build.Integrity([]byte(body)) != runtime.Integrity {
		t.Errorf("the served runtime does not match the integrity in the head")
	}
	resp, _ = do(t, f.app, httptest.NewRequest(http.MethodGet, "/assets/catalog/v1/catalog-AB.js", nil))
	if resp.StatusCode != 404 {
		t.Errorf("without an assets folder, other assets = %d, want 404", resp.StatusCode)
	}
}

func (su suite) TestMetrics(t *testing.T) {
	t.Parallel()
	f := su.newFixture(t, shell.EdgeConfig{Metrics: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.WriteString(w, "pages_total 1\n")
	})})
	resp, body := do(t, f.app, httptest.NewRequest(http.MethodGet, "/_collage/metrics", nil))
	if resp.StatusCode != 200 || body != "pages_total 1\n" {
		t.Errorf("metrics = %d %q", resp.StatusCode, body)
	}
	g := su.newFixture(t, shell.EdgeConfig{})
	if resp, _ := do(t, g.app, httptest.NewRequest(http.MethodGet, "/_collage/metrics", nil)); resp.StatusCode != 404 {
		t.Errorf("metrics without a handler = %d, want 404", resp.StatusCode)
	}
}

func (su suite) TestHeadRequest(t *testing.T) {
	t.Parallel()
	f := su.newFixture(t, shell.EdgeConfig{})
	get, getBody := do(t, f.app, httptest.NewRequest(http.MethodGet, "/products/7", nil))
	head, body := do(t, f.app, httptest.NewRequest(http.MethodHead, "/products/7", nil))
	if head.StatusCode != 200 || body != "" || getBody == "" {
		t.Errorf("HEAD = %d with %d bytes", head.StatusCode, len(body))
	}
	for _, k := range []string{"Content-Type", "Cache-Control", "X-Content-Type-Options", "Set-Cookie"} {
		if head.Header.Get(k) != get.Header.Get(k) {
			t.Errorf("HEAD %s = %q, GET %s = %q", k, head.Header.Get(k), k, get.Header.Get(k))
		}
	}
	if head, _ := do(t, f.app, httptest.NewRequest(http.MethodHead, "/products/missing", nil)); head.StatusCode != 404 {
		t.Errorf("HEAD of a missing product = %d, want 404", head.StatusCode)
	}
}

func (su suite) TestPageWithoutBundles(t *testing.T) {
	t.Parallel()
	f := su.newFixture(t, shell.EdgeConfig{})
	resp, body := do(t, f.app, httptest.NewRequest(http.MethodGet, "/", nil))
	// header has no client bundle: nothing to mount, so no script at all.
	if want := `<head></head><body><collage-slot frontend="header"><nav>menu</nav></collage-slot></body>`; resp.StatusCode != 200 || body != want {
		t.Errorf("page = %d\n got %s\nwant %s", resp.StatusCode, body, want)
	}
	if nonceRE.FindString(resp.Header.Get("Content-Security-Policy")) == "" {
		t.Errorf("CSP = %q", resp.Header.Get("Content-Security-Policy"))
	}
}

// slow answers a fragment after a delay, as an upstream that takes its time.
type slow struct{ delay time.Duration }

func (s slow) RoundTrip(r *http.Request) (*http.Response, error) {
	select {
	case <-time.After(s.delay):
		return invoke.NewResponse(r, http.StatusOK, http.Header{}, []byte("<p>late</p>")), nil
	case <-r.Context().Done():
		return nil, r.Context().Err()
	}
}

// TestSlowPageStreams: a slot that is not there within the composer's
// coalescing window makes the page stream, in chunks, head first.
func (su suite) TestSlowPageStreams(t *testing.T) {
	t.Parallel()
	l, err := layout.Parse("slow.html", []byte("<head></head><body><collage-slot frontend=late>fb</collage-slot></body>"))
	if err != nil {
		t.Fatal(err)
	}
	sh, err := shell.New(shell.Options{
		Routes:    []shell.Route{{Pattern: "/", Layout: l}},
		Frontends: map[string]shell.Frontend{"late": {Invoker: slow{50 * time.Millisecond}}},
		Log:       slog.New(slog.DiscardHandler),
	})
	if err != nil {
		t.Fatal(err)
	}
	resp, body := do(t, su.newApp(t, sh, shell.EdgeConfig{}), httptest.NewRequest(http.MethodGet, "/", nil))
	if resp.StatusCode != 200 || !strings.Contains(body, `<collage-slot frontend="late"><p>late</p></collage-slot></body>`) {
		t.Fatalf("status %d, page:\n%s", resp.StatusCode, body)
	}
	if len(resp.TransferEncoding) != 1 || resp.TransferEncoding[0] != "chunked" {
		t.Errorf("Transfer-Encoding = %q, want chunked", resp.TransferEncoding)
	}
	if st := resp.Header.Get("Server-Timing"); !strings.HasPrefix(st, "compose;dur=") {
		t.Errorf("Server-Timing = %q, want the compose time only: the slot was not known when the headers left", st)
	}
}
