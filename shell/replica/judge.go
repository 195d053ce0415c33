package replica

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/collage-dev/collage/bff"
	"github.com/collage-dev/collage/shell/registry"
)

// JudgeOptions say when a canary ends by itself: when its version fails
// (slots in error or late, /bff calls in error or 5xx) more often than the
// active version, on every replica together.
type JudgeOptions struct {
	// MinSample is how many slots and /bff calls of the canary's version
	// must be seen before it is judged. Optional. Default: 200.
	MinSample int64
	// MaxExcess is by how many percentage points the canary's failure
	// rate may exceed the active version's. Optional. Default: 5.
	MaxExcess float64
	// Every is how often a replica adds what it saw to the shared counts
	// and judges. Optional. Default: 5s.
	Every time.Duration
}

func (o JudgeOptions) withDefaults() JudgeOptions {
	if o.MinSample == 0 {
		o.MinSample = 200
	}
	if o.MaxExcess == 0 {
		o.MaxExcess = 5
	}
	if o.Every == 0 {
		o.Every = 5 * time.Second
	}
	return o
}

// countsTTL is how long the shared counts of a canary outlive its last
// change.
const countsTTL = 7 * 24 * time.Hour

// tally is what a replica saw of one canary since it last judged.
type tally struct {
	canary, canaryFailed, active, activeFailed atomic.Int64
}

// judge counts the outcomes of canaries and ends those that fail.
type judge struct {
	o       JudgeOptions
	tallies sync.Map // canary key → *tally
	mu      sync.Mutex
	totals  map[string]map[string]int64 // by canary key, for a store without Counters
}

// canaryKey names one canary: a new canary of the same version starts
// its counts anew.
func canaryKey(frontend string, c registry.Canary) string {
	return "canary:" + frontend + ":" + c.Label + ":" + strconv.FormatInt(c.Since.UnixNano(), 10)
}

// ObserveVersion implements shell.CanaryObserver.
func (r *Replica) ObserveVersion(frontend, label string, failed bool) {
	snap := r.o.Registry.Current()
	c, ok := snap.Canaries[frontend]
	if !ok {
		return
	}
	key := canaryKey(frontend, c)
	v, ok := r.judge.tallies.Load(key)
	if !ok {
		v, _ = r.judge.tallies.LoadOrStore(key, &tally{})
	}
	t := v.(*tally)
	switch label {
	case c.Label:
		t.canary.Add(1)
		if failed {
			t.canaryFailed.Add(1)
		}
	case snap.Versions[frontend]:
		t.active.Add(1)
		if failed {
			t.activeFailed.Add(1)
		}
	}
}

// judgeCanaries adds what this replica saw of each canary to the counts
// every replica shares, and ends each canary that fails more than its
// active version allows.
func (r *Replica) judgeCanaries(ctx context.Context) {
	snap := r.o.Registry.Current()
	for frontend, c := range snap.Canaries {
		key := canaryKey(frontend, c)
		deltas := map[string]int64{}
		if v, ok := r.judge.tallies.Load(key); ok {
			t := v.(*tally)
			deltas["canary"], deltas["canary_failed"] = t.canary.Swap(0), t.canaryFailed.Swap(0)
			deltas["active"], deltas["active_failed"] = t.active.Swap(0), t.activeFailed.Swap(0)
		}
		totals, err := r.count(ctx, key, deltas)
		if err != nil {
			r.o.Log.Error("counting a canary's outcomes", "frontend", frontend, "canary", c.Label, "err", err)
			continue
		}
		reason, fails := r.judge.o.verdict(c.Label, snap.Versions[frontend], totals)
		if !fails {
			continue
		}
		_, err = r.o.Store.Rollback(ctx, registry.Move{Frontend: frontend, Expect: snap.Versions[frontend], Canary: c.Label,
			By: "collage (canary check)", Reason: reason})
		var e *bff.Error
		switch {
		case errors.As(err, &e) && e.Code == "precondition_failed":
			continue // another replica ended it, or someone moved first
		case err != nil:
			r.o.Log.Error("ending a failing canary", "frontend", frontend, "canary", c.Label, "err", err)
			continue
		}
		r.o.Log.Warn("canary ended by itself", "frontend", frontend, "canary", c.Label, "active", snap.Versions[frontend], "reason", reason)
		if err := r.Reload(ctx); err != nil {
			r.failed(err)
		}
	}
	// Forget the tallies of canaries no longer running.
	r.judge.tallies.Range(func(k, _ any) bool {
		if !running(snap, k.(string)) {
			r.judge.tallies.Delete(k)
		}
		return true
	})
}

func running(snap *registry.Snapshot, key string) bool {
	for frontend, c := range snap.Canaries {
		if canaryKey(frontend, c) == key {
			return true
		}
	}
	return false
}

// count adds deltas to the canary's shared counts, or to this replica's
// when the store keeps none (one process holds it alone).
func (r *Replica) count(ctx context.Context, key string, deltas map[string]int64) (map[string]int64, error) {
	if c, ok := r.o.Store.(registry.Counters); ok {
		return c.Count(ctx, key, deltas, countsTTL)
	}
	r.judge.mu.Lock()
	defer r.judge.mu.Unlock()
	t := r.judge.totals[key]
	if t == nil {
		t = map[string]int64{}
		r.judge.totals[key] = t
	}
	out := map[string]int64{}
	for k, v := range deltas {
		t[k] += v
	}
	for k, v := range t {
		out[k] = v
	}
	return out, nil
}

// verdict says whether a canary whose counts are totals fails, and why.
func (o JudgeOptions) verdict(canary, active string, totals map[string]int64) (string, bool) {
	n, a := totals["canary"], totals["active"]
	if n < o.MinSample || a == 0 {
		return "", false
	}
	rate := 100 * float64(totals["canary_failed"]) / float64(n)
	base := 100 * float64(totals["active_failed"]) / float64(a)
	if rate-base <= o.MaxExcess {
		return "", false
	}
	return fmt.Sprintf("%s failed %.1f%% of %d slots and /bff calls, %s %.1f%% of %d: more than %g points worse",
		canary, rate, n, active, base, a, o.MaxExcess), true
}
