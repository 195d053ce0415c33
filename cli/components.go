package cli

import (
	"log/slog"

	"github.com/collage-dev/collage/adapters/quickjs"
	"github.com/collage-dev/collage/component"
	"github.com/collage-dev/collage/shell"
	"github.com/collage-dev/collage/shell/registry"
)

// componentOptions render the fragments BFFs answer as data with the
// server bundles of reg's releases, in adapters/quickjs. In collage dev
// (d not nil) they also check the Go templates of the frontends that
// export a View against it, and the overlay shows where they differ.
func componentOptions(reg *registry.Registry, blobs registry.Blobs, log *slog.Logger, d *devServer) shell.ComponentOptions {
	o := shell.ComponentOptions{Registry: reg, Blobs: blobs, Log: log,
		Engine: func(frontend string, source, sourceMap []byte) (component.Renderer, error) {
			return quickjs.New(quickjs.Config{Frontend: frontend, Source: source, SourceMap: sourceMap, Log: log})
		}}
	if d != nil {
		o.Drift = d.hub.Drift
	}
	return o
}
