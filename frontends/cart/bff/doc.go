// Package cart is the BFF of the demo shop's cart. Carts live in the
// BFF's State (bff.BFF.State), keyed by a session id that the BFF issues
// in the collage_cart cookie (HttpOnly, SameSite=Lax, Path=/) on the
// first API call that comes without a valid one.
//
// # Sessions
//
// A session id is 128 random bits drawn by the server. The cookie carries
// it with its HMAC-SHA256 under the key of the session_key setting (hex,
// at least 32 bytes); a cookie the BFF did not sign (an id the client
// chose, a tampered or an unsigned one) is never used: that request gets
// a new session, with a new cookie. Without session_key the BFF draws a
// key when it starts and logs so: its carts do not survive a restart and
// are not shared with other processes, which then reject each other's
// cookies.
//
// # Storage
//
// A cart is one JSON value in the State, under "cart:" and the session
// id: {"lines":[{"productId":"1","qty":2}]}, priced from the catalogue
// when read. Where the State is shared (Redis, for the shell's replicas
// and the BFF's Lambda instances), so are the carts, and with a
// session_key they survive a restart. Every change is one State.Update,
// so two adds at once, in one process or two, both count.
//
// A cart expires after a week idle: each request of its session that
// reads it (the API or a page that shows the cart) or changes it starts
// the week again. Anyone can start a session, so the cart of a session
// started by a request without a cookie, which has not come back with
// it, expires after an hour instead. A flood of such requests then holds
// an hour's worth of carts, and a full store, which drops the values
// that expire soonest (bff.MemState; Redis with the volatile-ttl policy),
// drops theirs before any shopper's. In the demo a shopper's first call
// is GET /cart, which sets the cookie and stores nothing, so the first
// add already carries it.
package cart
