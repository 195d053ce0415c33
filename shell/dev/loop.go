package dev

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"maps"
	"os"
	"path"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"time"

	"github.com/collage-dev/collage/build"
	"github.com/collage-dev/collage/shell/registry"
)

// A Builder builds a project's frontends, each again and again: a
// *build.Session.
type Builder interface {
	Discover() ([]build.Frontend, []build.Message)
	Frontend(f build.Frontend) (*build.Built, []build.Message)
	Shared() (*build.Built, []build.Message)
	Forget(name string)
}

// Options make a Loop.
type Options struct {
	// Root is the project's folder.
	Root string
	// Frontends is the folder of frontend folders, relative to Root.
	// Optional. Default: "frontends".
	Frontends string
	// Shared are the specifiers of the shared dependencies: a change to
	// their package in node_modules, or to the project's package.json,
	// builds them again. Optional. Default: build.DefaultShared.
	Shared []string
	// Builder builds the frontends.
	Builder Builder
	// Hub tells the pages.
	Hub *Hub
	// Out receives a line per build, as a terminal shows it. Optional.
	// Default: none.
	Out io.Writer
	// Quiet is how long a burst of changes must have been quiet before
	// the loop builds: an editor writes a file in several steps.
	// Optional. Default: 10ms.
	Quiet time.Duration
	// MaxWait bounds how long a burst that never quiets is gathered.
	// Optional. Default: 200ms.
	MaxWait time.Duration
	// GoChanged is called, on the loop's goroutine, after a burst that
	// touched the project's Go side: a .go file, go.mod or go.sum, or a
	// file of a frontend's bff/ folder (templates are embedded). It must
	// not block: the Go side builds on its own. Optional. Default: none.
	GoChanged func()
}

// Project is what a Loop needs of collage.yaml.
type Project struct {
	// Frontends are the descriptors of its frontends, by name: what their
	// releases say besides their bundle.
	Frontends map[string]registry.Descriptor
	// Files are the files and folders, relative to the project's root and
	// slash-separated, whose change means reading the project again:
	// collage.yaml, and the folder of layouts.
	Files []string
	// Swap serves the project in place of the one served, once the
	// registry holds its releases. Optional for the project served first.
	Swap func(ctx context.Context) error
}

// Serving is where a Loop serves what it builds, and the project served.
type Serving struct {
	// Store and Blobs are the registry served: each version built is
	// published there, and made active.
	Store registry.Store
	Blobs registry.Blobs
	// Reload makes the shell serve the store's state.
	Reload func(ctx context.Context) error
	// Project is the project served at the start.
	Project *Project
	// Load reads collage.yaml and its layouts again, and prepares a shell
	// that serves them, without serving it; its error says what is wrong.
	Load func() (*Project, error)
}

// By is who publishes the versions a Loop builds, in the registry's
// history.
const By = "collage dev"

// A Loop builds again what each change touches and serves it: see the
// package's doc. Its methods are for one goroutine.
type Loop struct {
	o         Options
	s         Serving
	frontends map[string]build.Frontend // those found under Options.Frontends
	built     map[string]*build.Built   // the version served of each, if any
	shared    *build.Built
	inputs    map[string][]string // frontends by the source files they read
	broken    map[string]bool     // frontends whose last build failed
	packages  map[string]bool     // the npm packages of Options.Shared
}

// New returns a loop; Build makes the first versions, Run the next.
func New(o Options) *Loop {
	if o.Frontends == "" {
		o.Frontends = "frontends"
	}
	if o.Shared == nil {
		o.Shared = build.DefaultShared
	}
	if o.Out == nil {
		o.Out = io.Discard
	}
	if o.Quiet == 0 {
		o.Quiet = 10 * time.Millisecond
	}
	if o.MaxWait == 0 {
		o.MaxWait = 200 * time.Millisecond
	}
	l := &Loop{o: o, frontends: map[string]build.Frontend{}, built: map[string]*build.Built{},
		inputs: map[string][]string{}, broken: map[string]bool{}, packages: map[string]bool{}}
	for _, spec := range o.Shared {
		l.packages[build.PackageOf(spec)] = true
	}
	return l
}

