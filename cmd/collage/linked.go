package main

import (
	"github.com/collage-dev/collage/bff"
	cart "github.com/collage-dev/collage/frontends/cart/bff"
	catalog "github.com/collage-dev/collage/frontends/catalog/bff"
	header "github.com/collage-dev/collage/frontends/header/bff"
	recs "github.com/collage-dev/collage/frontends/recs/bff"
)

// linked are the BFFs built into this binary, for frontends with bff: local.
var linked = map[string]bff.Factory{
	"header":  header.New,
	"catalog": catalog.New,
	"cart":    cart.New,
	"recs":    recs.New,
}
