package invoke

import (
	"context"
	"errors"
	"os"
	"sync"
	"sync/atomic"
	"time"

	"github.com/collage-dev/collage/bff"
)

// A page's fragment requests to one host can go in one write on one
// connection, their answers read in order (HTTP/1.1 pipelining): one write
// and a read or two a page instead of one of each per fragment, at both
// ends. The BFF answers them one after the other, so a fragment whose
// answers in batches have been slow leaves them (see record), and an
// answer that keeps the ones behind it waiting past Patience sends those
// again, each on a connection of its own.

const (
	// FastAnswer is how fast a fragment must answer to stay in batches:
	// the shortest wait of its last answers there below it. Behind
	// another, an answer the page does not wait for at all is common when
	// the BFF is fast, however busy the machine; a slow BFF keeps it
	// waiting every time.
	FastAnswer = time.Millisecond
	// Retry is how often a fragment that left batches joins one again, as
	// its last request, to see whether it has become fast.
	Retry = 10 * time.Second
	// Patience is how long, at least, the requests behind an answer wait
	// for it to begin before they are sent again on connections of their
	// own: eight times as long as the first answers of the host's batches
	// have lately taken, when that is longer, so that a machine busy
	// enough to delay every answer does not send them all twice.
	Patience = 20 * time.Millisecond
)

const (
	// recordSize is how many of its last answer times in batches a
	// fragment is judged by.
	recordSize = 16
	// recordMin is how many it takes to judge: before, a fragment is
	// taken to be fast.
	recordMin = 4
)

// record keeps how long a fragment's last answers in batches kept the
// page waiting after the answer before them; for the first of a batch,
// its time from the request if that passed the patience, else nothing
// (see readNext).
type record struct {
	n     atomic.Uint64
	times [recordSize]atomic.Int64
	retry atomic.Int64 // when a fragment not fast may join a batch again, in Unix ns
}

func (r *record) add(d time.Duration) {
	r.times[(r.n.Add(1)-1)%recordSize].Store(int64(d))
}

// fast reports whether the fragment has not shown itself slow: fewer than
// recordMin answers kept, or the fastest of them under FastAnswer.
func (r *record) fast() bool {
	n := r.n.Load()
	if n < recordMin {
		return true
	}
	for i := range min(n, recordSize) {
		if r.times[i].Load() < int64(FastAnswer) {
			return true
		}
	}
	return false
}

// trial reports whether a fragment that is not fast may join a batch now,
// once every Retry.
func (r *record) trial(now time.Time) bool {
	t := r.retry.Load()
	return now.UnixNano() >= t && r.retry.CompareAndSwap(t, now.Add(Retry).UnixNano())
}

// lead smooths in d, the time the first answer of a batch on f's
// connections took.
func (f *fragments) lead(d time.Duration) {
	old := f.leadTime.Load()
	f.leadTime.Store(old + (int64(d)-old)/8)
}

// patience is how long the answers behind one in a batch on f's
// connections wait for it (see Patience).
func (f *fragments) patience() time.Duration {
	return max(Patience, 8*time.Duration(f.leadTime.Load()))
}

// A Beginner is an Invoker whose fragment requests can join a page's
// Batch.
type Beginner interface {
	// BeginFragment queues call in b, or returns nil if it cannot join a
	// batch: its BFF is reached over TLS or with HTTPOptions.NoPipeline,
	// or the fragment's answers in batches have been slow (it then joins
	// one, last, every Retry).
	BeginFragment(ctx context.Context, call *bff.FragmentCall, b *Batch) *Pending
}

// Batch is a page's fragment requests, by host. It belongs to the page's
// goroutine: Send, Wait and Close are called there, in page order.
type Batch struct {
	groups []*group
	sent   bool
}

// NewBatch returns an empty batch.
func NewBatch() *Batch { return &Batch{} }

// group is a batch's requests to one host, on one connection.
type group struct {
	f       *fragments // the first member's, once sent: its pool lends the connection
	members []*Pending // those whose answers the connection carries, in order
	trial   *Pending   // a member not fast, which goes last
	c       *fragConn  // nil once every answer is read, or the connection failed
	held    bool       // whether a connection token of f's is held
	reused  bool       // whether c came from the pool
	extra   bool       // answers for requests sent again elsewhere are still to come on c
	next    int        // the member whose answer is read next
	last    time.Time  // when the answer before next's ended (or the batch left)
}

