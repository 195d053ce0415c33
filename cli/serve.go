package cli

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"log"
	"log/slog"
	"maps"
	"net"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"runtime"
	"runtime/debug"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/collage-dev/collage/adapters/bbolt"
	"github.com/collage-dev/collage/adapters/brotli"
	"github.com/collage-dev/collage/adapters/fiber"
	"github.com/collage-dev/collage/adapters/nethttp"
	"github.com/collage-dev/collage/adapters/prometheus"
	"github.com/collage-dev/collage/adapters/redis"
	"github.com/collage-dev/collage/adapters/yaml"
	"github.com/collage-dev/collage/bff"
	"github.com/collage-dev/collage/build"
	"github.com/collage-dev/collage/cli/bffserve"
	"github.com/collage-dev/collage/internal/exepages"
	"github.com/collage-dev/collage/internal/gcpace"
	"github.com/collage-dev/collage/internal/logbuf"
	"github.com/collage-dev/collage/shell"
	"github.com/collage-dev/collage/shell/api"
	"github.com/collage-dev/collage/shell/cache"
	"github.com/collage-dev/collage/shell/compose"
	"github.com/collage-dev/collage/shell/invoke"
	"github.com/collage-dev/collage/shell/layout"
	"github.com/collage-dev/collage/shell/registry"
	"github.com/collage-dev/collage/shell/replica"
)

func (m *Main) serve(ctx context.Context, args []string) error {
	fs := m.flags("serve", "Serves the frontends published to its registry (the embedded store under --data), composing\npages with the BFFs of their versions. It first imports the output of collage build (--dist) as\npublished versions, once: a restart does not undo a promote. Frontends without a client bundle\nneed no output folder.")
	var project projectFlags
	project.register(fs)
	dist := fs.String("dist", "dist", "the output folder of collage build")
	addr := fs.String("addr", "127.0.0.1:3000", "address to listen on")
	o := serveOptions{bffs: m.BFFs}
	o.flags(fs)
	fs.BoolVar(&o.sourceMaps, "source-maps", false, "serve the bundles' source maps (*.map, a 404 otherwise), which show the frontends' source to anyone")
	fs.StringVar(&o.assetsURL, "assets-url", "", assetsURLUsage)
	fs.DurationVar(&o.logFlush, "log-flush", defaultLogFlush, "how long a log line may wait in memory, gathered with the next ones into one write to stderr (a busy shell's page log then takes one write for a dozen pages or more); 0 writes each line at once")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if !flagSet(fs, "redis") {
		o.redis = os.Getenv(envRedis)
	}
	_, cfgPath := project.paths()
	return m.listenAndServe(ctx, cfgPath, *dist, *addr, o)
}

// assetsURLUsage is the help of --assets-url.
const assetsURLUsage = "the http(s) URL pages link their assets under (NAME/VERSION/FILE, _collage/runtime-….js), such as a CDN whose origin is this shell's /assets/, which it still serves; empty: the shell's own /assets/"

// serveOptions are the flags serve and dev share.
type serveOptions struct {
	firstPage   *sync.Once // gives back the executable's pages after the first page
	sets        settingFlags
	cacheBytes  int64
	noCollapse  bool
	noPipeline  bool
	pageTimeout time.Duration
	coalesce    time.Duration
	sourceMaps  bool
	server      string
	assetsURL   string
	// logFlush is how long serve holds a log line before writing it; 0,
	// as in collage dev, writes each at once.
	logFlush time.Duration

	// The limits of the HTTP edge.
	headerTimeout   time.Duration
	bodyTimeout     time.Duration
	idleTimeout     time.Duration
	writeTimeout    time.Duration
	shutdownTimeout time.Duration
	maxConns        int
	maxBody         int64
	maxBFFResponse  int64
	exposeFragments bool
	pprof           string

	// The registry.
	data         string
	redis        string
	redisName    string
	keepVersions int
	keepFor      time.Duration
	judge        replica.JudgeOptions

	// dev is collage dev's loop, nil for serve.
	dev *devServer
	// bffs are the BFFs linked into the binary.
	bffs BFFs
	// upstream, if not nil, serves the frontends collage dev does not
	// build (--upstream, --only).
	upstream *upstream
}

