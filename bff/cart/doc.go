// Package cart is the BFF of the demo shop's cart. Carts live in memory,
// keyed by the session id in the collage_cart cookie, which the BFF sets on
// the first API call that comes without one.
//
// A memory store is the simplest thing that shows the contract; it is lost
// on restart and not shared between replicas, so a real shop keeps carts in
// a database.
package cart