// SharedPackages are the folders, relative to the root, of the packages of
// the shared dependencies in node_modules: what a watcher that leaves
// node_modules out watches besides.
func (l *Loop) SharedPackages() []string {
	out := []string{"node_modules"}
	for _, pkg := range slices.Sorted(maps.Keys(l.packages)) {
		out = append(out, "node_modules/"+pkg)
	}
	return out
}

// Result is what Build made.
type Result struct {
	// Index names the versions made, for registry.ImportDir.
	Index *build.Index
	// Built are the versions, by frontend, the shared dependencies' under
	// build.SharedName.
	Built map[string]*build.Built
	// Failed are the frontends that did not build, with why: they are
	// served without a bundle, and the pages shown why, until they build.
	Failed map[string][]build.Message
	Took   time.Duration
}

// Build builds the shared dependencies and every frontend, the first
// time. It fails only when the shared dependencies do: a frontend that
// does not build is in Result.Failed, a problem for the pages.
func (l *Loop) Build() (*Result, error) {
	start := time.Now()
	res := &Result{Index: &build.Index{Frontends: map[string]string{}}, Built: map[string]*build.Built{},
		Failed: map[string][]build.Message{}}
	shared, msgs := l.o.Builder.Shared()
	if len(msgs) > 0 {
		return nil, &BuildError{Messages: msgs}
	}
	l.shared = shared
	res.Index.Shared, res.Built[build.SharedName] = shared.Manifest.Version, shared
	_, _, broken := l.discover()
	maps.Copy(res.Failed, broken)
	for _, name := range slices.Sorted(maps.Keys(l.frontends)) {
		b, msgs := l.buildOne(name)
		if len(msgs) > 0 {
			res.Failed[name] = msgs
			continue
		}
		if b != nil {
			l.built[name] = b
			res.Index.Frontends[name], res.Built[name] = b.Manifest.Version, b
		}
	}
	res.Took = time.Since(start)
	return res, nil
}

// BuildError is a build of the shared dependencies that failed.
type BuildError struct{ Messages []build.Message }

func (e *BuildError) Error() string {
	var b strings.Builder
	for i, m := range e.Messages {
		if i > 0 {
			b.WriteString("\n")
		}
		b.WriteString(m.String())
	}
	return "the shared dependencies failed to build:\n" + b.String()
}

// Run serves what Build made with s, then builds and serves again what
// each burst of changes touches, until ctx is done. changes carries the
// paths changed, relative to the root and slash-separated; "." when any
// may have.
func (l *Loop) Run(ctx context.Context, changes <-chan string, s Serving) {
	l.s = s
	for {
		paths, first, ok := gather(ctx, changes, l.o.Quiet, l.o.MaxWait)
		if !ok {
			return
		}
		l.apply(ctx, paths, first)
	}
}

// work is what a burst of changes asks for.
type work struct {
	config    bool            // read collage.yaml and the layouts again
	shared    bool            // build the shared dependencies again
	discover  bool            // read the frontend.json files again
	frontends map[string]bool // build these again
	golang    bool            // build the Go side again
}

// lost is the path that says any file may have changed.
const lost = "."

// plan works out what paths touch.
func (l *Loop) plan(paths []string) work {
	w := work{frontends: map[string]bool{}}
	prefix := l.o.Frontends + "/"
	for _, p := range paths {
		if p == lost {
			w.config, w.shared, w.discover, w.golang = true, true, true, true
			for name := range l.frontends {
				w.frontends[name] = true
			}
			continue
		}
		for _, f := range l.s.Project.Files {
			if p == f || strings.HasPrefix(p, f+"/") {
				w.config = true
			}
		}
		rest, modules := strings.CutPrefix(p, "node_modules/")
		if !modules && (strings.HasSuffix(p, ".go") || path.Base(p) == "go.mod" || path.Base(p) == "go.sum") {
			w.golang = true
		}
		if p == "package.json" || p == "package-lock.json" || modules && l.packages[packageOf(rest)] {
			w.shared = true
		}
		if p == "package.json" || p == "package-lock.json" || modules {
			// A package installed may be the one a broken build missed.
			for name := range l.broken {
				w.frontends[name] = true
			}
		}
		for _, name := range l.inputs[p] {
			w.frontends[name] = true
		}
		if p == l.o.Frontends {
			w.discover = true
		}
		inFrontends, ok := strings.CutPrefix(p, prefix)
		if !ok {
			continue
		}
		name, inside, _ := strings.Cut(inFrontends, "/")
		switch {
		case inside == "" || inside == build.FrontendFile:
			w.discover = true
			w.frontends[name] = true
		case strings.HasSuffix(inside, ".go") || strings.HasPrefix(inside, "bff/"):
			w.golang = true // its BFF
		case l.frontends[name].Name != "":
			w.frontends[name] = true
		default:
			w.discover = true // a file of a folder not known yet
		}
	}
	return w
}

