package cli

import (
	"bytes"
	"embed"
	"encoding/json"
	"fmt"
	"go/format"
	"go/token"
	"go/types"
	"io/fs"
	"path"
	"strings"
	"text/template"
)

// scaffold holds the templates of the files collage new and collage add
// write: project/ once per project, frontend/ once per frontend, under
// frontends/NAME/. In a path, NAME is the frontend's name; every file ends
// in .tmpl, so that the go command and npm take none for their own, and
// gitignore.tmpl is .gitignore. The templates use [[ ]] as delimiters: a
// BFF's html/template keeps its {{ }}.
//
//go:embed scaffold
var scaffold embed.FS

// Versions the scaffold writes, those of this repository's demo (a test
// keeps them in step).
const (
	goVersion         = "1.27.3"   // go.mod's go line, and GOTOOLCHAIN
	preactVersion     = "^10.29.8" // each frontend's dependency
	typeScriptVersion = "~5.9.3"   // the project's devDependency
)

// collagePath is collage's module path.
const collagePath = "github.com/collage-dev/collage"

// frontendData is what a frontend's templates are given.
type frontendData struct {
	Name          string // the frontend's name
	Ident         string // its BFF's Go package name
	Package       string // its BFF's import path
	Scope         string // the npm scope of its package, without the @
	Chrome        bool   // its styles hold the page chrome of the project's layout
	CollagePath   string
	PreactVersion string
}

// projectData is what the project's templates are given.
type projectData struct {
	frontendData
	Project           string // the project's name: its folder's
	Module            string
	GoVersion         string
	CollageVersion    string
	CollageReplace    string // a checkout of collage to replace the module with, or ""
	TypeScriptVersion string
	Slot              string // the layout's slot of the first frontend
}

// newFrontendData returns the data of the frontend name whose BFF is the
// package pkg, in a project whose npm packages are @scope/….
func newFrontendData(name, pkg, scope string) frontendData {
	return frontendData{Name: name, Ident: packageName(name), Package: pkg, Scope: scope,
		CollagePath: collagePath, PreactVersion: preactVersion}
}

// packageName is the Go package name of the BFF of the frontend name: the
// name without its dashes, with "bff" after it when that is a keyword or
// a predeclared identifier (a package called len would shadow len where it
// is imported), or main.
func packageName(name string) string {
	id := strings.ReplaceAll(name, "-", "")
	if token.IsKeyword(id) || types.Universe.Lookup(id) != nil || id == "main" || id == "init" {
		id += "bff"
	}
	return id
}

// renderTree renders every template under dir of scaffold with data, and
// returns the files by their path in the output, slash-separated. Go
// files come out gofmt-ed.
func renderTree(dir string, data any, name string) (map[string][]byte, error) {
	files := map[string][]byte{}
	err := fs.WalkDir(scaffold, dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		src, err := fs.ReadFile(scaffold, p)
		if err != nil {
			return err
		}
		out := strings.TrimSuffix(strings.TrimPrefix(p, dir+"/"), ".tmpl")
		out = strings.ReplaceAll(out, "NAME", name)
		if out == "gitignore" {
			out = ".gitignore"
		}
		t, err := template.New(p).Delims("[[", "]]").Funcs(template.FuncMap{"json": jsonString}).Parse(string(src))
		if err != nil {
			return err
		}
		var buf bytes.Buffer
		if err := t.Execute(&buf, data); err != nil {
			return err
		}
		text := buf.Bytes()
		if path.Ext(out) == ".go" {
			if text, err = format.Source(text); err != nil {
				return fmt.Errorf("%s: %w", p, err)
			}
		}
		files[out] = text
		return nil
	})
	return files, err
}

// jsonString is s as a JSON string.
func jsonString(s string) (string, error) {
	b, err := json.Marshal(s)
	return string(b), err
}

// slotHTML is the slot of the frontend name that collage new and collage
// add put in a layout.
func slotHTML(name string) string {
	return `<collage-slot frontend="` + name + `" timeout="500ms"><p class="` + name + `-fallback">` +
		name + ` is unavailable just now.</p></collage-slot>`
}
