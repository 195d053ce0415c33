package compose

import "sync"

// maxIdle bounds the goroutines that wait for the next fetch.
const maxIdle = 256

// idle are goroutines that wait for a task to run, the one idle last on
// top. A fetch handed to one runs on a stack that has grown already,
// where a new goroutine would grow its stack again, at a cost that shows
// under load. The one idle last is taken first: the collector halves the
// stack of every goroutine that waits, and a few taken again and again
// grow theirs back fewer times than all taken in turn.
var idle struct {
	sync.Mutex
	tasks []chan task
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
	if n := len(idle.tasks); n > 0 {
		w := idle.tasks[n-1]
		idle.tasks = idle.tasks[:n-1]
		idle.Unlock()
		w <- t
		return
	}
	idle.Unlock()
	go work(make(chan task), t)
}

// work runs t, then whatever run hands it while it is idle, until there
// are maxIdle idle goroutines besides it.
func work(w chan task, t task) {
	for {
		t.do()
		t.render().release()
		idle.Lock()
		if len(idle.tasks) >= maxIdle {
			idle.Unlock()
			return
		}
		idle.tasks = append(idle.tasks, w)
		idle.Unlock()
		t = <-w
	}
}
