package compose

import (
	"bytes"
	"context"
	"fmt"
	"html"
	"io"
	"net/http"
	"sync/atomic"
	"time"

	"github.com/collage-dev/collage/shell/layout"
)

// Outcome says how a slot's fragment went.
type Outcome string

const (
	OK       Outcome = "ok"       // the fragment is shown
	Timeout  Outcome = "timeout"  // the slot's deadline passed; fallback shown
	Failed   Outcome = "error"    // the fetch failed or answered an error; fallback shown
	Cached   Outcome = "cache"    // served from the fragment cache
	Canceled Outcome = "canceled" // the page was over first (a redirect, HEAD): fetch stopped, nothing shown
)

// Result is one slot's fragment.
type Result struct {
	Status int
	// Header is read only: results share it (a cached entry's, or the one
	// of every answer that sends only an HTML Content-Type). Clone it to
	// change it.
	Header  http.Header
	Body    []byte
	Outcome Outcome
	Err     error // why the fallback is shown
	Took    time.Duration
	// Release, if set, hands Body back to the fetcher that made it, to be
	// reused: the composer calls it when the page is closed. Whoever keeps
	// a result past its page, or shares it, calls Keep first.
	Release func()
}

// Keep makes the result's body its own: a body that Release would hand
// back is copied, and handed back now.
func (r *Result) Keep() {
	if r.Release != nil {
		r.Body = bytes.Clone(r.Body)
		r.Release()
		r.Release = nil
	}
}

type slot struct {
	render  *Render
	slot    *layout.Slot
	fetcher Fetcher
	began   atomic.Int64 // when the fetch began, as nanoseconds after Render.start plus one; 0 before
	over    atomic.Bool  // whether the fetch is over; it then says so on Render.arrived
	res     Result       // written by the fetch, read once over
	ctx     context.Context
	cancel  context.CancelFunc // nil when ctx is an earlier slot's
	pending Pending            // a fetch begun, which the page's goroutine finishes
	// grouped says the slot is fetched on the goroutine of the page's
	// quick slots, after those before it, unless spread first. claimed is
	// set by whichever goroutine takes its fetch.
	grouped bool
	claimed atomic.Bool
	// final is what the page shows, once decided: res itself when the
	// fetch is over, else a Result of its own, since the fetch may still
	// write res.
	final *Result
}

// A slot becomes quick (layout.Slot.Quick) when a fetch of it ends within
// quickFetch, and stops being quick when one takes longer than slowFetch.
// Fetching quick slots one after another on one goroutine delays each by
// about as long as those before it take, and saves the hand-off to a
// goroutine and back that each would cost. Between the two, a fetch leaves
// the note as it is: a render in process that the machine's load held up
// for a moment is still quick, and a fetch over the network takes longer
// than quickFetch even on a quiet machine.
const (
	quickFetch = 20 * time.Microsecond
	slowFetch  = 100 * time.Microsecond
)

// fetch gets the slot's fragment, on a goroutine that is not the page's,
// and notes whether it was quick.
func (st *slot) fetch() {
	r := st.render
	began := time.Since(r.start)
	st.began.Store(int64(began) + 1)
	st.res = st.fetcher.Fetch(st.ctx, st.slot, r.req)
	// A fetch cut short by the page's end says nothing of the next.
	switch took, quick := time.Since(r.start)-began, st.slot.Quick.Load(); {
	case !quick && took < quickFetch && st.ctx.Err() == nil:
		st.slot.Quick.Store(true)
	case quick && took > slowFetch:
		st.slot.Quick.Store(false)
	}
	st.over.Store(true)
	r.arrived <- struct{}{} // never blocks: it holds one for each slot
}

