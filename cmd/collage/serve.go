package main

import (
	"context"
	"flag"
	"fmt"
	"net"
	"path/filepath"
	"strings"
	"time"

	"github.com/collage-dev/collage/adapters/fasthttp"
	"github.com/collage-dev/collage/adapters/fiber"
	"github.com/collage-dev/collage/adapters/nethttp"
	"github.com/collage-dev/collage/adapters/prometheus"
	"github.com/collage-dev/collage/adapters/yaml"
	"github.com/collage-dev/collage/bff"
	"github.com/collage-dev/collage/shell"
	"github.com/collage-dev/collage/shell/cache"
	"github.com/collage-dev/collage/shell/compose"
	"github.com/collage-dev/collage/shell/invoke"
	"github.com/collage-dev/collage/shell/registry"
)

func (m *Main) serve(ctx context.Context, args []string) error {
	fs := m.flags("serve", "Serves a built output folder, composing pages with the BFFs collage.yaml names.\nFrontends without a client bundle need no output folder.")
	cfgPath := fs.String("config", "collage.yaml", "the config file")
	dist := fs.String("dist", "dist", "the output folder of collage build")
	addr := fs.String("addr", "127.0.0.1:3000", "address to listen on")
	var o serveOptions
	o.flags(fs)
	fs.BoolVar(&o.sourceMaps, "source-maps", false, "serve the bundles' source maps (*.map, a 404 otherwise), which show the frontends' source to anyone")
	fs.StringVar(&o.assetsURL, "assets-url", "", assetsURLUsage)
	if err := fs.Parse(args); err != nil {
		return err
	}
	return m.listenAndServe(ctx, *cfgPath, *dist, *addr, o)
}

// assetsURLUsage is the help of --assets-url.
const assetsURLUsage = "the http(s) URL pages link their assets under (NAME/VERSION/FILE, _collage/runtime-….js), such as a CDN whose origin is this shell's /assets/, which it still serves; empty: the shell's own /assets/"

// serveOptions are the flags serve and dev share.
type serveOptions struct {
	sets        settingFlags
	cacheBytes  int64
	noCollapse  bool
	pageTimeout time.Duration
	coalesce    time.Duration
	sourceMaps  bool
	server      string
	assetsURL   string

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
}

func (o *serveOptions) flags(fs *flag.FlagSet) {
	fs.Var(&o.sets, "set", "override a local BFF's setting: frontend.key=value (repeatable)")
	fs.Int64Var(&o.cacheBytes, "fragment-cache", cache.DefaultMaxBytes, "bytes of fragments (bodies, headers and keys) cached in memory, when their Cache-Control allows; 0: no cache")
	fs.BoolVar(&o.noCollapse, "no-collapse", false, "do not collapse identical fragment fetches in flight")
	fs.DurationVar(&o.pageTimeout, "page-timeout", 10*time.Second, "deadline of a whole page; each slot also has its own")
	fs.DurationVar(&o.coalesce, "coalesce", compose.DefaultCoalesce, "how long a page's head waits for fragments, so that a page whose fragments all arrive in time leaves whole in one write; 0 streams the head at once")
	fs.DurationVar(&o.headerTimeout, "header-timeout", fiber.DefaultHeaderTimeout, "how long a client may take to send a request's headers (from its first byte)")
	fs.DurationVar(&o.bodyTimeout, "body-timeout", fiber.DefaultBodyTimeout, "how long a client may take to send a /bff request's body, once its headers are in")
	fs.DurationVar(&o.idleTimeout, "idle-timeout", fiber.DefaultIdleTimeout, "how long a keep-alive connection may wait for its next request")
	fs.DurationVar(&o.writeTimeout, "write-timeout", fiber.DefaultWriteTimeout, "how long a response may take to write, once its status is known; at least --page-timeout, so that a streamed page is never cut shorter")
	fs.DurationVar(&o.shutdownTimeout, "shutdown-timeout", fiber.DefaultShutdownTimeout, "on SIGTERM or Ctrl-C, how long requests in flight may take to finish; the exit status is 1 if some had to be cut")
	fs.IntVar(&o.maxConns, "max-conns", fiber.DefaultMaxConns, "connections served at once; one more is answered 503 and closed")
	fs.Int64Var(&o.maxBody, "max-body", fiber.DefaultMaxBody, "bytes of a /bff request's body, counted as sent and decoded (gzip, deflate); more is a 413")
	fs.Int64Var(&o.maxBFFResponse, "max-bff-response", fiber.DefaultMaxBFFResponse, "bytes of a BFF's answer to a /bff call; a longer declared one is a 502, a longer streamed one is cut")
	fs.StringVar(&o.server, "server", "fiber", "the HTTP server binding: fiber (the default) or nethttp (net/http); both answer alike")
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
	if o.coalesce < 0 {
		return shell.Options{}, fmt.Errorf("--coalesce %s: give 0 (flush at once) or a positive duration", o.coalesce)
	}
	return shell.Options{PageTimeout: o.pageTimeout, Coalesce: o.coalesce, NoCoalesce: o.coalesce == 0, AssetsURL: o.assetsURL}, nil
}

