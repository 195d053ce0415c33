package nethttp_test

import (
	"testing"

	"github.com/collage-dev/collage/adapters/nethttp"
	"github.com/collage-dev/collage/shell/edgetest"
)

func BenchmarkPage(b *testing.B) { edgetest.BenchmarkPage(b, nethttp.Serve) }
