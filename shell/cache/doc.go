// Package cache wraps a compose.Fetcher with the two steps that save
// upstream work: an in-process cache of fragments that allow it
// (Cache-Control max-age / s-maxage, stale-while-revalidate, Vary), bounded
// by entries and by bytes, keys and headers included, and the collapsing of
// identical anonymous fetches in flight into one. It is the only package that
// imports golang.org/x/sync.
//
// A fragment made for one user never reaches another: a request that
// carried credentials (Cookie, Authorization, or any header not known to be
// anonymous, such as one a frontend declares for its BFF) is never
// collapsed, and gets a cached fragment only if that fragment is
// Cache-Control: public and varies on every credential the request carried.
// Set-Cookie, private, no-store, no-cache and Vary: * are never stored.
//
// The pipeline of one fetch, one file per step: fetcher.go (Fetch: a
// fresh hit, or a stale one that revalidates in the background, from
// cache.go) → collapse.go (join an identical anonymous fetch in flight) →
// the wrapped fetcher → cache.go (store what policy.go allows, under the
// keys of key.go).
package cache
