// Package bffserve serves the BFFs linked into a binary over HTTP on
// 127.0.0.1, each under /NAME/, with the settings collage.yaml gives them.
// collage dev runs a project's BFFs so, in a child process that it builds
// again when the project's Go code changes: either the project's own
// command (collage bffs) or, when its main package lists its BFFs plainly,
// a small main package that dev writes, which links this package and the
// BFFs alone and so builds and starts in a fraction of the time:
//
//	func main() {
//		bffserve.Main(bffserve.BFFs{"cart": cart.New})
//	}
//
// Log lines go to stderr as JSON, for dev to show the BFFs' panics in the
// pages.
package bffserve

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"maps"
	"net/http"
	"os"
	"os/signal"
	"slices"
	"strings"
	"syscall"

	"github.com/collage-dev/collage/adapters/yaml"
	"github.com/collage-dev/collage/bff"
	"github.com/collage-dev/collage/bff/httpserve"
)

// BFFs are the BFFs to serve, by frontend name.
type BFFs map[string]bff.Factory

// Listening begins the line on stdout that tells the server's URL.
const Listening = "collage bffs: listening on "

// Main runs Run with the process's arguments, until SIGINT or SIGTERM,
// and exits with its status.
func Main(bffs BFFs) {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	err := Run(ctx, os.Args[1:], bffs, os.Stdin, os.Stdout, os.Stderr)
	stop()
	if err != nil && !errors.Is(err, flag.ErrHelp) {
		fmt.Fprintln(os.Stderr, "collage bffs:", err)
		os.Exit(1)
	}
}

// Run serves the BFFs of bffs whose frontend collage.yaml marks bff: local
// until ctx is done: --config FILE, --addr ADDR (default 127.0.0.1:0),
// --set frontend.key=value, and --exit-with-stdin, which stops it once
// stdin ends, when the parent that holds it has gone.
func Run(ctx context.Context, args []string, bffs BFFs, stdin io.Reader, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("bffs", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() {
		fmt.Fprintf(stderr, "Usage: collage bffs [flags]\n\nServes the BFFs linked into this binary, each under /NAME/, over HTTP: collage dev runs\n"+
			"them so, and calls them from its shell.\n\nFlags:\n")
		fs.PrintDefaults()
	}
	cfgPath := fs.String("config", "collage.yaml", "the config file")
	addr := fs.String("addr", "127.0.0.1:0", "address to listen on")
	var sets Sets
	fs.Var(&sets, "set", "override a local BFF's setting: frontend.key=value (repeatable)")
	withStdin := fs.Bool("exit-with-stdin", false, "stop once stdin ends: the parent that holds it has gone")
	if err := fs.Parse(args); err != nil {
		return err
	}
	cfg, err := yaml.Load(*cfgPath)
	if err != nil {
		return err
	}
	if err := sets.Apply(cfg); err != nil {
		return err
	}
	if *withStdin {
		var cancel context.CancelFunc
		ctx, cancel = context.WithCancel(ctx)
		defer cancel()
		go func() {
			io.Copy(io.Discard, stdin)
			cancel()
		}()
	}
	log := slog.New(slog.NewJSONHandler(stderr, nil))
	state := bff.NewMemState()
	mux := http.NewServeMux()
	var missing []string
	for _, name := range slices.Sorted(maps.Keys(cfg.Frontends)) {
		f := cfg.Frontends[name]
		if f.BFF != "local" {
			continue
		}
		factory, ok := bffs[name]
		if !ok {
			missing = append(missing, name)
			continue
		}
		h, err := factory(bff.Settings(f.Settings))
		if err != nil {
			return fmt.Errorf("%s:%d: frontend %s: %w", cfg.File, f.Line, name, err)
		}
		h.UseState(state)
		h.Log = log
		mux.Handle("/"+name+"/", http.StripPrefix("/"+name, h))
	}
	if len(missing) > 0 {
		return fmt.Errorf("%s: bff: local, but no BFF called %s is linked into this binary: add it to the cli.BFFs its main package passes to cli.Run",
			cfg.File, strings.Join(missing, ", "))
	}
	return httpserve.Serve(ctx, mux, httpserve.Options{Addr: *addr, Listening: func(url string) {
		fmt.Fprintln(stdout, Listening+url)
	}})
}

// Sets are --set frontend.key=value overrides of collage.yaml's settings.
type Sets []string

func (s *Sets) String() string     { return strings.Join(*s, ",") }
func (s *Sets) Set(v string) error { *s = append(*s, v); return nil }

// Apply sets each override in cfg.
func (s Sets) Apply(cfg *yaml.Config) error {
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