// retention is the registry's retention of the flags, where 0 keeps none
// by that rule.
func (o *serveOptions) retention() registry.Retention {
	k := registry.Retention{Versions: o.keepVersions, Age: o.keepFor}
	if k.Versions == 0 {
		k.Versions = -1
	}
	if k.Age == 0 {
		k.Age = -1
	}
	return k
}

func (o *serveOptions) flags(fs *flag.FlagSet) {
	fs.Var(&o.sets, "set", "override a local BFF's setting: frontend.key=value (repeatable)")
	fs.Int64Var(&o.cacheBytes, "fragment-cache", cache.DefaultMaxBytes, "bytes of fragments (bodies, headers and keys) cached in memory, when their Cache-Control allows; 0: no cache")
	fs.BoolVar(&o.noCollapse, "no-collapse", false, "do not collapse identical fragment fetches in flight")
	fs.BoolVar(&o.noPipeline, "no-pipeline", false, "fetch every fragment from an http:// BFF on a connection of its own, never a page's fast ones pipelined on one (for a BFF behind a proxy that mishandles HTTP/1.1 pipelining)")
	fs.DurationVar(&o.pageTimeout, "page-timeout", 10*time.Second, "deadline of a whole page; each slot also has its own")
	fs.DurationVar(&o.coalesce, "coalesce", compose.DefaultCoalesce, "while other pages are being composed, how long a page's head waits for fragments, so that a page whose fragments all arrive in time leaves whole in one write (a page composed alone streams its head at once); 0 streams every head at once")
	fs.DurationVar(&o.headerTimeout, "header-timeout", fiber.DefaultHeaderTimeout, "how long a client may take to send a request's headers (from its first byte)")
	fs.DurationVar(&o.bodyTimeout, "body-timeout", fiber.DefaultBodyTimeout, "how long a client may take to send a /bff request's body, once its headers are in")
	fs.DurationVar(&o.idleTimeout, "idle-timeout", fiber.DefaultIdleTimeout, "how long a keep-alive connection may wait for its next request")
	fs.DurationVar(&o.writeTimeout, "write-timeout", fiber.DefaultWriteTimeout, "how long a response may take to write, once its status is known; at least --page-timeout, so that a streamed page is never cut shorter")
	fs.DurationVar(&o.shutdownTimeout, "shutdown-timeout", fiber.DefaultShutdownTimeout, "on SIGTERM or Ctrl-C, how long requests in flight may take to finish; the exit status is 1 if some had to be cut")
	fs.IntVar(&o.maxConns, "max-conns", fiber.DefaultMaxConns, "connections served at once; one more is answered 503 and closed")
	fs.Int64Var(&o.maxBody, "max-body", fiber.DefaultMaxBody, "bytes of a /bff request's body, counted as sent and decoded (gzip, deflate); more is a 413")
	fs.Int64Var(&o.maxBFFResponse, "max-bff-response", fiber.DefaultMaxBFFResponse, "bytes of a BFF's answer to a /bff call; a longer declared one is a 502, a longer streamed one is cut")
	fs.StringVar(&o.server, "server", "fiber", "the HTTP server binding: fiber (the default) or nethttp (net/http); both answer alike")
	fs.StringVar(&o.data, "data", filepath.Join(".collage", "data"), "the folder of the embedded registry (its store and the published files), or with --redis of this replica's cache of the published files")
	fs.StringVar(&o.redis, "redis", "", "keep the registry in Redis, shared by every replica: redis://[:PASSWORD@]HOST:PORT[/DB] or rediss:// (default $COLLAGE_REDIS_URL; none: the embedded store)")
	fs.StringVar(&o.redisName, "redis-prefix", "collage", "the name that begins every key of this site in Redis ({NAME}: for the registry, NAME: for files and BFF state), so that several sites can share one Redis")
	fs.Int64Var(&o.judge.MinSample, "canary-min-sample", 200, "slots and /bff calls of a canary's version seen, on every replica together, before the shell judges it")
	fs.Float64Var(&o.judge.MaxExcess, "canary-max-excess", 5, "percentage points by which a canary's failure rate may exceed the active version's before the shell ends it by itself")
	fs.IntVar(&o.keepVersions, "keep-versions", registry.DefaultRetention.Versions, "how many versions active before the current one stay servable to the pages rendered with them")
	fs.DurationVar(&o.keepFor, "keep-for", registry.DefaultRetention.Age, "how long a replaced version stays servable to the pages rendered with it (whichever of --keep-versions and --keep-for keeps more)")
	fs.StringVar(&o.pprof, "pprof", "", "serve Go's profiles (net/http/pprof) under /debug/pprof/ on this loopback address, such as 127.0.0.1:6060; empty: none")
	fs.BoolVar(&o.exposeFragments, "expose-fragments", false, "let /bff/NAME/_fragment reach the BFF from outside (by default a 404: only the shell fetches fragments)")
}