// Pending is a fragment request of a batch.
type Pending struct {
	g    *group
	f    *fragments
	ctx  context.Context
	call *bff.FragmentCall

	alone chan struct{} // made when the request is sent again on its own; closed when answered

	mu     sync.Mutex // guards the fields below
	ans    bff.FragmentAnswer
	err    error
	read   bool // ans and err are set
	waited bool // Wait returned them
	closed bool
}

func (r *remote) BeginFragment(ctx context.Context, call *bff.FragmentCall, b *Batch) *Pending {
	f := r.fragments
	if f.tls != nil || r.noPipeline || b.sent {
		return nil
	}
	var g *group
	for _, h := range b.groups {
		if h.f.addr == f.addr && h.f.host == f.host {
			g = h
			break
		}
	}
	fast := f.record.fast()
	if !fast && (g != nil && g.trial != nil || !f.record.trial(time.Now())) {
		return nil
	}
	if g == nil {
		g = &group{f: f}
		b.groups = append(b.groups, g)
	}
	p := &Pending{g: g, f: f, ctx: ctx, call: call}
	if fast {
		g.members = append(g.members, p)
	} else {
		g.trial = p
	}
	return p
}

// Send writes each host's requests in one write, once. A host whose
// connection cannot be had or written has its requests sent each on its
// own.
func (b *Batch) Send() {
	if b.sent {
		return
	}
	b.sent = true
	for _, g := range b.groups {
		if g.trial != nil {
			g.members = append(g.members, g.trial)
		}
		if !g.send() {
			g.alone(0)
		}
	}
}

func (g *group) send() bool {
	g.f = g.members[0].f // a trial member went last
	ctx := g.members[0].ctx
	if g.f.acquire(ctx) != nil {
		return false
	}
	g.held = true
	c, reused, err := g.f.conn(ctx)
	if err != nil {
		g.release()
		return false
	}
	g.reused = reused
	c.req = c.req[:0]
	for _, m := range g.members {
		c.req = m.f.appendRequest(c.req, m.call)
	}
	if _, err := c.Write(c.req); err != nil {
		c.Close()
		g.release()
		return false
	}
	g.c, g.last = c, time.Now()
	return true
}

// release gives back the connection token, and the connection to the pool
// if nothing more is to come on it.
func (g *group) release() {
	if g.c != nil {
		watched, read := g.c.guard.unwatch(), g.c.returnReader()
		if watched && read && g.next == len(g.members) && !g.extra {
			g.f.put(g.c)
		} else {
			g.c.Close()
		}
		g.c = nil
	}
	if g.held {
		g.held = false
		<-g.f.conns
	}
}

// alone sends the requests of the members from from on again, each on a
// connection of its own; the batch's connection no longer carries them.
func (g *group) alone(from int) {
	rest := g.members[from:]
	g.members = g.members[:from]
	if g.c != nil {
		g.extra = true
		if g.next == len(g.members) {
			g.release()
		}
	}
	for _, m := range rest {
		m.alone = make(chan struct{})
		go func() {
			ans, err := m.f.fetch(m.ctx, m.call)
			m.mu.Lock()
			m.ans, m.err, m.read = ans, err, true
			if m.closed && err == nil {
				ans.Release()
			}
			m.mu.Unlock()
			close(m.alone)
		}()
	}
}

