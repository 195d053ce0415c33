package cli

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"runtime/debug"
	"strconv"
	"strings"
)

// collageModule is how a new project requires collage.
type collageModule struct {
	Version string // the require's version
	Replace string // the absolute path of a checkout the module is replaced with, or ""
	Why     string // why, when Replace is set, for the output
}

// unversioned is the version go mod tidy gives a module that only a
// replace provides.
const unversioned = "v0.0.0-00010101000000-000000000000"

// findCollage returns how a new project requires collage: from the
// checkout dir when it is set (--collage); else from the checkout this
// binary was built from, when its sources are still where the build found
// them (not in the module cache, not -trimpath); else the version of
// collage built into this binary, when it has one.
func findCollage(dir string) (collageModule, error) {
	_, self, _, _ := runtime.Caller(0)
	bi, _ := debug.ReadBuildInfo()
	return resolveCollage(dir, bi, self)
}

// resolveCollage is findCollage, given the binary's build info (nil when
// it has none) and the path the build recorded for a source file of this
// package.
func resolveCollage(dir string, bi *debug.BuildInfo, source string) (collageModule, error) {
	if dir != "" {
		abs, err := filepath.Abs(dir)
		if err != nil {
			return collageModule{}, err
		}
		if err := isCollage(abs); err != nil {
			return collageModule{}, fmt.Errorf("--collage %s: %w", dir, err)
		}
		return collageModule{Version: unversioned, Replace: abs, Why: "--collage names it"}, nil
	}
	if filepath.IsAbs(source) {
		checkout := filepath.Dir(filepath.Dir(source))
		if !strings.Contains(filepath.Base(checkout), "@") && isCollage(checkout) == nil {
			return collageModule{Version: unversioned, Replace: checkout,
				Why: "this collage was built from that checkout, not from a published version"}, nil
		}
	}
	if v := builtVersion(bi); v != "" {
		return collageModule{Version: v}, nil
	}
	return collageModule{}, errors.New("cannot tell which collage the project should require: this binary was built from " +
		"no published version, and its sources are not where it was built; give a checkout of collage with --collage DIR")
}

// builtVersion is the version of collage built into the binary, or ""
// when it has none to require: a build in a checkout ("(devel)", or a
// version stamped from its commit with +dirty, modified since), or a
// dependency replaced by another module.
func builtVersion(bi *debug.BuildInfo) string {
	if bi == nil {
		return ""
	}
	v := ""
	if bi.Main.Path == collagePath {
		v = bi.Main.Version
	}
	for _, d := range bi.Deps {
		if d.Path == collagePath && d.Replace == nil {
			v = d.Version
		}
	}
	if !strings.HasPrefix(v, "v") || strings.Contains(v, "+") {
		return ""
	}
	return v
}

// isCollage reports why dir is not a checkout of collage, or nil.
func isCollage(dir string) error {
	data, err := os.ReadFile(filepath.Join(dir, "go.mod"))
	if err != nil {
		return fmt.Errorf("not a checkout of collage: %w", err)
	}
	if mod := modulePath(data); mod != collagePath {
		return fmt.Errorf("not a checkout of collage: its go.mod is the module %q, not %s", mod, collagePath)
	}
	return nil
}

// modulePath returns the path of the module line of a go.mod file, or "".
func modulePath(gomod []byte) string {
	sc := bufio.NewScanner(bytes.NewReader(gomod))
	for sc.Scan() {
		line, _, _ := strings.Cut(sc.Text(), "//")
		f := strings.Fields(line)
		if len(f) == 2 && f[0] == "module" {
			if p, err := strconv.Unquote(f[1]); err == nil {
				return p
			}
			return f[1]
		}
	}
	return ""
}