// edge checks the edge's flags and turns them into the edge's options.
// Every limit must be positive: the edge has no switch to turn one off.
func (o *serveOptions) edge() (fiber.Config, error) {
	for _, d := range []struct {
		name string
		v    time.Duration
	}{{"header-timeout", o.headerTimeout}, {"body-timeout", o.bodyTimeout}, {"idle-timeout", o.idleTimeout},
		{"write-timeout", o.writeTimeout}, {"shutdown-timeout", o.shutdownTimeout}} {
		if d.v <= 0 {
			return fiber.Config{}, fmt.Errorf("--%s %s: must be positive", d.name, d.v)
		}
	}
	for _, n := range []struct {
		name string
		v    int64
	}{{"max-conns", int64(o.maxConns)}, {"max-body", o.maxBody}, {"max-bff-response", o.maxBFFResponse}} {
		if n.v <= 0 {
			return fiber.Config{}, fmt.Errorf("--%s %d: must be positive", n.name, n.v)
		}
	}
	if o.server != "fiber" && o.server != "nethttp" {
		return fiber.Config{}, fmt.Errorf("--server %q: want fiber or nethttp", o.server)
	}
	if o.writeTimeout < o.pageTimeout {
		return fiber.Config{}, fmt.Errorf("--write-timeout %s is shorter than --page-timeout %s: a slow page would be cut before its deadline; raise --write-timeout", o.writeTimeout, o.pageTimeout)
	}
	return fiber.Config{
		HeaderTimeout: o.headerTimeout, BodyTimeout: o.bodyTimeout, IdleTimeout: o.idleTimeout,
		WriteTimeout: o.writeTimeout, ShutdownTimeout: o.shutdownTimeout, MaxConns: o.maxConns,
		MaxBody: o.maxBody, MaxBFFResponse: o.maxBFFResponse, ExposeFragments: o.exposeFragments,
	}, nil
}

// shellOptions are the shell's options the flags set. A flag's 0 means
// zero (at once), where an option's zero means its default.
func (o *serveOptions) shellOptions() (shell.Options, error) {
	if o.cacheBytes < 0 {
		return shell.Options{}, fmt.Errorf("--fragment-cache %d: want a number of bytes, or 0 for no cache", o.cacheBytes)
	}
	if o.judge.MinSample < 0 || o.judge.MaxExcess < 0 {
		return shell.Options{}, fmt.Errorf("--canary-min-sample %d --canary-max-excess %g: neither may be negative", o.judge.MinSample, o.judge.MaxExcess)
	}
	if o.keepVersions < 0 || o.keepFor < 0 {
		return shell.Options{}, fmt.Errorf("--keep-versions %d --keep-for %s: neither may be negative (0 keeps none by that rule)", o.keepVersions, o.keepFor)
	}
	if o.coalesce < 0 {
		return shell.Options{}, fmt.Errorf("--coalesce %s: give 0 (flush at once) or a positive duration", o.coalesce)
	}
	return shell.Options{PageTimeout: o.pageTimeout, Coalesce: o.coalesce, NoCoalesce: o.coalesce == 0, StreamAlone: true, AssetsURL: o.assetsURL}, nil
}

