// Package yaml reads collage.yaml, and the layouts it names, into typed
// options. It is the only package that reads the YAML parser's output, and
// with cmd/collage the only one that reads settings from files.
package yaml

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/collage-dev/collage/build"
	"github.com/collage-dev/collage/shell"
	"github.com/collage-dev/collage/shell/compose"
	"github.com/collage-dev/collage/shell/layout"
	"go.yaml.in/yaml/v3"
)

// Config is collage.yaml, with its layouts parsed.
type Config struct {
	// File is the path collage.yaml was read from.
	File string
	// Dir is File's folder; paths in the file are relative to it.
	Dir string
	// Layouts is the folder of layouts. Optional. Default: "layouts".
	Layouts string
	// Main is the Go main package that links the project's BFFs into the
	// collage command, as a path relative to Dir such as ./cmd/shop: what
	// collage dev runs for the BFFs and collage build packages as the
	// shell's Lambda bootstrap. Optional. Default: ".".
	Main   string
	Routes []Route
	// Frontends by name.
	Frontends map[string]Frontend
	// Redirects are the origins, besides the site's own, that a primary
	// slot may redirect the page to, each as scheme://host[:port] in lower
	// case. Optional. Default: none.
	Redirects []string
}

// Route is one entry of routes, in file order.
type Route struct {
	Pattern string
	Layout  *layout.Layout
}

// Frontend is one entry of frontends.
type Frontend struct {
	Name string
	// BFF says where the frontend's BFF runs: "local" (linked into the
	// binary), an http:// or https:// URL, or lambda://FUNCTION[:QUALIFIER].
	BFF string
	// Settings are passed to a local BFF, and become a Lambda's environment.
	Settings map[string]string
	// Cookies are the names of the browser's cookies its BFF receives, and
	// the only cookies it may set. Optional. Default: none.
	Cookies []string
	// Headers are the request headers, such as Authorization, its BFF
	// receives besides those every BFF does. Optional. Default: none.
	Headers []string
	Line    int
}

// Error is a problem in a config file, with its place.
type Error struct {
	File string
	Line int
	Msg  string
}

func (e *Error) Error() string {
	if e.Line == 0 {
		return e.File + ": " + e.Msg
	}
	return fmt.Sprintf("%s:%d: %s", e.File, e.Line, e.Msg)
}

// Load reads the config file at path and every layout it names.
func Load(path string) (*Config, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	return Parse(path, data)
}

// Parse reads a config from data; path names it in errors and anchors its
// relative paths.
func Parse(path string, data []byte) (*Config, error) {
	c := &Config{File: path, Dir: filepath.Dir(path), Layouts: "layouts", Main: ".", Frontends: map[string]Frontend{}}
	fail := func(n *yaml.Node, format string, args ...any) error { return nodeError(path, n, format, args...) }
	var doc yaml.Node
	if err := yaml.Unmarshal(data, &doc); err != nil {
		var te *yaml.TypeError
		if errors.As(err, &te) {
			return nil, fail(nil, "%s", strings.Join(te.Errors, "; "))
		}
		return nil, syntaxError(path, err)
	}
	if len(doc.Content) == 0 {
		return nil, fail(nil, "the file is empty: it needs routes and frontends")
	}
	root := doc.Content[0]
	if root.Kind != yaml.MappingNode {
		return nil, fail(root, "the top level must be a mapping with layouts, routes and frontends")
	}
	var routes, frontends *yaml.Node
	for i := 0; i < len(root.Content); i += 2 {
		k, v := root.Content[i], root.Content[i+1]
		switch k.Value {
		case "layouts":
			if v.Kind != yaml.ScalarNode || v.Value == "" {
				return nil, fail(v, "layouts must be a folder path")
			}
			c.Layouts = v.Value
		case "main":
			if v.Kind != yaml.ScalarNode || v.Value != "." && !strings.HasPrefix(v.Value, "./") || !filepath.IsLocal(filepath.FromSlash(v.Value)) {
				return nil, fail(v, "main must be the path of a Go main package inside the project, like . or ./cmd/shop")
			}
			c.Main = v.Value
		case "routes":
			routes = v
		case "frontends":
			frontends = v
		case "redirects":
			redirects, err := parseRedirects(v, fail)
			if err != nil {
				return nil, err
			}
			c.Redirects = redirects
		default:
			return nil, fail(k, "unknown key %q (known: layouts, main, routes, frontends, redirects)", k.Value)
		}
	}
	if frontends == nil || frontends.Kind != yaml.MappingNode || len(frontends.Content) == 0 {
		return nil, fail(frontends, "frontends must map at least one frontend name to { bff: … }")
	}
	for i := 0; i < len(frontends.Content); i += 2 {
		k, v := frontends.Content[i], frontends.Content[i+1]
		f, err := parseFrontend(k, v, fail)
		if err != nil {
			return nil, err
		}
		if _, dup := c.Frontends[f.Name]; dup {
			return nil, fail(k, "frontend %q is listed twice", f.Name)
		}
		c.Frontends[f.Name] = f
	}
	if routes == nil || routes.Kind != yaml.MappingNode || len(routes.Content) == 0 {
		return nil, fail(routes, "routes must map at least one path to a layout file")
	}
	seen := map[string]bool{}
	for i := 0; i < len(routes.Content); i += 2 {
		k, v := routes.Content[i], routes.Content[i+1]
		if !strings.HasPrefix(k.Value, "/") {
			return nil, fail(k, "route %q must start with /", k.Value)
		}
		if seen[k.Value] {
			return nil, fail(k, "route %q is listed twice", k.Value)
		}
		seen[k.Value] = true
		if v.Kind != yaml.ScalarNode || v.Value == "" {
			return nil, fail(v, "route %s: the value must be a layout file name", k.Value)
		}
		file := filepath.Join(c.layoutDir(), v.Value)
		src, err := os.ReadFile(file)
		if err != nil {
			return nil, fail(v, "route %s: layout %s: %v", k.Value, v.Value, errors.Unwrap(err))
		}
		l, err := layout.Parse(file, src)
		if err != nil {
			return nil, err
		}
		c.Routes = append(c.Routes, Route{Pattern: k.Value, Layout: l})
	}
	return c, nil
}

