package build_test

import (
	"errors"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"reflect"
	"sort"
	"strings"
	"testing"

	"github.com/collage-dev/collage/build"
)

// fake is a build.Bundler that writes fixed files, or fails for the
// frontends named in fail.
type fake struct {
	fail   map[string][]build.Message
	shared []string          // the specifiers it was asked to share
	extra  map[string]string // more files of every frontend, by name
}

func (f *fake) BundleShared(root string, specs []string, dir string, minify bool) (map[string]string, []build.Message) {
	f.shared = specs
	if msgs := f.fail[build.SharedName]; msgs != nil {
		return nil, msgs
	}
	os.MkdirAll(dir, 0o755)
	imports := map[string]string{}
	for _, s := range specs {
		name := strings.ReplaceAll(s, "/", "-") + ".js"
		os.WriteFile(filepath.Join(dir, name), []byte("export * from '"+s+"'"), 0o644)
		imports[s] = name
	}
	return imports, nil
}

func (f *fake) BundleFrontend(root string, fe build.Frontend, shared []string, dir string, minify bool) (build.Bundle, []build.Message) {
	if msgs := f.fail[fe.Name]; msgs != nil {
		os.MkdirAll(dir, 0o755)
		os.WriteFile(filepath.Join(dir, "partial.js"), []byte("half"), 0o644)
		return build.Bundle{}, msgs
	}
	src, err := os.ReadFile(filepath.Join(root, fe.Dir, fe.Entry))
	if err != nil {
		return build.Bundle{}, []build.Message{{File: fe.Dir, Text: err.Error()}}
	}
	os.MkdirAll(filepath.Join(dir, "sub"), 0o755)
	os.WriteFile(filepath.Join(dir, fe.Name+".js"), src, 0o644)
	os.WriteFile(filepath.Join(dir, fe.Name+".css"), []byte("a{}"), 0o644)
	os.WriteFile(filepath.Join(dir, "sub", "chunk.js"), []byte("chunk"), 0o644)
	for name, data := range f.extra {
		os.WriteFile(filepath.Join(dir, name), []byte(data), 0o644)
	}
	return build.Bundle{Entry: fe.Name + ".js", CSS: []string{fe.Name + ".css"}, Preload: []string{"sub/chunk.js"}, Shared: []string{"preact"}}, nil
}

