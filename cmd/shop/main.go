// Command shop is the demo shop: the collage command with the BFFs of the
// shop's four frontends linked in. In this repository,
//
//	go run ./cmd/shop dev
//
// runs the shop on http://127.0.0.1:3000.
package main

import (
	"github.com/collage-dev/collage/cli"
	cart "github.com/collage-dev/collage/frontends/cart/bff"
	catalog "github.com/collage-dev/collage/frontends/catalog/bff"
	header "github.com/collage-dev/collage/frontends/header/bff"
	recs "github.com/collage-dev/collage/frontends/recs/bff"
)

func main() {
	cli.Run(cli.BFFs{
		"header":  header.New,
		"catalog": catalog.New,
		"cart":    cart.New,
		"recs":    recs.New,
	})
}
