package nethttp_test

import (
	"testing"

	"github.com/collage-dev/collage/shell/edgetest"
	"github.com/collage-dev/collage/shell/nethttp"
)

func BenchmarkPage(b *testing.B) { edgetest.BenchmarkPage(b, nethttp.Serve) }
