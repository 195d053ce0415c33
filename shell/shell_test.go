package shell_test

import (
	"bytes"
	"context"
	"errors"
	"html/template"
	"io"
	"log/slog"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/collage-dev/collage/bff"
	"github.com/collage-dev/collage/build"
	"github.com/collage-dev/collage/internal/golden"
	"github.com/collage-dev/collage/shell"
	"github.com/collage-dev/collage/shell/compose"
	"github.com/collage-dev/collage/shell/invoke"
	"github.com/collage-dev/collage/shell/layout"
	"github.com/collage-dev/collage/shell/registry"
	"github.com/collage-dev/collage/shell/runtime"
)

func parse(t *testing.T, name, src string) *layout.Layout {
	t.Helper()
	l, err := layout.Parse(name, []byte(src))
	if err != nil {
		t.Fatal(err)
	}
	return l
}

// textBFF is a local BFF whose fragment is text.
func textBFF(name, text string) shell.Frontend {
	b := bff.New(name)
	tmpl := template.Must(template.New(name).Parse(`{{.}}`))
	bff.Fragment(b, tmpl, func(context.Context, *bff.FragmentRequest) (string, error) { return text, nil })
	return shell.Frontend{Invoker: invoke.Local(b)}
}

// buffer is a compose.Writer.
type buffer struct{ bytes.Buffer }

func (*buffer) Flush() error { return nil }

// render composes the shell's page i and returns its status and body.
func render(t *testing.T, sh *shell.Shell, i int, req *compose.Request) (int, string) {
	t.Helper()
	r, done := sh.Compose(sh.Pages()[i], req)
	defer done()
	status, _ := r.Status()
	var w buffer
	if err := r.WriteTo(&w); err != nil {
		t.Fatal(err)
	}
	return status, w.String()
}

func file(data string) build.File {
	return build.File{Size: int64(len(data)), Integrity: build.Integrity([]byte(data))}
}

// snapshot is a registry snapshot made by hand: the shared dependencies,
// catalog (with CSS, a preloaded chunk and two shared imports) and recs.
func snapshot() *registry.Snapshot {
	return &registry.Snapshot{
		Shared: &build.Manifest{
			Name: build.SharedName, Version: "s1",
			Imports: map[string]string{"preact": "preact-AAAA.js", "preact/hooks": "preact-hooks-BBBB.js", "preact/jsx-runtime": "preact-jsx-runtime-CCCC.js"},
			Files: map[string]build.File{
				"preact-AAAA.js": file("preact"), "preact-hooks-BBBB.js": file("hooks"),
				"preact-jsx-runtime-CCCC.js": file("jsx"), "chunk-DDDD.js": file("chunk"), "preact-AAAA.js.map": file("{}"),
			},
		},
		Frontends: map[string]*build.Manifest{
			"catalog": {
				Name: "catalog", Version: "c1", Entry: "catalog-EEEE.js", CSS: []string{"catalog-FFFF.css"},
				Preload: []string{"chunk-GGGG.js"}, Shared: []string{"preact", "preact/jsx-runtime"},
				Files: map[string]build.File{
					"catalog-EEEE.js": file("catalog"), "chunk-GGGG.js": file("catalog chunk"),
					"catalog-FFFF.css": file("css"), "catalog-EEEE.js.map": file("{}"),
				},
			},
			"recs": {
				Name: "recs", Version: "r1", Entry: "recs-HHHH.js", Shared: []string{"preact/hooks"},
				Files: map[string]build.File{"recs-HHHH.js": file("recs")},
			},
			"unused": {
				Name: "unused", Version: "u1", Entry: "unused-IIII.js",
				Files: map[string]build.File{"unused-IIII.js": file("unused")},
			},
		},
	}
}

const productLayout = `<!doctype html>
<html><head>
<title>Product</title>
</head>
<body>
<collage-slot frontend="header">header fallback</collage-slot>
<collage-slot frontend="recs" name="side">recs fallback</collage-slot>
<collage-slot frontend="catalog" primary>catalog fallback</collage-slot>
</body></html>
`

