package cli

import (
	"bytes"
	"errors"
	"fmt"
	"go/ast"
	"go/format"
	"go/parser"
	"go/token"
	"go/types"
	"os"
	"path"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
)

// cliPath is the import path of this package.
const cliPath = collagePath + "/cli"

// findRunFile returns the Go file of the main package in dir that links
// the BFFs: the one that imports this package and passes cli.Run a
// cli.BFFs literal, or nil.
func findRunFile(dir string) (string, []byte, error) {
	names, err := filepath.Glob(filepath.Join(dir, "*.go"))
	if err != nil {
		return "", nil, err
	}
	var found []string
	var src []byte
	for _, name := range names {
		if strings.HasSuffix(name, "_test.go") {
			continue
		}
		data, err := os.ReadFile(name)
		if err != nil {
			return "", nil, err
		}
		f, err := parser.ParseFile(token.NewFileSet(), name, data, parser.SkipObjectResolution)
		if err != nil {
			return "", nil, err
		}
		if callsRun(f) {
			found, src = append(found, name), data
		}
	}
	switch len(found) {
	case 0:
		return "", nil, fmt.Errorf("%s: no Go file imports %s and calls cli.Run: the main package that links the BFFs (collage.yaml's main:) must", dir, cliPath)
	case 1:
		return found[0], src, nil
	}
	return "", nil, fmt.Errorf("%s: %s all call cli.Run: keep one", dir, strings.Join(found, ", "))
}

// cliName is the name f imports this package as, or "".
func cliName(f *ast.File) string {
	for _, imp := range f.Imports {
		if p, _ := strconv.Unquote(imp.Path.Value); p == cliPath {
			if imp.Name != nil {
				return imp.Name.Name
			}
			return "cli"
		}
	}
	return ""
}

// callsRun reports whether f calls this package's Run.
func callsRun(f *ast.File) bool {
	cli, calls := cliName(f), false
	ast.Inspect(f, func(n ast.Node) bool {
		if c, ok := n.(*ast.CallExpr); ok && isSelector(c.Fun, cli, "Run") {
			calls = true
		}
		return !calls
	})
	return cli != "" && calls
}

// isSelector reports whether e is x.sel.
func isSelector(e ast.Expr, x, sel string) bool {
	s, ok := e.(*ast.SelectorExpr)
	if !ok || s.Sel.Name != sel {
		return false
	}
	id, ok := s.X.(*ast.Ident)
	return ok && id.Name == x
}

