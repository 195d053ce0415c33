// Package gcpace sets the pace of the garbage collector that a shell
// runs at: collage serve's, and the benchmark's shell with BFFs in
// process, which measures what serve would do with them.
package gcpace

import (
	"os"
	"runtime"
	"runtime/debug"
	"runtime/metrics"
	"sync/atomic"
)

// Default is the collector's pace when the environment sets none: the
// heap may grow 80 % past what is live, not Go's 100 %. What a shell holds
// live under load is mostly the buffers of the pages in flight, so the
// room the collector leaves is most of its heap; at 80 its peak RSS under
// the benchmark's load was 1.7 MB lower, for 4 % more CPU a page
// (docs/BENCHMARKS.md).
const Default = 80

// Floor is the heap the collector lets grow before it runs, however
// little is live. A shell with in-process BFFs holds 2–3 MB live under
// load and makes about 4.5 KB of garbage a page: at Default alone its
// heap of 5 MB was collected 45 times a second under the benchmark's
// load, each cycle's fixed cost (stopping the world, scanning every
// goroutine's stack, the scavenger giving back pages that the next
// cycle faults in again) paid for a few hundred pages; with the floor,
// about 15 times. A heap with more than about Floor/1.8 live is paced by
// Default alone, so the floor adds nothing to the peak of a shell that
// holds more: one composing HTTP fragments holds 5–6 MB.
const Floor = 10 << 20

// Set sets the collector's pace to Default, with a heap of at least
// Floor, unless GOGC is set: a deployment that wants another trade of
// memory for CPU says so there. After every cycle the pace is set again
// from what that cycle found live (see percent); a memory limit
// (GOMEMLIMIT) still bounds the heap below the floor. The process has
// one pacer, however many times Set is called.
func Set() {
	if _, ok := os.LookupEnv("GOGC"); ok {
		return
	}
	debug.SetGCPercent(Default)
	if pacing.CompareAndSwap(false, true) {
		(&pacer{samples: []metrics.Sample{{Name: liveHeap}, {Name: stackScan}, {Name: globalsScan}}}).arm()
	}
}

// pacing says whether the process's pacer runs.
var pacing atomic.Bool

// The runtime's measures that the collector's goal is made of: the goal
// is live + (live + stacks + globals) × GOGC / 100.
const (
	liveHeap    = "/gc/heap/live:bytes"
	stackScan   = "/gc/scan/stack:bytes"
	globalsScan = "/gc/scan/globals:bytes"
)

// A pacer sets the collector's pace after every cycle.
type pacer struct{ samples []metrics.Sample }

// sentinel is an object the pacer lets go of, so that the cycle that
// finds it unreachable runs the pacer's cleanup.
type sentinel struct{ _ *byte }

// arm runs pace after the next cycle.
func (p *pacer) arm() {
	runtime.AddCleanup(new(sentinel), func(p *pacer) { p.pace() }, p)
}

// pace sets the pace for what the last cycle found live, and arms itself
// for the next.
func (p *pacer) pace() {
	metrics.Read(p.samples)
	debug.SetGCPercent(percent(p.samples[0].Value.Uint64(), p.samples[1].Value.Uint64()+p.samples[2].Value.Uint64()))
	p.arm()
}

// runtimeMinimum is the heap the runtime lets grow before a cycle at
// GOGC=100 however little is live; at another pace it scales with it.
const runtimeMinimum = 4 << 20

// percent is the pace at which a heap with live bytes live, besides
// roots bytes of stacks and globals to scan, reaches Floor before it is
// collected, or Default when that heap passes Floor at Default. It is
// at most the pace at which the runtime's own minimum is Floor: past it,
// the minimum would let a heap with little live grow beyond Floor.
func percent(live, roots uint64) int {
	if live >= Floor {
		return Default
	}
	pct := min((Floor-live)*100/max(live+roots, 1), Floor*100/runtimeMinimum)
	return max(Default, int(pct))
}
