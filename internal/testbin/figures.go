package testbin

import (
	"fmt"
	"slices"
	"time"
)

// Percentile returns the p-th percentile (0 < p ≤ 100) of ds, by the
// nearest rank.
func Percentile(ds []time.Duration, p float64) time.Duration {
	s := slices.Clone(ds)
	slices.Sort(s)
	i := int(float64(len(s))*p/100+0.999999) - 1
	return s[max(0, min(i, len(s)-1))]
}

// Millis is d in milliseconds, for figures.
func Millis(d time.Duration) string {
	return fmt.Sprintf("%.1fms", float64(d)/float64(time.Millisecond))
}
