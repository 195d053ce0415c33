package build

import (
	"crypto/sha256"
	"crypto/sha512"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
)

// ManifestFile is the name of the manifest inside a version folder.
const ManifestFile = "manifest.json"

// SharedName is the name under which shared dependencies are published.
const SharedName = "_shared"

// Manifest describes one immutable version of a frontend's bundle, or of the
// shared dependencies (Name "_shared"). File names are relative to the
// version folder, which the shell serves at /assets/{name}/{version}/.
type Manifest struct {
	Name    string `json:"name"`
	Version string `json:"version"`
	// Entry is the module whose mount and unmount the client runtime calls.
	// Empty for the shared dependencies.
	Entry string `json:"entry,omitempty"`
	// CSS lists the stylesheets the page links in its head.
	CSS []string `json:"css,omitempty"`
	// Preload lists the chunks Entry imports statically, for modulepreload.
	Preload []string `json:"preload,omitempty"`
	// Server is the server bundle of a frontend whose entry module exports
	// View, its own component: a script that defines the global function
	// collageRender(json), which renders View with the data and returns the
	// HTML. Its source map is Server + ".map". Empty for a frontend that
	// renders nothing on the server from its component.
	Server string `json:"server,omitempty"`
	// Shared lists the shared dependencies Entry imports, by specifier.
	Shared []string `json:"shared,omitempty"`
	// Imports maps each shared specifier to its module (shared manifest only).
	Imports map[string]string `json:"imports,omitempty"`
	// Packages maps the npm package of each specifier in Imports, or in
	// Shared, to the version it was built from ("preact": "10.19.3"), as
	// its package.json says. A package without a version is left out, and
	// manifests made before versions were recorded have none: the shell
	// then checks the specifiers alone.
	Packages map[string]string `json:"packages,omitempty"`
	// Files holds the size and integrity of every file of the version.
	Files map[string]File `json:"files"`
}

// Sizes are the bytes of the JavaScript and CSS a browser loads of the
// version, raw and gzipped: neither the source maps nor the server bundle.
type Sizes struct{ JS, JSGzip, CSS, CSSGzip int64 }

// BrowserSizes adds up m's files that a browser loads.
func (m *Manifest) BrowserSizes() Sizes {
	var s Sizes
	for name, f := range m.Files {
		switch {
		case name == m.Server:
		case strings.HasSuffix(name, ".js"):
			s.JS, s.JSGzip = s.JS+f.Size, s.JSGzip+f.Gzip
		case strings.HasSuffix(name, ".css"):
			s.CSS, s.CSSGzip = s.CSS+f.Size, s.CSSGzip+f.Gzip
		}
	}
	return s
}

// File is one file of a version.
type File struct {
	Size      int64  `json:"size"`
	Gzip      int64  `json:"gzip"` // size after gzip, for budgets
	Integrity string `json:"integrity"`
}

// Integrity returns the subresource-integrity value of data.
func Integrity(data []byte) string {
	sum := sha512.Sum384(data)
	return "sha384-" + base64.StdEncoding.EncodeToString(sum[:])
}

// versionOf derives a version from the files' names and contents, so an
// unchanged bundle keeps its version.
func versionOf(files map[string]File) string {
	names := make([]string, 0, len(files))
	for name := range files {
		names = append(names, name)
	}
	sort.Strings(names)
	h := sha256.New()
	for _, name := range names {
		fmt.Fprintf(h, "%s %s\n", name, files[name].Integrity)
	}
	return hex.EncodeToString(h.Sum(nil))[:12]
}

var nameRE = regexp.MustCompile(`^[a-z][a-z0-9-]{0,62}$`)

// ValidName reports whether name can name a frontend: lower-case letters,
// digits and dashes, starting with a letter.
func ValidName(name string) bool { return nameRE.MatchString(name) }

// Reserved are the names collage itself uses, which no frontend may take,
// with where each is used: a frontend's name becomes a path segment under
// /assets and /bff, a folder of the output and a package of the module.
var Reserved = map[string]string{
	"collage":  "the import map's @collage/ scope and the /_collage paths",
	"shell":    "the shell's own package",
	"bff":      "the /bff paths and the BFF contract's package",
	"lambda":   "the output's lambda folder and the Lambda transport's packages",
	"assets":   "the /assets paths and the output's assets folder",
	"api":      "the shell's own API paths",
	"shared":   "the bundle of shared dependencies (_shared)",
	"runtime":  "the client runtime and its package",
	"dist":     "the output folder",
	"internal": "Go's internal packages",
	"testdata": "Go's test fixtures",
	"vendor":   "Go's vendored modules",
}

// CheckName reports why name cannot name a frontend, or nil: it must be
// lower-case letters, digits and dashes, starting with a letter, and not
// one of the Reserved names.
func CheckName(name string) error {
	if !ValidName(name) {
		return fmt.Errorf("name %q: use lower-case letters, digits and dashes, starting with a letter", name)
	}
	if why, ok := Reserved[name]; ok {
		return fmt.Errorf("name %q is reserved by collage (%s): choose another", name, why)
	}
	return nil
}

var versionRE = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$`)

// ValidVersion reports whether v can name a version folder.
func ValidVersion(v string) bool { return versionRE.MatchString(v) && !strings.Contains(v, "..") }

// ReadManifest reads the manifest of a version folder.
func ReadManifest(dir string) (*Manifest, error) {
	data, err := os.ReadFile(filepath.Join(dir, ManifestFile))
	if err != nil {
		return nil, err
	}
	var m Manifest
	if err := json.Unmarshal(data, &m); err != nil {
		return nil, fmt.Errorf("%s: %w", filepath.Join(dir, ManifestFile), err)
	}
	return &m, nil
}

// Index names the current version of every frontend in an output folder.
// It is written last, so a reader that finds it finds every version it names.
type Index struct {
	Shared    string            `json:"shared"`
	Frontends map[string]string `json:"frontends"`
}

// IndexFile is the name of the index at the top of an output folder.
const IndexFile = "collage.json"

// ReadIndex reads the index of an output folder.
func ReadIndex(out string) (*Index, error) {
	data, err := os.ReadFile(filepath.Join(out, IndexFile))
	if err != nil {
		return nil, err
	}
	var idx Index
	if err := json.Unmarshal(data, &idx); err != nil {
		return nil, fmt.Errorf("%s: %w", filepath.Join(out, IndexFile), err)
	}
	return &idx, nil
}
