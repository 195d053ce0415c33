// Package cart is the BFF of the demo shop's cart. Carts live in memory,
// keyed by a session id that the BFF issues in the collage_cart cookie
// (HttpOnly, SameSite=Lax, Path=/) on the first API call that comes
// without a valid one.
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
// # Eviction
//
// The store holds at most 10,000 carts, and anyone can start a session,
// so it must drop some carts without letting one-off requests drop the
// carts of shoppers. It is a segmented LRU of two lists, each from the
// most recently used cart to the least:
//
//   - probation holds the carts of sessions started by a request without
//     a cookie, which have not come back since;
//   - protected holds the carts of sessions that came back with their
//     signed cookie: any call, or a page view, that carries it moves the
//     cart to the front of protected. Protected holds at most 4/5 of the
//     store; past that, its least recent cart moves to the front of
//     probation rather than being dropped.
//
// When the store is full, a new cart drops the least recent cart of
// probation, which is never empty then. Every step is O(1) under one
// lock. So requests without a cookie, however many, only ever replace
// each other in probation: they never drop or demote a cart in
// protected, and a shopper's cart is there from the first call that
// carries the cookie (in the demo, the add that follows the frontend's
// GET /cart). A client that keeps its cookies looks like a shopper: many
// such clients can push the least recently active shoppers out of
// protected, so a shop facing them limits the rate of new sessions per
// client in front of the BFF.
//
// A memory store is the simplest thing that shows the contract; it is lost
// on restart and not shared between replicas, so a real shop keeps carts in
// a database.
package cart
