package cli

import (
	cart "github.com/collage-dev/collage/frontends/cart/bff"
	catalog "github.com/collage-dev/collage/frontends/catalog/bff"
	header "github.com/collage-dev/collage/frontends/header/bff"
	recs "github.com/collage-dev/collage/frontends/recs/bff"
)

// shop are the demo shop's BFFs, as cmd/shop links them: the tests run
// the command on the shop of this repository.
var shop = BFFs{
	"header":  header.New,
	"catalog": catalog.New,
	"cart":    cart.New,
	"recs":    recs.New,
}
