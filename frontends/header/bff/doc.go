// Package header is the BFF of the demo shop's header: the brand, the main
// navigation and the cart badge.
//
// The badge shows 0 on the server, which has no access to the cart; the
// client updates it from the cart's cart:changed events.
package header
