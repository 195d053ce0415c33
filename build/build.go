package build

import (
	"encoding/json"
	"fmt"
	"io/fs"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"time"
)

// DefaultShared are the dependencies built once and shared by every frontend.
var DefaultShared = []string{"preact", "preact/hooks", "preact/jsx-runtime"}

// Options say what to build and where.
type Options struct {
	// Root is the project folder, holding node_modules.
	// Optional. Default: ".".
	Root string
	// Frontends is the folder of frontend folders, relative to Root.
	// Optional. Default: "frontends".
	Frontends string
	// Only names the one frontend to build, with the shared dependencies;
	// the others are not built (collage pack). SharedName builds the
	// shared dependencies alone (collage pack --shared).
	// Optional. Default: every frontend.
	Only string
	// Out is the output folder, relative to Root or absolute. It is replaced
	// whole, and only when the build succeeds.
	// Optional. Default: "dist".
	Out string
	// Minify makes production bundles.
	// Optional. Default: false.
	Minify bool
	// Shared are the bare specifiers built once and left external in every
	// frontend. Optional. Default: DefaultShared.
	Shared []string
	// Compressors write, beside each compressible file (JavaScript, CSS,
	// JSON, SVG, source maps, text) of 256 bytes or more, the compressed
	// copy the shell serves to clients that accept it: FILE.br, FILE.gz.
	// Optional. Default: []Compressor{Gzip}.
	Compressors []Compressor
	// NoCompress writes no compressed copies, for builds that must be
	// quick more than small (collage dev); the shell then serves every file
	// as it is. Optional. Default: false.
	NoCompress bool
}

func (o Options) withDefaults() Options {
	if o.Root == "" {
		o.Root = "."
	}
	if o.Frontends == "" {
		o.Frontends = "frontends"
	}
	if o.Out == "" {
		o.Out = "dist"
	}
	if o.Shared == nil {
		o.Shared = DefaultShared
	}
	if len(o.Compressors) == 0 {
		o.Compressors = []Compressor{Gzip}
	}
	if o.NoCompress {
		o.Compressors = nil
	}
	return o
}

// Frontend is one folder under frontends/, described by its frontend.json.
type Frontend struct {
	Name string `json:"name"`
	// Entry is the module to bundle, relative to Dir. Empty for a frontend
	// without a client bundle (a pure server fragment).
	Entry string `json:"entry,omitempty"`
	// Dir is the folder, relative to the project root.
	Dir string `json:"-"`
}

// FrontendFile is the file that makes a folder a frontend.
const FrontendFile = "frontend.json"

// Bundle is what a Bundler made of one frontend, named relative to its folder.
type Bundle struct {
	Entry string
	// Server is the server bundle, when the entry module exports View.
	Server  string
	CSS     []string
	Preload []string
	Shared  []string
	// Inputs are the source files the bundle was made of, relative to the
	// project root, slash-separated: what a change to means building the
	// frontend again. Optional. Default: none known.
	Inputs []string
}

// A Bundler turns sources into ES modules. adapters/esbuild is the real one.
type Bundler interface {
	// BundleShared builds each specifier into dir and returns the file
	// that serves it.
	BundleShared(root string, specifiers []string, dir string, minify bool) (map[string]string, []Message)
	// BundleFrontend builds f into dir, leaving the shared specifiers external.
	BundleFrontend(root string, f Frontend, shared []string, dir string, minify bool) (Bundle, []Message)
}

// Result is the outcome of a build.
type Result struct {
	Index     *Index
	Manifests map[string]*Manifest // by name, the shared one under SharedName
	Errors    []Message
	Took      time.Duration
}