func newShell(t *testing.T, opts shell.Options) *shell.Shell {
	t.Helper()
	sh, err := shell.New(opts)
	if err != nil {
		t.Fatal(err)
	}
	return sh
}

func TestHeadGolden(t *testing.T) {
	t.Parallel()
	sh := newShell(t, shell.Options{
		Routes: []shell.Route{{Pattern: "/products/{id}", Layout: parse(t, "product.html", productLayout)}},
		Frontends: map[string]shell.Frontend{
			"header": textBFF("header", "HEADER"), "catalog": textBFF("catalog", "CATALOG"), "recs": textBFF("recs", "RECS"),
		},
		Registry: registry.New(snapshot()),
		Log:      slog.New(slog.DiscardHandler),
	})
	status, page := render(t, sh, 0, &compose.Request{Path: "/products/7", Params: "id=7", Nonce: "TEST+NONCE/=="})
	if status != 200 {
		t.Errorf("status = %d", status)
	}
	if strings.Contains(page, "\x00") {
		t.Errorf("a nonce placeholder is left in the page")
	}
	if n := strings.Count(page, `nonce="TEST+NONCE/=="`); n != 2 {
		t.Errorf("the nonce appears %d times, want 2 (import map, runtime)", n)
	}
	// The runtime's name and integrity change with its source, not with the
	// head's logic.
	page = strings.ReplaceAll(page, shell.RuntimePath, "/assets/_collage/RUNTIME.js")
	page = strings.ReplaceAll(page, runtime.Integrity, "sha384-RUNTIME")
	golden.Check(t, filepath.Join("testdata", "head.golden.html"), []byte(page))
}

func TestRuntimePath(t *testing.T) {
	t.Parallel()
	if shell.RuntimePath != "/assets/_collage/"+runtime.File || !strings.HasSuffix(runtime.File, ".js") {
		t.Errorf("RuntimePath = %q, runtime.File = %q", shell.RuntimePath, runtime.File)
	}
	if runtime.Integrity != build.Integrity(runtime.Source()) {
		t.Errorf("runtime.Integrity does not match its source")
	}
}

func TestHeadWithoutBundles(t *testing.T) {
	t.Parallel()
	sh := newShell(t, shell.Options{
		Routes: []shell.Route{
			{Pattern: "/", Layout: parse(t, "home.html", `<head></head><collage-slot frontend="header"></collage-slot>`)},
			{Pattern: "/bare", Layout: parse(t, "bare.html", `<p><collage-slot frontend="catalog"></collage-slot></p>`)},
		},
		Frontends: map[string]shell.Frontend{"header": textBFF("header", "H"), "catalog": textBFF("catalog", "C")},
		Registry:  registry.New(snapshot()),
		Log:       slog.New(slog.DiscardHandler),
	})
	// header has no client bundle: nothing to mount, so no import map, no
	// runtime and no params.
	_, page := render(t, sh, 0, &compose.Request{Nonce: "n", Params: "x=1"})
	want := `<head></head><collage-slot frontend="header">H</collage-slot>`
	if page != want {
		t.Errorf("page:\n got %s\nwant %s", page, want)
	}
	// A layout without a head gets no asset tags at all.
	_, page = render(t, sh, 1, &compose.Request{Nonce: "n", Params: "x=1"})
	if want := `<p><collage-slot frontend="catalog">C</collage-slot></p>`; page != want {
		t.Errorf("page without head:\n got %s\nwant %s", page, want)
	}
}