// listenAndServe serves the config's pages on addr until ctx is done, with
// the registry in the embedded store under o.data, into which it first
// imports dist.
func (m *Main) listenAndServe(ctx context.Context, cfgPath, dist, addr string, o serveOptions) error {
	// Every package's init has run and left its pages of the executable
	// resident; give them back before starting adds its own. A failure
	// here is reported by freeStartup's call.
	exepages.Release()
	o.firstPage = new(sync.Once)
	gcpace.Set()
	if o.logFlush < 0 {
		return fmt.Errorf("--log-flush %s: give 0 (each line at once) or a positive duration", o.logFlush)
	}
	if o.logFlush > 0 {
		defer holdLogLines(o.logFlush)()
	}
	edge, err := o.edge()
	if err != nil {
		return err
	}
	if _, err := o.shellOptions(); err != nil {
		return err
	}
	cfg, err := yaml.Load(cfgPath)
	if err != nil {
		return err
	}
	if err := o.sets.Apply(cfg); err != nil {
		return err
	}
	back, err := o.openBacking()
	if err != nil {
		return err
	}
	defer back.close()
	st, blobs := back.store, back.blobs
	first, err := api.Bootstrap(ctx, st, os.Getenv(envAdminToken), time.Now())
	if err != nil {
		return fmt.Errorf("%s: %w", envAdminToken, err)
	}
	if first != "" {
		fmt.Fprintf(m.Stdout, "collage: the registry has no token yet; here is an admin token, shown this once:\n\n    %s\n\n"+
			"  Keep it secret (export COLLAGE_TOKEN=...), or set %s before serve to choose your own.\n", first, envAdminToken)
	}
	metrics := prometheus.New()
	a, err := o.newApp(ctx, cfg, back, dist, metrics)
	if err != nil {
		return err
	}
	metrics.WatchRegistry(a.registry)
	if o.redis == "" {
		// The store's file is locked to this process: no publish is in
		// flight, and what a crash left behind can go now.
		if _, err := a.replica.Collect(ctx, 0); err != nil {
			return err
		}
	}
	for _, im := range a.imported {
		if im.Promoted {
			fmt.Fprintf(m.Stdout, "collage: %s %s from %s is active\n", im.Frontend, im.Label, dist)
		}
	}
	if len(a.registry.Current().Frontends) == 0 {
		fmt.Fprintf(m.Stdout, "collage: no bundles published or in %s: serving server fragments only\n", dist)
	}
	// collage dev swaps in a new app when collage.yaml changes.
	var live atomic.Pointer[app]
	live.Store(a)
	names := slices.Sorted(maps.Keys(cfg.Frontends))
	edge.API = api.New(api.Options{Store: st, Blobs: blobs, Frontends: names, Current: a.registry.Current,
		Stale: func() error { return a.registry.Sync().Err },
		Changed: func(ctx context.Context) {
			if err := live.Load().replica.Reload(ctx); err != nil {
				a.shell.Log().Error("reloading the registry after a change", "err", err)
			}
		}, Log: a.shell.Log()})
	edge.Blobs, edge.Compressors = blobs, []build.Compressor{brotli.Compressor, build.Gzip}
	edge.Metrics, edge.SourceMaps = metrics.Handler(), o.sourceMaps
	if o.dev != nil {
		edge.Dev = o.dev.hub
	}
	h := shell.NewHandler(a.shell, edge)
	if o.pprof != "" {
		pl, err := listenPprof(o.pprof)
		if err != nil {
			return err
		}
		go func() {
			if err := servePprof(ctx, pl); err != nil {
				a.shell.Log().Error("serving the profiles", "addr", o.pprof, "err", err)
			}
		}()
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return err
	}
	url := "http://" + ln.Addr().String()
	where := o.data
	if o.redis != "" {
		where = redacted(o.redis)
	}
	a.run(ctx)
	if o.dev != nil {
		if err := o.dev.start(ctx, m, cfg, &o, back, metrics, &live, h); err != nil {
			live.Load().stop()
			ln.Close()
			return err
		}
	}
	freeStartup(a.shell.Log())
	fmt.Fprintf(m.Stdout, "collage: serving %d route(s) on %s (registry in %s)\n", len(cfg.Routes), url, where)
	if m.Listening != nil {
		m.Listening <- url
	}
	if o.server == "nethttp" {
		return nethttp.ServeHandler(ctx, ln, h)
	}
	return fiber.ServeHandler(ctx, ln, h)
}

