package compose

import (
	"sync"
	"time"
)

// DefaultCoalesce is the Coalesce of a page: short enough that the first
// byte still leaves within about a millisecond, long enough for in-process
// and nearby fragments.
const DefaultCoalesce = time.Millisecond

// coalesce is how long fragments may gather before a flush.
func (r *Render) coalesce() time.Duration {
	switch {
	case r.NoCoalesce:
		return 0
	case r.Coalesce == 0:
		return DefaultCoalesce
	}
	return r.Coalesce
}

// mustFlush reports whether what is written should be flushed before waiting
// for slot i. Before the first flush, it waits for the slot until
// the coalescing window after its fetch began: a fetch that has not begun yet waits
// for a processor, not for its fragment, and the head would not leave
// sooner on a machine that busy. After the first flush, it waits the
// window.
func (r *Render) mustFlush(i int) bool {
	if r.ready(i) {
		return false
	}
	st := &r.slots[i]
	first, window := !r.flushed, r.coalesce()
	if st.pending != nil {
		until := time.Now().Add(window)
		if first && window > 0 {
			until = r.start.Add(time.Duration(st.began.Load()-1) + window)
		}
		return !r.finish(st, until)
	}
	for {
		wait := window
		if first && window > 0 {
			if began := st.began.Load(); began > 0 {
				wait = time.Duration(began-1) + window - time.Since(r.start)
			}
		}
		if wait <= 0 {
			return true
		}
		over, fired := r.await(st, r.after(wait))
		if fired {
			r.spread() // the quick slots may wait behind one turned slow
		}
		switch {
		case !fired: // the fetch is over, or the slot times out and its fallback is ready
			r.timer.Stop()
			return false
		case over:
			// On a busy machine the slot may have resolved by the time this
			// goroutine runs again.
			return false
		case !first || st.began.Load() > 0:
			return true
		}
	}
}

func (r *Render) flush(w Writer) error {
	r.flushed = true
	return w.Flush()
}

// spreadAfter is how long the page waits for a quick slot behind others of
// its group before it spreads them: the coalescing window, or
// DefaultCoalesce when the page does not coalesce.
func (r *Render) spreadAfter() time.Duration {
	if w := r.coalesce(); w > 0 {
		return w
	}
	return DefaultCoalesce
}

// after returns the channel of the page's timer, set to fire after d.
func (r *Render) after(d time.Duration) <-chan time.Time {
	if r.timer == nil {
		r.timer = timers.Get().(*time.Timer)
	}
	r.timer.Reset(d)
	return r.timer.C
}

// timers are the stopped timers of pages closed, for the next pages'
// waits: a page that waits for a fragment would otherwise make one.
var timers = sync.Pool{New: func() any {
	t := time.NewTimer(time.Hour)
	t.Stop()
	return t
}}

// putTimer stops the page's timer, if it made one, and pools it.
func (r *Render) putTimer() {
	if r.timer != nil {
		r.timer.Stop() // no tick is delivered after Stop: the next page's wait sees none
		timers.Put(r.timer)
		r.timer = nil
	}
}
