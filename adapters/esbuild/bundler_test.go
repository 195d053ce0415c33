package esbuild_test

import (
	"bytes"
	"compress/gzip"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"reflect"
	"regexp"
	"slices"
	"sort"
	"strings"
	"testing"

	"github.com/collage-dev/collage/adapters/esbuild"
	"github.com/collage-dev/collage/build"
	"github.com/collage-dev/collage/internal/golden"
)

const entry = "frontends/shop-x/src/index.tsx"

// project copies testdata/project to a temporary folder, so that building
// never writes into the repository, and returns its path.
func project(t *testing.T) string {
	t.Helper()
	dst := t.TempDir()
	copyDir(t, filepath.Join("testdata", "project"), dst)
	return dst
}

// copyDir copies the folder src into dst.
func copyDir(t *testing.T, src, dst string) {
	t.Helper()
	err := filepath.WalkDir(src, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(src, path)
		target := filepath.Join(dst, rel)
		if d.IsDir() {
			return os.MkdirAll(target, 0o755)
		}
		data, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		return os.WriteFile(target, data, 0o644)
	})
	if err != nil {
		t.Fatal(err)
	}
}

func buildOK(t *testing.T, opts build.Options) *build.Result {
	t.Helper()
	res := build.Build(opts, esbuild.Bundler{})
	for _, m := range res.Errors {
		t.Errorf("build error: %s", m)
	}
	if t.Failed() {
		t.FailNow()
	}
	return res
}

