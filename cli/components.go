package cli

import (
	"log/slog"

	"github.com/collage-dev/collage/adapters/quickjs"
	"github.com/collage-dev/collage/component"
	"github.com/collage-dev/collage/shell"
	"github.com/collage-dev/collage/shell/registry"
)

// componentOptions render the fragments BFFs answer as data with the
// server bundles of reg's releases, in adapters/quickjs.
func componentOptions(reg *registry.Registry, blobs registry.Blobs, log *slog.Logger) shell.ComponentOptions {
	return shell.ComponentOptions{Registry: reg, Blobs: blobs, Log: log,
		Engine: func(frontend string, source, sourceMap []byte) (component.Renderer, error) {
			return quickjs.New(quickjs.Config{Frontend: frontend, Source: source, SourceMap: sourceMap, Log: log})
		}}
}
