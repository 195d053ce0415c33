package dev

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/collage-dev/collage/build"
	"github.com/collage-dev/collage/shell/registry"
)

// bundler is a build.ContextBundler that bundles a frontend by copying its
// entry to NAME.js, with each file a line "uses FILE" of it names, and its
// src/styles.css, if any, to NAME.css. An entry that says "syntax error"
// fails at its line 1. The shared dependencies are preact.js, of
// node_modules/preact/package.json.
type bundler struct {
	mu     sync.Mutex
	builds map[string]int // by frontend
}

func (b *bundler) BundleShared(root string, specs []string, dir string, minify bool) (map[string]string, []build.Message) {
	pkg, err := os.ReadFile(filepath.Join(root, "node_modules", "preact", "package.json"))
	if err != nil {
		return nil, []build.Message{{Text: err.Error()}}
	}
	os.MkdirAll(dir, 0o755)
	os.WriteFile(filepath.Join(dir, "preact.js"), pkg, 0o644)
	return map[string]string{"preact": "preact.js"}, nil
}

func (b *bundler) BundleFrontend(root string, f build.Frontend, shared []string, dir string, minify bool) (build.Bundle, []build.Message) {
	return (&context_{b: b, root: root, f: f}).Rebuild(dir)
}

func (b *bundler) FrontendContext(root string, f build.Frontend, shared []string, minify bool) (build.FrontendContext, []build.Message) {
	return &context_{b: b, root: root, f: f}, nil
}

type context_ struct {
	b    *bundler
	root string
	f    build.Frontend
}

func (c *context_) Rebuild(dir string) (build.Bundle, []build.Message) {
	c.b.mu.Lock()
	c.b.builds[c.f.Name]++
	c.b.mu.Unlock()
	entry := c.f.Dir + "/" + c.f.Entry
	src, err := os.ReadFile(filepath.Join(c.root, entry))
	if err != nil {
		return build.Bundle{}, []build.Message{{File: entry, Text: err.Error()}}
	}
	if bytes.Contains(src, []byte("syntax error")) {
		return build.Bundle{}, []build.Message{{File: entry, Line: 1, Column: 5, Text: "Unexpected token", Source: string(src)}}
	}
	inputs := []string{entry}
	code := string(src)
	for _, line := range strings.Split(code, "\n") {
		if used, ok := strings.CutPrefix(line, "uses "); ok {
			data, _ := os.ReadFile(filepath.Join(c.root, used))
			code += string(data)
			inputs = append(inputs, used)
		}
	}
	os.MkdirAll(dir, 0o755)
	os.WriteFile(filepath.Join(dir, c.f.Name+".js"), []byte(code), 0o644)
	b := build.Bundle{Entry: c.f.Name + ".js", Shared: []string{"preact"}, Inputs: inputs}
	if css, err := os.ReadFile(filepath.Join(c.root, c.f.Dir, "src", "styles.css")); err == nil {
		os.WriteFile(filepath.Join(dir, c.f.Name+".css"), css, 0o644)
		b.CSS = []string{c.f.Name + ".css"}
		b.Inputs = append(b.Inputs, c.f.Dir+"/src/styles.css")
	}
	return b, nil
}

func (c *context_) Dispose() {}

// env is a Loop over a project in a temporary folder, serving from a
// registry in memory.
type env struct {
	root    string
	b       *bundler
	l       *Loop
	st      *registry.MemStore
	reg     *registry.Registry
	hub     *Hub
	out     *syncBuffer
	reloads int
	// load is what Serving.Load returns; swaps counts the projects served.
	load  func() (*Project, error)
	swaps int
}

type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

// take returns what was written since the last take.
func (s *syncBuffer) take() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := s.b.String()
	s.b.Reset()
	return out
}

