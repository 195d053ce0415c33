// Package gcpace sets the pace of the garbage collector that a shell
// runs at: collage serve's, and the benchmark's shell with BFFs in
// process, which measures what serve would do with them.
package gcpace

import (
	"os"
	"runtime/debug"
)

// Default is the collector's pace when the environment sets none: the
// heap may grow 80 % past what is live, not Go's 100 %. What a shell holds
// live under load is mostly the buffers of the pages in flight, so the
// room the collector leaves is most of its heap; at 80 its peak RSS under
// the benchmark's load was 1.7 MB lower, for 4 % more CPU a page
// (docs/BENCHMARKS.md).
const Default = 80

// Set sets the collector's pace to Default, unless GOGC is set: a
// deployment that wants another trade of memory for CPU says so there.
func Set() {
	if _, ok := os.LookupEnv("GOGC"); !ok {
		debug.SetGCPercent(Default)
	}
}
