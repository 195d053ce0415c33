package cli

import (
	"context"
	"encoding/json"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/collage-dev/collage/internal/syncbuf"
	"github.com/collage-dev/collage/shell/dev"
)

// goProject writes a project of its own Go module beside this checkout,
// which it requires through a replace: a main package that links one BFF,
// hello, whose fragment says greeting. It returns the project's folder.
func goProject(t *testing.T, greeting string) string {
	t.Helper()
	needNodeModules(t)
	dir := t.TempDir()
	repo, err := filepath.Abs(root)
	if err != nil {
		t.Fatal(err)
	}
	files := map[string]string{
		"go.mod": "module example.com/goside\n\ngo 1.27.3\n\nrequire github.com/collage-dev/collage v0.0.0\n\n" +
			"replace github.com/collage-dev/collage => " + repo + "\n",
		"main.go": `package main

import (
	"example.com/goside/hello"
	"github.com/collage-dev/collage/cli"
)

func main() { cli.Run(cli.BFFs{"hello": hello.New}) }
`,
		"hello/hello.go": helloBFF(greeting),
		"collage.yaml":   "routes:\n  /: home.html\nfrontends:\n  hello: { bff: local }\n",
		"layouts/home.html": "<!doctype html>\n<html><head><title>hello</title></head><body>\n" +
			"<collage-slot frontend=\"hello\" timeout=\"5s\"><p>no greeting</p></collage-slot>\n</body></html>\n",
	}
	for name, text := range files {
		p := filepath.Join(dir, filepath.FromSlash(name))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	sum, err := os.ReadFile(filepath.Join(root, "go.sum"))
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "go.sum"), sum, 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(filepath.Join(repo, "node_modules"), filepath.Join(dir, "node_modules")); err != nil {
		t.Fatal(err)
	}
	tidy := exec.Command("go", "mod", "tidy")
	tidy.Dir, tidy.Env = dir, goEnv(os.Environ())
	if out, err := tidy.CombinedOutput(); err != nil {
		t.Fatalf("go mod tidy: %v\n%s", err, out)
	}
	return dir
}

func helloBFF(greeting string) string {
	return `package hello

import (
	"context"
	"html/template"

	"github.com/collage-dev/collage/bff"
)

var tmpl = template.Must(template.New("hello").Parse(` + "`" + `<p class="hello">{{.}}</p>` + "`" + `))

// New is the hello BFF.
func New(bff.Settings) (*bff.BFF, error) {
	b := bff.New("hello")
	bff.Fragment(b, tmpl, func(context.Context, *bff.FragmentRequest) (string, error) {
		return "` + greeting + `", nil
	})
	return b, nil
}
`
}

// TestDevGoSide runs collage dev on a project of its own Go module, with
// none of its BFFs linked into this binary: dev builds the project's main
// package and runs it for them. An edit to the BFF's Go code is served
// after the restart, and the pages are told to reload; a compile error
// goes to the overlay while the last build serves, and its fix clears it.
func TestDevGoSide(t *testing.T) {
	dir := goProject(t, "hello v1")
	ctx, cancel := context.WithCancel(context.Background())
	listening := make(chan string, 1)
	out := &syncbuf.Buffer{}
	m := &Main{Stdout: out, Stderr: out, Listening: listening}
	done := make(chan error, 1)
	go func() {
		done <- m.Run(ctx, []string{"dev", "--config", filepath.Join(dir, "collage.yaml"), "--addr", "127.0.0.1:0", "--data", t.TempDir()})
	}()
	var base string
	select {
	case base = <-listening:
	case err := <-done:
		t.Fatalf("dev exited: %v\n%s", err, out)
	case <-time.After(3 * time.Minute):
		t.Fatalf("dev did not listen in 3 minutes\n%s", out)
	}
	defer func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("dev: %v\n%s", err, out)
		}
		if strings.Contains(out.String(), "bffs-") {
			t.Errorf("dev printed a binary's path:\n%s", out)
		}
	}()
	greets := func(want string) {
		t.Helper()
		_, page := get(t, http.DefaultClient, base+"/")
		if !strings.Contains(page, want) {
			t.Fatalf("the page does not say %q:\n%s\n\ndev's output:\n%s", want, page, out)
		}
	}
	greets(`<p class="hello">hello v1</p>`)
	evs := events(t, base, url.Values{"path": {"/"}})
	bffFile := filepath.Join(dir, "hello", "hello.go")
	write := func(text string) {
		t.Helper()
		if err := os.WriteFile(bffFile, []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
	}

	write(helloBFF("hello v2"))
	expectWithin(t, evs, dev.EventReload, 3*time.Minute, out)
	greets(`<p class="hello">hello v2</p>`)

	write(strings.Replace(helloBFF("hello v3"), `return "hello v3", nil`, `return undefined, nil`, 1))
	var p dev.Problem
	if err := json.Unmarshal([]byte(expectWithin(t, evs, dev.EventError, 3*time.Minute, out)), &p); err != nil {
		t.Fatal(err)
	}
	if p.Source != dev.SourceGo || p.File != "hello/hello.go" || p.Line != 16 || !strings.Contains(p.Message, "undefined") {
		t.Errorf("the overlay's problem: %+v", p)
	}
	greets(`<p class="hello">hello v2</p>`) // the last good build serves

	write(helloBFF("hello v4"))
	expectWithin(t, evs, dev.EventClear, 3*time.Minute, out)
	expectWithin(t, evs, dev.EventReload, time.Minute, out)
	greets(`<p class="hello">hello v4</p>`)

	// A panic in the child reaches the overlay with its stack.
	write(strings.Replace(helloBFF("hello v5"), `return "hello v5", nil`, `panic("boom v5")`, 1))
	expectWithin(t, evs, dev.EventReload, 3*time.Minute, out)
	greets("<p>no greeting</p>") // the slot's fallback
	// The fragment's problem comes first, then its panic's stack, which
	// the child logs.
	for {
		var p dev.Problem
		if err := json.Unmarshal([]byte(expectWithin(t, evs, dev.EventError, time.Minute, out)), &p); err != nil {
			t.Fatal(err)
		}
		if p.Source != dev.SourceFragment || p.Frontend != "hello" {
			t.Fatalf("the overlay's problem of the panic: %+v", p)
		}
		if p.Frame != "" {
			if !strings.Contains(p.Message, "boom v5") || !strings.Contains(p.Frame, "hello/hello.go") {
				t.Errorf("the overlay's problem of the panic: %+v", p)
			}
			break
		}
	}
}

// expectWithin waits at most d for an event called name, skipping others,
// and returns its data; out is what the command printed, for a failure.
func expectWithin(t *testing.T, evs <-chan [2]string, name string, d time.Duration, out *syncbuf.Buffer) string {
	t.Helper()
	timeout := time.After(d)
	var skipped []string
	for {
		select {
		case ev := <-evs:
			if ev[0] == name {
				return ev[1]
			}
			skipped = append(skipped, ev[0]+" "+ev[1])
		case <-timeout:
			t.Fatalf("no %s event within %s, but:\n%s\n\n%s", name, d, strings.Join(skipped, "\n"), out)
		}
	}
}
