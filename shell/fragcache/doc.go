// Package fragcache wraps a compose.Fetcher with the two steps that save
// upstream work: an in-process cache of fragments that allow it
// (Cache-Control max-age / s-maxage, stale-while-revalidate, Vary), bounded
// by bytes, and the collapsing of identical in-flight fetches into one. It is
// the only package that imports golang.org/x/sync.
//
// The pipeline of one fetch: cache.go (fresh hit, or stale hit that
// revalidates in the background) → collapse.go (join an identical fetch in
// flight) → the wrapped fetcher → cache.go (store what may be stored).
package fragcache
