//go:build race

package fragcache

func init() { floodKeys = 200_000 }
