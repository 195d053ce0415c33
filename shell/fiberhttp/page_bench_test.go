package fiberhttp_test

import (
	"testing"

	"github.com/collage-dev/collage/shell/edgetest"
	"github.com/collage-dev/collage/shell/fiberhttp"
)

func BenchmarkPage(b *testing.B) { edgetest.BenchmarkPage(b, fiberhttp.Serve) }
