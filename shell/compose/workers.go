package compose

import (
	"sync"
	"time"
)

// maxIdle bounds the goroutines that wait for the next fetch.
const maxIdle = 256

// idleFor is how long a goroutine waits for a task before it ends: those
// a burst of pages left behind go once the load no longer needs them,
// and the collector no longer scans their stacks.
const idleFor = 10 * time.Second

// idle are goroutines that wait for a task to run, the one idle last on
// top. A fetch handed to one runs on a stack that has grown already,
// where a new goroutine would grow its stack again, at a cost that shows
// under load. The one idle last is taken first: the collector halves the
// stack of every goroutine that waits, and a few taken again and again
// grow theirs back fewer times than all taken in turn.
var idle struct {
	sync.Mutex
	waiting []idler
}

// An idler is a goroutine waiting for a task on its channel, which is
// closed to end it.
type idler struct {
	tasks chan task
	since time.Time
}

// A task is what a goroutine of its own fetches: one slot, or a page's
// group of quick slots, one after another.
type task struct {
	slot  *slot
	group []*slot
}

// do fetches the task's slot, or each slot of its group that no other
// goroutine has taken (see Render.spread).
func (t task) do() {
	if t.slot != nil {
		t.slot.fetch()
		return
	}
	for _, st := range t.group {
		if st.claimed.CompareAndSwap(false, true) {
			st.fetch()
		}
	}
}

// render is the page whose slots t fetches.
func (t task) render() *Render {
	if t.slot != nil {
		return t.slot.render
	}
	return t.group[0].render
}

// run runs t on a goroutine of its own, which holds t's page's Render
// until t is done.
func run(t task) {
	t.render().refs.Add(1)
	idle.Lock()
	if n := len(idle.waiting); n > 0 {
		w := idle.waiting[n-1].tasks
		idle.waiting = idle.waiting[:n-1]
		idle.Unlock()
		w <- t
		return
	}
	idle.Unlock()
	go work(make(chan task), t)
}

// work runs t, then whatever run hands it while it is idle, until there
// are maxIdle idle goroutines besides it, or it has waited idleFor. As it
// begins to wait, it ends the one that has waited longest, if that one
// has waited idleFor.
func work(w chan task, t task) {
	for {
		t.do()
		t.render().release()
		now := time.Now()
		var stale chan task
		idle.Lock()
		if len(idle.waiting) >= maxIdle {
			idle.Unlock()
			return
		}
		if len(idle.waiting) > 0 && now.Sub(idle.waiting[0].since) >= idleFor {
			stale = idle.waiting[0].tasks
			idle.waiting = append(idle.waiting[:0], idle.waiting[1:]...)
		}
		idle.waiting = append(idle.waiting, idler{w, now})
		idle.Unlock()
		if stale != nil {
			close(stale)
		}
		var ok bool
		if t, ok = <-w; !ok {
			return
		}
	}
}