func TestHeadFollowsRegistry(t *testing.T) {
	t.Parallel()
	reg := registry.New(snapshot())
	sh := newShell(t, shell.Options{
		Routes:    []shell.Route{{Pattern: "/", Layout: parse(t, "p.html", `<head></head><collage-slot frontend="recs"></collage-slot>`)}},
		Frontends: map[string]shell.Frontend{"recs": textBFF("recs", "R")},
		Registry:  reg,
		Log:       slog.New(slog.DiscardHandler),
	})
	_, page := render(t, sh, 0, &compose.Request{})
	if !strings.Contains(page, `"/assets/recs/r1/recs-HHHH.js"`) {
		t.Fatalf("first page does not import recs r1:\n%s", page)
	}
	next := snapshot()
	next.Frontends["recs"] = &build.Manifest{Name: "recs", Version: "r2", Entry: "recs-JJJJ.js",
		Files: map[string]build.File{"recs-JJJJ.js": file("recs 2")}}
	reg.Set(next)
	_, page = render(t, sh, 0, &compose.Request{})
	if !strings.Contains(page, `"/assets/recs/r2/recs-JJJJ.js"`) || strings.Contains(page, "r1") {
		t.Errorf("after a promote the page still links r1, or not r2:\n%s", page)
	}
}

func TestNewErrors(t *testing.T) {
	t.Parallel()
	frontends := map[string]shell.Frontend{"header": textBFF("header", ""), "catalog": textBFF("catalog", "")}
	tests := []struct {
		name  string
		route shell.Route
		want  string
	}{
		{
			name:  "unknown frontend",
			route: shell.Route{Pattern: "/", Layout: parse(t, "layouts/home.html", "<head></head>\n<collage-slot frontend=header></collage-slot>\n<collage-slot frontend=cart></collage-slot>")},
			want:  `layouts/home.html:3: unknown frontend "cart": collage.yaml names catalog, header`,
		},
		{
			name:  "route without a slash",
			route: shell.Route{Pattern: "home", Layout: parse(t, "home.html", "")},
			want:  `route "home" must start with /`,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			_, err := shell.New(shell.Options{Routes: []shell.Route{tt.route}, Frontends: frontends})
			if err == nil || err.Error() != tt.want {
				t.Fatalf("New = %v, want %s", err, tt.want)
			}
		})
	}
	_, err := shell.New(shell.Options{Routes: []shell.Route{tests[0].route}, Frontends: frontends})
	var le *layout.Error
	if !errors.As(err, &le) || le.Line != 3 || le.File != "layouts/home.html" {
		t.Errorf("unknown frontend error = %#v, want a *layout.Error at layouts/home.html:3", err)
	}
}

func TestNegativeCoalesce(t *testing.T) {
	t.Parallel()
	_, err := shell.New(shell.Options{Coalesce: -time.Millisecond})
	if want := "coalesce -1ms is negative: zero is the default, and NoCoalesce flushes at once"; err == nil || err.Error() != want {
		t.Errorf("New = %v, want %s", err, want)
	}
}

// redirectBFF is a local BFF whose fragment redirects to location.
func redirectBFF(name, location string) shell.Frontend {
	b := bff.New(name)
	b.Log = slog.New(slog.DiscardHandler)
	bff.Fragment(b, template.Must(template.New(name).Parse(``)), func(context.Context, *bff.FragmentRequest) (string, error) {
		return "", bff.Redirect(302, location)
	})
	return shell.Frontend{Invoker: invoke.Local(b)}
}