// freeStartup collects what starting took and returns it to the system:
// the config, the import of dist, and the compressors' buffers (the
// runtime's brotli copy at the best level takes about 10 MB, which a pool
// holds until its second collection). Else the collector would take
// that as the live heap and let the heap grow to twice it under the first
// load, a peak the process's RSS keeps. It also gives back the pages of
// the executable that starting touched and serving does not use (about
// 13 MB of collage's, and 20 MB before it by the packages' inits).
func freeStartup(log *slog.Logger) {
	runtime.GC()         // a pool's items survive one collection,
	debug.FreeOSMemory() // and go with the second
	if _, err := exepages.Release(); err != nil {
		log.Warn("giving back the pages of the executable that starting touched", "err", err)
	}
}

// defaultLogFlush is serve's --log-flush: a tenth of a second is too short
// for a reader of the log to notice, and long enough for a shell serving
// thousands of pages a second to write its lines a dozen or more at a
// time.
const defaultLogFlush = 100 * time.Millisecond

// logLineBytes is how much of the log waits at most: PIPE_BUF, the most
// that one write puts into a pipe whole, so that lines written together
// never interleave with another writer's to the same pipe.
const logLineBytes = 4 << 10

// holdLogLines has the log package's output, which slog's default logger
// writes through, hold each line up to delay (logbuf), and returns what
// writes out the lines still waiting and restores the output. A line
// still held when the process dies is lost: at most delay's worth.
func holdLogLines(delay time.Duration) (restore func()) {
	out := log.Writer()
	w := logbuf.New(out, delay, logLineBytes)
	log.SetOutput(w)
	return func() {
		log.SetOutput(out)
		w.Flush()
	}
}

// firstPage is an Observer that, once the first page is written, calls
// release on a goroutine of its own.
type firstPage struct {
	shell.Observer
	once    *sync.Once
	release func()
}

func (f firstPage) ObservePage(route string, slots []*layout.Slot, results []*compose.Result, took time.Duration) {
	f.Observer.ObservePage(route, slots, results, took)
	f.once.Do(func() { go f.release() })
}

// releaseFirstPage gives back the pages of the executable that only the
// first page used: what a first request sets up once (templates escaped
// on first use, the fetchers' pools, a collection over the tables the
// inits built). Serving uses them no more, and the 64 KB runs the kernel
// mapped around each would otherwise stay resident for good.
func releaseFirstPage(log *slog.Logger) func() {
	return func() {
		if _, err := exepages.Release(); err != nil {
			log.Warn("giving back the pages of the executable that the first page touched", "err", err)
		}
	}
}

// envAdminToken is the variable whose value serve accepts as an admin
// token of the publish API.
const envAdminToken = "COLLAGE_ADMIN_TOKEN"

// redisNameRE is what --redis-prefix takes.
var redisNameRE = regexp.MustCompile(`^[A-Za-z0-9_-]{1,64}$`)

// envRedis is the variable --redis defaults to.
const envRedis = "COLLAGE_REDIS_URL"

// backing is where a shell keeps what outlives a request: the registry's
// store and files, and the state of the BFFs linked into it.
type backing struct {
	store registry.Store
	blobs registry.Blobs
	state bff.StateStore
	close func() error
}

// openBacking opens the shell's backing: in Redis with --redis, shared by
// every replica, the files cached under --data; else the embedded store
// under --data, locked to this process, and the BFFs' state in memory.
func (o *serveOptions) openBacking() (*backing, error) {
	if o.redis == "" {
		st, err := bbolt.Open(o.data)
		if err != nil {
			return nil, err
		}
		blobs, err := registry.NewDiskBlobs(filepath.Join(o.data, "blobs"))
		if err != nil {
			st.Close()
			return nil, err
		}
		return &backing{store: st, blobs: blobs, state: bff.NewMemState(), close: st.Close}, nil
	}
	if !redisNameRE.MatchString(o.redisName) {
		return nil, fmt.Errorf("--redis-prefix %q: use letters, digits, dashes and underscores", o.redisName)
	}
	rdb, err := redis.Open(o.redis)
	if err != nil {
		return nil, fmt.Errorf("--redis: %w", err)
	}
	name := o.redisName
	blobs, err := redis.NewBlobs(rdb, name+":", filepath.Join(o.data, "blob-cache"))
	if err != nil {
		rdb.Close()
		return nil, err
	}
	// The registry's keys share a hash tag, so that its transactions work
	// on Redis Cluster; files and state spread over the slots.
	return &backing{store: redis.NewStore(rdb, "{"+name+"}:"), blobs: blobs, state: redis.NewState(rdb, name+":"), close: rdb.Close}, nil
}

