package components

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/collage-dev/collage/adapters/esbuild"
	"github.com/collage-dev/collage/adapters/quickjs"
	"github.com/collage-dev/collage/bff"
	"github.com/collage-dev/collage/build"
	"github.com/collage-dev/collage/component"
	catalog "github.com/collage-dev/collage/frontends/catalog/bff"
	recs "github.com/collage-dev/collage/frontends/recs/bff"
	"github.com/collage-dev/collage/internal/golden"
)

// root is the repository, whose node_modules the build reads.
const root = "../.."

// built builds the demo's frontends once into a temporary folder.
func built(t *testing.T) (string, *build.Result) {
	t.Helper()
	if _, err := os.Stat(filepath.Join(root, "node_modules", "preact-render-to-string")); err != nil {
		t.Skip("no node_modules/preact-render-to-string: run npm install at the repository root")
	}
	out := t.TempDir()
	res := build.Build(build.Options{Root: root, Out: out, Minify: true}, esbuild.Bundler{})
	if len(res.Errors) > 0 {
		t.Fatalf("build: %v", res.Errors)
	}
	return out, res
}

// serverBundle reads the server bundle of frontend and its source map.
func serverBundle(t *testing.T, out string, res *build.Result, frontend string) (src, smap []byte) {
	t.Helper()
	m := res.Manifests[frontend]
	if m == nil || m.Server == "" {
		t.Fatalf("%s has no server bundle: %+v", frontend, m)
	}
	dir := filepath.Join(out, "assets", frontend, m.Version)
	var err error
	if src, err = os.ReadFile(filepath.Join(dir, m.Server)); err != nil {
		t.Fatal(err)
	}
	if smap, err = os.ReadFile(filepath.Join(dir, m.Server+".map")); err != nil {
		t.Fatal(err)
	}
	return src, smap
}

// fragmentData asks the BFF made by factory for its fragment's data.
func fragmentData(t *testing.T, factory bff.Factory, path string, params url.Values) []byte {
	t.Helper()
	b, err := factory(nil)
	if err != nil {
		t.Fatal(err)
	}
	ans, ok := b.RenderFragment(context.Background(), &bff.FragmentCall{Path: path, Params: params.Encode()})
	if !ok {
		t.Fatal("no fragment")
	}
	if ct := ans.Header.Get("Content-Type"); ct != component.MediaType {
		t.Fatalf("%s: Content-Type %q, want %q", path, ct, component.MediaType)
	}
	return append([]byte(nil), ans.Body...)
}