func write(t *testing.T, root string, files map[string]string) {
	t.Helper()
	for name, data := range files {
		p := filepath.Join(root, filepath.FromSlash(name))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(data), 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

func project(t *testing.T) string {
	t.Helper()
	root := t.TempDir()
	write(t, root, map[string]string{
		"frontends/cart/frontend.json":   `{"name": "cart", "entry": "src/index.ts"}`,
		"frontends/cart/src/index.ts":    "cart v1",
		"frontends/recs/frontend.json":   `{"name": "recs", "entry": "index.ts"}`,
		"frontends/recs/index.ts":        "recs v1",
		"frontends/header/frontend.json": `{"name": "header"}`,
		"frontends/notes/README.md":      "a folder without frontend.json is not a frontend",
		"frontends/stray.json":           "{}",
	})
	return root
}

func TestBuildWithFakeBundler(t *testing.T) {
	t.Parallel()
	root := project(t)
	b := &fake{}
	res := build.Build(build.Options{Root: root}, b)
	if len(res.Errors) > 0 {
		t.Fatal(res.Errors)
	}
	if !reflect.DeepEqual(b.shared, build.DefaultShared) {
		t.Errorf("shared = %q, want the default", b.shared)
	}
	if len(res.Index.Frontends) != 2 || res.Index.Frontends["header"] != "" {
		t.Errorf("index = %+v, want cart and recs (header has no entry)", res.Index)
	}
	cart := res.Manifests["cart"]
	dir := filepath.Join(root, "dist", "assets", "cart", cart.Version)
	want := map[string]string{"cart.js": "cart v1", "cart.css": "a{}", "sub/chunk.js": "chunk"}
	if len(cart.Files) != len(want) {
		t.Errorf("files = %v", cart.Files)
	}
	for name, data := range want {
		f := cart.Files[name]
		if f.Size != int64(len(data)) || f.Integrity != build.Integrity([]byte(data)) || f.Gzip <= 0 {
			t.Errorf("%s = %+v", name, f)
		}
		if got, err := os.ReadFile(filepath.Join(dir, filepath.FromSlash(name))); err != nil || string(got) != data {
			t.Errorf("%s on disk = %q, %v", name, got, err)
		}
	}
	if cart.Entry != "cart.js" || !reflect.DeepEqual(cart.CSS, []string{"cart.css"}) || !reflect.DeepEqual(cart.Preload, []string{"sub/chunk.js"}) {
		t.Errorf("manifest = %+v", cart)
	}
	if m, err := build.ReadManifest(dir); err != nil || !reflect.DeepEqual(m, cart) {
		t.Errorf("manifest on disk = %+v, %v", m, err)
	}
	if idx, err := build.ReadIndex(filepath.Join(root, "dist")); err != nil || !reflect.DeepEqual(idx, res.Index) {
		t.Errorf("index on disk = %+v, %v", idx, err)
	}

	// Rebuilt unchanged, the versions stay; a changed frontend alone moves.
	write(t, root, map[string]string{"frontends/recs/index.ts": "recs v2"})
	again := build.Build(build.Options{Root: root}, &fake{})
	if len(again.Errors) > 0 {
		t.Fatal(again.Errors)
	}
	if again.Index.Frontends["cart"] != res.Index.Frontends["cart"] || again.Index.Shared != res.Index.Shared {
		t.Errorf("unchanged versions moved: %+v → %+v", res.Index, again.Index)
	}
	if again.Index.Frontends["recs"] == res.Index.Frontends["recs"] {
		t.Errorf("recs changed but kept version %s", res.Index.Frontends["recs"])
	}
	if _, err := os.Stat(filepath.Join(root, "dist", "assets", "recs", res.Index.Frontends["recs"])); !os.IsNotExist(err) {
		t.Errorf("the output folder is not replaced whole: the old recs version is still there (%v)", err)
	}
}

func TestBuildFailureLeavesOutput(t *testing.T) {
	t.Parallel()
	root := project(t)
	first := build.Build(build.Options{Root: root, Out: "out"}, &fake{})
	if len(first.Errors) > 0 {
		t.Fatal(first.Errors)
	}
	before, _ := os.ReadFile(filepath.Join(root, "out", build.IndexFile))
	msgs := []build.Message{{File: "frontends/recs/index.ts", Line: 3, Column: 7, Text: "Unexpected end of file"}}
	res := build.Build(build.Options{Root: root, Out: "out"}, &fake{fail: map[string][]build.Message{"recs": msgs}})
	if !reflect.DeepEqual(res.Errors, msgs) || res.Index != nil {
		t.Errorf("errors = %v, index = %v", res.Errors, res.Index)
	}
	after, _ := os.ReadFile(filepath.Join(root, "out", build.IndexFile))
	if string(before) != string(after) {
		t.Errorf("a failed build changed the index")
	}
	entries, _ := os.ReadDir(root)
	if len(entries) != 2 {
		t.Errorf("project holds %v after a failed build, want frontends and out", entries)
	}
}

func TestBuildOnly(t *testing.T) {
	t.Parallel()
	root := project(t)
	// Another team's broken frontend.json and broken source do not stop
	// this one's build.
	write(t, root, map[string]string{"frontends/bad/frontend.json": "{"})
	b := &fake{fail: map[string][]build.Message{"recs": {{Text: "recs is broken"}}}}
	res := build.Build(build.Options{Root: root, Only: "cart"}, b)
	if len(res.Errors) > 0 {
		t.Fatal(res.Errors)
	}
	if len(res.Index.Frontends) != 1 || res.Manifests["cart"] == nil || res.Manifests[build.SharedName] == nil {
		t.Errorf("index = %+v, want cart and the shared dependencies alone", res.Index)
	}
	for _, tc := range []struct{ only, want string }{
		{"bad", "frontends/bad/frontend.json: unexpected end of JSON input"},
		{"nope", `frontends/nope: no frontend "nope": want frontends/nope/frontend.json`},
	} {
		res := build.Build(build.Options{Root: root, Only: tc.only}, &fake{})
		if len(res.Errors) != 1 || res.Errors[0].String() != tc.want {
			t.Errorf("Only %s: errors = %v, want %s", tc.only, res.Errors, tc.want)
		}
	}
}

func TestBuildOnlyShared(t *testing.T) {
	t.Parallel()
	root := project(t)
	// No frontend is read: a broken one stops nothing.
	write(t, root, map[string]string{"frontends/bad/frontend.json": "{"})
	res := build.Build(build.Options{Root: root, Only: build.SharedName}, &fake{})
	if len(res.Errors) > 0 {
		t.Fatal(res.Errors)
	}
	if len(res.Manifests) != 1 || res.Manifests[build.SharedName] == nil || len(res.Index.Frontends) != 0 || res.Index.Shared == "" {
		t.Errorf("manifests = %v, index = %+v; want the shared dependencies alone", res.Manifests, res.Index)
	}
}

func TestBuildRecordsPackages(t *testing.T) {
	t.Parallel()
	// The project sits in a workspace whose node_modules is a folder
	// above it, as Node and the bundler find packages.
	workspace := t.TempDir()
	root := filepath.Join(workspace, "shop")
	write(t, root, map[string]string{
		"frontends/cart/frontend.json": `{"name": "cart", "entry": "index.ts"}`,
		"frontends/cart/index.ts":      "cart",
	})
	write(t, workspace, map[string]string{
		"node_modules/preact/package.json":       `{"name": "preact", "version": "10.19.3"}`,
		"node_modules/@scope/pkg/package.json":   `{"name": "@scope/pkg", "version": "2.0.0-rc.1"}`,
		"node_modules/unversioned/package.json":  `{"name": "unversioned"}`,
		"node_modules/broken/package.json":       `{"version": `,
		"node_modules/preact/hooks/package.json": `{"version": "not the package's"}`,
	})
	shared := []string{"preact", "preact/hooks", "@scope/pkg/sub", "unversioned", "nowhere"}
	res := build.Build(build.Options{Root: root, Shared: shared}, &fake{})
	if len(res.Errors) > 0 {
		t.Fatal(res.Errors)
	}
	want := map[string]string{"preact": "10.19.3", "@scope/pkg": "2.0.0-rc.1"}
	if got := res.Manifests[build.SharedName].Packages; !reflect.DeepEqual(got, want) {
		t.Errorf("shared packages = %v, want %v", got, want)
	}
	// The fake's frontend imports preact alone.
	cart := res.Manifests["cart"]
	if want := map[string]string{"preact": "10.19.3"}; !reflect.DeepEqual(cart.Packages, want) {
		t.Errorf("cart packages = %v, want %v", cart.Packages, want)
	}
	if m, err := build.ReadManifest(filepath.Join(root, "dist", "assets", "cart", cart.Version)); err != nil || !reflect.DeepEqual(m.Packages, cart.Packages) {
		t.Errorf("cart's manifest on disk = %+v, %v", m, err)
	}

	bad := build.Build(build.Options{Root: root, Shared: []string{"broken"}}, &fake{})
	if len(bad.Errors) != 1 || !strings.Contains(bad.Errors[0].Text, filepath.Join("node_modules", "broken", "package.json")) {
		t.Errorf("a broken package.json: errors = %v, want one naming it", bad.Errors)
	}
}

func TestPackageOf(t *testing.T) {
	t.Parallel()
	for spec, want := range map[string]string{
		"preact":                "preact",
		"preact/hooks":          "preact",
		"preact/jsx-runtime":    "preact",
		"@scope/pkg":            "@scope/pkg",
		"@scope/pkg/sub/deep":   "@scope/pkg",
		"lodash-es/debounce.js": "lodash-es",
	} {
		if got := build.PackageOf(spec); got != want {
			t.Errorf("PackageOf(%q) = %q, want %q", spec, got, want)
		}
	}
}

// halve is a compressor whose copy is the first half of the file, or the
// whole file for one that contains "incompressible".
var halve = build.Compressor{Encoding: "half", Ext: ".half", Compress: func(_ string, data []byte) ([]byte, error) {
	if strings.Contains(string(data), "incompressible") {
		return data, nil
	}
	return data[:len(data)/2], nil
}}

func TestBuildCompresses(t *testing.T) {
	t.Parallel()
	big := strings.Repeat("export const greeting = 'hello, world';\n", 20)
	extra := map[string]string{
		"big.css":            big,
		"big.js.map":         big,
		"logo.svg":           "<svg>" + big + "</svg>",
		"photo.png":          big, // images are compressed already
		"noise.js":           "incompressible " + big,
		"small.json":         strings.Repeat("1", 255),
		"sub/just-enough.js": strings.Repeat("1", 256),
	}
	failing := build.Compressor{Encoding: "bad", Ext: ".bad", Compress: func(string, []byte) ([]byte, error) {
		return nil, errors.New("out of memory")
	}}
	tests := []struct {
		name string
		opts build.Options
		want []string // the copies written, by name
		err  string
	}{
		{"default: gzip", build.Options{},
			[]string{"big.css.gz", "big.js.map.gz", "logo.svg.gz", "noise.js.gz", "sub/just-enough.js.gz"}, ""},
		{"compressors in order", build.Options{Compressors: []build.Compressor{halve, build.Gzip}},
			[]string{"big.css.gz", "big.css.half", "big.js.map.gz", "big.js.map.half", "logo.svg.gz", "logo.svg.half",
				"noise.js.gz", "sub/just-enough.js.gz", "sub/just-enough.js.half"}, ""},
		{"off", build.Options{NoCompress: true, Compressors: []build.Compressor{halve}}, nil, ""},
		{"a compressor fails", build.Options{Compressors: []build.Compressor{failing}}, nil, "with bad: out of memory"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			root := project(t)
			tt.opts.Root = root
			res := build.Build(tt.opts, &fake{extra: extra})
			if tt.err != "" {
				if len(res.Errors) == 0 || !strings.Contains(res.Errors[0].Text, tt.err) || res.Errors[0].File == "" {
					t.Errorf("errors = %v, want one naming the frontend and saying %q", res.Errors, tt.err)
				}
				if _, err := os.Stat(filepath.Join(root, "dist")); !os.IsNotExist(err) {
					t.Errorf("a failed build wrote dist (%v)", err)
				}
				return
			}
			if len(res.Errors) > 0 {
				t.Fatal(res.Errors)
			}
			m := res.Manifests["cart"]
			dir := filepath.Join(root, "dist", "assets", "cart", m.Version)
			var got []string
			filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
				rel, _ := filepath.Rel(dir, path)
				rel = filepath.ToSlash(rel)
				if _, ok := m.Files[rel]; !ok && !d.IsDir() && rel != build.ManifestFile {
					got = append(got, rel)
				}
				return err
			})
			sort.Strings(got)
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("copies = %q, want %q", got, tt.want)
			}
			for _, name := range got {
				if ext := path.Ext(name); ext == ".half" {
					data, _ := os.ReadFile(filepath.Join(dir, filepath.FromSlash(name)))
					plain := extra[strings.TrimSuffix(name, ext)]
					if string(data) != plain[:len(plain)/2] {
						t.Errorf("%s = %q, not the compressor's copy", name, data)
					}
				}
			}
			// The gzip size is measured whether or not a copy is written.
			for name, f := range m.Files {
				if f.Gzip <= 0 {
					t.Errorf("%s: gzip size %d", name, f.Gzip)
				}
			}
		})
	}
}

