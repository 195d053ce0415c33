package fiberhttp_test

import (
	"testing"

	"github.com/collage-dev/collage/shell/edgetest"
	"github.com/collage-dev/collage/shell/fiberhttp"
)

// TestEdge runs the edge's end-to-end suite over fiber.
func TestEdge(t *testing.T) { edgetest.Run(t, fiberhttp.Serve) }
