package cli

import (
	"context"
	"errors"
	"fmt"
	"io"
	"maps"
	"os"
	"path"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"sync/atomic"
	"text/tabwriter"
	"time"

	"github.com/collage-dev/collage/adapters/esbuild"
	"github.com/collage-dev/collage/adapters/fsnotify"
	"github.com/collage-dev/collage/adapters/prometheus"
	"github.com/collage-dev/collage/adapters/yaml"
	"github.com/collage-dev/collage/build"
	"github.com/collage-dev/collage/shell"
	"github.com/collage-dev/collage/shell/dev"
	"github.com/collage-dev/collage/shell/registry"
)

// upstreamEvery is how often dev --upstream looks for new versions there.
const upstreamEvery = 5 * time.Second

// devOut is where dev builds, relative to the project root.
var devOut = filepath.Join(".collage", "dev")

func (m *Main) dev(ctx context.Context, args []string) error {
	fs := m.flags("dev", "Builds every frontend (unminified, with source maps) and serves the app with its\n"+
		"BFFs and the embedded store. Nothing else needs to run. Then it watches the project: an\n"+
		"edit to a frontend is built again and shown in the open pages at once, without a reload;\n"+
		"an edit to the Go code restarts the BFFs and reloads the pages, as does an edit to\n"+
		"collage.yaml or a layout; errors show in the page. With --upstream and --only, the\n"+
		"frontends not named run as a remote collage shell serves them.")
	var project projectFlags
	project.register(fs)
	addr := fs.String("addr", "127.0.0.1:3000", "address to listen on")
	upstreamURL := fs.String("upstream", "", "the URL of a running collage shell whose versions, fragments and BFFs serve every frontend --only does not name")
	only := fs.String("only", "", "with --upstream, the frontends to build and serve from this project: NAME[,NAME]")
	cookie := fs.String("upstream-cookie", "", "cookies sent to the upstream shell with every request, such as your session there: name=value[; name=value] (default $"+envUpstreamCookie+")")
	token := fs.String("upstream-token", "", "a bearer token sent to the upstream shell with every request (default $"+envUpstreamToken+")")
	o := serveOptions{bffs: m.BFFs}
	o.flags(fs)
	o.sourceMaps = true
	if err := fs.Parse(args); err != nil {
		return err
	}
	root, cfgPath := project.paths()
	if *upstreamURL != "" || *only != "" {
		cfg, err := yaml.Load(cfgPath)
		if err != nil {
			return err
		}
		if !flagSet(fs, "upstream-cookie") {
			*cookie = os.Getenv(envUpstreamCookie)
		}
		if !flagSet(fs, "upstream-token") {
			*token = os.Getenv(envUpstreamToken)
		}
		if *upstreamURL == "" {
			return errors.New("--only needs --upstream URL: the shell that serves the other frontends")
		}
		known := map[string]bool{}
		for name := range cfg.Frontends {
			known[name] = true
		}
		if o.upstream, err = newUpstream(*upstreamURL, *only, *cookie, *token, known); err != nil {
			return err
		}
		if !flagSet(fs, "data") {
			// The upstream's versions stay out of the project's own registry.
			o.data = filepath.Join(cfg.Dir, ".collage", "upstream")
		}
	}
	d, err := m.newDevServer(root, o.writeTimeout, o.upstream)
	if err != nil {
		return err
	}
	defer d.close()
	// The loop stops with the server, even when serving fails.
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	if err := d.startGo(ctx, m, cfgPath, o.sets); err != nil {
		return err
	}
	o.dev = d
	return m.listenAndServe(ctx, cfgPath, d.session.Out(), *addr, o)
}

// devServer is collage dev's loop around the shell that serve runs: the
// first build, then the watcher, the rebuilds, and the pages' events.
type devServer struct {
	root     string
	session  *build.Session
	hub      *dev.Hub
	loop     *dev.Loop
	registry atomic.Pointer[registry.Registry]
	done     chan struct{} // closed once the loop has stopped; nil before it starts
	// goSide runs the project's BFFs, nil when this binary's own serve
	// them; goDone is closed once it has stopped.
	goSide *goSide
	goDone chan struct{}
	// upstream, if not nil, serves the frontends not built here.
	upstream *upstream
}

// Where dev's --upstream-cookie and --upstream-token come from by default.
const (
	envUpstreamCookie = "COLLAGE_UPSTREAM_COOKIE"
	envUpstreamToken  = "COLLAGE_UPSTREAM_TOKEN"
)

// onlyBuilder builds the frontends that up does not serve.
type onlyBuilder struct {
	dev.Builder
	up *upstream
}

