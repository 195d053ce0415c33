package build

import (
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
)

// PackageOf returns the npm package a bare specifier imports from:
// "preact/hooks" → "preact", "@scope/pkg/sub" → "@scope/pkg".
func PackageOf(spec string) string {
	parts := strings.SplitN(spec, "/", 3)
	if strings.HasPrefix(spec, "@") && len(parts) > 1 {
		return parts[0] + "/" + parts[1]
	}
	return parts[0]
}

// packages reads the version of npm packages from their package.json, found
// as Node finds a package: in node_modules of the project folder or of a
// folder above it. It reads each package once.
type packages struct {
	root     string
	versions map[string]string // "" for a package found without a version, or not found
}

// of returns the version of the package of every specifier in specs, by
// package. A package found without a version, or not found at all, is left
// out: the registry then checks the specifiers alone. Not found means the
// bundler resolved it some other way (tsconfig paths, a plugin); a bundler
// that could not resolve it has failed already.
func (p *packages) of(specs []string) (map[string]string, error) {
	var out map[string]string
	for _, spec := range specs {
		pkg := PackageOf(spec)
		v, ok := p.versions[pkg]
		if !ok {
			var err error
			if v, err = p.read(pkg); err != nil {
				return nil, err
			}
			p.versions[pkg] = v
		}
		if v != "" {
			if out == nil {
				out = map[string]string{}
			}
			out[pkg] = v
		}
	}
	return out, nil
}

// read returns the version in pkg's package.json, "" when it has none or
// there is none.
func (p *packages) read(pkg string) (string, error) {
	dir, err := filepath.Abs(p.root)
	if err != nil {
		return "", err
	}
	for {
		file := filepath.Join(dir, "node_modules", filepath.FromSlash(pkg), "package.json")
		data, err := os.ReadFile(file)
		if err == nil {
			var meta struct {
				Version string `json:"version"`
			}
			if err := json.Unmarshal(data, &meta); err != nil {
				return "", fmt.Errorf("%s: %w", file, err)
			}
			return meta.Version, nil
		}
		if !errors.Is(err, fs.ErrNotExist) {
			return "", err
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", nil
		}
		dir = parent
	}
}