// Build builds every frontend under opts.Frontends into opts.Out. On any
// error it returns the messages and leaves opts.Out as it was.
func Build(opts Options, b Bundler) *Result {
	start := time.Now()
	opts = opts.withDefaults()
	res := &Result{Manifests: map[string]*Manifest{}}
	defer func() { res.Took = time.Since(start) }()

	var frontends []Frontend
	var msgs []Message
	if opts.Only != SharedName {
		frontends, msgs = Discover(opts.Root, opts.Frontends)
	}
	if opts.Only != "" && opts.Only != SharedName {
		frontends, msgs = only(opts, frontends, msgs)
	}
	if len(msgs) > 0 {
		res.Errors = msgs
		return res
	}
	out := opts.Out
	if !filepath.IsAbs(out) {
		out = filepath.Join(opts.Root, out)
	}
	if err := os.MkdirAll(filepath.Dir(out), 0o755); err != nil {
		res.Errors = []Message{{Text: err.Error()}}
		return res
	}
	tmp, err := os.MkdirTemp(filepath.Dir(out), "."+filepath.Base(out)+".tmp-")
	if err != nil {
		res.Errors = []Message{{Text: err.Error()}}
		return res
	}
	defer os.RemoveAll(tmp)

	idx := &Index{Frontends: map[string]string{}}
	pkgs := &packages{root: opts.Root, versions: map[string]string{}}
	stage := filepath.Join(tmp, "stage")
	imports, msgs := b.BundleShared(opts.Root, opts.Shared, stage, opts.Minify)
	res.Errors = append(res.Errors, msgs...)
	if len(msgs) == 0 {
		versions, err := pkgs.of(slices.Sorted(maps.Keys(imports)))
		var m *Manifest
		if err == nil {
			m, err = seal(tmp, stage, &Manifest{Name: SharedName, Imports: imports, Preload: sharedChunks(stage, imports), Packages: versions})
		}
		if err != nil {
			res.Errors = append(res.Errors, Message{Text: err.Error()})
		} else {
			res.Manifests[SharedName], idx.Shared = m, m.Version
		}
	}
	for _, f := range frontends {
		if f.Entry == "" {
			continue
		}
		os.RemoveAll(stage) // what a failed step left behind
		bundle, msgs := b.BundleFrontend(opts.Root, f, opts.Shared, stage, opts.Minify)
		res.Errors = append(res.Errors, msgs...)
		if len(msgs) > 0 {
			continue
		}
		versions, err := pkgs.of(bundle.Shared)
		var m *Manifest
		if err == nil {
			m, err = seal(tmp, stage, &Manifest{Name: f.Name, Entry: bundle.Entry, Server: bundle.Server, CSS: bundle.CSS,
				Preload: bundle.Preload, Shared: bundle.Shared, Packages: versions})
		}
		if err != nil {
			res.Errors = append(res.Errors, Message{File: f.Dir, Text: err.Error()})
			continue
		}
		res.Manifests[f.Name], idx.Frontends[f.Name] = m, m.Version
	}
	if len(res.Errors) > 0 {
		return res
	}
	// Compressing comes once every bundle is made: a failed build is not
	// slowed by it, and the slow copies of one frontend overlap the quick
	// ones of the others.
	if msgs := compress(tmp, res.Manifests, opts.Compressors); len(msgs) > 0 {
		res.Errors = msgs
		return res
	}
	for _, m := range res.Manifests {
		if err := writeJSON(filepath.Join(versionDir(tmp, m), ManifestFile), m); err != nil {
			res.Errors = []Message{{Text: err.Error()}}
			return res
		}
	}
	if err := writeJSON(filepath.Join(tmp, IndexFile), idx); err != nil {
		res.Errors = []Message{{Text: err.Error()}}
		return res
	}
	if err := swap(tmp, out); err != nil {
		res.Errors = []Message{{Text: err.Error()}}
		return res
	}
	res.Index = idx
	return res
}