// layoutDir is the folder of layouts: Layouts, relative to the file's folder
// unless it is absolute.
func (c *Config) layoutDir() string {
	if filepath.IsAbs(c.Layouts) {
		return c.Layouts
	}
	return filepath.Join(c.Dir, c.Layouts)
}

func parseFrontend(k, v *yaml.Node, fail func(*yaml.Node, string, ...any) error) (Frontend, error) {
	f := Frontend{Name: k.Value, Line: k.Line, Settings: map[string]string{}}
	if err := build.CheckName(f.Name); err != nil {
		return f, fail(k, "frontend %v", err)
	}
	if v.Kind != yaml.MappingNode {
		return f, fail(v, "frontend %s must be a mapping like { bff: local }", f.Name)
	}
	for i := 0; i < len(v.Content); i += 2 {
		fk, fv := v.Content[i], v.Content[i+1]
		switch fk.Value {
		case "bff":
			f.BFF = fv.Value
		case "settings":
			if fv.Kind != yaml.MappingNode {
				return f, fail(fv, "frontend %s: settings must be a mapping of names to values", f.Name)
			}
			for j := 0; j < len(fv.Content); j += 2 {
				if fv.Content[j+1].Kind != yaml.ScalarNode {
					return f, fail(fv.Content[j+1], "frontend %s: setting %s must be a single value", f.Name, fv.Content[j].Value)
				}
				f.Settings[fv.Content[j].Value] = fv.Content[j+1].Value
			}
		case "cookies":
			names, err := nameList(f.Name, "cookie", "session", fv, shell.CheckCookieName, fail)
			if err != nil {
				return f, err
			}
			f.Cookies = names
		case "headers":
			names, err := nameList(f.Name, "header", "Authorization", fv, shell.CheckHeaderName, fail)
			if err != nil {
				return f, err
			}
			f.Headers = names
		default:
			return f, fail(fk, "frontend %s: unknown key %q (known: bff, settings, cookies, headers)", f.Name, fk.Value)
		}
	}
	switch {
	case f.BFF == "":
		return f, fail(v, `frontend %s needs bff: "local", an http:// URL or lambda://FUNCTION`, f.Name)
	case f.BFF == "local", strings.HasPrefix(f.BFF, "http://"), strings.HasPrefix(f.BFF, "https://"), strings.HasPrefix(f.BFF, "lambda://"):
	default:
		return f, fail(v, `frontend %s: bff %q must be "local", an http:// URL or lambda://FUNCTION`, f.Name, f.BFF)
	}
	return f, nil
}

// nameList reads a frontend's list of cookie or header names, each checked
// by check. Header names are compared without regard to case.
func nameList(frontend, what, example string, v *yaml.Node, check func(string) error, fail func(*yaml.Node, string, ...any) error) ([]string, error) {
	if v.Kind != yaml.SequenceNode {
		return nil, fail(v, "frontend %s: %ss must be a list of names, like [%s]", frontend, what, example)
	}
	var names []string
	seen := map[string]bool{}
	for _, n := range v.Content {
		if n.Kind != yaml.ScalarNode {
			return nil, fail(n, "frontend %s: each of %ss must be a name", frontend, what)
		}
		if err := check(n.Value); err != nil {
			return nil, fail(n, "frontend %s: %v", frontend, err)
		}
		key := n.Value
		if what == "header" {
			key = strings.ToLower(key)
		}
		if seen[key] {
			return nil, fail(n, "frontend %s: %s %s is listed twice", frontend, what, n.Value)
		}
		seen[key] = true
		names = append(names, n.Value)
	}
	return names, nil
}

// parseRedirects reads redirects: a list of origins.
func parseRedirects(v *yaml.Node, fail func(*yaml.Node, string, ...any) error) ([]string, error) {
	if v.Kind != yaml.SequenceNode {
		return nil, fail(v, "redirects must be a list of origins, like [https://login.example.com]")
	}
	out := make([]string, 0, len(v.Content))
	for _, n := range v.Content {
		if n.Kind != yaml.ScalarNode {
			return nil, fail(n, "redirects: each entry must be an origin, like https://login.example.com")
		}
		o, err := compose.ParseOrigin(n.Value)
		if err != nil {
			return nil, fail(n, "redirects: %v", err)
		}
		out = append(out, o)
	}
	return out, nil
}

// syntaxError places the parser's "yaml: line N: …" in Error.Line, so that
// the error reads file:line: like the others.
func syntaxError(path string, err error) error {
	msg := strings.TrimPrefix(err.Error(), "yaml: ")
	e := &Error{File: path, Msg: msg}
	if rest, ok := strings.CutPrefix(msg, "line "); ok {
		if n, text, ok := strings.Cut(rest, ": "); ok {
			if line, err := strconv.Atoi(n); err == nil {
				e.Line, e.Msg = line, text
			}
		}
	}
	return e
}

// nodeError is an Error at node n of the file at path; n may be nil.
func nodeError(path string, n *yaml.Node, format string, args ...any) error {
	line := 0
	if n != nil {
		line = n.Line
	}
	return &Error{File: path, Line: line, Msg: fmt.Sprintf(format, args...)}
}