// tree returns every file under dir with the sha256 of its content.
func tree(t *testing.T, dir string) map[string]string {
	t.Helper()
	out := map[string]string{}
	err := filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		data, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(dir, path)
		sum := sha256.Sum256(data)
		out[filepath.ToSlash(rel)] = hex.EncodeToString(sum[:])
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

func TestBuild(t *testing.T) {
	t.Parallel()
	root := project(t)
	res := buildOK(t, build.Options{Root: root})
	dist := filepath.Join(root, "dist")

	// The index names the shared version and every frontend with a bundle.
	idx, err := build.ReadIndex(dist)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(idx, res.Index) {
		t.Errorf("collage.json = %+v, result index = %+v", idx, res.Index)
	}
	x, shared := res.Manifests["shop-x"], res.Manifests[build.SharedName]
	if x == nil || shared == nil || len(res.Manifests) != 2 {
		t.Fatalf("manifests = %v, want shop-x and %s (server-only has no bundle)", res.Manifests, build.SharedName)
	}
	if idx.Shared != shared.Version || len(idx.Frontends) != 1 || idx.Frontends["shop-x"] != x.Version {
		t.Errorf("index = %+v", idx)
	}

	// The manifest fields.
	hashed := func(prefix, ext string) *regexp.Regexp {
		return regexp.MustCompile(`^` + regexp.QuoteMeta(prefix) + `-[A-Z0-9]{8}\.` + ext + `$`)
	}
	if x.Name != "shop-x" || !build.ValidVersion(x.Version) || !hashed("shop-x", "js").MatchString(x.Entry) {
		t.Errorf("name %q version %q entry %q", x.Name, x.Version, x.Entry)
	}
	if len(x.CSS) != 1 || !hashed("shop-x", "css").MatchString(x.CSS[0]) {
		t.Errorf("css = %q, want one content-hashed stylesheet", x.CSS)
	}
	if want := []string{"preact", "preact/hooks", "preact/jsx-runtime"}; !reflect.DeepEqual(x.Shared, want) {
		t.Errorf("shared = %q, want %q", x.Shared, want)
	}
	if len(x.Preload) != 0 || x.Imports != nil {
		t.Errorf("preload %q imports %v: a single-module frontend has none", x.Preload, x.Imports)
	}
	if len(shared.Imports) != len(build.DefaultShared) {
		t.Errorf("shared imports = %v, want %q", shared.Imports, build.DefaultShared)
	}
	for _, spec := range build.DefaultShared {
		if !hashed(strings.ReplaceAll(spec, "/", "-"), "js").MatchString(shared.Imports[spec]) {
			t.Errorf("shared import %s = %q", spec, shared.Imports[spec])
		}
	}

	// Every file of a version is in its manifest with its size and
	// integrity, and nothing else is in the folder but the gzip copies of
	// the files worth compressing.
	gzipped := 0
	for _, m := range []*build.Manifest{x, shared} {
		dir := filepath.Join(dist, "assets", m.Name, m.Version)
		onDisk, err := build.ReadManifest(dir)
		if err != nil {
			t.Fatal(err)
		}
		if !reflect.DeepEqual(onDisk, m) {
			t.Errorf("%s/manifest.json differs from the result", m.Name)
		}
		files := tree(t, dir)
		delete(files, build.ManifestFile)
		for name := range files {
			plain, ok := strings.CutSuffix(name, ".gz")
			if _, inManifest := m.Files[name]; inManifest {
				continue
			}
			if f, copyOf := m.Files[plain]; !ok || !copyOf {
				t.Errorf("%s/%s is on disk but not in the manifest", m.Name, name)
			} else {
				checkGzipCopy(t, filepath.Join(dir, filepath.FromSlash(name)), f)
				gzipped++
			}
			delete(files, name)
		}
		if len(files) != len(m.Files) {
			t.Errorf("%s: %d files on disk, %d in the manifest", m.Name, len(files), len(m.Files))
		}
		for name, f := range m.Files {
			data, err := os.ReadFile(filepath.Join(dir, filepath.FromSlash(name)))
			if err != nil {
				t.Errorf("%s: %v", m.Name, err)
				continue
			}
			if f.Size != int64(len(data)) || f.Integrity != build.Integrity(data) || f.Gzip <= 0 {
				t.Errorf("%s/%s: manifest says size %d integrity %s gzip %d; file has %d bytes, %s",
					m.Name, name, f.Size, f.Integrity, f.Gzip, len(data), build.Integrity(data))
			}
			if !strings.HasPrefix(f.Integrity, "sha384-") {
				t.Errorf("%s/%s: integrity %q is not sha384", m.Name, name, f.Integrity)
			}
		}
		for _, name := range append(append([]string{m.Entry}, m.CSS...), m.Preload...) {
			if _, ok := m.Files[name]; name != "" && !ok {
				t.Errorf("%s: %s is not among the files", m.Name, name)
			}
		}
		for _, name := range m.Imports {
			if _, ok := m.Files[name]; !ok {
				t.Errorf("%s: import %s is not among the files", m.Name, name)
			}
		}
	}

	if gzipped == 0 {
		t.Errorf("no file got a gzip copy")
	}

	// Source maps are written beside their files, which do not link them:
	// the server decides whether to publish them (a SourceMap header).
	for _, name := range []string{x.Entry, x.CSS[0]} {
		code, _ := os.ReadFile(filepath.Join(dist, "assets", "shop-x", x.Version, name))
		if _, ok := x.Files[name+".map"]; !ok || strings.Contains(string(code), "sourceMappingURL") {
			t.Errorf("%s: a map in the manifest %v, a sourceMappingURL comment %v; want a map and no comment",
				name, ok, strings.Contains(string(code), "sourceMappingURL"))
		}
	}

	// Shared dependencies are left external: the frontend imports them by
	// name and does not carry their code.
	code, err := os.ReadFile(filepath.Join(dist, "assets", "shop-x", x.Version, x.Entry))
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{`from "preact"`, `from "preact/hooks"`, `from "preact/jsx-runtime"`, "export {", "mount", "unmount", "toFixed"} {
		if !strings.Contains(string(code), want) {
			t.Errorf("the entry lacks %s:\n%s", want, code)
		}
	}
	if strings.Contains(string(code), "FIXTURE-PREACT") {
		t.Errorf("the entry bundles preact instead of importing it:\n%s", code)
	}
	css, _ := os.ReadFile(filepath.Join(dist, "assets", "shop-x", x.Version, x.CSS[0]))
	if !strings.Contains(string(css), "rebeccapurple") {
		t.Errorf("the stylesheet lacks the fixture's rule:\n%s", css)
	}
	var sharedCode strings.Builder
	for name := range shared.Files {
		if strings.HasSuffix(name, ".js") {
			b, _ := os.ReadFile(filepath.Join(dist, "assets", build.SharedName, shared.Version, name))
			sharedCode.Write(b)
		}
	}
	if n := strings.Count(sharedCode.String(), "FIXTURE-PREACT-CORE"); n != 1 {
		t.Errorf("preact's core is in the shared modules %d times, want once (split into a chunk)", n)
	}

	// No staging folder is left beside the output.
	entries, _ := os.ReadDir(root)
	for _, e := range entries {
		if strings.HasPrefix(e.Name(), ".dist") {
			t.Errorf("left behind: %s", e.Name())
		}
	}

	manifestsGolden(t, filepath.Join("testdata", "manifests.golden.json"), res)
}

// checkGzipCopy checks that the gzip copy at path is smaller than the file
// f describes, decodes to bytes of f's integrity, and is as big as the
// manifest says.
func checkGzipCopy(t *testing.T, path string, f build.File) {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	zr, err := gzip.NewReader(bytes.NewReader(data))
	if err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	plain, err := io.ReadAll(zr)
	if err != nil || build.Integrity(plain) != f.Integrity {
		t.Errorf("%s does not decode to the file (%v)", path, err)
	}
	if int64(len(data)) >= f.Size || int64(len(data)) != f.Gzip {
		t.Errorf("%s: %d bytes, the file %d, the manifest's gzip size %d", path, len(data), f.Size, f.Gzip)
	}
}

// manifestsGolden checks the index and manifests of res against file.
func manifestsGolden(t *testing.T, file string, res *build.Result) {
	t.Helper()
	got, err := json.MarshalIndent(struct {
		Index     *build.Index
		Manifests map[string]*build.Manifest
	}{res.Index, res.Manifests}, "", "  ")
	if err != nil {
		t.Fatal(err)
	}
	golden.Check(t, file, append(got, '\n')) // a new esbuild version changes the hashes
}

func TestBuildIsDeterministic(t *testing.T) {
	t.Parallel()
	// Two copies in different folders, and a second output folder: the
	// versions and every byte are the same.
	a, b := project(t), project(t)
	ra := buildOK(t, build.Options{Root: a})
	rb := buildOK(t, build.Options{Root: b})
	rc := buildOK(t, build.Options{Root: a, Out: filepath.Join(t.TempDir(), "elsewhere")})
	if !reflect.DeepEqual(ra.Index, rb.Index) || !reflect.DeepEqual(ra.Index, rc.Index) {
		t.Errorf("versions differ: %+v, %+v, %+v", ra.Index, rb.Index, rc.Index)
	}
	if ta, tb := tree(t, filepath.Join(a, "dist")), tree(t, filepath.Join(b, "dist")); !reflect.DeepEqual(ta, tb) {
		t.Errorf("outputs differ:\n%v\n%v", ta, tb)
	}
	// Minified, the version changes, and is stable too.
	rm := buildOK(t, build.Options{Root: a, Minify: true, Out: "dist-min"})
	rm2 := buildOK(t, build.Options{Root: b, Minify: true, Out: "dist-min"})
	if rm.Index.Frontends["shop-x"] == ra.Index.Frontends["shop-x"] || !reflect.DeepEqual(rm.Index, rm2.Index) {
		t.Errorf("minified versions %+v, %+v (development %+v)", rm.Index, rm2.Index, ra.Index)
	}
}

func TestBuildKeepsVersionOfUnchangedFrontend(t *testing.T) {
	t.Parallel()
	root := project(t)
	first := buildOK(t, build.Options{Root: root})
	format := filepath.Join(root, "frontends", "shop-x", "src", "format.ts")
	if err := os.WriteFile(format, []byte("export function price(cents: number): string {\n  return \"€\" + cents;\n}\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	second := buildOK(t, build.Options{Root: root})
	if second.Index.Frontends["shop-x"] == first.Index.Frontends["shop-x"] {
		t.Errorf("a changed source kept version %s", first.Index.Frontends["shop-x"])
	}
	if second.Index.Shared != first.Index.Shared {
		t.Errorf("the shared version changed (%s → %s) though preact did not", first.Index.Shared, second.Index.Shared)
	}
}

func TestBuildErrors(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name   string
		source string // replaces the entry's source
		file   string
		line   int
		column int
		text   []string // substrings of the message
	}{
		{
			name:   "TypeScript syntax error",
			source: "import { render } from \"preact\";\n\nexport function mount(el: HTMLElement): void {\n  const n: number = ;\n  render(null, el);\n}\n",
			file:   entry, line: 4, column: 21, text: []string{`Unexpected ";"`},
		},
		{
			name:   "external import that is not shared",
			source: "import { forwardRef } from \"preact/compat\";\n\nexport function mount(el: HTMLElement): void {\n  el.textContent = String(forwardRef);\n}\n",
			file:   entry, text: []string{`"preact/compat"`, "not a shared dependency"},
		},
		{
			name:   "missing module",
			source: "import { nope } from \"./nope\";\n\nexport const mount = nope;\n",
			file:   entry, line: 1, column: 22, text: []string{`Could not resolve "./nope"`},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			root := project(t)
			first := buildOK(t, build.Options{Root: root})
			before := tree(t, filepath.Join(root, "dist"))

			if err := os.WriteFile(filepath.Join(root, filepath.FromSlash(entry)), []byte(tt.source), 0o644); err != nil {
				t.Fatal(err)
			}
			res := build.Build(build.Options{Root: root}, esbuild.Bundler{})
			if len(res.Errors) == 0 {
				t.Fatal("the build succeeded")
			}
			if res.Index != nil {
				t.Errorf("a failed build returned an index: %+v", res.Index)
			}
			m := res.Errors[0]
			if m.File != tt.file || m.Line != tt.line || m.Column != tt.column {
				t.Errorf("message at %s:%d:%d, want %s:%d:%d (%s)", m.File, m.Line, m.Column, tt.file, tt.line, tt.column, m)
			}
			for _, want := range tt.text {
				if !strings.Contains(m.Text, want) {
					t.Errorf("message %q lacks %q", m.Text, want)
				}
			}
			if tt.line > 0 && !strings.Contains(tt.source, m.Source) || (tt.line > 0 && m.Source == "") {
				t.Errorf("Source = %q, want the line at fault", m.Source)
			}

			// The previous output is untouched, and nothing is left behind.
			if after := tree(t, filepath.Join(root, "dist")); !reflect.DeepEqual(before, after) {
				t.Errorf("a failed build changed dist:\nbefore %v\nafter  %v", before, after)
			}
			if idx, err := build.ReadIndex(filepath.Join(root, "dist")); err != nil || !reflect.DeepEqual(idx, first.Index) {
				t.Errorf("collage.json = %+v, %v; want the first build's", idx, err)
			}
			entries, _ := os.ReadDir(root)
			var names []string
			for _, e := range entries {
				names = append(names, e.Name())
			}
			sort.Strings(names)
			if strings.Join(names, " ") != "dist frontends node_modules" {
				t.Errorf("project folder holds %q after a failed build", names)
			}
		})
	}
}

// TestContextRebuild: a frontend's context builds it again after an edit,
// reports the files it read, and turns a syntax error into a message
// with its place, keeping nothing of the failed build.
func TestContextRebuild(t *testing.T) {
	t.Parallel()
	root := project(t)
	s := build.NewSession(build.Options{Root: root, Out: ".collage/dev"}, esbuild.Bundler{})
	defer s.Close()
	fs, msgs := s.Discover()
	if len(msgs) > 0 {
		t.Fatal(msgs)
	}
	var x build.Frontend
	for _, f := range fs {
		if f.Name == "shop-x" {
			x = f
		}
	}
	first, msgs := s.Frontend(x)
	if len(msgs) > 0 {
		t.Fatal(msgs)
	}
	want := []string{"frontends/shop-x/src/format.ts", entry, "frontends/shop-x/src/styles.css"}
	if !reflect.DeepEqual(first.Inputs, want) {
		t.Errorf("inputs = %q, want %q", first.Inputs, want)
	}
	format := filepath.Join(root, "frontends", "shop-x", "src", "format.ts")
	if err := os.WriteFile(format, []byte("export function price(cents: number): string {\n  return \"EUR \" + cents;\n}\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	second, msgs := s.Frontend(x)
	if len(msgs) > 0 {
		t.Fatal(msgs)
	}
	code, err := os.ReadFile(filepath.Join(second.Dir, second.Manifest.Entry))
	if err != nil || !strings.Contains(string(code), `"EUR "`) || second.Manifest.Version == first.Manifest.Version {
		t.Errorf("after the edit: version %s (was %s), entry has the edit: %v (%v)",
			second.Manifest.Version, first.Manifest.Version, strings.Contains(string(code), `"EUR "`), err)
	}
	if first.Manifest.CSS[0] != second.Manifest.CSS[0] {
		t.Errorf("the stylesheet did not change, but its name did: %s → %s", first.Manifest.CSS[0], second.Manifest.CSS[0])
	}

	if err := os.WriteFile(format, []byte("export function price(cents: number): string {\n  return (;\n}\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if built, msgs := s.Frontend(x); built != nil || len(msgs) != 1 ||
		msgs[0].File != "frontends/shop-x/src/format.ts" || msgs[0].Line != 2 || msgs[0].Column != 11 || msgs[0].Source != "  return (;" {
		t.Errorf("syntax error: built %v, messages %+v", built, msgs)
	}
}

// TestServerBundle builds testdata/ssr-frontends in the project:
// shop-ssr exports View, so it gets a server bundle; client-only does not.
func TestServerBundle(t *testing.T) {
	t.Parallel()
	root := project(t)
	copyDir(t, filepath.Join("testdata", "ssr-frontends"), filepath.Join(root, "ssr-frontends"))
	res := buildOK(t, build.Options{Root: root, Frontends: "ssr-frontends", Out: "dist", NoCompress: true})
	if s := res.Manifests["client-only"].Server; s != "" {
		t.Errorf("client-only, which exports no View, has a server bundle %q", s)
	}
	m := res.Manifests["shop-ssr"]
	if !regexp.MustCompile(`^server-[A-Z0-9]+\.js$`).MatchString(m.Server) {
		t.Fatalf("server = %q", m.Server)
	}
	for _, f := range []string{m.Server, m.Server + ".map"} {
		if _, ok := m.Files[f]; !ok {
			t.Errorf("the manifest's files lack %s: a release would not carry it", f)
		}
	}
	dir := filepath.Join(root, "dist", "assets", "shop-ssr", m.Version)
	src, err := os.ReadFile(filepath.Join(dir, m.Server))
	if err != nil {
		t.Fatal(err)
	}
	js := string(src)
	if !strings.Contains(js, "globalThis.collageRender = function(data)") || !strings.Contains(js, "<rendered>") {
		t.Errorf("the server bundle does not define collageRender with the renderer inside:\n%s", js)
	}
	if strings.Contains(js, "teal") || regexp.MustCompile(`(?m)^(import|export) `).MatchString(js) {
		t.Errorf("the server bundle holds CSS or is a module:\n%s", js)
	}
	var smap struct {
		Sources []string `json:"sources"`
	}
	data, err := os.ReadFile(filepath.Join(dir, m.Server+".map"))
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(data, &smap); err != nil {
		t.Fatal(err)
	}
	if !slices.Contains(smap.Sources, "ssr-frontends/shop-ssr/src/index.tsx") ||
		!slices.Contains(smap.Sources, "node_modules/preact-render-to-string/index.js") {
		t.Errorf("the map's sources are not named from the project's root: %q", smap.Sources)
	}
}