// packageOf is the npm package of a path under node_modules.
func packageOf(rest string) string {
	parts := strings.SplitN(rest, "/", 3)
	if strings.HasPrefix(rest, "@") && len(parts) > 1 {
		return parts[0] + "/" + parts[1]
	}
	return parts[0]
}

// apply builds and serves what paths touch; first is when the first of
// them was seen.
func (l *Loop) apply(ctx context.Context, paths []string, first time.Time) {
	w := l.plan(paths)
	if w.golang && l.o.GoChanged != nil {
		l.o.GoChanged()
	}
	project, reload := l.s.Project, false
	if w.config {
		p, err := l.s.Load()
		if err != nil {
			l.o.Hub.Problem(configProblem(err))
			fmt.Fprintf(l.o.Out, "collage: %v\n  the last good collage.yaml and layouts are served\n", err)
		} else {
			project = p
			w.discover = true // a frontend it names may have a folder now
		}
	}
	var publish []string // frontends whose release changes
	if w.shared {
		if changed := l.buildShared(); changed {
			publish = append(publish, build.SharedName)
			reload = true // an import map cannot change
		}
	}
	if w.discover {
		added, removed, broken := l.discover()
		for name, msgs := range broken {
			l.report(name, msgs, first)
		}
		for _, name := range added {
			w.frontends[name] = true
		}
		for _, name := range removed {
			delete(w.frontends, name)
			publish = append(publish, name)
			reload = true // a page cannot unmount what has no module
		}
	}
	type rebuilt struct {
		name     string
		old, new *build.Built
	}
	var updates []rebuilt
	for _, name := range slices.Sorted(maps.Keys(w.frontends)) {
		if l.frontends[name].Name == "" {
			continue
		}
		b, msgs := l.buildOne(name)
		old := l.built[name]
		switch {
		case len(msgs) > 0:
			l.report(name, msgs, first)
		case b == nil && old != nil:
			// Its frontend.json names no entry any more.
			delete(l.built, name)
			publish = append(publish, name)
			reload = true
		case b == nil:
		case old != nil && old.Manifest.Version == b.Manifest.Version:
			fmt.Fprintf(l.o.Out, "collage: %s unchanged (built in %s)\n", name, ms(b.Took))
		default:
			l.built[name] = b
			publish = append(publish, name)
			updates = append(updates, rebuilt{name, old, b})
		}
	}
	if project != l.s.Project {
		for name, d := range project.Frontends {
			if old, ok := l.s.Project.Frontends[name]; !ok || !reflect.DeepEqual(old, d) {
				publish = append(publish, name)
			}
		}
		reload = true // the layouts may have changed
	}
	labels := map[string]string{}
	var failed error
	served := time.Now()
	for _, name := range dedupe(publish) {
		label, err := l.publish(ctx, project, name)
		if err != nil {
			failed = errors.Join(failed, fmt.Errorf("publishing %s: %w", name, err))
			continue
		}
		if label != "" {
			labels[name] = label
		}
	}
	if project != l.s.Project {
		if err := project.Swap(ctx); err != nil {
			failed = errors.Join(failed, fmt.Errorf("serving the new collage.yaml and layouts: %w", err))
		} else {
			l.s.Project = project
			l.o.Hub.Clear(SourceConfig, "", "")
			fmt.Fprintf(l.o.Out, "collage: serving the new collage.yaml and layouts, %s after the edit\n", ms(time.Since(first)))
		}
	} else if len(labels) > 0 {
		if err := l.s.Reload(ctx); err != nil {
			failed = errors.Join(failed, fmt.Errorf("serving the new versions: %w", err))
		}
	}
	if failed != nil {
		fmt.Fprintf(l.o.Out, "collage: %v\n", failed)
		return
	}
	now := time.Now()
	serving := now.Sub(served)
	for _, u := range updates {
		if u.old != nil && u.old.Dir != u.new.Dir {
			os.RemoveAll(u.old.Dir) // its files are in the registry's blobs
		}
		label, ok := labels[u.name]
		if !ok {
			fmt.Fprintf(l.o.Out, "collage: built %s in %s; collage.yaml names no frontend %s: add it there to serve it\n", u.name, ms(u.new.Took), u.name)
			continue
		}
		up := newUpdate(u.name, label, u.new.Manifest)
		up.CSSOnly = u.old != nil && sameModules(u.old.Manifest, u.new.Manifest)
		up.Took, up.At = float64(now.Sub(first).Microseconds())/1000, now.UnixMilli()
		if !reload {
			l.o.Hub.Update(up)
		}
		what := sizes(u.new.Manifest)
		if up.CSSOnly {
			what = "stylesheets only"
		}
		fmt.Fprintf(l.o.Out, "collage: rebuilt %s in %s (build %s, publish %s): %s\n", u.name, ms(now.Sub(first)), ms(u.new.Took), ms(serving), what)
	}
	if reload {
		l.o.Hub.Reload()
	}
}