func TestDiscover(t *testing.T) {
	t.Parallel()
	root := t.TempDir()
	write(t, root, map[string]string{
		"frontends/b/frontend.json":        `{"name": "b", "entry": "x.ts"}`,
		"frontends/a/frontend.json":        `{"name": "a"}`,
		"frontends/Bad/frontend.json":      `{"name": "Bad"}`,
		"frontends/assets/frontend.json":   `{"name": "assets"}`,
		"frontends/other/frontend.json":    `{"name": "not-other"}`,
		"frontends/broken/frontend.json":   `{"name": `,
		"frontends/plain-dir/index.ts":     ``,
		"frontends/unknown/frontend.json":  `{"name": "unknown", "entry": 3}`,
		"frontends/z-9/frontend.json":      `{"name": "z-9", "entry": "src/i.tsx"}`,
		"frontends/a-file-not-a-folder.md": ``,
	})
	got, msgs := build.Discover(root, "frontends")
	var names []string
	for _, f := range got {
		names = append(names, f.Name+"@"+f.Dir+":"+f.Entry)
	}
	if want := "a@frontends/a: b@frontends/b:x.ts z-9@frontends/z-9:src/i.tsx"; strings.Join(names, " ") != want {
		t.Errorf("frontends = %s, want %s", strings.Join(names, " "), want)
	}
	wantMsgs := map[string]string{
		"frontends/Bad/frontend.json":     `name "Bad": use lower-case letters`,
		"frontends/assets/frontend.json":  `name "assets" is reserved by collage (the /assets paths`,
		"frontends/other/frontend.json":   `name "not-other" must match the folder name "other"`,
		"frontends/broken/frontend.json":  "unexpected end of JSON input",
		"frontends/unknown/frontend.json": "cannot unmarshal number",
	}
	if len(msgs) != len(wantMsgs) {
		t.Errorf("messages = %v", msgs)
	}
	for _, m := range msgs {
		if want, ok := wantMsgs[m.File]; !ok || !strings.Contains(m.Text, want) {
			t.Errorf("message %s, want one for %s containing %q", m, m.File, want)
		}
	}
	if _, msgs := build.Discover(root, "nope"); len(msgs) != 1 || msgs[0].File != "nope" {
		t.Errorf("a missing folder = %v", msgs)
	}
	res := build.Build(build.Options{Root: root}, &fake{})
	if len(res.Errors) != len(wantMsgs) || res.Index != nil {
		t.Errorf("Build with invalid frontends = %v", res.Errors)
	}
}

