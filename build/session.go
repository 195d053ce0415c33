package build

import (
	"fmt"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"time"
)

// A ContextBundler is a Bundler that can also keep one frontend's build in
// memory between builds, so that building it again reads only the files
// that changed: what collage dev rebuilds on every edit.
type ContextBundler interface {
	Bundler
	// FrontendContext prepares the builds of f, leaving the shared
	// specifiers external. The caller disposes of it.
	FrontendContext(root string, f Frontend, shared []string, minify bool) (FrontendContext, []Message)
}

// A FrontendContext builds one frontend again and again.
type FrontendContext interface {
	// Rebuild builds the frontend into dir, as Bundler.BundleFrontend
	// does, reading again only what changed since its last build.
	Rebuild(dir string) (Bundle, []Message)
	// Dispose frees what the context holds.
	Dispose()
}

// Built is one version a Session made.
type Built struct {
	Manifest *Manifest
	// Dir is the version folder: the files and their manifest.
	Dir string
	// Inputs are the source files of the bundle (see Bundle.Inputs).
	Inputs []string
	// Took is how long the bundler ran, and sealing the version after.
	Took time.Duration
}

// A Session builds a project's frontends one at a time, again and again,
// for collage dev: each frontend through a FrontendContext that it keeps
// between the frontend's builds. Each build that succeeds makes a version
// folder under Out (assets/NAME/VERSION, with its manifest) beside the
// ones made before, which the caller removes once it no longer needs them;
// nothing is compressed. A Session is not safe for concurrent use.
type Session struct {
	opts     Options
	b        ContextBundler
	out      string
	contexts map[string]*sessionContext
}

// sessionContext is the context of one frontend, and what it was made for.
type sessionContext struct {
	f   Frontend
	ctx FrontendContext
}

// NewSession returns a session building the frontends of opts.Root into
// opts.Out with b. Only, Compressors and NoCompress are ignored.
func NewSession(opts Options, b ContextBundler) *Session {
	opts = opts.withDefaults()
	out := opts.Out
	if !filepath.IsAbs(out) {
		out = filepath.Join(opts.Root, out)
	}
	return &Session{opts: opts, b: b, out: out, contexts: map[string]*sessionContext{}}
}

// Out is the folder the versions are made in.
func (s *Session) Out() string { return s.out }

// Discover reads the frontend.json of every folder of the frontends folder.
func (s *Session) Discover() ([]Frontend, []Message) {
	return Discover(s.opts.Root, s.opts.Frontends)
}

// Frontend builds f, through the context it made for f at its first build:
// a new one when f's folder or entry changed since.
func (s *Session) Frontend(f Frontend) (*Built, []Message) {
	start := time.Now()
	if f.Entry == "" {
		return nil, []Message{{File: f.Dir + "/" + FrontendFile, Text: "names no entry: there is nothing to bundle"}}
	}
	c := s.contexts[f.Name]
	if c != nil && c.f != f {
		s.Forget(f.Name)
		c = nil
	}
	if c == nil {
		ctx, msgs := s.b.FrontendContext(s.opts.Root, f, s.opts.Shared, s.opts.Minify)
		if len(msgs) > 0 {
			return nil, msgs
		}
		c = &sessionContext{f: f, ctx: ctx}
		s.contexts[f.Name] = c
	}
	stage, err := s.stage()
	if err != nil {
		return nil, []Message{{File: f.Dir, Text: err.Error()}}
	}
	defer os.RemoveAll(stage) // what a failed build left
	bundle, msgs := c.ctx.Rebuild(stage)
	if len(msgs) > 0 {
		return nil, msgs
	}
	built, err := s.seal(stage, &Manifest{Name: f.Name, Entry: bundle.Entry, Server: bundle.Server, CSS: bundle.CSS,
		Preload: bundle.Preload, Shared: bundle.Shared}, bundle.Shared)
	if err != nil {
		return nil, []Message{{File: f.Dir, Text: err.Error()}}
	}
	built.Inputs, built.Took = bundle.Inputs, time.Since(start)
	return built, nil
}

// Shared builds the shared dependencies. It keeps no context: they change
// only when the packages do.
func (s *Session) Shared() (*Built, []Message) {
	start := time.Now()
	stage, err := s.stage()
	if err != nil {
		return nil, []Message{{Text: err.Error()}}
	}
	defer os.RemoveAll(stage)
	imports, msgs := s.b.BundleShared(s.opts.Root, s.opts.Shared, stage, s.opts.Minify)
	if len(msgs) > 0 {
		return nil, msgs
	}
	built, err := s.seal(stage, &Manifest{Name: SharedName, Imports: imports, Preload: sharedChunks(stage, imports)},
		slices.Sorted(maps.Keys(imports)))
	if err != nil {
		return nil, []Message{{Text: err.Error()}}
	}
	built.Took = time.Since(start)
	return built, nil
}

// stage makes a new folder for a bundler to write into.
func (s *Session) stage() (string, error) {
	if err := os.MkdirAll(s.out, 0o755); err != nil {
		return "", err
	}
	return os.MkdirTemp(s.out, ".stage-")
}

// seal makes the version of m from the files in stage, the packages of
// specs recorded, and writes its manifest.
func (s *Session) seal(stage string, m *Manifest, specs []string) (*Built, error) {
	pkgs := &packages{root: s.opts.Root, versions: map[string]string{}}
	versions, err := pkgs.of(specs)
	if err != nil {
		return nil, err
	}
	m.Packages = versions
	if m, err = seal(s.out, stage, m); err != nil {
		return nil, err
	}
	dir := versionDir(s.out, m)
	if err := writeJSON(filepath.Join(dir, ManifestFile), m); err != nil {
		return nil, fmt.Errorf("writing the manifest of %s %s: %w", m.Name, m.Version, err)
	}
	return &Built{Manifest: m, Dir: dir}, nil
}

// Forget disposes of the context of the frontend called name, if any: its
// next build starts afresh.
func (s *Session) Forget(name string) {
	if c := s.contexts[name]; c != nil {
		c.ctx.Dispose()
		delete(s.contexts, name)
	}
}

// Close disposes of every context.
func (s *Session) Close() {
	for name := range s.contexts {
		s.Forget(name)
	}
}

// WriteIndex writes idx as the index of the output folder out, for
// registry.ImportDir to read.
func WriteIndex(out string, idx *Index) error {
	return writeJSON(filepath.Join(out, IndexFile), idx)
}
