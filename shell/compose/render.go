package compose

import (
	"context"
	"fmt"
	"html"
	"io"
	"net/http"
	"sync"
	"sync/atomic"
	"time"

	"github.com/collage-dev/collage/shell/layout"
)

// Request is what the composer and fetchers need of the page request,
// copied out of the web framework's request.
type Request struct {
	Path   string      // the page's path and query
	Params string      // route parameters, query-encoded
	Header http.Header // headers forwarded to fragments
	Nonce  string      // CSP nonce for the inline scripts of this response
	ID     string      // request id, for logs
	// Origin is the page's own origin as the browser sees it,
	// scheme://host[:port]: a primary slot may redirect to an absolute URL
	// on it. Empty: only to a path, or to an allowed origin.
	Origin string
	// Deadline bounds the whole page: no slot waits past it. Zero: only
	// the slots' own timeouts (and the context given to Start) bound it.
	Deadline time.Time
	// Versions are the labels of the versions the page is rendered with,
	// by frontend: a fetcher asks each slot's BFF of that version, and a
	// cache keeps versions apart. Shared between pages: read only.
	// Optional. Default: none, every frontend's only version.
	Versions map[string]string
}

// A Beginner is a Fetcher that can begin a slot's fetch on the page's
// goroutine, to be sent together with the page's other slots and finished
// there as the page is written, with no goroutine of its own.
type Beginner interface {
	// Begin begins slot's fetch, or returns nil to have it fetched as
	// usual, by Fetch. Start calls it for the page's slots in page order,
	// then Send on each Pending, before any Wait.
	Begin(ctx context.Context, slot *layout.Slot, req *Request) Pending
}

// Pending is a fetch begun. Its methods are called on the page's
// goroutine.
type Pending interface {
	// Send sends what the page's slots began: the first call sends all.
	Send()
	// Wait returns the result once it is in, or false if until passes
	// first. A zero until waits as long as the slot's context lasts.
	Wait(until time.Time) (Result, bool)
	// Close drops the fetch; Wait is not called after it.
	Close()
}

// A Fetcher gets the fragment of one slot. It should honour ctx; the
// composer stops waiting at the slot's deadline either way.
type Fetcher interface {
	Fetch(ctx context.Context, slot *layout.Slot, req *Request) Result
}

// Writer is where a page streams: an io.Writer that can flush what it has.
type Writer interface {
	io.Writer
	Flush() error
}

// Render is one page being composed.
type Render struct {
	// Coalesce is how long fragments that are about to arrive may gather
	// before the composer flushes what it has. Each flush is a chunk and a
	// write on the connection: the head waits at most Coalesce from the
	// start of the page, so a page whose fragments all come within it
	// leaves whole, in one write; after the first flush, fragments that
	// resolve within Coalesce of each other go out together. Set it before
	// writing. Optional. Default: DefaultCoalesce.
	Coalesce time.Duration
	// Redirects are the origins, besides the page's own, that a primary
	// slot may redirect to, as ParseOrigin returns them. Set it before
	// Status. Optional. Default: none.
	Redirects []string
	// NoCoalesce flushes at once, before waiting for any slot that is not
	// ready: Coalesce is then ignored. Optional. Default: false.
	NoCoalesce bool

	layout *layout.Layout
	req    *Request
	head   Head
	start  time.Time
	slots  []slot
	// arrived has a value for each fetch that is over, in the order they
	// end: what the page's goroutine waits on, besides deadlines.
	arrived chan struct{}

	next    int         // the chunk of the layout to write next
	async   int         // the slot writeAsync looks at next
	flushed bool        // whether the page has been flushed once
	timer   *time.Timer // reused by mustFlush and await
	// group are the page's quick slots, fetched one after another on one
	// goroutine, in page order, unless spread.
	group    []*slot
	groupBuf [4]*slot
	// set holds slots, arrived and the results, for the next page once no
	// fetch of this one runs: refs are the page's hold on them, and one
	// for each task that fetches a slot (see release).
	set    *slotSet
	refs   atomic.Int32
	closed bool
}

// A slotSet is the room of a page's slots, pooled.
type slotSet struct {
	slots   []slot
	arrived chan struct{}
	results []*Result // what Results returns
}