func TestMessageString(t *testing.T) {
	t.Parallel()
	tests := []struct {
		m    build.Message
		want string
	}{
		{build.Message{Text: "out of disk"}, "out of disk"},
		{build.Message{File: "frontends/a/frontend.json", Text: "bad name"}, "frontends/a/frontend.json: bad name"},
		{build.Message{File: "frontends/a/src/i.tsx", Line: 4, Column: 21, Text: `Unexpected ";"`}, `frontends/a/src/i.tsx:4:21: Unexpected ";"`},
	}
	for _, tt := range tests {
		if got := tt.m.String(); got != tt.want {
			t.Errorf("String() = %q, want %q", got, tt.want)
		}
	}
}

func TestValidNameAndVersion(t *testing.T) {
	t.Parallel()
	for name, ok := range map[string]bool{
		"a": true, "cart": true, "shop-2": true,
		"": false, "2a": false, "Cart": false, "a_b": false, "a/b": false, "-a": false, "_shared": false,
		strings.Repeat("a", 63): true, strings.Repeat("a", 64): false,
	} {
		if build.ValidName(name) != ok {
			t.Errorf("ValidName(%q) = %v", name, !ok)
		}
	}
	for v, ok := range map[string]bool{
		"0a1b2c3d4e5f": true, "v1.2.3": true, "1_0-rc": true,
		"": false, ".": false, "..": false, "a..b": false, "a/b": false, ".hidden": false, "-x": false, strings.Repeat("1", 65): false,
	} {
		if build.ValidVersion(v) != ok {
			t.Errorf("ValidVersion(%q) = %v", v, !ok)
		}
	}
}