// await waits until st's fetch is over, its deadline passes, or c
// delivers (a nil c never does), and reports whether the fetch is over and
// whether c delivered. A quick slot not yet taken waits behind the others
// of its group, which may have turned slow: without c, after the
// coalescing window, every slot of the group not yet taken is spread.
func (r *Render) await(st *slot, c <-chan time.Time) (over, fired bool) {
	if st.pending != nil {
		return r.finish(st, time.Time{}), false
	}
	var spread <-chan time.Time
	if c == nil && st.grouped && !st.claimed.Load() {
		spread = r.after(r.spreadAfter())
		defer r.timer.Stop()
	}
	for !st.over.Load() {
		select {
		case <-r.arrived: // a fetch is over, perhaps another's: look again
		case <-st.ctx.Done():
			return st.over.Load(), false
		case <-c:
			return st.over.Load(), true
		case <-spread:
			r.spread()
			spread = nil
		}
	}
	return true, false
}

// finish waits for the fetch st began until until (zero: as long as its
// context lasts), and reports whether it is over.
func (r *Render) finish(st *slot, until time.Time) bool {
	if st.over.Load() {
		return true
	}
	res, ok := st.pending.Wait(until)
	if ok {
		st.res = res
		st.over.Store(true)
	}
	return ok
}

// result waits for slot i until it resolves or its deadline passes, and
// decides what the page shows.
func (r *Render) result(i int) *Result {
	st := &r.slots[i]
	if st.final != nil {
		return st.final
	}
	res := &st.res
	if over, _ := r.await(st, nil); !over { // at the deadline, an answer that came wins
		res = &Result{Outcome: Timeout, Err: fmt.Errorf("no fragment within %s", r.layout.Slots[i].Timeout), Took: time.Since(r.start)}
	}
	if res.Outcome == "" {
		res.Outcome = OK
	}
	if res.Outcome == OK || res.Outcome == Cached {
		if err := r.refusal(r.layout.Slots[i], res); err != nil {
			res.Outcome, res.Err = Failed, err
		}
	}
	if res.Outcome == Timeout || res.Outcome == Failed {
		res.Body = nil
	}
	st.final = res
	return res
}

// refusal says why a fragment that answered is not shown, or returns nil:
// any 2xx is shown, and for the primary slot also a 4xx, whose body
// explains it, or a redirect to a Location the page may pass on.
func (r *Render) refusal(s *layout.Slot, res *Result) error {
	switch {
	case res.Status >= 200 && res.Status < 300:
		return nil
	case !s.Primary:
	case res.Status >= 300 && res.Status < 400:
		loc := res.Header.Get("Location")
		if loc == "" {
			return fmt.Errorf("fragment answered %d with no Location", res.Status)
		}
		return r.checkLocation(loc)
	case res.Status >= 400 && res.Status < 500:
		return nil
	}
	return fmt.Errorf("fragment answered %d", res.Status)
}

// ready reports whether slot i can be written without waiting.
func (r *Render) ready(i int) bool {
	return r.slots[i].final != nil || r.slots[i].over.Load()
}

var (
	closeSlot = []byte("</collage-slot>")
	endTag    = []byte(">")
)

func (r *Render) writeSlot(w io.Writer, s *layout.Slot, res *Result) error {
	if _, err := w.Write(s.Open); err != nil {
		return err
	}
	body := res.Body
	if res.Outcome == Timeout || res.Outcome == Failed {
		if _, err := fmt.Fprintf(w, ` data-collage-fallback="%s"`, html.EscapeString(string(res.Outcome))); err != nil {
			return err
		}
		body = s.Fallback
	}
	for _, b := range [][]byte{endTag, body, closeSlot} {
		if _, err := w.Write(b); err != nil {
			return err
		}
	}
	return nil
}

// writePlaceholder writes an async slot's fallback in its place; its content
// comes at the end of the body.
func (r *Render) writePlaceholder(w io.Writer, s *layout.Slot) error {
	_, err := fmt.Fprintf(w, `%s data-collage-async="%d">%s</collage-slot>`, s.Open, s.Index, s.Fallback)
	return err
}

// fillScript moves the template before it into its async slot's place, or
