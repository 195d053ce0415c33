package registry_test

import (
	"testing"

	"github.com/collage-dev/collage/shell/registry"
	"github.com/collage-dev/collage/shell/registry/registrytest"
)

func TestMemStoreConformance(t *testing.T) {
	t.Parallel()
	registrytest.Run(t, func(t *testing.T) registry.Store { return registry.NewMemStore() }, nil)
}