// TestRedirects: the allowed origins are read as origins, and a Location
// elsewhere fails the primary slot with a log line that says why.
func TestRedirects(t *testing.T) {
	t.Parallel()
	l := parse(t, "p.html", `<collage-slot frontend=login primary>fb</collage-slot>`)
	for _, tt := range []struct {
		location, status, log string
	}{
		{location: "https://login.example.com/sso", status: "302"},
		{location: "https://login.example.com:443/sso", status: "302"},
		{location: "https://evil.example/", status: "502",
			log: `slot.0.login.err="redirect refused: Location \"https://evil.example/\" is on https://evil.example, neither the page's origin nor an allowed one"`},
		{location: "//evil.example/x", status: "502",
			log: `slot.0.login.err="redirect refused: Location \"//evil.example/x\" starts with //, which browsers read as another host"`},
	} {
		var logs bytes.Buffer
		sh := newShell(t, shell.Options{
			Routes:    []shell.Route{{Pattern: "/", Layout: l}},
			Frontends: map[string]shell.Frontend{"login": redirectBFF("login", tt.location)},
			Redirects: []string{"HTTPS://Login.Example.com/"},
			Log:       slog.New(slog.NewTextHandler(&logs, nil)),
		})
		r, done := sh.Compose(sh.Pages()[0], &compose.Request{Path: "/", Origin: "https://shop.example"})
		status, h := r.Status()
		done()
		if got := strconv.Itoa(status); got != tt.status || (status == 302) != (h.Get("Location") == tt.location) {
			t.Errorf("%s: status %d Location %q, want %s", tt.location, status, h.Get("Location"), tt.status)
		}
		if !strings.Contains(logs.String(), tt.log) {
			t.Errorf("%s: log %q lacks %s", tt.location, logs.String(), tt.log)
		}
	}
	_, err := shell.New(shell.Options{Redirects: []string{"https://login.example.com/sso"}})
	if want := `redirects: origin "https://login.example.com/sso": an origin is scheme://host[:port] alone, with no user, path, query or fragment`; err == nil || err.Error() != want {
		t.Errorf("New with a URL for an origin = %v, want %s", err, want)
	}
}

// TestDoneDoesNotWait: a redirect's page ends as soon as the primary slot
// has decided; the slow slot is canceled, and logged as such.
func TestDoneDoesNotWait(t *testing.T) {
	t.Parallel()
	release := make(chan struct{})
	defer close(release)
	slow := bff.New("slow")
	slow.Log = slog.New(slog.DiscardHandler)
	bff.Fragment(slow, template.Must(template.New("").Parse(`{{.}}`)), func(ctx context.Context, _ *bff.FragmentRequest) (string, error) {
		select {
		case <-release:
		case <-ctx.Done():
		}
		return "late", nil
	})
	var logs bytes.Buffer
	sh := newShell(t, shell.Options{
		Routes: []shell.Route{{Pattern: "/", Layout: parse(t, "p.html",
			`<collage-slot frontend=slow timeout=1h></collage-slot><collage-slot frontend=login primary></collage-slot>`)}},
		Frontends: map[string]shell.Frontend{"slow": {Invoker: invoke.Local(slow)}, "login": redirectBFF("login", "/login")},
		Log:       slog.New(slog.NewTextHandler(&logs, nil)),
	})
	r, done := sh.Compose(sh.Pages()[0], &compose.Request{ID: "req-2", Path: "/"})
	if status, _ := r.Status(); status != 302 {
		t.Fatalf("status = %d", status)
	}
	ended := make(chan struct{})
	go func() {
		done()
		close(ended)
	}()
	select {
	case <-ended:
	case <-time.After(10 * time.Second):
		t.Fatal("done waited for the slow slot")
	}
	for _, want := range []string{"level=INFO", "request_id=req-2", `slot.0.slow="canceled `, `slot.1.login="ok `} {
		if !strings.Contains(logs.String(), want) {
			t.Errorf("log %q lacks %s", logs.String(), want)
		}
	}
}

func TestPages(t *testing.T) {
	t.Parallel()
	sh := newShell(t, shell.Options{
		Routes: []shell.Route{
			{Pattern: "/", Layout: parse(t, "a.html", "")},
			{Pattern: "/products/{id}/reviews/{page_no}", Layout: parse(t, "b.html", "")},
		},
	})
	pages := sh.Pages()
	if len(pages) != 2 || pages[0].Pattern != "/" || pages[1].Pattern != "/products/{id}/reviews/{page_no}" {
		t.Fatalf("pages = %+v", pages)
	}
	if len(pages[0].Params) != 0 || strings.Join(pages[1].Params, ",") != "id,page_no" {
		t.Errorf("params = %q, %q", pages[0].Params, pages[1].Params)
	}
}