// redacted is a URL without its password, for the log.
func redacted(raw string) string {
	u, err := url.Parse(raw)
	if err != nil {
		return "Redis"
	}
	return u.Redacted()
}

// app is a shell with the registry it serves from.
type app struct {
	shell    *shell.Shell
	registry *registry.Registry
	replica  *replica.Replica
	imported []registry.Imported
	// binder made the invokers of the shell's BFFs; descriptors are the
	// releases' descriptors of cfg's frontends.
	binder      *binder
	descriptors map[string]registry.Descriptor
	stop        context.CancelFunc // ends run's replica
}

// newApp builds the shell of cfg, serving the versions of st and blobs,
// as serve and the shell's Lambda entry both run it, after importing dist
// as published versions; metrics, if not nil, observes its pages and
// fragment fetches.
func (o *serveOptions) newApp(ctx context.Context, cfg *yaml.Config, back *backing, dist string, metrics *prometheus.Metrics) (*app, error) {
	b := newBinder(back.state, o.bffs)
	b.noPipeline = o.noPipeline
	b.upstream = o.upstream
	if o.dev != nil {
		b.logs = o.dev.hub.LogHandler // the pages show the linked BFFs' panics
		if o.dev.goSide != nil {
			b.child = o.dev.goSide.invoker
		}
	}
	a, err := o.assemble(cfg, back, b, registry.New(&registry.Snapshot{}), metrics)
	if err != nil {
		return nil, err
	}
	if o.upstream != nil {
		if _, err := o.upstream.sync(ctx, back.store, back.blobs); err != nil {
			return nil, err
		}
	}
	if a.imported, err = registry.ImportDir(ctx, back.store, back.blobs, dist, a.descriptors, "collage serve --dist "+dist); err != nil {
		return nil, err
	}
	if err := a.replica.Reload(ctx); err != nil {
		return nil, err
	}
	return a, nil
}

// assemble builds the shell of cfg and its replica, whose BFFs b binds,
// serving the versions of back's store from reg once the replica reloads.
func (o *serveOptions) assemble(cfg *yaml.Config, back *backing, b *binder, reg *registry.Registry, metrics *prometheus.Metrics) (*app, error) {
	opts, err := o.shellOptions()
	if err != nil {
		return nil, err
	}
	frontends := map[string]shell.Frontend{}
	a := &app{registry: reg, binder: b, descriptors: map[string]registry.Descriptor{}}
	for name, f := range cfg.Frontends {
		if o.upstream != nil && o.upstream.remote(name) {
			// Its releases come from upstream, not from this project.
			frontends[name] = shell.Frontend{Invoker: o.upstream.invoker(name, ""), Cookies: f.Cookies, Headers: f.Headers}
			continue
		}
		d := registry.Descriptor{Frontend: name, BFF: f.BFF, Settings: bff.Settings(f.Settings)}
		inv, err := b.bind(name, &registry.Release{BFF: d.BFF, Settings: d.Settings})
		if err != nil {
			return nil, fmt.Errorf("%s:%d: frontend %s: %w", cfg.File, f.Line, name, err)
		}
		frontends[name] = shell.Frontend{Invoker: inv, Cookies: f.Cookies, Headers: f.Headers}
		a.descriptors[name] = d
	}
	releases := shell.NewReleases(frontends, b.bind)
	a.replica = replica.New(replica.Options{Store: back.store, Blobs: back.blobs, Registry: reg, Releases: releases,
		Retention: o.retention(), Log: opts.Log, Judge: o.judge})
	opts.Canary = a.replica
	if o.redis != "" {
		// Other replicas change the store too: a browser may name what
		// this one has not heard of yet.
		opts.CatchUp = a.replica.CatchUp
	}
	components := shell.NewComponents(shell.NewFetcher(releases, 0), componentOptions(reg, back.blobs, opts.Log, o.dev))
	releases.OnInstall(components.Warm)
	var fetcher compose.Fetcher = components
	if metrics != nil {
		fetcher = metrics.Fetcher(fetcher)
		opts.Observer = metrics
		if o.firstPage != nil {
			opts.Observer = firstPage{Observer: metrics, once: o.firstPage, release: releaseFirstPage(opts.Log)}
		}
	}
	opts.Fetcher = cache.New(fetcher, cache.Options{MaxBytes: o.cacheBytes, NoCache: o.cacheBytes == 0, NoCollapse: o.noCollapse})
	if o.dev != nil {
		opts.Dev, opts.Fetcher = true, o.dev.hub.Fetcher(opts.Fetcher)
	}
	opts.Frontends, opts.Registry, opts.Releases, opts.Redirects = frontends, reg, releases, cfg.Redirects
	for _, r := range cfg.Routes {
		opts.Routes = append(opts.Routes, shell.Route{Pattern: r.Pattern, Layout: r.Layout})
	}
	a.shell, err = shell.New(opts)
	return a, err
}

