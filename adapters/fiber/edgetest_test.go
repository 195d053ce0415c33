package fiber_test

import (
	"testing"

	"github.com/collage-dev/collage/adapters/fiber"
	"github.com/collage-dev/collage/shell/edgetest"
)

// TestEdge runs the edge's end-to-end suite over fiber.
func TestEdge(t *testing.T) { edgetest.Run(t, fiber.Serve) }