func TestComposeLogsFailedSlots(t *testing.T) {
	t.Parallel()
	var logs bytes.Buffer
	b := bff.New("cart")
	bff.Fragment(b, template.Must(template.New("").Parse("")), func(context.Context, *bff.FragmentRequest) (string, error) {
		return "", errors.New("database is down")
	})
	b.Log = slog.New(slog.DiscardHandler)
	sh := newShell(t, shell.Options{
		Routes:    []shell.Route{{Pattern: "/", Layout: parse(t, "p.html", `<collage-slot frontend=cart>sorry</collage-slot>`)}},
		Frontends: map[string]shell.Frontend{"cart": {Invoker: invoke.Local(b)}},
		Log:       slog.New(slog.NewTextHandler(&logs, nil)),
	})
	_, page := render(t, sh, 0, &compose.Request{ID: "req-1", Path: "/"})
	if want := `<collage-slot frontend="cart" data-collage-fallback="error">sorry</collage-slot>`; page != want {
		t.Errorf("page = %s, want %s", page, want)
	}
	line := logs.String()
	for _, want := range []string{"level=WARN", "request_id=req-1", "slot.0.cart=", "slot.0.cart.err=\"fragment answered 500\""} {
		if !strings.Contains(line, want) {
			t.Errorf("log %q lacks %s", line, want)
		}
	}
}

// TestStreamAlone: under StreamAlone, a page composed alone writes its
// head before a slot that has not answered, whatever the window; a page
// composed beside another waits the window for that slot and leaves
// whole, as every page does without StreamAlone.
func TestStreamAlone(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct {
		name              string
		streamAlone, busy bool
		whole             bool
	}{
		{name: "alone", streamAlone: true, whole: false},
		{name: "beside another page", streamAlone: true, busy: true, whole: true},
		{name: "alone, without StreamAlone", whole: true},
	} {
		release := make(chan struct{})
		slow := fetchFunc(func(ctx context.Context, _ *layout.Slot, _ *compose.Request) compose.Result {
			select {
			case <-release:
			case <-ctx.Done():
			}
			return compose.Result{Status: 200, Body: []byte("late")}
		})
		sh := newShell(t, shell.Options{
			Routes:      []shell.Route{{Pattern: "/", Layout: parse(t, "p.html", `<head></head><body><collage-slot frontend=slow timeout=1h></collage-slot></body>`)}},
			Frontends:   map[string]shell.Frontend{"slow": {}},
			Fetcher:     slow,
			Coalesce:    time.Hour,
			StreamAlone: tt.streamAlone,
			Log:         slog.New(slog.DiscardHandler),
		})
		if tt.busy {
			_, done := sh.Compose(sh.Pages()[0], &compose.Request{Path: "/"})
			defer done()
		}
		r, done := sh.Compose(sh.Pages()[0], &compose.Request{Path: "/"})
		prefix := make(chan bool, 1)
		go func() {
			complete, err := r.WritePrefix(io.Discard)
			if err != nil {
				t.Error(err)
			}
			prefix <- complete
		}()
		if !tt.whole {
			select {
			case complete := <-prefix:
				if complete {
					t.Errorf("%s: the page is whole before its slot answered", tt.name)
				}
			case <-time.After(10 * time.Second):
				t.Errorf("%s: the head waited for the slot", tt.name)
			}
			close(release)
			done()
			continue
		}
		select {
		case <-prefix:
			t.Errorf("%s: the head left before the slot answered, within the window", tt.name)
		case <-time.After(50 * time.Millisecond):
		}
		close(release)
		if complete := <-prefix; !complete {
			t.Errorf("%s: the page is not whole", tt.name)
		}
		done()
	}
}