// TestServerHTMLEqualsNode renders the demo's catalog and recs from their
// server bundles with the data of their BFFs, checks the HTML against the
// golden files, and against what Node makes of the same bundle and data,
// byte for byte.
func TestServerHTMLEqualsNode(t *testing.T) {
	out, res := built(t)
	cases := []struct {
		golden   string
		frontend string
		factory  bff.Factory
		path     string
		params   url.Values
	}{
		{"catalog-home", "catalog", catalog.New, "/", nil},
		{"catalog-category", "catalog", catalog.New, "/?category=desk", nil},
		{"catalog-unknown-category", "catalog", catalog.New, "/?category=%3Cscript%3E", nil},
		{"catalog-product", "catalog", catalog.New, "/products/3", url.Values{"id": {"3"}}},
		{"catalog-not-found", "catalog", catalog.New, "/products/99", url.Values{"id": {"99"}}},
		{"recs-home", "recs", recs.New, "/", nil},
		{"recs-product", "recs", recs.New, "/products/3", url.Values{"id": {"3"}}},
	}
	type nodeCase struct {
		Bundle string `json:"bundle"`
		Data   string `json:"data"`
	}
	pools := map[string]*quickjs.Pool{}
	var inputs []nodeCase
	var got []string
	for _, c := range cases {
		if pools[c.frontend] == nil {
			src, smap := serverBundle(t, out, res, c.frontend)
			p, err := quickjs.New(quickjs.Config{Frontend: c.frontend, Source: src, SourceMap: smap, VMs: 1})
			if err != nil {
				t.Fatal(err)
			}
			defer p.Close()
			pools[c.frontend] = p
		}
		data := fragmentData(t, c.factory, c.path, c.params)
		html, err := pools[c.frontend].Render(context.Background(), data)
		if err != nil {
			t.Fatalf("%s %s: %v", c.frontend, c.path, err)
		}
		golden.Check(t, filepath.Join("testdata", c.golden+".golden.html"), html)
		m := res.Manifests[c.frontend]
		abs, err := filepath.Abs(filepath.Join(out, "assets", c.frontend, m.Version, m.Server))
		if err != nil {
			t.Fatal(err)
		}
		inputs = append(inputs, nodeCase{Bundle: abs, Data: string(data)})
		got = append(got, string(html))
	}
	if _, err := exec.LookPath("node"); err != nil {
		t.Skip("no node on PATH: the HTML was not compared with Node's")
	}
	in, err := json.Marshal(inputs)
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command("node", "-e", nodeRender)
	cmd.Stdin = bytes.NewReader(in)
	cmd.Stderr = os.Stderr
	outJSON, err := cmd.Output()
	if err != nil {
		t.Fatalf("node: %v", err)
	}
	var want []string
	if err := json.Unmarshal(outJSON, &want); err != nil {
		t.Fatalf("node's output: %v", err)
	}
	for i, c := range cases {
		if got[i] != want[i] {
			t.Errorf("%s: QuickJS and Node differ\nquickjs: %s\nnode:    %s", c.golden, got[i], want[i])
		}
	}
}

// nodeRender reads [{bundle, data}] on stdin, loads each server bundle in
// Node and writes what its collageRender returns for data, as a JSON array.
const nodeRender = `
const fs = require("fs");
const vm = require("vm");
const cases = JSON.parse(fs.readFileSync(0, "utf8"));
const loaded = new Map();
const out = cases.map(({ bundle, data }) => {
  let ctx = loaded.get(bundle);
  if (!ctx) {
    ctx = vm.createContext({});
    vm.runInContext(fs.readFileSync(bundle, "utf8"), ctx);
    loaded.set(bundle, ctx);
  }
  return ctx.collageRender(data);
});
process.stdout.write(JSON.stringify(out));
`

// TestFailures renders a component that throws, and one that loops, built
// from testdata/frontends/broken.
func TestFailures(t *testing.T) {
	if _, err := os.Stat(filepath.Join(root, "node_modules", "preact-render-to-string")); err != nil {
		t.Skip("no node_modules/preact-render-to-string: run npm install at the repository root")
	}
	out := t.TempDir()
	res := build.Build(build.Options{Root: root, Frontends: "tests/components/testdata/frontends", Out: out, Minify: true}, esbuild.Bundler{})
	if len(res.Errors) > 0 {
		t.Fatalf("build: %v", res.Errors)
	}
	src, smap := serverBundle(t, out, res, "broken")
	p, err := quickjs.New(quickjs.Config{Frontend: "broken", Source: src, SourceMap: smap, VMs: 1})
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close()

	_, err = p.Render(context.Background(), []byte(`{"boom":true}`))
	var e *component.Error
	if !errors.As(err, &e) || !strings.Contains(e.Message, "the shelf fell over") {
		t.Fatalf("err = %v, want the component's error", err)
	}
	if !strings.Contains(e.Stack, "tests/components/testdata/frontends/broken/src/index.tsx:4:") {
		t.Errorf("the stack does not name the line that threw:\n%s", e.Stack)
	}
	t.Logf("%s\n%s", e.Message, e.Stack)

	ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
	defer cancel()
	if _, err := p.Render(ctx, []byte(`{"spin":true}`)); !errors.As(err, &e) || !e.Interrupted {
		t.Fatalf("err = %v, want an interrupt at the deadline", err)
	}
	if html, err := p.Render(context.Background(), []byte(`{}`)); err != nil || string(html) != `<p class="broken">fine</p>` {
		t.Errorf("after the interrupt: %q, %v", html, err)
	}
}