func (e *env) write(t *testing.T, files map[string]string) {
	t.Helper()
	for name, data := range files {
		p := filepath.Join(e.root, filepath.FromSlash(name))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(data), 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

func (e *env) reload(ctx context.Context) error {
	e.reloads++
	st, err := e.st.Load(ctx)
	if err != nil {
		return err
	}
	e.reg.Set(registry.NewSnapshot(st, registry.Retention{}, time.Now()))
	return nil
}

// project is a project of the frontends named, each with a local BFF.
func (e *env) project(names ...string) *Project {
	p := &Project{Frontends: map[string]registry.Descriptor{}, Files: []string{"collage.yaml", "layouts"},
		Swap: func(ctx context.Context) error {
			e.swaps++
			return e.reload(ctx)
		}}
	for _, n := range names {
		p.Frontends[n] = registry.Descriptor{Frontend: n, BFF: "local"}
	}
	return p
}

// newEnv builds cart and recs (header has no entry) and serves them, as
// collage dev starts.
func newEnv(t *testing.T) *env {
	t.Helper()
	e := &env{root: t.TempDir(), b: &bundler{builds: map[string]int{}}, st: registry.NewMemStore(),
		reg: registry.New(&registry.Snapshot{}), out: &syncBuffer{}}
	e.write(t, map[string]string{
		"collage.yaml":                     "frontends: …",
		"layouts/home.html":                "<head></head>",
		"node_modules/preact/package.json": `{"version": "10.0.0"}`,
		"frontends/cart/frontend.json":     `{"name": "cart", "entry": "src/index.ts"}`,
		"frontends/cart/src/index.ts":      "cart v1\nuses frontends/product-art/art.ts",
		"frontends/cart/src/styles.css":    ".cart{}",
		"frontends/recs/frontend.json":     `{"name": "recs", "entry": "src/index.ts"}`,
		"frontends/recs/src/index.ts":      "recs v1\nuses frontends/product-art/art.ts",
		"frontends/header/frontend.json":   `{"name": "header"}`,
		"frontends/product-art/art.ts":     "art v1",
	})
	session := build.NewSession(build.Options{Root: e.root, Out: ".collage/dev"}, e.b)
	t.Cleanup(session.Close)
	e.hub = NewHub(HubOptions{Current: e.reg.Current})
	t.Cleanup(e.hub.Close)
	e.l = New(Options{Root: e.root, Builder: session, Hub: e.hub, Out: e.out})
	res, err := e.l.Build()
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Failed) > 0 || len(res.Index.Frontends) != 2 || res.Index.Shared == "" {
		t.Fatalf("first build: %+v", res)
	}
	if err := build.WriteIndex(session.Out(), res.Index); err != nil {
		t.Fatal(err)
	}
	p := e.project("cart", "recs", "header")
	ctx := context.Background()
	if _, err := registry.ImportDir(ctx, e.st, registry.NewMemBlobs(), session.Out(), p.Frontends, "test"); err != nil {
		t.Fatal(err)
	}
	if err := e.reload(ctx); err != nil {
		t.Fatal(err)
	}
	e.load = func() (*Project, error) { return e.project("cart", "recs", "header"), nil }
	e.l.s = Serving{Store: e.st, Blobs: registry.NewMemBlobs(), Reload: e.reload, Project: p,
		Load: func() (*Project, error) { return e.load() }}
	e.out.take()
	return e
}

// page connects a page rendered with the versions served now.
func (e *env) page(t *testing.T) *client {
	t.Helper()
	snap := e.reg.Current()
	versions := url.Values{}
	for name := range snap.Frontends {
		versions.Set(name, snap.Versions[name])
	}
	return connect(t, e.hub, url.Values{"path": {"/"}, "versions": {versions.Encode()}, "shared": {snap.Shared.Version}}.Encode(), "")
}

// apply runs one burst of changes.
func (e *env) apply(paths ...string) { e.l.apply(context.Background(), paths, time.Now()) }

// active is the label and bundle version active for name.
func (e *env) active(name string) (label, version string) {
	snap := e.reg.Current()
	if m := snap.Frontends[name]; m != nil {
		version = m.Version
	}
	if name == build.SharedName && snap.Shared != nil {
		version = snap.Shared.Version
	}
	return snap.Versions[name], version
}

func (e *env) builds() map[string]int {
	e.b.mu.Lock()
	defer e.b.mu.Unlock()
	out := map[string]int{}
	for k, v := range e.b.builds {
		out[k] = v
	}
	return out
}

func TestLoopRebuildsWhatAnEditTouches(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	page := e.page(t)
	before := e.builds()
	label0, _ := e.active("recs")

	// A frontend's own file: that frontend alone, published and active.
	e.write(t, map[string]string{"frontends/recs/src/index.ts": "recs v2\nuses frontends/product-art/art.ts"})
	e.apply("frontends/recs/src/index.ts")
	u := decode[Update](t, page.next(t))
	label, version := e.active("recs")
	if u.Frontend != "recs" || u.Label != label || u.Label == label0 || u.Version != version || u.CSSOnly || u.At == 0 {
		t.Errorf("update %+v; active recs %s %s (was %s)", u, label, version, label0)
	}
	if got := e.builds(); got["recs"] != before["recs"]+1 || got["cart"] != before["cart"] {
		t.Errorf("builds %v → %v: want recs alone built again", before, got)
	}
	if out := e.out.take(); !strings.Contains(out, "collage: rebuilt recs in ") {
		t.Errorf("terminal: %q", out)
	}
	if m := e.reg.Current().Frontends["recs"]; m == nil || !strings.Contains(readFile(t, e, "recs"), "recs v2") {
		t.Errorf("the registry serves recs %+v", m)
	}

	// The same bundle again: nothing published, nobody told.
	e.apply("frontends/recs/src/index.ts")
	page.quiet(t, 20*time.Millisecond)
	if out := e.out.take(); !strings.Contains(out, "recs unchanged") {
		t.Errorf("terminal: %q", out)
	}

	// A file two frontends read: both.
	e.write(t, map[string]string{"frontends/product-art/art.ts": "art v2"})
	e.apply("frontends/product-art/art.ts")
	got := map[string]bool{}
	for range 2 {
		got[decode[Update](t, page.next(t)).Frontend] = true
	}
	if !got["cart"] || !got["recs"] {
		t.Errorf("updates of %v, want cart and recs", got)
	}

	// A stylesheet alone: the page swaps it, mounts nothing.
	e.write(t, map[string]string{"frontends/cart/src/styles.css": ".cart{color:red}"})
	e.apply("frontends/cart/src/styles.css")
	if u := decode[Update](t, page.next(t)); u.Frontend != "cart" || !u.CSSOnly {
		t.Errorf("update %+v, want cart's stylesheet alone", u)
	}

	// The Go side, and files of no frontend: nothing.
	before = e.builds()
	e.apply("frontends/cart/bff/cart.go", "frontends/cart/bff/templates/cart.html", "README.md", "frontends/internal/x/x.go")
	page.quiet(t, 20*time.Millisecond)
	if got := e.builds(); !reflect.DeepEqual(got, before) {
		t.Errorf("builds %v → %v for Go and other files", before, got)
	}
}

// readFile is the content of the entry of name's active bundle.
func readFile(t *testing.T, e *env, name string) string {
	t.Helper()
	data, err := os.ReadFile(filepath.Join(e.l.built[name].Dir, name+".js"))
	if err != nil {
		t.Fatal(err)
	}
	return string(data)
}

func TestLoopKeepsTheLastGoodBuild(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	page := e.page(t)
	label, _ := e.active("recs")
	e.write(t, map[string]string{"frontends/recs/src/index.ts": "a syntax error\nmore"})
	e.apply("frontends/recs/src/index.ts")
	ev := page.next(t)
	p := decode[Problem](t, ev)
	want := Problem{Source: SourceBuild, Frontend: "recs", File: "frontends/recs/src/index.ts", Line: 1, Column: 5,
		Message: "Unexpected token", Frame: "> 1 | a syntax error\n    |     ^\n  2 | more"}
	if ev.name != EventError || p != want {
		t.Errorf("event %s %+v\nwant %+v", ev.name, p, want)
	}
	if now, _ := e.active("recs"); now != label {
		t.Errorf("active recs %s after a failed build, want %s still", now, label)
	}
	if out := e.out.take(); !strings.Contains(out, "recs failed to build in") || !strings.Contains(out, "frontends/recs/src/index.ts:1:5: Unexpected token") {
		t.Errorf("terminal: %q", out)
	}
	// A page that loads now is told.
	late := e.page(t)
	if ev := late.next(t); ev.name != EventError {
		t.Errorf("a page loaded during the error: %s", ev.name)
	}

	e.write(t, map[string]string{"frontends/recs/src/index.ts": "recs fixed"})
	e.apply("frontends/recs/src/index.ts")
	if ev := page.next(t); ev.name != EventClear || decode[Clear](t, ev) != (Clear{Source: SourceBuild, Frontend: "recs"}) {
		t.Errorf("event %s %s, want recs' problem cleared", ev.name, ev.data)
	}
	if ev := page.next(t); ev.name != EventUpdate {
		t.Errorf("event %s, want the fixed version", ev.name)
	}

	// A broken frontend.json keeps the frontend as it was.
	label, _ = e.active("cart")
	e.write(t, map[string]string{"frontends/cart/frontend.json": "{"})
	e.apply("frontends/cart/frontend.json")
	if p := decode[Problem](t, page.next(t)); p.Frontend != "cart" || p.File != "frontends/cart/frontend.json" {
		t.Errorf("problem %+v, want cart's frontend.json", p)
	}
	if now, _ := e.active("cart"); now != label {
		t.Errorf("active cart %s, want %s still", now, label)
	}
	e.write(t, map[string]string{"frontends/cart/frontend.json": `{"name": "cart", "entry": "src/index.ts"}`})
	e.apply("frontends/cart/frontend.json")
	if ev := page.next(t); ev.name != EventClear {
		t.Errorf("event %s %s, want cart's problem cleared", ev.name, ev.data)
	}
}

func TestLoopFrontendsComeAndGo(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	page := e.page(t)

	// A new folder is built, but served only once collage.yaml names it.
	e.write(t, map[string]string{
		"frontends/news/frontend.json": `{"name": "news", "entry": "index.ts"}`,
		"frontends/news/index.ts":      "news v1",
	})
	e.apply("frontends/news", "frontends/news/frontend.json", "frontends/news/index.ts")
	page.quiet(t, 20*time.Millisecond)
	if out := e.out.take(); !strings.Contains(out, "collage.yaml names no frontend news") {
		t.Errorf("terminal: %q", out)
	}
	if _, version := e.active("news"); version != "" {
		t.Errorf("news is served (%s) before collage.yaml names it", version)
	}
	e.load = func() (*Project, error) { return e.project("cart", "recs", "header", "news"), nil }
	e.apply("collage.yaml")
	if ev := page.next(t); ev.name != EventReload {
		t.Errorf("event %s, want reload", ev.name)
	}
	if _, version := e.active("news"); version == "" || e.swaps != 1 {
		t.Errorf("news active %q after collage.yaml names it, %d swap(s)", version, e.swaps)
	}

	// A folder removed: its frontend is served without a bundle.
	if err := os.RemoveAll(filepath.Join(e.root, "frontends", "recs")); err != nil {
		t.Fatal(err)
	}
	e.apply("frontends/recs")
	if ev := page.next(t); ev.name != EventReload {
		t.Errorf("event %s, want reload", ev.name)
	}
	if label, version := e.active("recs"); label == "" || version != "" {
		t.Errorf("recs active %q with bundle %q, want a release without a bundle", label, version)
	}
	if out := e.out.take(); !strings.Contains(out, "frontend recs is gone") {
		t.Errorf("terminal: %q", out)
	}

	// The whole folder: every frontend is gone, and nothing is wrong.
	if err := os.RemoveAll(filepath.Join(e.root, "frontends")); err != nil {
		t.Fatal(err)
	}
	e.apply("frontends")
	if ev := page.next(t); ev.name != EventReload {
		t.Errorf("event %s %s, want reload", ev.name, ev.data)
	}
	if len(e.l.frontends) != 0 || len(e.hub.problems) != 0 {
		t.Errorf("frontends %v, problems %v, want none", e.l.frontends, e.hub.problems)
	}
}

func TestLoopConfig(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	page := e.page(t)
	e.load = func() (*Project, error) {
		return nil, errors.New("layouts/home.html:3: unknown frontend \"nope\"")
	}
	e.apply("layouts/home.html")
	p := decode[Problem](t, page.next(t))
	if p.Source != SourceConfig || !strings.Contains(p.Message, `unknown frontend "nope"`) || e.swaps != 0 {
		t.Errorf("problem %+v, %d swap(s)", p, e.swaps)
	}
	if out := e.out.take(); !strings.Contains(out, "the last good collage.yaml and layouts are served") {
		t.Errorf("terminal: %q", out)
	}

	// Fixed, with recs' BFF moved: its release moves with it.
	label, _ := e.active("recs")
	e.load = func() (*Project, error) {
		p := e.project("cart", "recs", "header")
		p.Frontends["recs"] = registry.Descriptor{Frontend: "recs", BFF: "http://127.0.0.1:9001"}
		return p, nil
	}
	e.apply("layouts/home.html")
	if ev := page.next(t); ev.name != EventClear {
		t.Errorf("event %s, want the config's problem cleared", ev.name)
	}
	if ev := page.next(t); ev.name != EventReload {
		t.Errorf("event %s, want reload", ev.name)
	}
	now, _ := e.active("recs")
	if rel := e.reg.Current().Release("recs", now); now == label || rel == nil || rel.BFF != "http://127.0.0.1:9001" || rel.Manifest == nil {
		t.Errorf("active recs %s (was %s): %+v", now, label, rel)
	}
}

func TestLoopShared(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	page := e.page(t)
	_, before := e.active(build.SharedName)
	e.write(t, map[string]string{"node_modules/preact/package.json": `{"version": "10.0.1"}`})
	e.apply("node_modules/preact/package.json")
	if ev := page.next(t); ev.name != EventReload {
		t.Errorf("event %s, want reload: an import map cannot change", ev.name)
	}
	if _, after := e.active(build.SharedName); after == before {
		t.Errorf("shared version %s unchanged", after)
	}
	// package.json alone, the packages the same: nothing.
	e.apply("package.json")
	page.quiet(t, 20*time.Millisecond)

	// Events lost: everything is built again; nothing changed.
	before2 := e.builds()
	e.apply(lost)
	if got := e.builds(); got["cart"] != before2["cart"]+1 || got["recs"] != before2["recs"]+1 {
		t.Errorf("builds %v → %v after lost events, want every frontend", before2, got)
	}
}

func TestPlan(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	e.l.broken["news"] = true // its last build failed
	for _, tt := range []struct {
		path string
		want string
	}{
		{"frontends/cart/src/index.ts", "cart"},
		{"frontends/cart/src/new-file.ts", "cart"},
		{"frontends/product-art/art.ts", "cart discover recs"},
		{"frontends/cart/frontend.json", "cart discover"},
		{"frontends/news", "discover news"},
		{"frontends", "discover"},
		{"frontends/cart/bff/cart.go", "go"},
		{"frontends/cart/bff/templates/cart.html", "go"},
		{"frontends/internal/shopdata/data.go", "go"},
		{"main.go", "go"},
		{"cmd/shop/main.go", "go"},
		{"go.mod", "go"},
		{"go.sum", "go"},
		{"node_modules/flatted/golang/pkg/flatted/flatted.go", "news"},
		{"collage.yaml", "config"},
		{"layouts/home.html", "config"},
		{"layouts", "config"},
		{"package.json", "news shared"},
		{"node_modules/preact/hooks/index.js", "news shared"},
		{"node_modules/react", "news"},
		{"README.md", ""},
		{"layoutsx/home.html", ""},
		{".", "cart config discover go header recs shared"},
	} {
		w := e.l.plan([]string{tt.path})
		var got []string
		for name := range w.frontends {
			got = append(got, name)
		}
		for flag, on := range map[string]bool{"config": w.config, "shared": w.shared, "discover": w.discover, "go": w.golang} {
			if on {
				got = append(got, flag)
			}
		}
		slices.Sort(got)
		if s := strings.Join(got, " "); s != tt.want {
			t.Errorf("%s: %q, want %q", tt.path, s, tt.want)
		}
	}
}

// TestLoopRun: a burst of changes through Run is built once.
func TestLoopRun(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	page := e.page(t)
	ctx, cancel := context.WithCancel(context.Background())
	changes := make(chan string, 16)
	done := make(chan struct{})
	go func() {
		defer close(done)
		e.l.Run(ctx, changes, e.l.s)
	}()
	before := e.builds()
	e.write(t, map[string]string{"frontends/recs/src/index.ts": "recs via Run"})
	for range 5 {
		changes <- "frontends/recs/src/index.ts" // an editor's save is several events
	}
	if u := decode[Update](t, page.next(t)); u.Frontend != "recs" {
		t.Errorf("update %+v", u)
	}
	cancel()
	<-done
	if got := e.builds(); got["recs"] != before["recs"]+1 {
		t.Errorf("recs built %d time(s) for one burst", got["recs"]-before["recs"])
	}
}

func TestFrame(t *testing.T) {
	t.Parallel()
	root := t.TempDir()
	os.WriteFile(filepath.Join(root, "a.ts"), []byte("one\ntwo\n\tthree\nfour\nfive\nsix\n"), 0o644)
	for _, tt := range []struct {
		m    build.Message
		want string
	}{
		{build.Message{File: "a.ts", Line: 3, Column: 2, Text: "x"}, "  1 | one\n  2 | two\n> 3 |     three\n    |     ^\n  4 | four\n  5 | five"},
		{build.Message{File: "a.ts", Line: 1, Column: 1, Text: "x"}, "> 1 | one\n    | ^\n  2 | two\n  3 |     three"},
		{build.Message{File: "gone.ts", Line: 9, Column: 3, Source: "let x ="}, "> 9 | let x =\n    |   ^"},
		{build.Message{File: "a.ts", Text: "no line"}, ""},
	} {
		if got := frame(root, tt.m); got != tt.want {
			t.Errorf("frame(%+v):\n%s\nwant\n%s", tt.m, got, tt.want)
		}
	}
}

func TestGather(t *testing.T) {
	t.Parallel()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	changes := make(chan string, 16)
	for _, p := range []string{"a", "b", "a"} {
		changes <- p
	}
	paths, first, ok := gather(ctx, changes, 20*time.Millisecond, time.Second)
	if !ok || fmt.Sprint(paths) != "[a b]" || first.IsZero() {
		t.Errorf("gather = %v, %v, %v; want [a b]", paths, first, ok)
	}
	// A burst that never quiets ends at max.
	stop := make(chan struct{})
	go func() {
		for {
			select {
			case changes <- "c":
			case <-stop:
				return
			}
			time.Sleep(time.Millisecond)
		}
	}()
	start := time.Now()
	paths, _, ok = gather(ctx, changes, 50*time.Millisecond, 100*time.Millisecond)
	close(stop)
	if !ok || fmt.Sprint(paths) != "[c]" || time.Since(start) > 5*time.Second {
		t.Errorf("gather of an endless burst = %v, %v after %s", paths, ok, time.Since(start))
	}
	cancel()
	if _, _, ok := gather(ctx, make(chan string), time.Millisecond, time.Millisecond); ok {
		t.Error("gather after ctx is done: ok")
	}
}
