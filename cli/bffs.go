package cli

import (
	"context"
	"os"

	"github.com/collage-dev/collage/cli/bffserve"
)

// bffs serves the BFFs linked into this binary over HTTP (see package
// bffserve): collage dev runs the project's command so when it cannot
// write a smaller main package of the BFFs alone.
func (m *Main) bffs(ctx context.Context, args []string) error {
	return bffserve.Run(ctx, args, bffserve.BFFs(m.BFFs), os.Stdin, m.Stdout, m.Stderr)
}
