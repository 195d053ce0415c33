package api

import "github.com/collage-dev/collage/build"

// checkShared reports what m needs of the shared dependencies that shared
// does not provide, as a conflict.
var checkShared = func(shared, m *build.Manifest) error { return nil }
