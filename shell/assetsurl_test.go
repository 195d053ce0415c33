package shell_test

import (
	"log/slog"
	"net/http"
	"path/filepath"
	"strings"
	"testing"

	"github.com/collage-dev/collage/internal/golden"
	"github.com/collage-dev/collage/shell"
	"github.com/collage-dev/collage/shell/compose"
	"github.com/collage-dev/collage/shell/registry"
	"github.com/collage-dev/collage/shell/runtime"
)

// productShell is the shell of TestHeadGolden with opts' AssetsURL.
func productShell(t *testing.T, assetsURL string) *shell.Shell {
	t.Helper()
	return newShell(t, shell.Options{
		Routes: []shell.Route{{Pattern: "/products/{id}", Layout: parse(t, "product.html", productLayout)}},
		Frontends: map[string]shell.Frontend{
			"header": textBFF("header", "HEADER"), "catalog": textBFF("catalog", "CATALOG"), "recs": textBFF("recs", "RECS"),
		},
		Registry:  registry.New(snapshot()),
		AssetsURL: assetsURL,
		Log:       slog.New(slog.DiscardHandler),
	})
}

func TestHeadGoldenAssetsURL(t *testing.T) {
	t.Parallel()
	sh := productShell(t, "https://cdn.example/shop/")
	_, page := render(t, sh, 0, &compose.Request{Path: "/products/7", Params: "id=7", Nonce: "TEST+NONCE/=="})
	if strings.Contains(page, `"/assets/`) {
		t.Errorf("the page still links same-origin assets:\n%s", page)
	}
	page = strings.ReplaceAll(page, runtime.File, "RUNTIME.js")
	page = strings.ReplaceAll(page, runtime.Integrity, "sha384-RUNTIME")
	golden.Check(t, filepath.Join("testdata", "head-assets-url.golden.html"), []byte(page))
}

func TestAssetsURLForms(t *testing.T) {
	t.Parallel()
	tests := []struct{ in, runtime string }{
		{"", shell.RuntimePath},
		{"https://cdn.example", "https://cdn.example/_collage/" + runtime.File},
		{"https://cdn.example/", "https://cdn.example/_collage/" + runtime.File},
		{"https://CDN.example:8443/a/b", "https://cdn.example:8443/a/b/_collage/" + runtime.File},
		{"http://127.0.0.1:9000/assets/", "http://127.0.0.1:9000/assets/_collage/" + runtime.File},
		{"https://cdn.example/a%20b/", "https://cdn.example/a%20b/_collage/" + runtime.File},
	}
	for _, tt := range tests {
		_, page := render(t, productShell(t, tt.in), 0, &compose.Request{Path: "/products/7", Nonce: "N"})
		if !strings.Contains(page, `<script type="module" src="`+tt.runtime+`"`) {
			t.Errorf("AssetsURL %q: no runtime at %s in\n%s", tt.in, tt.runtime, page)
		}
		if cors := strings.Contains(page, " crossorigin"); cors != (tt.in != "") {
			t.Errorf("AssetsURL %q: crossorigin in the head is %v", tt.in, cors)
		}
	}
}

func TestAssetsURLErrors(t *testing.T) {
	t.Parallel()
	tests := []struct{ in, want string }{
		{"cdn.example/assets", `assets URL "cdn.example/assets": want an absolute http:// or https:// URL`},
		{"/static/", `assets URL "/static/": want an absolute http:// or https:// URL`},
		{"ftp://cdn.example/", `assets URL "ftp://cdn.example/": want an absolute http:// or https:// URL`},
		{"https:///assets", `assets URL "https:///assets": has no host`},
		{"https:cdn.example", `assets URL "https:cdn.example": has no host`},
		{"https://user:pw@cdn.example/", `assets URL "https://user:pw@cdn.example/": must not carry a user or password`},
		{"https://cdn.example/?v=1", `assets URL "https://cdn.example/?v=1": must not have a query`},
		{"https://cdn.example/?", `assets URL "https://cdn.example/?": must not have a query`},
		{"https://cdn.example/#top", `assets URL "https://cdn.example/#top": must not have a fragment`},
		{"https://cdn.example/#", `assets URL "https://cdn.example/#": must not have a fragment`},
		{"https://cdn.example/%zz", `assets URL "https://cdn.example/%zz": parse "https://cdn.example/%zz": invalid URL escape "%zz"`},
	}
	for _, tt := range tests {
		_, err := shell.New(shell.Options{AssetsURL: tt.in})
		if err == nil || err.Error() != tt.want {
			t.Errorf("New(AssetsURL %q) = %v, want %s", tt.in, err, tt.want)
		}
	}
}

func TestAssetsCSP(t *testing.T) {
	t.Parallel()
	if got := shell.AssetsCSP(""); got != shell.DefaultCSP {
		t.Errorf("AssetsCSP(\"\") = %q, want DefaultCSP", got)
	}
	const cdn = "https://cdn.example:8443"
	withCDN := "default-src 'self'; script-src " + cdn + " 'self' 'nonce-{nonce}'; style-src " + cdn + " 'self'; " +
		"img-src " + cdn + " 'self' data:; connect-src 'self'; base-uri 'none'; object-src 'none'; " +
		"frame-ancestors 'self'; form-action 'self'; font-src " + cdn + " 'self'"
	if got := shell.AssetsCSP(cdn); got != withCDN {
		t.Errorf("AssetsCSP = %q\nwant %q", got, withCDN)
	}
	tests := []struct {
		name, assetsURL, csp, want string
	}{
		{"same origin", "", "", shell.DefaultCSP},
		{"assets URL", cdn + "/shop/", "", withCDN},
		{"own policy kept", cdn + "/shop/", "script-src 'nonce-{nonce}' https://elsewhere.example", "script-src 'nonce-{nonce}' https://elsewhere.example"},
	}
	for _, tt := range tests {
		h := shell.NewHandler(productShell(t, tt.assetsURL), shell.EdgeConfig{CSP: tt.csp})
		for range 2 { // the second page takes the policy from the handler's cache
			x := newExchange(http.MethodGet, "/products/7")
			h.Serve(x, x)
			got := x.out.Get("Content-Security-Policy")
			nonce, _, _ := strings.Cut(strings.SplitAfter(got, "'nonce-")[1], "'")
			if x.status != 200 || got != strings.ReplaceAll(tt.want, "{nonce}", nonce) {
				t.Errorf("%s: %d, CSP %q\nwant %q", tt.name, x.status, got, tt.want)
			}
		}
	}
	// A swap to a shell with other assets changes the policy.
	h := shell.NewHandler(productShell(t, cdn+"/"), shell.EdgeConfig{})
	h.Swap(productShell(t, "https://other.example/"))
	x := newExchange(http.MethodGet, "/products/7")
	h.Serve(x, x)
	if got := x.out.Get("Content-Security-Policy"); !strings.Contains(got, "script-src https://other.example 'self'") || strings.Contains(got, cdn) {
		t.Errorf("CSP after a swap = %q", got)
	}
}

func TestAssetsAllowAnyOrigin(t *testing.T) {
	t.Parallel()
	h := shell.NewHandler(productShell(t, ""), shell.EdgeConfig{})
	x := newExchange(http.MethodGet, shell.RuntimePath)
	x.header.Set("Origin", "https://shop.example")
	h.Serve(x, x)
	if got := x.out.Get("Access-Control-Allow-Origin"); x.status != 200 || got != "*" {
		t.Errorf("runtime: %d, Access-Control-Allow-Origin %q, want 200 and *", x.status, got)
	}
}
