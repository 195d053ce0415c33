package nethttp_test

import (
	"testing"

	"github.com/collage-dev/collage/adapters/nethttp"
	"github.com/collage-dev/collage/shell/edgetest"
)

// TestEdge runs the edge's end-to-end suite over net/http.
func TestEdge(t *testing.T) { edgetest.Run(t, nethttp.Serve) }
