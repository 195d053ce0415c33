//go:build race

package cache

func init() { floodKeys = 100_000 }
