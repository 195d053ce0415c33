package fiber_test

import (
	"testing"

	"github.com/collage-dev/collage/adapters/fiber"
	"github.com/collage-dev/collage/shell/edgetest"
)

func BenchmarkPage(b *testing.B) { edgetest.BenchmarkPage(b, fiber.Serve) }