// slotSets are those of pages over whose fetches are all over, for the
// next pages.
var slotSets sync.Pool

// hold gives r room for n slots, held by its page: a pooled set, if one
// is big enough.
func (r *Render) hold(n int) {
	set, _ := slotSets.Get().(*slotSet)
	if set == nil || cap(set.slots) < n || cap(set.arrived) < n {
		set = &slotSet{slots: make([]slot, n), arrived: make(chan struct{}, n)}
	}
	r.set, r.slots, r.arrived = set, set.slots[:n], set.arrived
	r.refs.Store(1)
}

// release lets go of one hold on r's slots. The last is past the page
// and every fetch of it: it hands back the body of a fetch that ended
// after the page, and pools the slots, emptied.
func (r *Render) release() {
	if r.refs.Add(-1) != 0 {
		return
	}
	set := r.set
	for i := range r.slots {
		if rel := r.slots[i].res.Release; rel != nil {
			rel()
		}
	}
	for len(set.arrived) > 0 {
		<-set.arrived
	}
	clear(set.slots[:cap(set.slots)])
	clear(set.results[:cap(set.results)])
	slotSets.Put(set)
}

// Start begins fetching every slot of l. ctx bounds the whole page; Close
// must be called when the page is written.
func Start(ctx context.Context, l *layout.Layout, f Fetcher, head Head, req *Request) *Render {
	r := &Render{layout: l, req: req, head: head, start: time.Now()}
	r.hold(len(l.Slots))
	r.group = r.groupBuf[:0]
	for i, s := range l.Slots {
		st := &r.slots[i]
		st.render, st.slot, st.fetcher = r, s, f
		// Slots with the same timeout share one deadline, and one timer.
		for j := range i {
			if l.Slots[j].Timeout == s.Timeout {
				st.ctx = r.slots[j].ctx
				break
			}
		}
		if st.ctx == nil {
			d := r.start.Add(s.Timeout)
			if !req.Deadline.IsZero() && req.Deadline.Before(d) {
				d = req.Deadline
			}
			st.ctx, st.cancel = context.WithDeadline(ctx, d)
		}
		if b, ok := f.(Beginner); ok {
			if st.pending = b.Begin(st.ctx, s, req); st.pending != nil {
				st.began.Store(int64(time.Since(r.start)) + 1)
				continue
			}
		}
		if s.Quick.Load() {
			st.grouped = true
			r.group = append(r.group, st)
			continue
		}
		run(task{slot: st})
	}
	if len(r.group) > 0 {
		run(task{group: r.group})
	}
	for i := range r.slots {
		if p := r.slots[i].pending; p != nil {
			p.Send()
		}
	}
	return r
}

// spread hands each slot of the group that no goroutine has taken yet to
// a goroutine of its own: the group's may be held up by a fetch that has
// turned slow.
func (r *Render) spread() {
	for _, st := range r.group {
		if !st.claimed.Load() && st.claimed.CompareAndSwap(false, true) {
			run(task{slot: st})
		}
	}
}

// drop takes every slot of the group that no goroutine has taken yet, so
// that none fetches it: the page no longer waits for it.
func (r *Render) drop() {
	for _, st := range r.group {
		st.claimed.Store(true)
	}
}

// Close stops every fetch still running, and releases the bodies of those
// that have answered: the page must be written, and its Results used, by
// then. The Render is not used after it, but for Close, which does
// nothing more.
func (r *Render) Close() {
	if r.closed {
		return
	}
	r.closed = true
	defer r.release()
	r.drop()
	r.putTimer()
	for i := range r.slots {
		st := &r.slots[i]
		if st.cancel != nil {
			st.cancel()
		}
		if st.pending != nil {
			st.pending.Close()
		}
		// A fetch still running hands its body back when its task ends.
		if st.over.Load() && st.res.Release != nil { // over: its result is no longer written
			st.res.Release()
			st.res.Release = nil
		}
	}
}

