package compose

import (
	"bytes"
	"context"
	"fmt"
	"html"
	"io"
	"net/http"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	"github.com/collage-dev/collage/shell/layout"
)

// Outcome says how a slot's fragment went.
type Outcome string

const (
	OK      Outcome = "ok"      // the fragment is shown
	Timeout Outcome = "timeout" // the slot's deadline passed; fallback shown
	Failed  Outcome = "error"   // the fetch failed or answered an error; fallback shown
	Cached  Outcome = "cache"   // served from the fragment cache
)

// Request is what the composer and fetchers need of the page request,
// copied out of the web framework's request.
type Request struct {
	Path   string      // the page's path and query
	Params string      // route parameters, query-encoded
	Header http.Header // headers forwarded to fragments
	Nonce  string      // CSP nonce for the inline scripts of this response
	ID     string      // request id, for logs
	// Deadline bounds the whole page: no slot waits past it. Zero: only
	// the slots' own timeouts (and the context given to Start) bound it.
	Deadline time.Time
}

// Result is one slot's fragment.
type Result struct {
	Status  int
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
	// resolve within Coalesce of each other go out together. Start sets it
	// to DefaultCoalesce; set it before writing. Zero flushes at once.
	Coalesce time.Duration

	layout *layout.Layout
	req    *Request
	head   Head
	start  time.Time
	slots  []slot

	next    int         // the chunk of the layout to write next
	async   int         // the slot writeAsync looks at next
	flushed bool        // whether the page has been flushed once
	timer   *time.Timer // reused by mustFlush
}

type slot struct {
	began   atomic.Int64 // when the fetch began, as nanoseconds after Render.start plus one; 0 before
	done    chan struct{}
	res     Result // written by the fetch, read after done
	ctx     context.Context
	cancel  context.CancelFunc // nil when ctx is an earlier slot's
	final   Result             // what the page shows, once decided
	decided bool
}

// Start begins fetching every slot of l. ctx bounds the whole page; Close
// must be called when the page is written.
func Start(ctx context.Context, l *layout.Layout, f Fetcher, head Head, req *Request) *Render {
	r := &Render{Coalesce: DefaultCoalesce, layout: l, req: req, head: head, start: time.Now(), slots: make([]slot, len(l.Slots))}
	for i, s := range l.Slots {
		st := &r.slots[i]
		st.done = make(chan struct{})
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
		run(func() {
			st.began.Store(int64(time.Since(r.start)) + 1)
			st.res = f.Fetch(st.ctx, s, req)
			close(st.done)
		})
	}
	return r
}

// Close stops every fetch still running, and releases the bodies of those
// that have answered: the page must be written by then.
func (r *Render) Close() {
	for i := range r.slots {
		st := &r.slots[i]
		if st.cancel != nil {
			st.cancel()
		}
		select {
		case <-st.done: // the fetch is over: its result is no longer written
			if st.res.Release != nil {
				st.res.Release()
				st.res.Release = nil
			}
		default: // still running: its body, when it comes, is left to the GC
		}
	}
}

// maxIdle bounds the goroutines that wait for the next fetch.
const maxIdle = 256

// idle are goroutines that wait for a fetch to run. A fetch handed to one
// runs on a stack that has grown already, where a new goroutine would grow
// its stack again, at a cost that shows under load.
var idle = make(chan chan func(), maxIdle)

// run runs f on a goroutine of its own.
func run(f func()) {
	select {
	case w := <-idle:
		w <- f
	default:
		w := make(chan func())
		go work(w, f)
	}
}

// work runs f, then whatever run hands it while it is idle, until there
// are maxIdle idle goroutines besides it.
func work(w chan func(), f func()) {
	for {
		f()
		select {
		case idle <- w:
		default:
			return
		}
		f = <-w
	}
}

