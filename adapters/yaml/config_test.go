package yaml_test

import (
	"errors"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/collage-dev/collage/adapters/yaml"
)

// project writes collage.yaml and layouts under a temporary folder and
// returns the config's path.
func project(t *testing.T, yaml string, layouts map[string]string) string {
	t.Helper()
	dir := t.TempDir()
	for name, src := range layouts {
		p := filepath.Join(dir, filepath.FromSlash(name))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(src), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	p := filepath.Join(dir, "collage.yaml")
	if err := os.WriteFile(p, []byte(yaml), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

var layouts = map[string]string{
	"shell/layouts/home.html":    `<head></head><collage-slot frontend=catalog></collage-slot>`,
	"shell/layouts/product.html": "<head></head>\n<collage-slot frontend=catalog primary></collage-slot>",
	"shell/layouts/about.html":   `<p>about</p>`,
}

func TestLoad(t *testing.T) {
	t.Parallel()
	path := project(t, `# the demo
layouts: shell/layouts
routes:
  /products/{id}: product.html
  /: home.html
  /about: about.html
frontends:
  catalog: { bff: local }
  recs:
    bff: "http://127.0.0.1:9001"
    settings:
      delay: 150ms
      mode: "fast"
  cart:    { bff: "lambda://cart:live" }
  search-2: { bff: https://abc.lambda-url.eu-west-1.on.aws/ }
main: ./cmd/shop
`, layouts)
	c, err := yaml.Load(path)
	if err != nil {
		t.Fatal(err)
	}
	if c.File != path || c.Dir != filepath.Dir(path) || c.Layouts != "shell/layouts" || c.Main != "./cmd/shop" {
		t.Errorf("File %q Dir %q Layouts %q Main %q", c.File, c.Dir, c.Layouts, c.Main)
	}
	var patterns []string
	for _, r := range c.Routes {
		patterns = append(patterns, r.Pattern+"="+filepath.Base(r.Layout.Name))
	}
	if got := strings.Join(patterns, " "); got != "/products/{id}=product.html /=home.html /about=about.html" {
		t.Errorf("routes in order = %s", got)
	}
	if want := filepath.Join(filepath.Dir(path), "shell", "layouts", "product.html"); c.Routes[0].Layout.Name != want {
		t.Errorf("layout name = %q, want %q (so errors name the file)", c.Routes[0].Layout.Name, want)
	}
	if p := c.Routes[0].Layout.Primary; p == nil || p.Frontend != "catalog" || p.Line != 2 {
		t.Errorf("product layout not parsed: primary %+v", p)
	}
	want := map[string]yaml.Frontend{
		"catalog":  {Name: "catalog", BFF: "local", Settings: map[string]string{}, Line: 8},
		"recs":     {Name: "recs", BFF: "http://127.0.0.1:9001", Settings: map[string]string{"delay": "150ms", "mode": "fast"}, Line: 9},
		"cart":     {Name: "cart", BFF: "lambda://cart:live", Settings: map[string]string{}, Line: 14},
		"search-2": {Name: "search-2", BFF: "https://abc.lambda-url.eu-west-1.on.aws/", Settings: map[string]string{}, Line: 15},
	}
	if len(c.Frontends) != len(want) {
		t.Errorf("frontends = %+v", c.Frontends)
	}
	for name, w := range want {
		g, ok := c.Frontends[name]
		if !ok || g.Name != w.Name || g.BFF != w.BFF || g.Line != w.Line || len(g.Settings) != len(w.Settings) {
			t.Errorf("frontend %s = %+v, want %+v", name, g, w)
			continue
		}
		for k, v := range w.Settings {
			if g.Settings[k] != v {
				t.Errorf("frontend %s setting %s = %q, want %q", name, k, g.Settings[k], v)
			}
		}
	}
}

func TestRedirects(t *testing.T) {
	t.Parallel()
	path := project(t, "layouts: shell/layouts\nroutes: { /: home.html }\nfrontends: { catalog: { bff: local } }\n"+
		"redirects:\n  - https://Login.Example.com\n  - http://127.0.0.1:8080/\n", layouts)
	c, err := yaml.Load(path)
	if err != nil {
		t.Fatal(err)
	}
	if got := strings.Join(c.Redirects, " "); got != "https://login.example.com http://127.0.0.1:8080" {
		t.Errorf("Redirects = %q", c.Redirects)
	}
}

func TestDefaultLayoutsFolder(t *testing.T) {
	t.Parallel()
	path := project(t, "routes: { /: a.html }\nfrontends: { catalog: { bff: local } }\n",
		map[string]string{"layouts/a.html": "<p>a</p>"})
	c, err := yaml.Load(path)
	if err != nil {
		t.Fatal(err)
	}
	if c.Layouts != "layouts" || c.Main != "." || len(c.Routes) != 1 {
		t.Errorf("Layouts = %q, Main = %q, routes %+v", c.Layouts, c.Main, c.Routes)
	}
}

func TestErrors(t *testing.T) {
	t.Parallel()
	const frontends = "frontends:\n  catalog: { bff: local }\n"
	tests := []struct {
		name string
		yaml string
		file string // the file the error names, relative to the project; default collage.yaml
		line int
		msg  string
	}{
		{name: "unknown key", yaml: "layouts: shell/layouts\nroute:\n  /: home.html\n" + frontends, line: 2, msg: `unknown key "route" (known: layouts, main, routes, frontends, redirects)`},
		{name: "main outside the project", yaml: "layouts: shell/layouts\nmain: ./../shop\nroutes: { /: home.html }\n" + frontends, line: 2, msg: "main must be the path of a Go main package inside the project"},
		{name: "main as an import path", yaml: "layouts: shell/layouts\nmain: example.com/shop\nroutes: { /: home.html }\n" + frontends, line: 2, msg: "main must be the path of a Go main package inside the project"},
		{name: "redirects not a list", yaml: "layouts: shell/layouts\nroutes: { /: home.html }\nredirects: https://login.example.com\n" + frontends, line: 3, msg: "redirects must be a list of origins"},
		{name: "redirect not an origin", yaml: "layouts: shell/layouts\nroutes: { /: home.html }\nredirects:\n  - https://login.example.com\n  - [a]\n" + frontends, line: 5, msg: "redirects: each entry must be an origin"},
		{name: "redirect with a path", yaml: "layouts: shell/layouts\nroutes: { /: home.html }\nredirects:\n  - https://login.example.com\n  - https://sso.example.com/login\n" + frontends, line: 5, msg: `redirects: origin "https://sso.example.com/login": an origin is scheme://host[:port] alone`},
		{name: "redirect without a scheme", yaml: "layouts: shell/layouts\nroutes: { /: home.html }\nredirects: [login.example.com]\n" + frontends, line: 3, msg: `redirects: origin "login.example.com": write scheme://host[:port], with http or https`},
		{name: "route without a leading slash", yaml: "layouts: shell/layouts\nroutes:\n  /: home.html\n  about: about.html\n" + frontends, line: 4, msg: `route "about" must start with /`},
		{name: "missing layout file", yaml: "layouts: shell/layouts\nroutes:\n  /: home.html\n  /x: nope.html\n" + frontends, line: 4, msg: "route /x: layout nope.html: no such file or directory"},
		{name: "route to a mapping", yaml: "layouts: shell/layouts\nroutes:\n  /: { file: home.html }\n" + frontends, line: 3, msg: "the value must be a layout file name"},
		{name: "duplicate route", yaml: "layouts: shell/layouts\nroutes:\n  /: home.html\n  /about: about.html\n  /: about.html\n" + frontends, line: 5, msg: `route "/" is listed twice`},
		{name: "no routes", yaml: "layouts: shell/layouts\n" + frontends, line: 0, msg: "routes must map at least one path"},
		{name: "invalid bff value", yaml: "layouts: shell/layouts\nroutes: { /: home.html }\nfrontends:\n  catalog:\n    bff: ftp://host\n", line: 5, msg: `bff "ftp://host" must be "local", an http:// URL or lambda://FUNCTION`},
		{name: "missing bff", yaml: "layouts: shell/layouts\nroutes: { /: home.html }\nfrontends:\n  catalog: { settings: { a: b } }\n", line: 4, msg: "frontend catalog needs bff"},
		{name: "frontend not a mapping", yaml: "layouts: shell/layouts\nroutes: { /: home.html }\nfrontends:\n  catalog: local\n", line: 4, msg: "must be a mapping like { bff: local }"},
		{name: "unknown frontend key", yaml: "layouts: shell/layouts\nroutes: { /: home.html }\nfrontends:\n  catalog:\n    bff: local\n    timeout: 1s\n", line: 6, msg: `frontend catalog: unknown key "timeout"`},
		{name: "invalid frontend name", yaml: "layouts: shell/layouts\nroutes: { /: home.html }\nfrontends:\n  catalog: { bff: local }\n  Cart_2: { bff: local }\n", line: 5, msg: `frontend name "Cart_2"`},
		{name: "frontend name with a slash", yaml: "layouts: shell/layouts\nroutes: { /: home.html }\nfrontends:\n  ../x: { bff: local }\n", line: 4, msg: `frontend name "../x"`},
		{name: "reserved frontend name", yaml: "layouts: shell/layouts\nroutes: { /: home.html }\nfrontends:\n  catalog: { bff: local }\n  lambda: { bff: local }\n", line: 5, msg: `frontend name "lambda" is reserved by collage (the output's lambda folder and the Lambda transport's packages): choose another`},
		{name: "duplicate frontend", yaml: "layouts: shell/layouts\nroutes: { /: home.html }\nfrontends:\n  catalog: { bff: local }\n  catalog: { bff: local }\n", line: 5, msg: `frontend "catalog" is listed twice`},
		{name: "settings not a mapping", yaml: "layouts: shell/layouts\nroutes: { /: home.html }\nfrontends:\n  catalog:\n    bff: local\n    settings: [a, b]\n", line: 6, msg: "settings must be a mapping"},
		{name: "setting not a value", yaml: "layouts: shell/layouts\nroutes: { /: home.html }\nfrontends:\n  catalog:\n    bff: local\n    settings:\n      a: [1]\n", line: 7, msg: "setting a must be a single value"},
		{name: "no frontends", yaml: "layouts: shell/layouts\nroutes: { /: home.html }\n", line: 0, msg: "frontends must map at least one frontend"},
		{name: "layouts not a path", yaml: "layouts: [a]\nroutes: { /: home.html }\n" + frontends, line: 1, msg: "layouts must be a folder path"},
		{name: "malformed YAML", yaml: "layouts: shell/layouts\nroutes:\n  /: home.html\n   /x: about.html\n" + frontends, line: 4, msg: "mapping values are not allowed in this context"},
		{name: "unclosed quote", yaml: "layouts: shell/layouts\nroutes:\n  /: 'home.html\n", line: 3, msg: "found unexpected end of stream"},
		{name: "tab indentation", yaml: "layouts: shell/layouts\nroutes:\n\t/: home.html\n" + frontends, line: 3, msg: "found character that cannot start any token"},
		{name: "top level not a mapping", yaml: "- a\n- b\n", line: 1, msg: "the top level must be a mapping"},
		{name: "empty file", yaml: "", line: 0, msg: "the file is empty"},
		{
			name: "layout error", yaml: "layouts: shell/layouts\nroutes: { /: broken.html }\n" + frontends,
			file: "shell/layouts/broken.html", line: 2, msg: "is never closed",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			files := map[string]string{"shell/layouts/broken.html": "<p>\n<collage-slot frontend=catalog>"}
			for k, v := range layouts {
				files[k] = v
			}
			path := project(t, tt.yaml, files)
			_, err := yaml.Load(path)
			if err == nil {
				t.Fatal("Load succeeded, want an error")
			}
			want := path
			if tt.file != "" {
				want = filepath.Join(filepath.Dir(path), filepath.FromSlash(tt.file))
			}
			prefix := want + ": "
			if tt.line > 0 {
				prefix = want + ":" + strconv.Itoa(tt.line) + ": "
			}
			if !strings.HasPrefix(err.Error(), prefix) || !strings.Contains(err.Error(), tt.msg) {
				t.Errorf("error = %q, want prefix %q and %q", err, prefix, tt.msg)
			}
			var ce *yaml.Error
			if tt.file == "" && (!errors.As(err, &ce) || ce.Line != tt.line) {
				t.Errorf("error %#v, want a *yaml.Error at line %d", err, tt.line)
			}
		})
	}
}

func TestLoadMissingFile(t *testing.T) {
	t.Parallel()
	_, err := yaml.Load(filepath.Join(t.TempDir(), "collage.yaml"))
	if !errors.Is(err, os.ErrNotExist) {
		t.Errorf("Load of a missing file = %v, want os.ErrNotExist", err)
	}
}

func TestRepoConfig(t *testing.T) {
	t.Parallel()
	// The demo's own collage.yaml must load: it is the quick start.
	c, err := yaml.Load(filepath.Join("..", "..", "collage.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	if len(c.Routes) == 0 || len(c.Frontends) == 0 {
		t.Errorf("the demo config has %d routes and %d frontends", len(c.Routes), len(c.Frontends))
	}
}