// listenAndServe serves the config's pages and dist's assets on addr until
// ctx is done.
func (m *Main) listenAndServe(ctx context.Context, cfgPath, dist, addr string, o serveOptions) error {
	edge, err := o.edge()
	if err != nil {
		return err
	}
	cfg, err := yaml.Load(cfgPath)
	if err != nil {
		return err
	}
	if err := o.sets.apply(cfg); err != nil {
		return err
	}
	metrics := prometheus.New()
	sh, snap, err := o.newShell(cfg, dist, metrics)
	if err != nil {
		return err
	}
	if len(snap.Frontends) == 0 {
		fmt.Fprintf(m.Stdout, "collage: no bundles in %s: serving server fragments only\n", dist)
	}
	edge.Assets, edge.Metrics, edge.SourceMaps = filepath.Join(dist, "assets"), metrics.Handler(), o.sourceMaps
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return err
	}
	url := "http://" + ln.Addr().String()
	fmt.Fprintf(m.Stdout, "collage: serving %d route(s) on %s\n", len(cfg.Routes), url)
	if m.Listening != nil {
		m.Listening <- url
	}
	if o.server == "nethttp" {
		return nethttp.Serve(ctx, ln, sh, edge)
	}
	return fiber.Serve(ctx, ln, sh, edge)
}

// newShell builds the shell of cfg, serving dist's bundles, as serve and the
// shell's Lambda entry both run it; metrics, if not nil, observes its
// pages and fragment fetches.
func (o *serveOptions) newShell(cfg *yaml.Config, dist string, metrics *prometheus.Metrics) (*shell.Shell, *registry.Snapshot, error) {
	if o.cacheBytes < 0 {
		return nil, nil, fmt.Errorf("--fragment-cache %d: want a number of bytes, or 0 for no cache", o.cacheBytes)
	}
	opts, err := o.shellOptions()
	if err != nil {
		return nil, nil, err
	}
	snap, err := registry.LoadDir(dist)
	if err != nil {
		return nil, nil, err
	}
	frontends, err := invokers(cfg)
	if err != nil {
		return nil, nil, err
	}
	fetcher := shell.NewFetcher(frontends, 0)
	if metrics != nil {
		fetcher = metrics.Fetcher(fetcher)
		opts.Observer = metrics
	}
	opts.Fetcher = cache.New(fetcher, cache.Options{MaxBytes: o.cacheBytes, NoCache: o.cacheBytes == 0, NoCollapse: o.noCollapse})
	opts.Frontends, opts.Registry, opts.Redirects = frontends, registry.New(snap), cfg.Redirects
	for _, r := range cfg.Routes {
		opts.Routes = append(opts.Routes, shell.Route{Pattern: r.Pattern, Layout: r.Layout})
	}
	sh, err := shell.New(opts)
	return sh, snap, err
}

// invokers makes the invoker of every frontend's BFF.
func invokers(cfg *yaml.Config) (map[string]shell.Frontend, error) {
	out := map[string]shell.Frontend{}
	for name, f := range cfg.Frontends {
		where := fmt.Sprintf("%s:%d: frontend %s", cfg.File, f.Line, name)
		switch {
		case f.BFF == "local":
			factory, ok := linked[name]
			if !ok {
				return nil, fmt.Errorf("%s: bff: local, but no BFF called %q is linked into this binary", where, name)
			}
			b, err := factory(bff.Settings(f.Settings))
			if err != nil {
				return nil, fmt.Errorf("%s: %w", where, err)
			}
			out[name] = shell.Frontend{Invoker: invoke.Local(b), Cookies: f.Cookies, Headers: f.Headers}
		case strings.HasPrefix(f.BFF, "http://"), strings.HasPrefix(f.BFF, "https://"):
			inv, err := fasthttp.New(f.BFF, invoke.HTTPOptions{}, shell.DefaultMaxFragmentBytes)
			if err != nil {
				return nil, fmt.Errorf("%s: %w", where, err)
			}
			out[name] = shell.Frontend{Invoker: inv, Cookies: f.Cookies, Headers: f.Headers}
		case strings.HasPrefix(f.BFF, "lambda://"):
			inv, err := lambdaInvoker(f.BFF)
			if err != nil {
				return nil, fmt.Errorf("%s: %w", where, err)
			}
			out[name] = shell.Frontend{Invoker: inv, Cookies: f.Cookies, Headers: f.Headers}
		default:
			return nil, fmt.Errorf("%s: bff %q is not supported by this binary", where, f.BFF)
		}
	}
	return out, nil
}

// settingFlags are --set frontend.key=value overrides.
type settingFlags []string

func (s *settingFlags) String() string     { return strings.Join(*s, ",") }
func (s *settingFlags) Set(v string) error { *s = append(*s, v); return nil }

func (s settingFlags) apply(cfg *yaml.Config) error {
	for _, v := range s {
		key, value, ok := strings.Cut(v, "=")
		name, setting, ok2 := strings.Cut(key, ".")
		if !ok || !ok2 || name == "" || setting == "" {
			return fmt.Errorf("--set %q: write frontend.key=value", v)
		}
		f, ok := cfg.Frontends[name]
		if !ok {
			return fmt.Errorf("--set %q: no frontend called %q in %s", v, name, cfg.File)
		}
		f.Settings[setting] = value
	}
	return nil
}