// result waits for slot i until it resolves or its deadline passes, and
// decides what the page shows.
func (r *Render) result(i int) *Result {
	st := &r.slots[i]
	if st.decided {
		return &st.final
	}
	var res Result
	select {
	case <-st.done:
		res = st.res
	case <-st.ctx.Done():
		select {
		case <-st.done: // both ready: the fetch won
			res = st.res
		default:
			res = Result{Outcome: Timeout, Err: fmt.Errorf("no fragment within %s", r.layout.Slots[i].Timeout), Took: time.Since(r.start)}
		}
	}
	if res.Outcome == "" {
		res.Outcome = OK
	}
	if res.Outcome == OK || res.Outcome == Cached {
		if !usable(r.layout.Slots[i], &res) {
			res.Outcome, res.Err = Failed, fmt.Errorf("fragment answered %d", res.Status)
		}
	}
	if res.Outcome == Timeout || res.Outcome == Failed {
		res.Body = nil
	}
	st.final, st.decided = res, true
	return &st.final
}

// usable reports whether a fragment is shown: any 2xx, and for the primary
// slot also a 4xx, whose body explains it, or a redirect.
func usable(s *layout.Slot, res *Result) bool {
	switch {
	case res.Status >= 200 && res.Status < 300:
		return true
	case !s.Primary:
		return false
	case res.Status >= 300 && res.Status < 400:
		return res.Header.Get("Location") != ""
	}
	return res.Status >= 400 && res.Status < 500
}

// ready reports whether slot i can be written without waiting.
func (r *Render) ready(i int) bool {
	if r.slots[i].decided {
		return true
	}
	select {
	case <-r.slots[i].done:
		return true
	default:
		return false
	}
}

// Status waits for the primary slot, if any, and returns the page's status
// and the headers the page takes from it (Location, Set-Cookie).
func (r *Render) Status() (int, http.Header) {
	h := http.Header{}
	status := http.StatusOK
	if p := r.layout.Primary; p != nil {
		res := r.result(p.Index)
		if res.Outcome == OK || res.Outcome == Cached {
			if res.Status >= 300 {
				status = res.Status
			}
			if Redirect(status) {
				h.Set("Location", res.Header.Get("Location"))
			}
			for _, c := range res.Header.Values("Set-Cookie") {
				h.Add("Set-Cookie", c)
			}
		}
	}
	return status, h
}

// Redirect reports whether the page is a redirect with no body to write.
func Redirect(status int) bool { return status >= 300 && status < 400 }

// ServerTiming describes the slots resolved so far, as a Server-Timing
// header: every slot when called after WritePrefix has written the whole
// page.
func (r *Render) ServerTiming() string {
	b := make([]byte, 0, 48*len(r.slots))
	for i, s := range r.layout.Slots {
		if !r.ready(i) {
			continue
		}
		res := r.result(i)
		if len(b) > 0 {
			b = append(b, ", "...)
		}
		b = append(b, "slot-"...)
		b = strconv.AppendInt(b, int64(i), 10)
		b = append(b, '-')
		b = append(b, s.Frontend...)
		b = append(b, `;desc="`...)
		b = append(b, res.Outcome...)
		b = append(b, `";dur=`...)
		b = appendMillis(b, res.Took)
	}
	if len(b) == 0 {
		b = appendMillis(append(b, "compose;dur="...), time.Since(r.start))
	}
	return string(b)
}

// appendMillis appends d in milliseconds with one decimal, as Server-Timing
// gives durations.
func appendMillis(b []byte, d time.Duration) []byte {
	return strconv.AppendFloat(b, float64(d.Microseconds())/1000, 'f', 1, 64)
}

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
// resolve within r.Coalesce of its start is written whole, and its transport
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

// DefaultCoalesce is the Coalesce of a page: short enough that the first
// byte still leaves within about a millisecond, long enough for in-process
// and nearby fragments.
const DefaultCoalesce = time.Millisecond