// linkBFF returns src, a Go file that passes cli.Run a cli.BFFs literal
// (or nil), with the BFF of the frontend name linked in: an import of pkg,
// whose package is called ident, and the entry "name": ident.New in the
// literal. It edits the text at the places the syntax tree gives and
// formats the result, so that the rest of the file, its comments
// included, stays as it was. The import is named ident, or ident + "bff"
// when the file already uses ident for something else.
func linkBFF(filename string, src []byte, name, pkg, ident string) ([]byte, error) {
	fset := token.NewFileSet()
	f, err := parser.ParseFile(fset, filename, src, parser.ParseComments|parser.SkipObjectResolution)
	if err != nil {
		return nil, err
	}
	at := func(p token.Pos) string { return fset.Position(p).String() }
	off := func(p token.Pos) int { return fset.Position(p).Offset }
	cli := cliName(f)
	if cli == "" {
		return nil, fmt.Errorf("%s does not import %s", filename, cliPath)
	}
	var imports *ast.GenDecl
	for _, d := range f.Decls {
		g, ok := d.(*ast.GenDecl)
		if !ok || g.Tok != token.IMPORT {
			continue
		}
		for _, s := range g.Specs {
			p, _ := strconv.Unquote(s.(*ast.ImportSpec).Path.Value)
			if p == pkg {
				return nil, fmt.Errorf("%s: already imports %s", at(s.Pos()), pkg)
			}
			if p == cliPath {
				imports = g
			}
		}
	}

	// The cli.BFFs literals, and the calls cli.Run(nil).
	var lits []*ast.CompositeLit
	var nils []*ast.Ident
	used := map[string]bool{}
	ast.Inspect(f, func(n ast.Node) bool {
		switch n := n.(type) {
		case *ast.Ident:
			used[n.Name] = true
		case *ast.CompositeLit:
			if isSelector(n.Type, cli, "BFFs") {
				lits = append(lits, n)
			}
		case *ast.CallExpr:
			if isSelector(n.Fun, cli, "Run") && len(n.Args) == 1 {
				if id, ok := n.Args[0].(*ast.Ident); ok && id.Name == "nil" {
					nils = append(nils, id)
				}
			}
		}
		return true
	})
	if len(lits)+len(nils) != 1 {
		where := "none"
		if len(lits)+len(nils) > 1 {
			where = fmt.Sprintf("%d", len(lits)+len(nils))
		}
		return nil, fmt.Errorf("%s: want one %s.BFFs{…} literal (or %s.Run(nil)) to add %q to, found %s", filename, cli, cli, name, where)
	}
	for _, imp := range f.Imports {
		if imp.Name != nil {
			used[imp.Name.Name] = true
		} else if p, err := strconv.Unquote(imp.Path.Value); err == nil {
			used[path.Base(p)] = true
		}
	}
	alias := ident
	if used[alias] {
		alias += "bff"
	}
	if used[alias] || token.IsKeyword(alias) || types.Universe.Lookup(alias) != nil {
		return nil, fmt.Errorf("%s: cannot import %s as %s: the file already uses that name", filename, pkg, alias)
	}
	entry := strconv.Quote(name) + ": " + alias + ".New"

	var edits []edit
	if len(lits) == 1 {
		lit := lits[0]
		for _, e := range lit.Elts {
			kv, ok := e.(*ast.KeyValueExpr)
			if !ok {
				continue
			}
			if k, ok := kv.Key.(*ast.BasicLit); ok && k.Kind == token.STRING {
				if s, _ := strconv.Unquote(k.Value); s == name {
					return nil, fmt.Errorf("%s: %s.BFFs already links a BFF called %q", at(k.Pos()), cli, name)
				}
			}
		}
		rbrace := off(lit.Rbrace)
		switch {
		case len(lit.Elts) == 0:
			edits = append(edits, edit{rbrace, rbrace, "\n" + entry + ",\n"})
		case fset.Position(lit.Elts[len(lit.Elts)-1].End()).Line == fset.Position(lit.Rbrace).Line:
			last := off(lit.Elts[len(lit.Elts)-1].End())
			edits = append(edits, edit{last, last, ", " + entry})
		default:
			// Before the line of the closing brace: after the last entry,
			// its comma, and any comment that follows it.
			line := bytes.LastIndexByte(src[:rbrace], '\n') + 1
			edits = append(edits, edit{line, line, entry + ",\n"})
		}
	} else {
		id := nils[0]
		edits = append(edits, edit{off(id.Pos()), off(id.End()), cli + ".BFFs{\n" + entry + ",\n}"})
	}

	spec := alias + " " + strconv.Quote(pkg)
	if imports.Lparen.IsValid() {
		edits = append(edits, importEdit(fset, src, imports, pkg, spec))
	} else {
		only := imports.Specs[0]
		edits = append(edits, edit{off(only.Pos()), off(only.End()),
			"(\n\t" + string(src[off(only.Pos()):off(only.End())]) + "\n\t" + spec + "\n)"})
	}

	slices.SortFunc(edits, func(a, b edit) int { return b.from - a.from })
	out := slices.Clone(src)
	for _, e := range edits {
		out = slices.Concat(out[:e.from], []byte(e.text), out[e.to:])
	}
	formatted, err := format.Source(out)
	if err != nil {
		return nil, errors.Join(fmt.Errorf("%s: the edit to link %s does not parse", filename, name), err)
	}
	return formatted, nil
}

// edit replaces src[from:to] with text.
type edit struct {
	from, to int
	text     string
}

// importEdit adds spec, the import of pkg, to the parenthesized imports,
// in the group of the import of this package (a group ends at a blank
// line): on a line of its own before the first import whose path sorts
// after pkg (and before that import's comment), else after the group's
// last. In its sorted place, the sort of format.Source leaves it there,
// and moves no comment away from the import it belongs to.
func importEdit(fset *token.FileSet, src []byte, imports *ast.GenDecl, pkg, spec string) edit {
	off := func(p token.Pos) int { return fset.Position(p).Offset }
	line := func(p token.Pos) int { return fset.Position(p).Line }
	specs := make([]*ast.ImportSpec, len(imports.Specs))
	cli := 0
	for i, s := range imports.Specs {
		specs[i] = s.(*ast.ImportSpec)
		if p, _ := strconv.Unquote(specs[i].Path.Value); p == cliPath {
			cli = i
		}
	}
	start := func(s *ast.ImportSpec) token.Pos {
		if s.Doc != nil {
			return s.Doc.Pos()
		}
		return s.Pos()
	}
	first, last := cli, cli
	for first > 0 && line(start(specs[first]))-line(specs[first-1].End()) <= 1 {
		first--
	}
	for last < len(specs)-1 && line(start(specs[last+1]))-line(specs[last].End()) <= 1 {
		last++
	}
	lineStart := func(o int) int { return bytes.LastIndexByte(src[:o], '\n') + 1 }
	for _, s := range specs[first : last+1] {
		if p, _ := strconv.Unquote(s.Path.Value); p > pkg {
			if at := lineStart(off(start(s))); at > off(imports.Lparen) {
				return edit{at, at, "\t" + spec + "\n"}
			}
			break
		}
	}
	// After the group's last import and its comment: at the start of the
	// next line, when there is one before the closing parenthesis.
	if end := bytes.IndexByte(src[off(specs[last].End()):], '\n'); end >= 0 {
		if at := off(specs[last].End()) + end + 1; at <= lineStart(off(imports.Rparen)) {
			return edit{at, at, "\t" + spec + "\n"}
		}
	}
	rparen := off(imports.Rparen)
	return edit{rparen, rparen, "\n\t" + spec + "\n"}
}
