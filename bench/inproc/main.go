// Command inproc is the shell with in-process BFFs as the benchmarks run
// it: the real composer (shell.New + fiber.New) serving the benchmark page
// at /, from a layout parsed with layout.Parse, its four fragments rendered
// in-process by BFFs of the bff package, the collector paced as collage
// serve paces it (internal/gcpace). collage serve links only the BFFs
// of its own build, so the benchmark's BFFs need this binary; the page over
// HTTP fragments is measured on collage serve itself.
//
//	inproc --delays 5,20,10,2 --addr 127.0.0.1:18112
//
// It stops on SIGINT or SIGTERM.
package main

import (
	"context"
	"flag"
	"fmt"
	"html/template"
	"io"
	"log"
	"log/slog"
	"net"
	"net/http"
	_ "net/http/pprof" // served only with --pprof, on its own listener
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"

	"github.com/collage-dev/collage/adapters/fiber"
	"github.com/collage-dev/collage/bench/internal/frag"
	"github.com/collage-dev/collage/bff"
	"github.com/collage-dev/collage/internal/gcpace"
	"github.com/collage-dev/collage/shell"
	"github.com/collage-dev/collage/shell/invoke"
	"github.com/collage-dev/collage/shell/layout"
)

// options are the command's flags.
type options struct {
	delays string // per-fragment delays
	addr   string
	pprof  string
	log    string
}

func main() {
	var o options
	flag.StringVar(&o.delays, "delays", "0,0,0,0", "delay of each in-process fragment ("+strings.Join(frag.Names, ",")+"), in ms or as durations")
	flag.StringVar(&o.addr, "addr", "127.0.0.1:18111", "address to listen on (loopback only)")
	flag.StringVar(&o.pprof, "pprof", "", "address of a net/http/pprof listener, for profiling under load. Default: none")
	flag.StringVar(&o.log, "log", "discard", "where the shell's per-page log lines go: discard (formatted, then dropped) or stderr")
	flag.Parse()
	if err := run(o); err != nil {
		log.Fatalf("inproc: %v", err)
	}
}

func run(o options) error {
	frontends, err := frontends(o)
	if err != nil {
		return err
	}
	l, err := layout.Parse("bench/internal/frag/layout.html", frag.Layout)
	if err != nil {
		return err
	}
	// The shell's per-page log line is part of the cost of a page, so it is
	// formatted as in production; only the write to a terminal or file is
	// spared unless asked for.
	out := io.Discard
	switch o.log {
	case "discard":
	case "stderr":
		out = os.Stderr
	default:
		return fmt.Errorf("--log %q: want discard or stderr", o.log)
	}
	logger := slog.New(slog.NewTextHandler(out, nil))
	gcpace.Set() // as collage serve runs the collector
	opts := shell.Options{
		Routes:    []shell.Route{{Pattern: "/", Layout: l}},
		Frontends: frontends,
		Log:       logger,
	}
	sh, err := shell.New(opts)
	if err != nil {
		return err
	}
	if o.pprof != "" {
		pl, err := net.Listen("tcp", o.pprof)
		if err != nil {
			return err
		}
		go http.Serve(pl, http.DefaultServeMux)
	}
	ln, err := net.Listen("tcp", o.addr)
	if err != nil {
		return err
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	log.Printf("inproc: serving the page on http://%s", ln.Addr())
	// The listener and server of collage serve, with their defaults.
	return fiber.Serve(ctx, ln, sh, fiber.Config{})
}

// frontends makes the in-process BFF of every fragment of the page.
func frontends(o options) (map[string]shell.Frontend, error) {
	ds, err := frag.ParseDelays(o.delays)
	if err != nil {
		return nil, err
	}
	out := make(map[string]shell.Frontend, len(frag.Names))
	for i, name := range frag.Names {
		out[name] = shell.Frontend{Invoker: invoke.Local(newBFF(name, ds[i]))}
	}
	return out, nil
}

// newBFF is a BFF whose fragment renders the same bytes fragserver answers,
// after delay. Its template is that HTML, with no actions, so the benchmark
// measures the BFF runtime and the composer, not html/template.
func newBFF(name string, delay time.Duration) *bff.BFF {
	b := bff.New(name)
	tmpl := template.Must(template.New(name).Parse(string(frag.Body(name))))
	bff.Fragment(b, tmpl, func(ctx context.Context, _ *bff.FragmentRequest) (struct{}, error) {
		return struct{}{}, frag.Sleep(ctx, delay)
	})
	return b
}