func TestCheckName(t *testing.T) {
	t.Parallel()
	for name, want := range map[string]string{
		"cart":    "",
		"Cart":    `name "Cart": use lower-case letters, digits and dashes, starting with a letter`,
		"_shared": `name "_shared": use lower-case letters`,
		"collage": `name "collage" is reserved by collage`,
		"bff":     `name "bff" is reserved by collage`,
		"lambda":  `name "lambda" is reserved by collage`,
	} {
		err := build.CheckName(name)
		if (err == nil) != (want == "") || (err != nil && !strings.HasPrefix(err.Error(), want)) {
			t.Errorf("CheckName(%q) = %v, want %q", name, err, want)
		}
	}
}

func TestIntegrity(t *testing.T) {
	t.Parallel()
	// sha384 of the empty string, base64.
	if got := build.Integrity(nil); got != "sha384-OLBgp1GsljhM2TJ+sbHjaiH9txEUvgdDTAzHv2P24donTt6/529l+9Ua0vFImLlb" {
		t.Errorf("Integrity(empty) = %s", got)
	}
}

// TestBrowserSizes counts what a browser loads: neither source maps nor
// the server bundle.
func TestBrowserSizes(t *testing.T) {
	t.Parallel()
	m := &build.Manifest{Server: "server-A.js", Files: map[string]build.File{
		"cart-A.js": {Size: 100, Gzip: 40}, "chunk-B.js": {Size: 10, Gzip: 5}, "cart-A.js.map": {Size: 900},
		"cart-C.css": {Size: 50, Gzip: 20}, "server-A.js": {Size: 7000, Gzip: 3000}, "server-A.js.map": {Size: 9000},
		"1-D.svg": {Size: 300},
	}}
	if got, want := m.BrowserSizes(), (build.Sizes{JS: 110, JSGzip: 45, CSS: 50, CSSGzip: 20}); got != want {
		t.Errorf("BrowserSizes = %+v, want %+v", got, want)
	}
}
