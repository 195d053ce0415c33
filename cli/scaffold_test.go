package cli

import (
	"bytes"
	"context"
	"encoding/json"
	"go/format"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/collage-dev/collage/adapters/yaml"
)

// npmDependency returns the version a package.json asks for dep, in its
// dependencies or devDependencies.
func npmDependency(t *testing.T, file, dep string) string {
	t.Helper()
	data, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	var pkg struct{ Dependencies, DevDependencies map[string]string }
	if err := json.Unmarshal(data, &pkg); err != nil {
		t.Fatalf("%s: %v", file, err)
	}
	if v, ok := pkg.Dependencies[dep]; ok {
		return v
	}
	return pkg.DevDependencies[dep]
}

// TestScaffoldVersions keeps the versions a new project gets those of
// this repository: its Go, and the demo's preact and TypeScript.
func TestScaffoldVersions(t *testing.T) {
	t.Parallel()
	gomod, err := os.ReadFile(filepath.Join(root, "go.mod"))
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(gomod), "\ngo "+goVersion+"\n") {
		t.Errorf("go.mod's go line is not go %s, which new projects get", goVersion)
	}
	checkDep := func(file, dep, want string) {
		t.Helper()
		if got := npmDependency(t, file, dep); got != want {
			t.Errorf("%s: %s is %q, but new projects get %q", file, dep, got, want)
		}
	}
	checkDep(filepath.Join(root, "package.json"), "typescript", typeScriptVersion)
	pkgs, err := filepath.Glob(filepath.Join(root, "frontends", "*", "package.json"))
	if err != nil || len(pkgs) == 0 {
		t.Fatalf("no frontends/*/package.json: %v", err)
	}
	for _, p := range pkgs {
		checkDep(p, "preact", preactVersion)
	}
}

// scaffolded writes a new project into a temporary folder, as collage new
// does but without go mod tidy, and returns its folder.
func scaffolded(t *testing.T) string {
	t.Helper()
	files, err := projectFiles("shop", "example.com/shop", "hello", collageModule{Version: "v1.0.0"})
	if err != nil {
		t.Fatal(err)
	}
	dir := filepath.Join(t.TempDir(), "shop")
	if err := writeFiles(dir, files); err != nil {
		t.Fatal(err)
	}
	return dir
}

// tree returns every file under dir, by its path, with its content.
func tree(t *testing.T, dir string) map[string]string {
	t.Helper()
	files := map[string]string{}
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		data, err := os.ReadFile(p)
		files[p] = string(data)
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return files
}

// unformatted returns the Go files under dir that gofmt would change.
func unformatted(t *testing.T, dir string) []string {
	t.Helper()
	var bad []string
	for p, src := range tree(t, dir) {
		if strings.HasSuffix(p, ".go") && !strings.Contains(p, "node_modules") {
			if out, err := format.Source([]byte(src)); err != nil || !bytes.Equal(out, []byte(src)) {
				bad = append(bad, p)
			}
		}
	}
	return bad
}