func (b onlyBuilder) Discover() ([]build.Frontend, []build.Message) {
	fs, msgs := b.Builder.Discover()
	fs = slices.DeleteFunc(fs, func(f build.Frontend) bool { return b.up.remote(f.Name) })
	return fs, msgs
}

// newDevServer builds every frontend of the project in root into devOut,
// with an index that serve imports, and prints what it built. Only
// shared dependencies that fail to build stop it: a frontend that fails
// is served without its bundle until it builds. A page's event stream
// ends before writeTimeout, which would cut it.
func (m *Main) newDevServer(root string, writeTimeout time.Duration, up *upstream) (*devServer, error) {
	d := &devServer{root: root, upstream: up, session: build.NewSession(build.Options{Root: root, Out: devOut}, esbuild.Bundler{})}
	var builder dev.Builder = d.session
	if up != nil {
		builder = onlyBuilder{Builder: d.session, up: up}
	}
	// The versions of an earlier run are in the registry's blobs.
	if err := os.RemoveAll(d.session.Out()); err != nil {
		return nil, err
	}
	d.hub = dev.NewHub(dev.HubOptions{Current: d.current, MaxStream: writeTimeout * 3 / 4})
	d.loop = dev.New(dev.Options{Root: root, Builder: builder, Hub: d.hub, Out: m.Stdout, GoChanged: func() {
		if d.goSide != nil {
			d.goSide.Changed()
		}
	}})
	fmt.Fprintf(m.Stdout, "collage: building the frontends of %s…\n", root)
	res, err := d.loop.Build()
	if err != nil {
		d.session.Close()
		fmt.Fprintln(m.Stderr, "collage:", err)
		return nil, errReported
	}
	if err := build.WriteIndex(d.session.Out(), res.Index); err != nil {
		d.session.Close()
		return nil, err
	}
	fmt.Fprintf(m.Stdout, "collage: built %d frontend(s) in %s\n", len(res.Index.Frontends), res.Took.Round(time.Millisecond))
	printBuilt(m.Stdout, res)
	for _, name := range slices.Sorted(maps.Keys(res.Failed)) {
		fmt.Fprintf(m.Stdout, "collage: %s failed to build; it is served without its bundle until it builds:\n", name)
		printErrors(m.Stdout, res.Failed[name])
	}
	return d, nil
}

// startGo builds and starts the Go side of the project of cfgPath, which
// then runs until ctx is done; with none to run, the BFFs linked into this
// binary serve the frontends whose bff: is local, and a change to their
// code needs dev to start again.
func (d *devServer) startGo(ctx context.Context, m *Main, cfgPath string, sets settingFlags) error {
	cfg, err := yaml.Load(cfgPath)
	if err != nil {
		return err
	}
	if d.goSide, err = goSideFor(cfg, sets, d.hub, m.Stdout); err != nil || d.goSide == nil {
		return err
	}
	d.goSide.restart(ctx, false)
	d.goDone = make(chan struct{})
	go func() {
		defer close(d.goDone)
		d.goSide.run(ctx)
	}()
	return nil
}

// printBuilt prints each bundle's version and its JavaScript and CSS,
// without source maps.
func printBuilt(w io.Writer, res *dev.Result) {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "  bundle\tversion\tjs\tcss\tbuilt in\t")
	for _, name := range slices.Sorted(maps.Keys(res.Built)) {
		b := res.Built[name]
		s := b.Manifest.BrowserSizes()
		fmt.Fprintf(tw, "  %s\t%s\t%s\t%s\t%s\t\n", name, b.Manifest.Version, kb(s.JS), kb(s.CSS), b.Took.Round(time.Millisecond))
	}
	tw.Flush()
}

// current is the snapshot served, for the hub.
func (d *devServer) current() *registry.Snapshot {
	if r := d.registry.Load(); r != nil {
		return r.Current()
	}
	return &registry.Snapshot{}
}

