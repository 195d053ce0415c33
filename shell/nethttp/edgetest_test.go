package nethttp_test

import (
	"testing"

	"github.com/collage-dev/collage/shell/edgetest"
	"github.com/collage-dev/collage/shell/nethttp"
)

// TestEdge runs the edge's end-to-end suite over net/http.
func TestEdge(t *testing.T) { edgetest.Run(t, nethttp.Serve) }
