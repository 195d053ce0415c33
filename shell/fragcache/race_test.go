//go:build race

package fragcache

func init() { floodKeys = 100_000 }
