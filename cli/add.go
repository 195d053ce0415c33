package cli

import (
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"

	"github.com/collage-dev/collage/adapters/yaml"
	"github.com/collage-dev/collage/build"
	"github.com/collage-dev/collage/shell/layout"
)

func (m *Main) add(args []string) error {
	fset := m.flags("add NAME", "Adds the frontend NAME and its BFF to the project, wired in: frontends/NAME (a Preact\n"+
		"frontend, its BFF in bff/ with a test and a Lambda bootstrap), NAME: { bff: local } in\n"+
		"collage.yaml, a <collage-slot> at the end of the <main> element of the / route's layout\n"+
		"(else of its <body>), and the BFF linked in the main package's cli.BFFs.\n"+
		"Refuses a NAME the project already has, and then changes nothing.")
	var project projectFlags
	project.register(fset)
	pos, err := parseAnywhere(fset, args)
	if err != nil {
		return err
	}
	if len(pos) != 1 {
		fset.Usage()
		return fmt.Errorf("add: want the name of the new frontend, such as banner; got %d arguments", len(pos))
	}
	root, cfgPath := project.paths()
	plan, err := planAdd(root, cfgPath, pos[0])
	if err != nil {
		return fmt.Errorf("add: %w", err)
	}
	if err := plan.apply(); err != nil {
		return fmt.Errorf("add: %w", err)
	}
	for _, line := range plan.report {
		fmt.Fprintln(m.Stdout, line)
	}
	next := "npm install (for frontends/" + pos[0] + "/package.json), then go run " + plan.runArg + " dev"
	if mk, err := os.ReadFile(filepath.Join(root, "Makefile")); err == nil && regexp.MustCompile(`(?m)^dev:`).Match(mk) {
		next = "make dev (which runs npm install first)"
	}
	fmt.Fprintf(m.Stdout, "\nNext: %s\n", next)
	return nil
}

// addPlan is every change collage add makes, computed before any is
// made.
type addPlan struct {
	dir    string            // the new frontend's folder
	files  map[string][]byte // its files, by slash path inside it
	edits  []fileEdit        // the project's files it changes
	report []string          // what it did, a line each
	runArg string            // the main package, as go run takes it
}

// fileEdit is a file's new content.
type fileEdit struct {
	path string
	data []byte
	mode fs.FileMode
}

// planAdd checks that the project in root, configured by cfgPath, can take
// the frontend name, and returns the changes that add it.
func planAdd(root, cfgPath, name string) (*addPlan, error) {
	if err := build.CheckName(name); err != nil {
		return nil, err
	}
	cfg, err := yaml.Load(cfgPath)
	if err != nil {
		return nil, err
	}
	if _, ok := cfg.Frontends[name]; ok {
		return nil, fmt.Errorf("%s:%d: the project already has a frontend %s", cfgPath, cfg.Frontends[name].Line, name)
	}
	absRoot, err := filepath.Abs(root)
	if err != nil {
		return nil, err
	}
	p := &addPlan{dir: filepath.Join(absRoot, "frontends", name), runArg: cfg.Main}
	if _, err := os.Lstat(p.dir); !errors.Is(err, fs.ErrNotExist) {
		return nil, fmt.Errorf("%s already exists: choose another name, or remove it", p.dir)
	}

	modRoot, module, err := findModule(absRoot)
	if err != nil {
		return nil, err
	}
	rel, err := filepath.Rel(modRoot, filepath.Join(p.dir, "bff"))
	if err != nil {
		return nil, err
	}
	d := newFrontendData(name, module+"/"+filepath.ToSlash(rel), npmScope(root))

	mainFile, mainSrc, err := findRunFile(filepath.Join(root, filepath.FromSlash(cfg.Main)))
	if err != nil {
		return nil, err
	}
	linked, err := linkBFF(mainFile, mainSrc, name, d.Package, d.Ident)
	if err != nil {
		return nil, err
	}

	cfgSrc, err := os.ReadFile(cfgPath)
	if err != nil {
		return nil, err
	}
	cfgOut, err := yaml.AddFrontend(cfgPath, cfgSrc, name)
	if err != nil {
		return nil, err
	}
	if _, err := yaml.Parse(cfgPath, cfgOut); err != nil {
		return nil, fmt.Errorf("adding %s would break %s: %w", name, cfgPath, err)
	}
	p.edit(cfgPath, cfgOut)
	p.report = append(p.report, fmt.Sprintf("added %s: { bff: local } to %s", name, cfgPath))

	home := defaultLayout(cfg)
	if slices.ContainsFunc(home.Slots, func(s *layout.Slot) bool { return s.Frontend == name }) {
		p.report = append(p.report, fmt.Sprintf("kept %s as it was: it already has a slot of %s", home.Name, name))
	} else {
		src, err := os.ReadFile(home.Name)
		if err != nil {
			return nil, err
		}
		out, err := addSlot(home.Name, src, name, slotHTML(name))
		if err != nil {
			return nil, err
		}
		p.edit(home.Name, out)
		p.report = append(p.report, fmt.Sprintf("added a <collage-slot frontend=%q> to %s", name, home.Name))
	}
	p.edit(mainFile, linked)
	p.report = append(p.report, fmt.Sprintf("linked the BFF %s in %s", d.Package, mainFile))

	if p.files, err = renderTree("scaffold/frontend", d, name); err != nil {
		return nil, err
	}
	p.report = append([]string{fmt.Sprintf("wrote %s: %s", p.dir, strings.Join(sortedKeys(p.files), ", "))}, p.report...)
	return p, nil
}

