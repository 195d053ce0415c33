package lambda

import (
	"archive/zip"
	"bytes"
	"fmt"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"slices"
	"strings"
	"time"
)

// ShellName is the shell's own function: its zip is Dir/ShellName.zip
// and its template resource ShellFunction, so no BFF may take the name.
const ShellName = "shell"

// The shell's invoke mode in the template, under the names adapters/lambda
// reads.
const (
	EnvInvokeMode    = "COLLAGE_INVOKE_MODE"
	InvokeModeStream = "RESPONSE_STREAM"
)

// EnvAssetsURL gives the shell, in the template, the base URL its pages
// link their assets under: the template's AssetsURL parameter, empty for
// the shell's own /assets/.
const EnvAssetsURL = "COLLAGE_ASSETS_URL"

// EnvBFFPrefix starts the variable that gives the shell a BFF's target in
// the template: COLLAGE_BFF_cart=lambda://FUNCTION (see EnvBFF).
const EnvBFFPrefix = "COLLAGE_BFF_"

// EnvBFF is the variable that gives the shell the target of the BFF name:
// EnvBFFPrefix and the name with '_' for '-', since a Lambda variable's
// name has letters, digits and '_' only.
func EnvBFF(name string) string { return EnvBFFPrefix + strings.ReplaceAll(name, "-", "_") }

// Shell is the shell's own function in the template: public behind a
// Function URL (AuthType NONE) whose InvokeMode is RESPONSE_STREAM, so that
// a page's head leaves before its slow slots, and allowed to invoke the
// BFFs it reaches through Lambda.
type Shell struct {
	// Lambda names the BFFs of Options.BFFs that the shell reaches with
	// Lambda Invoke: the template gives it each one's function as
	// EnvBFF(name)=lambda://FUNCTION, and the right to invoke it.
	// Optional. Default: none (the shell reaches its BFFs as collage.yaml
	// says).
	Lambda []string
	// MemoryMB is the shell's memory. Optional. Default: 512.
	MemoryMB int
	// Timeout is the shell's timeout, longer than a page's deadline.
	// Optional. Default: 30s.
	Timeout time.Duration
}

func (s *Shell) withDefaults() Shell {
	out := *s
	if out.MemoryMB == 0 {
		out.MemoryMB = 512
	}
	if out.Timeout == 0 {
		out.Timeout = 30 * time.Second
	}
	return out
}

// check says whether every BFF the shell reaches through Lambda is one
// that is packaged. A nil Shell is fine.
func (s *Shell) check(bffs []BFF) error {
	if s == nil {
		return nil
	}
	for _, name := range s.Lambda {
		if !slices.ContainsFunc(bffs, func(b BFF) bool { return b.Name == name }) {
			return &Error{Code: "bad_option", BFF: name, Msg: "the shell reaches it through Lambda, but it is not packaged: give it a main package at " + fmt.Sprintf(MainDir, name)}
		}
	}
	return nil
}

// ShellFile is one file of the shell's zip beside its bootstrap.
type ShellFile struct {
	Name string // its path in the zip (and under /var/task), with slashes
	Path string // the file on disk
}

// DirFiles lists the regular files under dir as ShellFiles named under
// prefix, leaving out those skip refuses (skip may be nil).
func DirFiles(dir, prefix string, skip func(name string) bool) ([]ShellFile, error) {
	var out []ShellFile
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil || !d.Type().IsRegular() {
			return err
		}
		rel, err := filepath.Rel(dir, p)
		if err != nil {
			return err
		}
		name := path.Join(prefix, filepath.ToSlash(rel))
		if skip == nil || !skip(name) {
			out = append(out, ShellFile{Name: name, Path: p})
		}
		return nil
	})
	return out, err
}

// ZipShell writes the shell's zip at zipPath: the executable bootstrap,
// and files (collage.yaml, its layouts, the built assets) in name order,
// at a fixed time, so the same files give the same zip. Two files may not
// share a name, nor go outside the zip's root.
func ZipShell(zipPath, bootstrap string, files []ShellFile) (Function, error) {
	f := Function{Name: ShellName, Zip: zipPath}
	fail := func(err error) (Function, error) { return f, &Error{Code: "io", BFF: ShellName, Msg: err.Error()} }
	files = slices.Clone(files)
	slices.SortFunc(files, func(a, b ShellFile) int { return strings.Compare(a.Name, b.Name) })
	for i, sf := range files {
		if !fs.ValidPath(sf.Name) || sf.Name == "bootstrap" || (i > 0 && files[i-1].Name == sf.Name) {
			return f, &Error{Code: "bad_option", BFF: ShellName, Msg: fmt.Sprintf("%s: cannot go into the zip as %q: a name is relative, inside it, and taken once", sf.Path, sf.Name)}
		}
	}
	data, err := os.ReadFile(bootstrap)
	if err != nil {
		return fail(err)
	}
	f.BootstrapBytes = int64(len(data))
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	if err := addFile(zw, "bootstrap", 0o755, data); err != nil {
		return fail(err)
	}
	for _, sf := range files {
		data, err := os.ReadFile(sf.Path)
		if err != nil {
			return fail(err)
		}
		if err := addFile(zw, sf.Name, 0o644, data); err != nil {
			return fail(err)
		}
	}
	if err := zw.Close(); err != nil {
		return fail(err)
	}
	if err := os.WriteFile(zipPath, buf.Bytes(), 0o644); err != nil {
		return fail(err)
	}
	f.ZipBytes = int64(buf.Len())
	return f, nil
}