// dedupe is names without repeats, sorted.
func dedupe(names []string) []string {
	slices.Sort(names)
	return slices.Compact(names)
}

// buildShared builds the shared dependencies again, and reports whether
// their version changed.
func (l *Loop) buildShared() bool {
	b, msgs := l.o.Builder.Shared()
	if len(msgs) > 0 {
		l.o.Hub.Problem(buildProblem(l.o.Root, build.SharedName, msgs))
		fmt.Fprintf(l.o.Out, "collage: the shared dependencies failed to build; the last good build is served:\n%s\n", messageLines(msgs))
		return false
	}
	l.o.Hub.Clear(SourceBuild, build.SharedName, "")
	if l.shared != nil && l.shared.Manifest.Version == b.Manifest.Version {
		return false
	}
	l.shared = b
	fmt.Fprintf(l.o.Out, "collage: rebuilt the shared dependencies in %s: %s\n", ms(b.Took), sizes(b.Manifest))
	return true
}

// discover reads the frontend.json files again, and returns the frontends
// that came and went, and those whose frontend.json is broken, with why:
// those stay as they were, and the pages are told why.
func (l *Loop) discover() (added, removed []string, broken map[string][]build.Message) {
	var fs []build.Frontend
	var msgs []build.Message
	if _, err := os.Stat(filepath.Join(l.o.Root, l.o.Frontends)); err == nil {
		fs, msgs = l.o.Builder.Discover()
	} // else a project of server fragments alone, or all its frontends gone
	found := map[string]build.Frontend{}
	for _, f := range fs {
		found[f.Name] = f
	}
	broken = map[string][]build.Message{}
	for _, m := range msgs {
		rest, _ := strings.CutPrefix(m.File, l.o.Frontends+"/")
		name, _, _ := strings.Cut(rest, "/")
		broken[name] = append(broken[name], m)
	}
	for name, msgs := range broken {
		l.broken[name] = true
		l.o.Hub.Problem(buildProblem(l.o.Root, name, msgs))
		if f, ok := l.frontends[name]; ok {
			found[name] = f
		}
	}
	for name := range found {
		if _, ok := l.frontends[name]; !ok {
			added = append(added, name)
		}
	}
	for name := range l.frontends {
		if _, ok := found[name]; !ok {
			removed = append(removed, name)
			l.forget(name)
			fmt.Fprintf(l.o.Out, "collage: frontend %s is gone\n", name)
		}
	}
	l.frontends = found
	slices.Sort(added)
	slices.Sort(removed)
	return added, removed, broken
}

// forget drops what the loop knows of the frontend called name.
func (l *Loop) forget(name string) {
	l.o.Builder.Forget(name)
	if b := l.built[name]; b != nil {
		os.RemoveAll(b.Dir)
	}
	delete(l.built, name)
	delete(l.broken, name)
	l.o.Hub.Clear(SourceBuild, name, "")
	l.setInputs(name, nil)
}