// edit plans to write data over the file at path, keeping its mode.
func (p *addPlan) edit(path string, data []byte) {
	for i, e := range p.edits {
		if e.path == path {
			p.edits[i].data = data
			return
		}
	}
	mode := fs.FileMode(0o644)
	if fi, err := os.Stat(path); err == nil {
		mode = fi.Mode().Perm()
	}
	p.edits = append(p.edits, fileEdit{path: path, data: data, mode: mode})
}

// apply makes the plan's changes: it writes the frontend's folder beside
// its place and renames it there, then replaces each edited file by a
// rename. On a failure it undoes what it did, so that the project is as
// it was.
func (p *addPlan) apply() (err error) {
	tmp, err := os.MkdirTemp(filepath.Dir(p.dir), "."+filepath.Base(p.dir)+".tmp-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(tmp) // after the rename, a no-op
	if err := writeFiles(tmp, p.files); err != nil {
		return err
	}
	if err := os.Rename(tmp, p.dir); err != nil {
		return err
	}
	var done []fileEdit // the files replaced, with their old content
	defer func() {
		if err == nil {
			return
		}
		for _, old := range done {
			if e := replaceFile(old.path, old.data, old.mode); e != nil {
				err = errors.Join(err, fmt.Errorf("restoring %s: %w", old.path, e))
			}
		}
		if e := os.RemoveAll(p.dir); e != nil {
			err = errors.Join(err, e)
		}
	}()
	for _, e := range p.edits {
		old, err := os.ReadFile(e.path)
		if err != nil {
			return err
		}
		if err := replaceFile(e.path, e.data, e.mode); err != nil {
			return err
		}
		done = append(done, fileEdit{path: e.path, data: old, mode: e.mode})
	}
	return nil
}

// replaceFile writes data to a temporary file beside path and renames it
// over path: a reader sees the old file or the new one, never half of it.
func replaceFile(path string, data []byte, mode fs.FileMode) error {
	f, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".tmp-")
	if err != nil {
		return err
	}
	defer os.Remove(f.Name()) // after the rename, a no-op
	if _, err := f.Write(data); err != nil {
		f.Close()
		return err
	}
	if err := f.Chmod(mode); err != nil {
		f.Close()
		return err
	}
	if err := f.Close(); err != nil {
		return err
	}
	return os.Rename(f.Name(), path)
}

// writeFiles writes files, by slash path, under dir.
func writeFiles(dir string, files map[string][]byte) error {
	for name, data := range files {
		p := filepath.Join(dir, filepath.FromSlash(name))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			return err
		}
		if err := os.WriteFile(p, data, 0o644); err != nil {
			return err
		}
	}
	return nil
}

// defaultLayout is the layout of the route /, or of the first route when
// no route is /.
func defaultLayout(cfg *yaml.Config) *layout.Layout {
	for _, r := range cfg.Routes {
		if r.Pattern == "/" {
			return r.Layout
		}
	}
	return cfg.Routes[0].Layout
}

// findModule returns the folder of the go.mod that holds dir, and its
// module path.
func findModule(dir string) (string, string, error) {
	abs, err := filepath.Abs(dir)
	if err != nil {
		return "", "", err
	}
	for d := abs; ; d = filepath.Dir(d) {
		data, err := os.ReadFile(filepath.Join(d, "go.mod"))
		if err == nil {
			mod := modulePath(data)
			if mod == "" {
				return "", "", fmt.Errorf("%s has no module line", filepath.Join(d, "go.mod"))
			}
			return d, mod, nil
		}
		if !errors.Is(err, fs.ErrNotExist) {
			return "", "", err
		}
		if filepath.Dir(d) == d {
			return "", "", fmt.Errorf("%s is in no Go module: run collage add in a project collage new wrote, or one with a go.mod", abs)
		}
	}
}

// npmScope is the npm scope of the project's frontends' packages: the one
// the frontends already have, else the project's package name, else app.
func npmScope(root string) string {
	pkgs, _ := filepath.Glob(filepath.Join(root, "frontends", "*", "package.json"))
	for _, p := range pkgs {
		if name := npmPackageName(p); strings.HasPrefix(name, "@") {
			if scope, _, ok := strings.Cut(name[1:], "/"); ok {
				return scope
			}
		}
	}
	if name := npmPackageName(filepath.Join(root, "package.json")); name != "" {
		return npmName(name)
	}
	return "app"
}

// npmPackageName is the name a package.json gives, or "".
func npmPackageName(file string) string {
	var pkg struct{ Name string }
	data, err := os.ReadFile(file)
	if err != nil || json.Unmarshal(data, &pkg) != nil {
		return ""
	}
	return pkg.Name
}

var npmUnsafe = regexp.MustCompile(`[^a-z0-9._~-]+`)

// npmName is s made a valid npm package name: lower case, with runs of
// other characters made dashes; app when nothing is left.
func npmName(s string) string {
	n := strings.Trim(npmUnsafe.ReplaceAllString(strings.ToLower(s), "-"), "-._")
	if n == "" {
		return "app"
	}
	return n
}

// sortedKeys returns m's keys in order.
func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}