// only keeps the frontend opts.Only of what Discover found, and only the
// messages about its folder: another team's broken frontend.json does not
// stop this one's build.
func only(opts Options, fs []Frontend, msgs []Message) ([]Frontend, []Message) {
	dir := filepath.ToSlash(filepath.Join(opts.Frontends, opts.Only))
	var mine []Message
	for _, m := range msgs {
		if m.File == dir || strings.HasPrefix(m.File, dir+"/") {
			mine = append(mine, m)
		}
	}
	for _, f := range fs {
		if f.Name == opts.Only {
			return []Frontend{f}, mine
		}
	}
	if len(mine) == 0 {
		mine = []Message{{File: dir, Text: fmt.Sprintf("no frontend %q: want %s/%s", opts.Only, dir, FrontendFile)}}
	}
	return nil, mine
}

// sharedChunks lists the modules of the shared build that are not an entry:
// the code the entries re-export, which the page preloads with them.
func sharedChunks(stage string, imports map[string]string) []string {
	entries := map[string]bool{}
	for _, file := range imports {
		entries[file] = true
	}
	var chunks []string
	files, _ := os.ReadDir(stage)
	for _, f := range files {
		if name := f.Name(); filepath.Ext(name) == ".js" && !entries[name] {
			chunks = append(chunks, name)
		}
	}
	return chunks
}

// seal measures the files a bundler left in stage and moves them to their
// version folder under tmp. Their manifest is written once they are
// compressed. A version folder that exists already holds the same files:
// it is kept, and stage removed.
func seal(tmp, stage string, m *Manifest) (*Manifest, error) {
	m.Files = map[string]File{}
	err := filepath.WalkDir(stage, func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		data, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(stage, path)
		m.Files[filepath.ToSlash(rel)] = File{Size: int64(len(data)), Integrity: Integrity(data)}
		return nil
	})
	if err != nil {
		return nil, err
	}
	m.Version = versionOf(m.Files)
	dir := versionDir(tmp, m)
	if _, err := os.Stat(dir); err == nil {
		return m, os.RemoveAll(stage)
	}
	if err := os.MkdirAll(filepath.Dir(dir), 0o755); err != nil {
		return nil, err
	}
	return m, os.Rename(stage, dir)
}

// versionDir is the folder of m's version under out.
func versionDir(out string, m *Manifest) string {
	return filepath.Join(out, "assets", m.Name, m.Version)
}

// swap puts the finished tree at out, removing what was there.
func swap(tmp, out string) error {
	final := filepath.Join(tmp, "final")
	if err := os.Mkdir(final, 0o755); err != nil {
		return err
	}
	for _, name := range []string{"assets", IndexFile} {
		if err := os.Rename(filepath.Join(tmp, name), filepath.Join(final, name)); err != nil {
			return err
		}
	}
	old := filepath.Join(tmp, "old")
	if err := os.Rename(out, old); err != nil && !os.IsNotExist(err) {
		return err
	}
	return os.Rename(final, out)
}

// Discover reads the frontend.json of every folder under dir.
func Discover(root, dir string) ([]Frontend, []Message) {
	entries, err := os.ReadDir(filepath.Join(root, dir))
	if err != nil {
		return nil, []Message{{File: dir, Text: err.Error()}}
	}
	var out []Frontend
	var msgs []Message
	for _, e := range entries {
		if !e.IsDir() {
			continue
		}
		rel := filepath.ToSlash(filepath.Join(dir, e.Name()))
		file := rel + "/" + FrontendFile
		data, err := os.ReadFile(filepath.Join(root, file))
		if os.IsNotExist(err) {
			continue
		}
		f := Frontend{Dir: rel}
		if err == nil {
			err = json.Unmarshal(data, &f)
		}
		switch {
		case err != nil:
			msgs = append(msgs, Message{File: file, Text: err.Error()})
		case f.Name != e.Name():
			msgs = append(msgs, Message{File: file, Text: fmt.Sprintf("name %q must match the folder name %q", f.Name, e.Name())})
		case CheckName(f.Name) != nil:
			msgs = append(msgs, Message{File: file, Text: CheckName(f.Name).Error()})
		default:
			out = append(out, f)
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out, msgs
}

func writeJSON(path string, v any) error {
	data, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		return err
	}
	return os.WriteFile(path, append(data, '\n'), 0o644)
}