// buildOne builds the frontend called name: nil without messages for a
// frontend with no entry.
func (l *Loop) buildOne(name string) (*build.Built, []build.Message) {
	f := l.frontends[name]
	if f.Entry == "" {
		return nil, nil
	}
	b, msgs := l.o.Builder.Frontend(f)
	if len(msgs) > 0 {
		l.broken[name] = true
		l.o.Hub.Problem(buildProblem(l.o.Root, name, msgs))
		return nil, msgs
	}
	if l.broken[name] {
		delete(l.broken, name)
		l.o.Hub.Clear(SourceBuild, name, "")
	}
	l.setInputs(name, b.Inputs)
	return b, nil
}

// setInputs records the source files of name's last build.
func (l *Loop) setInputs(name string, inputs []string) {
	for file, names := range l.inputs {
		if i := slices.Index(names, name); i >= 0 {
			names = slices.Delete(names, i, i+1)
			if len(names) == 0 {
				delete(l.inputs, file)
			} else {
				l.inputs[file] = names
			}
		}
	}
	for _, file := range inputs {
		l.inputs[file] = append(l.inputs[file], name)
	}
}

// report says in the terminal why name did not build, first seen changed
// at first: its last good version stays served.
func (l *Loop) report(name string, msgs []build.Message, first time.Time) {
	fmt.Fprintf(l.o.Out, "collage: %s failed to build in %s; the last good build is served:\n%s\n", name, ms(time.Since(first)), messageLines(msgs))
}

// publish publishes the release of the frontend called name (or the
// shared dependencies) as project describes it, with its last good
// bundle, and makes it active. It returns its label, or "" for a frontend
// project does not name.
func (l *Loop) publish(ctx context.Context, project *Project, name string) (string, error) {
	r := &registry.Release{Frontend: name, PublishedBy: By}
	b := l.built[name]
	if name == build.SharedName {
		b = l.shared
	} else {
		d, ok := project.Frontends[name]
		if !ok {
			return "", nil
		}
		r.Label, r.BFF, r.Settings = d.Label, d.BFF, d.Settings
	}
	var files fs.FS // none for a release without a bundle
	if b != nil {
		r.Manifest, files = b.Manifest, os.DirFS(b.Dir)
	}
	rel, _, err := registry.Publish(ctx, l.s.Store, l.s.Blobs, r, files)
	if err != nil {
		return "", err
	}
	// The version just built is the one to serve, whatever is active.
	if _, err := l.s.Store.Promote(ctx, registry.Move{Frontend: name, Label: rel.Label, By: By}); err != nil {
		return "", err
	}
	return rel.Label, nil
}

// buildProblem is the problem of name's failed build: its first message,
// and how many more there are.
func buildProblem(root, name string, msgs []build.Message) Problem {
	m := msgs[0]
	p := Problem{Source: SourceBuild, Frontend: name, File: m.File, Line: m.Line, Column: m.Column,
		Message: m.Text, Frame: frame(root, m)}
	if len(msgs) > 1 {
		p.Message += fmt.Sprintf("\n(and %d more: %s)", len(msgs)-1, messageLines(msgs[1:]))
	}
	return p
}

// configProblem is the problem of a config that cannot be served.
func configProblem(err error) Problem {
	return Problem{Source: SourceConfig, Message: err.Error()}
}

// messageLines are msgs as a compiler prints them.
func messageLines(msgs []build.Message) string {
	var b strings.Builder
	for i, m := range msgs {
		if i > 0 {
			b.WriteString("\n")
		}
		b.WriteString("  " + m.String())
		if m.Source != "" {
			b.WriteString("\n      " + strings.TrimSpace(m.Source))
		}
	}
	return b.String()
}

// sizes says how big m's JavaScript and CSS are, without source maps.
func sizes(m *build.Manifest) string {
	sz := m.BrowserSizes()
	s := fmt.Sprintf("%.1f kB js", float64(sz.JS)/1000)
	if sz.CSS > 0 {
		s += fmt.Sprintf(", %.1f kB css", float64(sz.CSS)/1000)
	}
	return s
}

// ms rounds d for people: 12ms, 1.2s.
func ms(d time.Duration) string {
	if d < time.Second {
		return d.Round(time.Millisecond).String()
	}
	return d.Round(100 * time.Millisecond).String()
}
