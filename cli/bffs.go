package cli

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"maps"
	"net/http"
	"os"
	"slices"
	"strings"

	"github.com/collage-dev/collage/adapters/yaml"
	"github.com/collage-dev/collage/bff"
	"github.com/collage-dev/collage/bff/httpserve"
)

// bffsListening begins the line on which bffs tells its URL.
const bffsListening = "collage bffs: listening on "

// bffs serves the BFFs linked into this binary over HTTP on 127.0.0.1,
// each under /NAME/, with the settings collage.yaml gives them. collage
// dev runs the project's main package so, as its child: it keeps the
// pages' event streams and the frontends' builds while the Go side is
// built and started again. Log lines go to stderr as JSON, for the parent
// to show the BFFs' panics in the pages.
func (m *Main) bffs(ctx context.Context, args []string) error {
	fs := m.flags("bffs", "Serves the BFFs linked into this binary, each under /NAME/, over HTTP: collage dev runs\n"+
		"the project's main package so, and calls them from its shell.")
	cfgPath := fs.String("config", "collage.yaml", "the config file")
	addr := fs.String("addr", "127.0.0.1:0", "address to listen on")
	var sets settingFlags
	fs.Var(&sets, "set", "override a local BFF's setting: frontend.key=value (repeatable)")
	withStdin := fs.Bool("exit-with-stdin", false, "stop once stdin ends: the parent that holds it has gone")
	if err := fs.Parse(args); err != nil {
		return err
	}
	cfg, err := yaml.Load(*cfgPath)
	if err != nil {
		return err
	}
	if err := sets.apply(cfg); err != nil {
		return err
	}
	if *withStdin {
		var cancel context.CancelFunc
		ctx, cancel = context.WithCancel(ctx)
		defer cancel()
		go func() {
			io.Copy(io.Discard, os.Stdin)
			cancel()
		}()
	}
	log := slog.New(slog.NewJSONHandler(m.Stderr, nil))
	state := bff.NewMemState()
	mux := http.NewServeMux()
	var missing []string
	for _, name := range slices.Sorted(maps.Keys(cfg.Frontends)) {
		f := cfg.Frontends[name]
		if f.BFF != "local" {
			continue
		}
		factory, ok := m.BFFs[name]
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
		fmt.Fprintln(m.Stdout, bffsListening+url)
	}})
}