// start runs the loop over the shell that listenAndServe made of cfg (the
// app in live, served by h) until ctx is done: it watches the project,
// builds again and publishes what changes, makes a new shell of
// collage.yaml and the layouts when they change, and tells the pages.
func (d *devServer) start(ctx context.Context, m *Main, cfg *yaml.Config, o *serveOptions, back *backing, metrics *prometheus.Metrics, live *atomic.Pointer[app], h *shell.Handler) error {
	d.registry.Store(live.Load().registry)
	skip := d.skipper(o.data)
	w, err := fsnotify.New(d.root, fsnotify.Options{Skip: skip, Also: d.loop.SharedPackages()})
	if err != nil {
		return fmt.Errorf("watching %s: %w", d.root, err)
	}
	load := func() (*dev.Project, error) {
		edited, err := yaml.Load(cfg.File)
		if err != nil {
			return nil, err
		}
		if err := o.sets.Apply(edited); err != nil {
			return nil, err
		}
		cur := live.Load()
		next, err := o.assemble(edited, back, cur.binder, cur.registry, metrics)
		if err != nil {
			return nil, err
		}
		return d.project(edited, next, func(ctx context.Context) error {
			if err := next.replica.Reload(ctx); err != nil {
				return err
			}
			h.Swap(next.shell)
			prev := live.Swap(next)
			prev.stop()
			next.run(ctx)
			if d.goSide != nil && localChanged(prev.descriptors, next.descriptors) {
				d.goSide.Changed() // its BFFs read their settings as they start
			}
			return nil
		}), nil
	}
	changes := make(chan string, 1024)
	d.done = make(chan struct{})
	go func() {
		err := w.Run(ctx, func(p string) {
			select {
			case changes <- p:
			case <-ctx.Done():
			}
		})
		if err != nil {
			fmt.Fprintf(m.Stderr, "collage: watching %s stopped: %v\n", d.root, err)
		}
	}()
	go func() {
		defer close(d.done)
		d.loop.Run(ctx, changes, dev.Serving{Store: back.store, Blobs: back.blobs,
			Reload:  func(ctx context.Context) error { return live.Load().replica.Reload(ctx) },
			Project: d.project(cfg, live.Load(), nil), Load: load})
	}()
	go func() {
		<-ctx.Done()
		d.hub.Close() // the pages' streams end, so that the server can stop
	}()
	if d.upstream != nil {
		go d.upstream.watch(ctx, back.store, back.blobs, upstreamEvery, func(ctx context.Context) error {
			if err := live.Load().replica.Reload(ctx); err != nil {
				return err
			}
			d.hub.Reload() // a page cannot take another import map
			return nil
		})
		fmt.Fprintf(m.Stdout, "collage: %s serves every frontend but %s\n", d.upstream.base, strings.Join(slices.Sorted(maps.Keys(d.upstream.only)), ", "))
	}
	fmt.Fprintf(m.Stdout, "collage: watching %s: an edit shows in the open pages at once\n", d.root)
	return nil
}

// project is what the loop needs of cfg, served by a.
func (d *devServer) project(cfg *yaml.Config, a *app, swap func(context.Context) error) *dev.Project {
	p := &dev.Project{Frontends: a.descriptors, Swap: swap}
	layouts := cfg.Layouts
	if !filepath.IsAbs(layouts) {
		layouts = filepath.Join(cfg.Dir, layouts)
	}
	for _, f := range []string{cfg.File, layouts} {
		if rel, ok := d.rel(f); ok {
			p.Files = append(p.Files, rel)
		}
	}
	return p
}

// rel is path relative to the project root, slash-separated, if it is
// under it.
func (d *devServer) rel(p string) (string, bool) {
	abs, err := filepath.Abs(p)
	if err != nil {
		return "", false
	}
	root, err := filepath.Abs(d.root)
	if err != nil {
		return "", false
	}
	rel, err := filepath.Rel(root, abs)
	if err != nil || rel == ".." || strings.HasPrefix(rel, ".."+string(filepath.Separator)) {
		return "", false
	}
	return filepath.ToSlash(rel), true
}

// skipper says which folders the watcher leaves out: npm's packages (the
// shared ones are watched by themselves), hidden folders such as .git and
// .collage, the output of collage build, and the registry's folder.
func (d *devServer) skipper(data string) func(rel string) bool {
	dataRel, inside := d.rel(data)
	return func(rel string) bool {
		base := path.Base(rel)
		return base == "node_modules" || strings.HasPrefix(base, ".") || rel == "dist" || inside && rel == dataRel
	}
}

// localChanged reports whether a frontend whose BFF is local in a or b
// has other settings, or another BFF, in the other.
func localChanged(a, b map[string]registry.Descriptor) bool {
	for name, d := range a {
		if d.BFF == "local" && !reflect.DeepEqual(d, b[name]) {
			return true
		}
	}
	for name, d := range b {
		if d.BFF == "local" && !reflect.DeepEqual(d, a[name]) {
			return true
		}
	}
	return false
}

// close waits for the loop and the Go side to stop, and frees the builds'
// contexts.
func (d *devServer) close() {
	if d.done != nil {
		<-d.done
	}
	if d.goDone != nil {
		<-d.goDone
	}
	d.session.Close()
}
