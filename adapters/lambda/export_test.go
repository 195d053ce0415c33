package lambda

import (
	"context"
	"io"

	"github.com/collage-dev/collage/bff"
)

// RunForTest is Main with the error output given.
func RunForTest(f bff.Factory, environ []string, stderr io.Writer) int {
	return run(context.Background(), f, environ, stderr)
}
