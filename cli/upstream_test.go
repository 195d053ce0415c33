package cli

import (
	"encoding/json"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/collage-dev/collage/build"
)

// TestDevUpstream runs collage dev --upstream --only cart on a copy of the
// demo whose cart was edited, against the demo that serve serves: the
// page's cart is the local build, every other frontend is the upstream's
// version, its fragment cut from the upstream's page and its files served
// here with the integrity the upstream's page gives; /bff calls of those
// frontends reach the upstream, and the upstream never serves the local
// cart.
func TestDevUpstream(t *testing.T) {
	dist := buildDemo(t)
	upURL := start(t, "serve", "--config", filepath.Join(root, "collage.yaml"), "--dist", dist, "--addr", "127.0.0.1:0")
	warmComponents(upURL)
	_, upPage := get(t, http.DefaultClient, upURL+"/")

	dir := copyDemo(t)
	// Both are edited here: only the cart's edit may be served.
	for _, f := range []string{"cart/src/CartView.tsx", "catalog/src/views.tsx"} {
		p := filepath.Join(dir, "frontends", filepath.FromSlash(f))
		src, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(string(src)+"\nexport const edited = \"local edit\";\n"), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	url := start(t, "dev", "--config", filepath.Join(dir, "collage.yaml"), "--addr", "127.0.0.1:0",
		"--upstream", upURL, "--only", "cart")
	warmComponents(url)
	_, page := get(t, http.DefaultClient, url+"/")

	upMap, localMap := importMap(t, upPage), importMap(t, page)
	for _, name := range []string{"header", "catalog", "recs"} {
		entry := localMap.Imports["@collage/"+name]
		if entry == "" || entry != upMap.Imports["@collage/"+name] {
			t.Errorf("%s's entry is %q here and %q upstream", name, entry, upMap.Imports["@collage/"+name])
			continue
		}
		if localMap.Integrity[entry] != upMap.Integrity[entry] {
			t.Errorf("%s's integrity is %q here and %q upstream", entry, localMap.Integrity[entry], upMap.Integrity[entry])
		}
		resp, body := get(t, http.DefaultClient, url+entry)
		if resp.StatusCode != 200 || build.Integrity([]byte(body)) != upMap.Integrity[entry] {
			t.Errorf("GET %s here: %d, integrity %s", entry, resp.StatusCode, build.Integrity([]byte(body)))
		}
	}
	// The files a remote stylesheet names are served too.
	named := 0
	for _, css := range regexp.MustCompile(`<link rel="stylesheet" href="(/assets/catalog/[^"]+\.css)"`).FindAllStringSubmatch(page, -1) {
		_, text := get(t, http.DefaultClient, url+css[1])
		for _, ref := range cssURLRE.FindAllStringSubmatch(text, -1) {
			if strings.HasPrefix(ref[1], "data:") {
				continue
			}
			named++
			file := css[1][:strings.LastIndex(css[1], "/")+1] + strings.TrimPrefix(ref[1], "./")
			if resp, _ := get(t, http.DefaultClient, url+file); resp.StatusCode != 200 {
				t.Errorf("GET %s, which the catalog's stylesheet names: %d", file, resp.StatusCode)
			}
		}
	}
	if named == 0 {
		t.Error("the catalog's stylesheets name no file: the check above checks nothing")
	}
	if localMap.Imports["@collage/cart"] == upMap.Imports["@collage/cart"] {
		t.Errorf("the cart's entry %s is the upstream's, not the local build", localMap.Imports["@collage/cart"])
	}
	if _, body := get(t, http.DefaultClient, upURL+localMap.Imports["@collage/cart"]); strings.Contains(body, "local edit") {
		t.Error("the upstream serves the local cart")
	}
	// The catalog's fragment is the upstream's own.
	if got, want := slotOf(t, page, "catalog"), slotOf(t, upPage, "catalog"); got != want || !strings.Contains(got, "catalog-card") {
		t.Errorf("catalog's fragment here:\n%s\nupstream:\n%s", got, want)
	}
	resp, body := get(t, http.DefaultClient, url+"/bff/catalog/products")
	var products struct{ Products []struct{ ID string } }
	if resp.StatusCode != 200 || json.Unmarshal([]byte(body), &products) != nil || len(products.Products) == 0 {
		t.Errorf("GET /bff/catalog/products through dev: %d %s", resp.StatusCode, body)
	}
}

type importMapJSON struct {
	Imports   map[string]string `json:"imports"`
	Integrity map[string]string `json:"integrity"`
}

func importMap(t *testing.T, page string) importMapJSON {
	t.Helper()
	m := importRE.FindStringSubmatch(page)
	if m == nil {
		t.Fatalf("no import map in\n%s", page)
	}
	var im importMapJSON
	if err := json.Unmarshal([]byte(m[1]), &im); err != nil {
		t.Fatal(err)
	}
	return im
}

// slotOf is the content of frontend's first slot in page.
func slotOf(t *testing.T, page, frontend string) string {
	t.Helper()
	m := regexp.MustCompile(`(?s)<collage-slot frontend="` + frontend + `"[^>]*>(.*?)</collage-slot>`).FindStringSubmatch(page)
	if m == nil {
		t.Fatalf("no slot of %s in\n%s", frontend, page)
	}
	return m[1]
}

// TestCutSlot: a fragment is cut from an upstream page, filled in place or
// by an async slot's template; a slot that fell back there is an error.
func TestCutSlot(t *testing.T) {
	t.Parallel()
	page := []byte(`<body><collage-slot frontend="header">H</collage-slot>` +
		`<collage-slot frontend="cart" name="side" data-collage-fallback="timeout">fallback</collage-slot>` +
		`<collage-slot frontend="cart" name="main">C</collage-slot>` +
		`<collage-slot frontend="recs" async data-collage-async="3">R fallback</collage-slot>` +
		`<collage-slot frontend="news" async data-collage-async="4">N fallback</collage-slot>` +
		`<template data-collage-fill="3"><p>R</p></template><script>…</script>` +
		`<template data-collage-fill="4" data-collage-fallback="error"></template></body>`)
	for _, tt := range []struct {
		frontend, slot, want, err string
	}{
		{"header", "", "H", ""},
		{"cart", "main", "C", ""},
		{"cart", "side", "", "its cart slot fell back"},
		{"cart", "", "", `it has no slot of frontend cart named ""`},
		{"recs", "", "<p>R</p>", ""},
		{"news", "", "", "its news slot fell back"},
	} {
		got, err := cutSlot(page, tt.frontend, tt.slot)
		if string(got) != tt.want || (err == nil) != (tt.err == "") || err != nil && err.Error() != tt.err {
			t.Errorf("cutSlot(%s, %q) = %q, %v; want %q, %q", tt.frontend, tt.slot, got, err, tt.want, tt.err)
		}
	}
}