// readNext reads the next answer on the connection, that of m. It returns
// false if until (zero: none) passes before the answer begins.
func (g *group) readNext(m *Pending, until time.Time) bool {
	c := g.c
	deadline, ok := m.ctx.Deadline()
	if !ok {
		deadline = time.Now().Add(noDeadline)
	}
	patience := g.f.patience()
	c.guard.watch(m.ctx)
	defer func() {
		if g.c == c && !c.guard.unwatch() {
			// m's context ended as its answer was read, and may yet move
			// c's read deadline: c carries the rest no more.
			g.alone(g.next)
		}
	}()
	set := false             // whether c has a read deadline of readNext's
	var waited time.Duration // how long the answer kept the page waiting
	for c.buffered() == 0 {
		// Wait for the answer to begin until the earliest of until, the
		// patience of those behind it and m's deadline, which ctx's end
		// enforces.
		var wait time.Time
		behind := g.next+1 < len(g.members)
		if behind {
			wait = g.last.Add(patience)
		}
		if !until.IsZero() && (wait.IsZero() || until.Before(wait)) {
			wait = until
		}
		if !wait.IsZero() && wait.Before(deadline) {
			setReadDeadline(m.ctx, c, wait)
			set = true
		} else if set {
			setReadDeadline(m.ctx, c, time.Time{})
			set = false
		}
		began := time.Now()
		err := c.peek()
		now := time.Now()
		waited += now.Sub(began)
		if err == nil {
			break
		}
		if stale(noAnswer{err}) && (g.next > 0 || g.reused) {
			// The BFF closed the connection while it was idle, before any
			// answer; or after some, as a BFF that takes no pipelined
			// requests does, and those left count as slow. Either way
			// they go again, each on its own.
			if g.next > 0 {
				for _, r := range g.members[g.next:] {
					r.f.record.add(patience)
				}
			}
			g.alone(g.next)
			return true
		}
		if !errors.Is(err, os.ErrDeadlineExceeded) || m.ctx.Err() != nil || !now.Before(deadline) {
			g.fail(m, err)
			return true
		}
		if behind && !now.Before(g.last.Add(patience)) {
			// The answers behind m's would wait for it: they go alone.
			g.alone(g.next + 1)
			continue
		}
		if !until.IsZero() && !now.Before(until) {
			setReadDeadline(m.ctx, c, time.Time{}) // for the next Wait
			return false
		}
	}
	if set {
		setReadDeadline(m.ctx, c, time.Time{})
	}
	b := newBody()
	a, err := readAnswer(c.br, m.f.max, b)
	if err != nil {
		b.release()
		g.fail(m, err)
		return true
	}
	now := time.Now()
	d := now.Sub(g.last)
	switch {
	case g.next == 0:
		// The first answer's time is also its request's way there and
		// the BFF's queue: only one past the patience, which sent those
		// behind it alone, counts against it.
		g.f.lead(d)
		if d <= patience {
			d = 0
		}
		m.f.record.add(d)
	default:
		// Behind another, an answer that was in when the page came to it
		// cost nothing; one the page waited for, the BFF took that long
		// over, after the one before.
		m.f.record.add(waited)
	}
	g.last = now
	m.mu.Lock()
	m.ans, m.read = bff.FragmentAnswer{Status: a.status, Header: a.header, Body: b.b}.ReleaseWith(b.release), true
	m.mu.Unlock()
	g.next++
	switch {
	case !a.keep || m.ctx.Err() != nil: // the connection cannot carry the rest
		g.alone(g.next)
		g.release()
	case g.next == len(g.members):
		g.release()
	}
	return true
}

// setReadDeadline sets c's read deadline to t (zero: none), unless ctx
// has ended: then it stays in the past, where ctx's end puts it.
func setReadDeadline(ctx context.Context, c *fragConn, t time.Time) {
	c.SetReadDeadline(t)
	if ctx.Err() != nil {
		c.SetReadDeadline(longAgo)
	}
}

// fail ends m with err, drops the connection, and sends the requests
// behind m again.
func (g *group) fail(m *Pending, err error) {
	if m.ctx.Err() == context.Canceled {
		err = context.Canceled
	}
	m.mu.Lock()
	m.err, m.read = m.f.fail(err), true
	m.mu.Unlock()
	g.next++
	g.alone(g.next)
	g.release()
}

// Wait returns m's answer once it is in, or ok false if until (zero: no
// limit but m's deadline) passes first. Once ok, the answer is the
// caller's to release.
func (m *Pending) Wait(until time.Time) (ans bff.FragmentAnswer, ok bool, err error) {
	g := m.g
	for m.alone == nil && g.c != nil && !m.isRead() {
		if !g.readNext(g.members[g.next], until) {
			return ans, false, nil
		}
	}
	if m.alone != nil && !m.answered(until) {
		return ans, false, nil
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	m.waited = true
	return m.ans, true, m.err
}

func (m *Pending) isRead() bool {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.read
}

// answered waits for a request sent again to be answered, until until
// (zero: no limit), and reports whether it is.
func (m *Pending) answered(until time.Time) bool {
	if until.IsZero() {
		<-m.alone
		return true
	}
	t := time.NewTimer(time.Until(until))
	defer t.Stop()
	select {
	case <-m.alone:
		return true
	case <-t.C:
		return false
	}
}

// Close drops m: an answer read and not waited for is released, and the
// batch's connection closed if answers are still to come on it.
func (m *Pending) Close() {
	m.mu.Lock()
	m.closed = true
	if m.read && !m.waited && m.err == nil {
		m.ans.Release()
	}
	m.mu.Unlock()
	if g := m.g; g.c != nil && g.next < len(g.members) {
		g.release()
	}
}
