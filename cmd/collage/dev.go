package main

import (
	"context"
	"fmt"
	"path/filepath"

	"github.com/collage-dev/collage/adapters/esbuild"
	"github.com/collage-dev/collage/build"
)

// devOut is where dev builds, relative to the project root.
var devOut = filepath.Join(".collage", "dev")

func (m *Main) dev(ctx context.Context, args []string) error {
	fs := m.flags("dev", "Builds every frontend (unminified, with source maps) and serves the app with\nin-process BFFs and the embedded store. Nothing else needs to run.")
	cfgPath := fs.String("config", "collage.yaml", "the config file; its folder is the project root")
	addr := fs.String("addr", "127.0.0.1:3000", "address to listen on")
	var o serveOptions
	o.flags(fs)
	o.sourceMaps = true
	if err := fs.Parse(args); err != nil {
		return err
	}
	root := filepath.Dir(*cfgPath)
	// Compressing would slow every rebuild for bytes that only cross the
	// loopback.
	res := build.Build(build.Options{Root: root, Out: devOut, NoCompress: true}, esbuild.Bundler{})
	if len(res.Errors) > 0 {
		printErrors(m.Stderr, res.Errors)
		return fmt.Errorf("build failed with %d error(s)", len(res.Errors))
	}
	fmt.Fprintf(m.Stdout, "collage: built %d frontend(s) in %s\n", len(res.Index.Frontends), res.Took.Round(1e6))
	return m.listenAndServe(ctx, *cfgPath, filepath.Join(root, devOut), *addr, o)
}