// run keeps a's snapshot in step with its store until ctx is done or
// a.stop is called.
func (a *app) run(ctx context.Context) {
	ctx, a.stop = context.WithCancel(ctx)
	go a.replica.Run(ctx)
}

// binder makes the invokers of BFF targets, once per frontend, target and
// settings, giving the BFFs linked into the shell their state in state:
// the versions of a frontend share it under the frontend's name.
type binder struct {
	state bff.StateStore
	bffs  BFFs
	// logs, if not nil, wraps the log handler of each linked BFF.
	logs func(slog.Handler) slog.Handler
	// child, if not nil, reaches the BFFs of bff: local in collage dev's
	// child process instead of those linked into this binary.
	child func(name string) invoke.Invoker
	// upstream, if not nil, reaches the BFFs of the frontends it serves.
	upstream *upstream
	// noPipeline: no http:// BFF's fragments are pipelined.
	noPipeline bool
	mu         sync.Mutex
	made       map[string]invoke.Invoker
}

func newBinder(state bff.StateStore, bffs BFFs) *binder {
	return &binder{state: state, bffs: bffs, made: map[string]invoke.Invoker{}}
}

// bind implements shell.BindFunc.
func (b *binder) bind(name string, r *registry.Release) (invoke.Invoker, error) {
	settings, err := json.Marshal(r.Settings) // keys sorted
	if err != nil {
		return nil, err
	}
	if len(r.Settings) == 0 {
		settings = nil // none and empty are the same settings
	}
	key := name + "\x00" + r.BFF + "\x00" + string(settings)
	b.mu.Lock()
	defer b.mu.Unlock()
	if inv, ok := b.made[key]; ok {
		return inv, nil
	}
	var inv invoke.Invoker
	switch t := r.BFF; {
	case b.upstream != nil && b.upstream.remote(name):
		inv = b.upstream.invoker(name, labelOf(t))
	case t == "local" && b.child != nil:
		inv = b.child(name)
	case t == "local":
		factory, ok := b.bffs[name]
		if !ok {
			return nil, fmt.Errorf("bff: local, but no BFF called %q is linked into this binary", name)
		}
		h, err := factory(r.Settings)
		if err != nil {
			return nil, err
		}
		h.UseState(b.state)
		if b.logs != nil {
			log := h.Log
			if log == nil {
				log = slog.Default()
			}
			h.Log = slog.New(b.logs(log.Handler()))
		}
		inv = invoke.Local(h)
	case strings.HasPrefix(t, "http://"), strings.HasPrefix(t, "https://"):
		inv, err = invoke.HTTP(t, invoke.HTTPOptions{NoPipeline: b.noPipeline})
	case strings.HasPrefix(t, "lambda://"):
		inv, err = lambdaInvoker(t)
	default:
		err = fmt.Errorf("bff %q is not supported by this binary: want local, http(s):// or lambda://", t)
	}
	if err != nil {
		return nil, err
	}
	b.made[key] = inv
	return inv, nil
}

// settingFlags are --set frontend.key=value overrides.
type settingFlags = bffserve.Sets
