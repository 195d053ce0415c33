package cli

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"

	"github.com/collage-dev/collage/build"
	"github.com/collage-dev/collage/frontends"
)

func (m *Main) newProject(ctx context.Context, args []string) error {
	fset := m.flags("new DIR", "Writes a new project into DIR (which must not exist, or be empty): a Go module whose\n"+
		"main package is the project's collage command with its BFFs linked in, collage.yaml, a\n"+
		"layout, one frontend with its BFF, a Makefile (make dev, make test) and a README; then\n"+
		"runs go mod tidy in it.")
	module := fset.String("module", "", "the project's Go module path (default: DIR's base name)")
	frontend := fset.String("frontend", "hello", "the name of the project's first frontend")
	checkout := fset.String("collage", "", "a checkout of collage for the project to use, through a replace in its go.mod\n(default: the checkout this binary was built from, if any; else its version of collage)")
	pos, err := parseAnywhere(fset, args)
	if err != nil {
		return err
	}
	if len(pos) != 1 {
		fset.Usage()
		return fmt.Errorf("new: want the folder of the new project; got %d arguments", len(pos))
	}
	dir, err := filepath.Abs(pos[0])
	if err != nil {
		return err
	}
	if err := checkEmpty(dir); err != nil {
		return fmt.Errorf("new: %w", err)
	}
	project := filepath.Base(dir)
	if *module == "" {
		*module = project
		if err := checkModulePath(*module); err != nil {
			return fmt.Errorf("new: the folder's name makes no module path: %w; give one with --module", err)
		}
	}
	if err := checkModulePath(*module); err != nil {
		return fmt.Errorf("new: --module: %w", err)
	}
	if err := build.CheckName(*frontend); err != nil {
		return fmt.Errorf("new: --frontend: %w", err)
	}
	mod, err := findCollage(*checkout)
	if err != nil {
		return fmt.Errorf("new: %w", err)
	}

	files, err := projectFiles(project, *module, *frontend, mod)
	if err != nil {
		return fmt.Errorf("new: %w", err)
	}
	if err := os.MkdirAll(filepath.Dir(dir), 0o755); err != nil {
		return fmt.Errorf("new: %w", err)
	}
	tmp, err := os.MkdirTemp(filepath.Dir(dir), "."+project+".tmp-")
	if err != nil {
		return fmt.Errorf("new: %w", err)
	}
	defer os.RemoveAll(tmp) // after the rename, a no-op
	if err := writeFiles(tmp, files); err != nil {
		return fmt.Errorf("new: %w", err)
	}
	if err := goModTidy(ctx, tmp); err != nil {
		return fmt.Errorf("new: %w", err)
	}
	if err := os.Remove(dir); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("new: %w", err)
	}
	if err := os.Rename(tmp, dir); err != nil {
		return fmt.Errorf("new: %w", err)
	}

	fmt.Fprintf(m.Stdout, "wrote the project %s into %s:\n", *module, dir)
	for _, name := range sortedKeys(files) {
		fmt.Fprintf(m.Stdout, "  %s\n", name)
	}
	fmt.Fprintln(m.Stdout, "  go.sum (go mod tidy)")
	if mod.Replace != "" {
		fmt.Fprintf(m.Stdout, "go.mod replaces %s with %s: %s.\n", collagePath, mod.Replace, mod.Why)
	}
	fmt.Fprintf(m.Stdout, "\nNext:\n  cd %s\n  make dev    # http://127.0.0.1:3000\n  make test\n", pos[0])
	return nil
}

// projectFiles returns the files of a new project, by slash path.
func projectFiles(project, module, frontend string, mod collageModule) (map[string][]byte, error) {
	fd := newFrontendData(frontend, module+"/frontends/"+frontend+"/bff", npmName(project))
	fd.Chrome = true
	files, err := renderTree("scaffold/project", projectData{frontendData: fd, Project: project, Module: module,
		GoVersion: goVersion, CollageVersion: mod.Version, CollageReplace: mod.Replace,
		TypeScriptVersion: typeScriptVersion, Slot: slotHTML(frontend)}, frontend)
	if err != nil {
		return nil, err
	}
	if files["main.go"], err = linkBFF("main.go", files["main.go"], frontend, fd.Package, fd.Ident); err != nil {
		return nil, err
	}
	files["frontends/collage.d.ts"] = []byte(frontends.Types)
	fe, err := renderTree("scaffold/frontend", fd, frontend)
	if err != nil {
		return nil, err
	}
	for name, data := range fe {
		files["frontends/"+frontend+"/"+name] = data
	}
	return files, nil
}

// checkEmpty reports why a new project cannot be written into dir: it
// exists and is not an empty folder.
func checkEmpty(dir string) error {
	entries, err := os.ReadDir(dir)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return nil
	case err != nil:
		if fi, serr := os.Stat(dir); serr == nil && !fi.IsDir() {
			return fmt.Errorf("%s exists and is not a folder", dir)
		}
		return err
	case len(entries) > 0:
		return fmt.Errorf("%s exists and is not empty: choose a new folder", dir)
	}
	return nil
}

var moduleElem = regexp.MustCompile(`^[A-Za-z0-9_~-][A-Za-z0-9._~-]*$`)

// checkModulePath reports why p cannot be a module path: it must be
// slash-separated elements of letters, digits and ._~-, none beginning
// with a dot.
func checkModulePath(p string) error {
	for _, e := range strings.Split(p, "/") {
		if !moduleElem.MatchString(e) {
			return fmt.Errorf("module path %q: use elements of letters, digits, dots, dashes, underscores and tildes, separated by slashes", p)
		}
	}
	return nil
}

// goModTidy runs go mod tidy in dir, on the toolchain the project's go.mod
// asks for, so that go.sum exists and the project builds at once.
func goModTidy(ctx context.Context, dir string) error {
	goCmd, err := exec.LookPath("go")
	if err != nil {
		return errors.New("the go command is not on PATH: install Go (https://go.dev/dl), then run collage new again")
	}
	cmd := exec.CommandContext(ctx, goCmd, "mod", "tidy")
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "GOTOOLCHAIN=go"+goVersion, "GOFLAGS=-mod=mod")
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Run(); err != nil {
		return fmt.Errorf("go mod tidy in the new project: %w\n%s", err, bytes.TrimSpace(out.Bytes()))
	}
	return nil
}