// mustFlush reports whether what is written should be flushed before waiting
// for slot i. Before the first flush, it waits for the slot until
// r.Coalesce after its fetch began: a fetch that has not begun yet waits
// for a processor, not for its fragment, and the head would not leave
// sooner on a machine that busy. After the first flush, it waits
// r.Coalesce.
func (r *Render) mustFlush(i int) bool {
	if r.ready(i) {
		return false
	}
	st := &r.slots[i]
	first := !r.flushed
	for {
		wait := r.Coalesce
		if first && r.Coalesce > 0 {
			if began := st.began.Load(); began > 0 {
				wait = time.Duration(began-1) + r.Coalesce - time.Since(r.start)
			}
		}
		if wait <= 0 {
			return true
		}
		if r.timer == nil {
			r.timer = time.NewTimer(wait)
		} else {
			r.timer.Reset(wait)
		}
		select {
		case <-st.done:
			r.timer.Stop()
			return false
		case <-st.ctx.Done(): // the slot times out: its fallback is ready
			r.timer.Stop()
			return false
		case <-r.timer.C:
			// On a busy machine the slot may have resolved by the time this
			// goroutine runs again; select picks among ready cases at random.
			if r.ready(i) {
				return false
			}
			if !first || st.began.Load() > 0 {
				return true
			}
		}
	}
}

func (r *Render) flush(w Writer) error {
	r.flushed = true
	return w.Flush()
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
// marks the slot as fallen back. It runs before the client runtime, which is
// a module and so waits for the whole document.
const fillScript = `(function(t){var s=document.querySelector('collage-slot[data-collage-async="'+t.dataset.collageFill+'"]');` +
	`if(s){if(t.dataset.collageFallback){s.dataset.collageFallback=t.dataset.collageFallback}else{s.replaceChildren(t.content)}` +
	`s.removeAttribute("data-collage-async")}t.remove();document.currentScript.remove()})(document.currentScript.previousElementSibling)`

// writeAsync streams the content of every async slot, in document order,
// from slot r.async on; with prefix it stops where it would flush.
func (r *Render) writeAsync(w Writer, prefix bool) (complete bool, err error) {
	for ; r.async < len(r.layout.Slots); r.async++ {
		s := r.layout.Slots[r.async]
		if !s.Async {
			continue
		}
		if r.mustFlush(s.Index) {
			if prefix {
				return false, nil
			}
			if err := r.flush(w); err != nil {
				return false, err
			}
		}
		res := r.result(s.Index)
		if res.Outcome == Timeout || res.Outcome == Failed {
			_, err = fmt.Fprintf(w, `<template data-collage-fill="%d" data-collage-fallback="%s"></template>`, s.Index, res.Outcome)
		} else {
			_, err = fmt.Fprintf(w, `<template data-collage-fill="%d">%s</template>`, s.Index, res.Body)
		}
		if err != nil {
			return false, err
		}
		if _, err := fmt.Fprintf(w, `<script nonce="%s">%s</script>`, html.EscapeString(r.req.Nonce), fillScript); err != nil {
			return false, err
		}
	}
	return true, nil
}

// Results returns every slot's result, for the log line of the page. It
// waits for the slots not yet decided.
func (r *Render) Results() []*Result {
	out := make([]*Result, len(r.slots))
	for i := range r.slots {
		out[i] = r.result(i)
	}
	return out
}

// Head is the HTML the shell writes before </head>, with a nonce placed in
// it per request.
type Head struct{ parts [][]byte }

// NewHead prepares html, in which every occurrence of placeholder is
// replaced by the request's nonce.
func NewHead(html, placeholder string) Head {
	var h Head
	for _, p := range strings.Split(html, placeholder) {
		h.parts = append(h.parts, []byte(p))
	}
	return h
}

func (h Head) empty() bool {
	for _, p := range h.parts {
		if len(p) > 0 {
			return false
		}
	}
	return true
}

func (h Head) write(w io.Writer, nonce string) error {
	for i, p := range h.parts {
		if i > 0 {
			if _, err := io.WriteString(w, nonce); err != nil {
				return err
			}
		}
		if _, err := w.Write(p); err != nil {
			return err
		}
	}
	return nil
}