// Status waits for the primary slot, if any, and returns the page's status
// and the headers the page takes from it (Location, Set-Cookie). A primary
// slot that fails makes the page a 502, one that times out a 504: the page
// still shows its fallback, but caches and crawlers do not keep it.
func (r *Render) Status() (int, http.Header) {
	h := http.Header{}
	status := http.StatusOK
	if p := r.layout.Primary; p != nil {
		res := r.result(p.Index)
		switch res.Outcome {
		case OK, Cached:
			if res.Status >= 300 {
				status = res.Status
			}
			if Redirect(status) {
				h.Set("Location", res.Header.Get("Location"))
			}
			for _, c := range res.Header.Values("Set-Cookie") {
				h.Add("Set-Cookie", c)
			}
		case Timeout:
			status = http.StatusGatewayTimeout
		default:
			status = http.StatusBadGateway
		}
	}
	return status, h
}

// Redirect reports whether the page is a redirect with no body to write.
func Redirect(status int) bool { return status >= 300 && status < 400 }

// WriteTo streams the page to w, from where WritePrefix stopped if it was
// called: everything up to the first slot that is not ready is flushed
// before waiting for it (see Render.Coalesce), and the end of the page is flushed.
func (r *Render) WriteTo(w Writer) error {
	if _, err := r.write(w, false); err != nil {
		return err
	}
	return w.Flush()
}

// WritePrefix writes the page to w until the composer would first flush,
// and reports whether that was the whole page. A page whose slots all
// resolve within the coalescing window (Render.Coalesce) of its start is written whole, and its transport
// can send it in one piece with a length; otherwise WriteTo goes on from
// where WritePrefix stopped, and flushes at once.
func (r *Render) WritePrefix(w io.Writer) (complete bool, err error) {
	return r.write(noFlush{w}, true)
}

type noFlush struct{ io.Writer }

func (noFlush) Flush() error { return nil }

// write writes the chunks from r.next on. At a slot that is not ready, it
// flushes before waiting, or with prefix stops there.
func (r *Render) write(w Writer, prefix bool) (complete bool, err error) {
	for ; r.next < len(r.layout.Chunks); r.next++ {
		c := r.layout.Chunks[r.next]
		switch {
		case c.Head:
			if r.req.Params != "" && !r.head.empty() {
				fmt.Fprintf(w, `<meta name="collage-params" content="%s">`+"\n", html.EscapeString(r.req.Params))
			}
			err = r.head.write(w, r.req.Nonce)
		case c.BodyEnd:
			complete, err = r.writeAsync(w, prefix)
			if err == nil && !complete {
				return false, nil
			}
		case c.Slot != nil && c.Slot.Async:
			err = r.writePlaceholder(w, c.Slot)
		case c.Slot != nil:
			if r.mustFlush(c.Slot.Index) {
				if prefix {
					return false, nil
				}
				if err = r.flush(w); err != nil {
					return false, err
				}
			}
			err = r.writeSlot(w, c.Slot, r.result(c.Slot.Index))
		default:
			_, err = w.Write(c.Static)
		}
		if err != nil {
			return false, err
		}
	}
	return true, nil
}

// Written reports whether the whole page has been written: the Flush that
// WriteTo calls then is its last.
func (r *Render) Written() bool { return r.next >= len(r.layout.Chunks) }

// Cancel ends the page before its slots: a redirect, or an answer to HEAD,
// leaves as soon as the primary slot decides it. Every slot not decided
// yet is decided without waiting, as what it ended with if it has, else
// as Canceled, and every fetch still running is stopped. A page written
// whole has every slot decided, and Cancel does nothing to it.
func (r *Render) Cancel() {
	for i := range r.slots {
		st := &r.slots[i]
		if r.ready(i) || st.ctx.Err() != nil { // an answer, or a timeout: result does not wait
			r.result(i)
			continue
		}
		st.final = &Result{Outcome: Canceled, Took: time.Since(r.start)}
	}
	r.drop()
	for i := range r.slots {
		if cancel := r.slots[i].cancel; cancel != nil {
			cancel()
		}
	}
}

// Results returns every slot's result, for the log line of the page. It
// waits for the slots not yet decided, unless Cancel was called. They are
// the Render's: read them before Close.
func (r *Render) Results() []*Result {
	out := r.set.results[:0]
	for i := range r.slots {
		out = append(out, r.result(i))
	}
	r.set.results = out
	return out
}