func TestAdd(t *testing.T) {
	t.Parallel()
	dir := scaffolded(t)
	var out bytes.Buffer
	m := &Main{Stdout: &out, Stderr: &out}
	if err := m.Run(context.Background(), []string{"add", "banner", "--root", dir}); err != nil {
		t.Fatalf("add: %v\n%s", err, out.String())
	}
	cfg, err := yaml.Load(filepath.Join(dir, "collage.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	if cfg.Frontends["banner"].BFF != "local" {
		t.Errorf("collage.yaml: banner is %+v, want bff: local", cfg.Frontends["banner"])
	}
	if fe := slotFrontends(readFile(t, filepath.Join(dir, "layouts", "home.html"))); strings.Join(fe, ",") != "hello,banner" {
		t.Errorf("the layout's slots are %v, want hello, banner", fe)
	}
	main := readFile(t, filepath.Join(dir, "main.go"))
	for _, want := range []string{"\tbanner \"example.com/shop/frontends/banner/bff\"\n", "\t\t\"banner\": banner.New,\n"} {
		if !strings.Contains(main, want) {
			t.Errorf("main.go has no %q:\n%s", want, main)
		}
	}
	hello, banner := tree(t, filepath.Join(dir, "frontends", "hello")), tree(t, filepath.Join(dir, "frontends", "banner"))
	if len(banner) != len(hello) {
		t.Errorf("banner has %d files, hello %d", len(banner), len(hello))
	}
	for p := range hello {
		if _, ok := banner[strings.ReplaceAll(p, "hello", "banner")]; !ok {
			t.Errorf("banner has no counterpart of %s", p)
		}
	}
	if bad := unformatted(t, dir); len(bad) > 0 {
		t.Errorf("not gofmt-ed: %v", bad)
	}
	if !strings.Contains(banner[filepath.Join(dir, "frontends", "banner", "package.json")], `"name": "@shop/banner"`) {
		t.Errorf("banner's package.json is not in the project's scope @shop")
	}

	// Each refusal changes nothing.
	if err := os.WriteFile(filepath.Join(dir, "main.go"), []byte(strings.Replace(main, "\"banner\": banner.New,", "\"banner\": banner.New,\n\"promo\": banner.New,", 1)), 0o644); err != nil {
		t.Fatal(err)
	}
	before := tree(t, dir)
	for _, tt := range []struct{ name, err string }{
		{"banner", "collage.yaml:7: the project already has a frontend banner"},
		{"promo", `cli.BFFs already links a BFF called "promo"`},
		{"Promo", `name "Promo": use lower-case letters`},
		{"shell", `name "shell" is reserved`},
	} {
		out.Reset()
		err := m.Run(context.Background(), []string{"add", "--root", dir, tt.name})
		if err == nil || !strings.Contains(err.Error(), tt.err) {
			t.Errorf("add %s: %v, want an error with %q", tt.name, err, tt.err)
		}
		if after := tree(t, dir); !equalTrees(before, after) {
			t.Errorf("add %s changed the project though it failed", tt.name)
		}
	}
	if err := os.Mkdir(filepath.Join(dir, "frontends", "promo2"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := m.Run(context.Background(), []string{"add", "--root", dir, "promo2"}); err == nil || !strings.Contains(err.Error(), "promo2 already exists") {
		t.Errorf("add promo2 over its folder: %v", err)
	}
}

// TestAddUndo fails the last change of an add, and checks the project is
// as it was.
func TestAddUndo(t *testing.T) {
	t.Parallel()
	dir := scaffolded(t)
	before := tree(t, dir)
	p, err := planAdd(dir, filepath.Join(dir, "collage.yaml"), "banner")
	if err != nil {
		t.Fatal(err)
	}
	p.edits = append(p.edits, fileEdit{path: filepath.Join(dir, "missing", "file"), mode: 0o644})
	if err := p.apply(); err == nil {
		t.Fatal("apply succeeded with a file it cannot write")
	}
	if after := tree(t, dir); !equalTrees(before, after) {
		t.Errorf("a failed add left the project changed")
	}
	entries, err := os.ReadDir(filepath.Join(dir, "frontends"))
	if err != nil {
		t.Fatal(err)
	}
	if len(entries) != 3 { // collage.d.ts, hello, tsconfig.json
		t.Errorf("frontends/ holds %d entries after the undo, want 3", len(entries))
	}
}

func equalTrees(a, b map[string]string) bool {
	if len(a) != len(b) {
		return false
	}
	for p, data := range a {
		if b[p] != data {
			return false
		}
	}
	return true
}

func readFile(t *testing.T, p string) string {
	t.Helper()
	data, err := os.ReadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	return string(data)
}

func TestNewRefuses(t *testing.T) {
	t.Parallel()
	full := t.TempDir()
	if err := os.WriteFile(filepath.Join(full, "x"), nil, 0o644); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		args []string
		err  string
	}{
		{[]string{full}, "exists and is not empty"},
		{[]string{filepath.Join(full, "x")}, "exists and is not a folder"},
		{[]string{filepath.Join(t.TempDir(), "My Shop")}, "the folder's name makes no module path"},
		{[]string{t.TempDir(), "--module", "example.com/a b"}, "--module: module path"},
		{[]string{t.TempDir(), "--frontend", "Hello"}, "--frontend: name \"Hello\""},
		{[]string{t.TempDir(), "--collage", full}, "--collage " + full + ": not a checkout of collage"},
		{[]string{}, "want the folder of the new project"},
	}
	for _, tt := range tests {
		var out bytes.Buffer
		m := &Main{Stdout: &out, Stderr: &out}
		err := m.Run(context.Background(), append([]string{"new"}, tt.args...))
		if err == nil || !strings.Contains(err.Error(), tt.err) {
			t.Errorf("new %v: %v, want an error with %q", tt.args, err, tt.err)
		}
	}
	if entries, _ := os.ReadDir(full); len(entries) != 1 {
		t.Errorf("new wrote into a folder that was not empty")
	}
}

// TestNewAndAdd is the user's path, end to end: collage new (with this
// checkout for collage), collage add, and the new project's own make
// test, which vets, tests, type-checks and builds it.
func TestNewAndAdd(t *testing.T) {
	needNodeModules(t)
	for _, tool := range []string{"go", "make", "npm"} {
		if _, err := exec.LookPath(tool); err != nil {
			if os.Getenv("CI") == "true" {
				t.Fatalf("%s is not on PATH under CI", tool)
			}
			t.Skipf("SKIPPING: %s is not on PATH", tool)
		}
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
	defer cancel()
	run := func(dir string, name string, args ...string) string {
		t.Helper()
		start := time.Now()
		cmd := exec.CommandContext(ctx, name, args...)
		cmd.Dir = dir
		// npm takes what its cache holds without asking the registry.
		cmd.Env = append(os.Environ(), "npm_config_prefer_offline=true")
		out, err := cmd.CombinedOutput()
		if err != nil {
			t.Fatalf("%s %s: %v\n%s", filepath.Base(name), strings.Join(args, " "), err, out)
		}
		t.Logf("%s %s: %s", filepath.Base(name), args[0], time.Since(start).Round(time.Millisecond))
		return string(out)
	}
	tmp := t.TempDir()
	checkout, err := filepath.Abs(root)
	if err != nil {
		t.Fatal(err)
	}
	bin := filepath.Join(tmp, "collage")
	run(checkout, "go", "build", "-o", bin, "./cmd/collage")
	dir := filepath.Join(tmp, "shop")
	out := run(tmp, bin, "new", dir, "--collage", checkout, "--module", "example.com/shop")
	if want := "go.mod replaces " + collagePath + " with " + checkout; !strings.Contains(out, want) {
		t.Errorf("collage new says nothing of the replace (%q):\n%s", want, out)
	}
	for _, want := range []string{"make dev", "make test"} {
		if !strings.Contains(out, want) {
			t.Errorf("collage new does not tell the next command, %s:\n%s", want, out)
		}
	}
	run(dir, bin, "add", "banner")
	if bad := unformatted(t, dir); len(bad) > 0 {
		t.Errorf("not gofmt-ed: %v", bad)
	}
	out = run(dir, "make", "test")
	if !strings.Contains(out, "built 2 frontend(s)") {
		t.Errorf("make test did not build both frontends:\n%s", out)
	}
}
