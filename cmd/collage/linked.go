package main

import (
	"github.com/collage-dev/collage/bff"
	"github.com/collage-dev/collage/bff/cart"
	"github.com/collage-dev/collage/bff/catalog"
	"github.com/collage-dev/collage/bff/header"
	"github.com/collage-dev/collage/bff/recs"
)

// linked are the BFFs built into this binary, for frontends with bff: local.
var linked = map[string]bff.Factory{
	"header":  header.New,
	"catalog": catalog.New,
	"cart":    cart.New,
	"recs":    recs.New,
}
