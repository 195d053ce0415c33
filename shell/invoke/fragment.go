package invoke

import (
	"bufio"
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"net"
	"net/url"
	"os"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/collage-dev/collage/bff"
)

const (
	// noDeadline bounds a fragment request whose context has no deadline.
	noDeadline = 30 * time.Second
	// idleFor is how long a connection may wait in the pool to be reused.
	idleFor = 90 * time.Second
)

// longAgo is a deadline already past: set on a connection, it ends the
// read or write under way at once.
var longAgo = time.Unix(1, 0)

// fragments gets the fragments of one HTTP BFF: GET base/_fragment over
// HTTP/1.1 on pooled keep-alive connections, each request built and
// written in one write, each answer read into a pooled buffer, with no
// *http.Request or *http.Response. It is the path of every slot of every
// page, so it does only what a fragment needs: no redirects, no proxies,
// no compression, no HTTP/2; a fragment answer of any framing HTTP/1.1
// allows (see readAnswer). docs/BENCHMARKS.md measures it against
// fasthttp's client, which it replaced, and net/http's Transport.
type fragments struct {
	addr   string      // host:port to dial
	host   string      // the Host header
	uri    string      // the request target
	tls    *tls.Config // nil for http://
	max    int64       // the largest body read
	dialer net.Dialer

	conns chan struct{} // a token per connection in use: at most MaxConnsPerHost

	mu       sync.Mutex
	idle     []*fragConn // the most recently used last
	maxIdle  int
	idleFor  time.Duration // how long a connection may wait in the pool
	sweeping bool          // whether a sweep is due

	record   record       // the last answers' times, for batches
	leadTime atomic.Int64 // the first answers of batches: their time, smoothed
}

// readBytes is the size of the reader a connection is lent while it
// reads answers: it takes a batch's answers as they stand in the socket
// in one read (four 2 KiB fragments and their heads, where 4 KiB took
// three). A body larger than it bypasses it. A connection holds none at
// rest, in the pool or waiting on its BFF: it is lent one once an answer
// begins to arrive (see fragConn.peek).
const readBytes = 16 << 10

// readers are the readers lent to connections.
var readers = sync.Pool{New: func() any { return bufio.NewReaderSize(nil, readBytes) }}

// fragConn is a keep-alive connection to the BFF.
type fragConn struct {
	net.Conn
	br    *bufio.Reader // reads through guard while lent: nil at rest
	guard guard
	raw   syscall.RawConn       // nil over TLS, and where reads cannot be made so
	fill  func(fd uintptr) bool // raw.Read's func for peek, made once
	met   error                 // what fill's read met
	req   []byte                // the last request written, its array reused
	used  time.Time             // when it went back to the pool
}

// peek waits for the first byte of the next answer on c. On a TCP
// connection, c holds a reader only while it has bytes read ahead: it
// gives back an empty one, waits on the runtime's poller holding no
// buffer, and is lent one once bytes are there to read. Over TLS it is
// lent one before it waits.
func (c *fragConn) peek() error {
	if c.raw != nil && c.buffered() == 0 {
		c.returnReader()
		c.guard.arm()
		c.met = nil
		if err := c.raw.Read(c.fill); err != nil {
			return err
		}
		return c.met
	}
	if c.br == nil {
		c.borrow()
	}
	_, err := c.br.Peek(1)
	return err
}

// initFill makes c.fill, which reads what the socket has into a reader
// lent for it, or gives the reader back and reports false, to wait on the
// poller, if the read would block.
func (c *fragConn) initFill() {
	c.fill = func(fd uintptr) bool {
		c.borrow()
		c.guard.fd, c.guard.direct = fd, true
		_, err := c.br.Peek(1)
		c.guard.direct = false
		if err == syscall.EAGAIN {
			c.returnReader()
			return false
		}
		c.met = err
		return true
	}
}

func (c *fragConn) borrow() {
	c.br = readers.Get().(*bufio.Reader)
	c.br.Reset(&c.guard)
}

// buffered is how many bytes c has read ahead.
func (c *fragConn) buffered() int {
	if c.br == nil {
		return 0
	}
	return c.br.Buffered()
}

// returnReader gives back the reader c was lent. It reports false if
// bytes were left unread in it: c is then not fit for another request.
func (c *fragConn) returnReader() bool {
	if c.br == nil {
		return true
	}
	if c.br.Buffered() > 0 {
		return false
	}
	c.br.Reset(nil)
	readers.Put(c.br)
	c.br = nil
	return true
}

// guard is what a connection's reader reads from: the connection, whose
// read deadline it moves to the past when the context it watches ends.
// It arms at the first read from the socket, so that an answer already
// in the reader's buffer costs no context.AfterFunc.
type guard struct {
	conn   net.Conn
	fd     uintptr         // the socket, read straight while direct
	direct bool            // set by fragConn.fill, which runs with the poller's lock held
	ctx    context.Context // nil: reads are not watched
	stop   func() bool     // set once armed
}

func (g *guard) Read(p []byte) (int, error) {
	if g.direct {
		return readFD(g.fd, p)
	}
	g.arm()
	return g.conn.Read(p)
}

// arm has the end of the context watched move the read deadline to the
// past, once a read is to wait on the socket.
func (g *guard) arm() {
	if g.ctx != nil && g.stop == nil {
		conn := g.conn
		g.stop = context.AfterFunc(g.ctx, func() { conn.SetReadDeadline(longAgo) })
	}
}

// watch has ctx's end cut the reads from now on.
func (g *guard) watch(ctx context.Context) { g.ctx = ctx }

// unwatch ends watch. It reports false if the context has ended and may
// still move the deadline: the connection then carries no other request.
func (g *guard) unwatch() bool {
	ok := g.stop == nil || g.stop()
	g.ctx, g.stop = nil, nil
	return ok
}

func newFragments(u *url.URL, opts HTTPOptions) *fragments {
	addr := u.Host
	if u.Port() == "" {
		port := "80"
		if u.Scheme == "https" {
			port = "443"
		}
		addr = net.JoinHostPort(u.Hostname(), port)
	}
	f := &fragments{
		addr:    addr,
		host:    u.Host,
		uri:     strings.TrimRight(u.EscapedPath(), "/") + bff.FragmentPath,
		max:     opts.MaxFragmentBytes,
		conns:   make(chan struct{}, opts.MaxConnsPerHost),
		maxIdle: opts.MaxConnsPerHost,
		idleFor: idleFor,
	}
	if u.Scheme == "https" {
		f.tls = &tls.Config{ServerName: u.Hostname(), NextProtos: []string{"http/1.1"}}
	}
	return f
}

// fetch sends GET /_fragment with call's headers and reads the whole
// answer, whose body stays in a pooled buffer until the answer is
// released. It stops when ctx ends: at its deadline, or as soon as it is
// canceled (a page that ended early, a client gone), freeing the
// connection it held.
func (f *fragments) fetch(ctx context.Context, call *bff.FragmentCall) (bff.FragmentAnswer, error) {
	if _, ok := ctx.Deadline(); !ok {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, noDeadline)
		defer cancel()
	}
	if err := f.acquire(ctx); err != nil {
		return bff.FragmentAnswer{}, err
	}
	defer func() { <-f.conns }()
	c, reused, err := f.conn(ctx)
	if err != nil {
		return bff.FragmentAnswer{}, f.fail(err)
	}
	ans, keep, err := f.roundTrip(ctx, c, call)
	if err != nil && reused && stale(err) {
		// The BFF closed the connection while it was idle, and the request
		// never reached it: a GET is safe to send again, once, on a new one.
		c.Close()
		if c, err = f.dial(ctx); err != nil {
			return bff.FragmentAnswer{}, f.fail(err)
		}
		ans, keep, err = f.roundTrip(ctx, c, call)
	}
	if err != nil {
		c.Close()
		if ctx.Err() == context.Canceled {
			return bff.FragmentAnswer{}, fmt.Errorf("GET %s%s: %w", f.host, f.uri, context.Canceled)
		}
		return bff.FragmentAnswer{}, f.fail(err)
	}
	if keep {
		f.put(c)
	} else {
		c.Close()
	}
	return ans, nil
}

// acquire waits for a connection to be free, until ctx ends.
func (f *fragments) acquire(ctx context.Context) error {
	select {
	case f.conns <- struct{}{}:
		return nil
	default:
	}
	select {
	case f.conns <- struct{}{}:
		return nil
	case <-ctx.Done():
		return fmt.Errorf("GET %s%s: waiting for one of %d connections: %w", f.host, f.uri, cap(f.conns), ctx.Err())
	}
}

// conn returns an idle connection, or a new one.
func (f *fragments) conn(ctx context.Context) (c *fragConn, reused bool, err error) {
	now := time.Now()
	f.mu.Lock()
	for len(f.idle) > 0 {
		c = f.idle[len(f.idle)-1]
		f.idle = f.idle[:len(f.idle)-1]
		if now.Sub(c.used) < f.idleFor {
			f.mu.Unlock()
			return c, true, nil
		}
		c.Close()
	}
	f.mu.Unlock()
	c, err = f.dial(ctx)
	return c, false, err
}

func (f *fragments) dial(ctx context.Context) (*fragConn, error) {
	nc, err := f.dialer.DialContext(ctx, "tcp", f.addr)
	if err != nil {
		return nil, err
	}
	if f.tls != nil {
		tc := tls.Client(nc, f.tls)
		if err := tc.HandshakeContext(ctx); err != nil {
			nc.Close()
			return nil, err
		}
		nc = tc
	}
	c := &fragConn{Conn: nc, guard: guard{conn: nc}, raw: rawConn(nc)}
	if c.raw != nil {
		c.initFill()
	}
	return c, nil
}

// put hands c back to the pool, or closes it if the pool is full.
func (f *fragments) put(c *fragConn) {
	c.used = time.Now()
	f.mu.Lock()
	if len(f.idle) < f.maxIdle {
		f.idle = append(f.idle, c)
		c = nil
		if !f.sweeping {
			f.sweeping = true
			time.AfterFunc(f.idleFor, f.sweep)
		}
	}
	f.mu.Unlock()
	if c != nil {
		c.Close()
	}
}

// sweep closes the connections that have waited in the pool for idleFor,
// and comes again while some wait: a BFF that goes quiet is left no open
// connection of the shell's.
func (f *fragments) sweep() {
	now := time.Now()
	f.mu.Lock()
	// The oldest are first: close them up to the first that may stay.
	n := 0
	for n < len(f.idle) && now.Sub(f.idle[n].used) >= f.idleFor {
		n++
	}
	stale := slices.Clone(f.idle[:n])
	f.idle = slices.Delete(f.idle, 0, n)
	if len(f.idle) > 0 {
		time.AfterFunc(f.idleFor-now.Sub(f.idle[0].used), f.sweep)
	} else {
		f.sweeping = false
	}
	f.mu.Unlock()
	for _, c := range stale {
		c.Close()
	}
}

// roundTrip writes the request on c and reads its answer; keep reports
// whether c may carry another request. c has no deadline of its own: when
// ctx ends, at its deadline or canceled, c's deadline is moved to the past,
// which ends the write or read under way. That spares a timer a request.
func (f *fragments) roundTrip(ctx context.Context, c *fragConn, call *bff.FragmentCall) (ans bff.FragmentAnswer, keep bool, err error) {
	stop := context.AfterFunc(ctx, func() { c.SetDeadline(longAgo) })
	defer func() {
		if !stop() {
			// ctx ended: its func may still be about to move the deadline,
			// so c must carry no other request.
			keep = false
		}
	}()
	c.req = f.appendRequest(c.req[:0], call)
	if _, err := c.Write(c.req); err != nil {
		return ans, false, noAnswer{err}
	}
	if err := c.peek(); err != nil {
		return ans, false, noAnswer{err}
	}
	b := newBody()
	a, err := readAnswer(c.br, f.max, b)
	if err != nil {
		b.release()
		return ans, false, err
	}
	ans = bff.FragmentAnswer{Status: a.status, Header: a.header, Body: b.b}
	return ans.ReleaseWith(b.release), c.returnReader() && a.keep, nil
}

// appendRequest appends the fragment request of call to b. Header values
// lose any CR or LF, which would end them early.
func (f *fragments) appendRequest(b []byte, call *bff.FragmentCall) []byte {
	b = append(b, "GET "...)
	b = append(b, f.uri...)
	b = append(b, " HTTP/1.1\r\nHost: "...)
	b = append(b, f.host...)
	b = append(b, "\r\n"...)
	for k, vs := range call.Header {
		for _, v := range vs {
			b = appendHeader(b, k, v)
		}
	}
	b = appendHeader(b, bff.HeaderPath, call.Path)
	b = appendHeader(b, bff.HeaderParams, call.Params)
	if call.Slot != "" {
		b = appendHeader(b, bff.HeaderSlot, call.Slot)
	}
	return append(b, "\r\n"...)
}

func appendHeader(b []byte, k, v string) []byte {
	b = appendLine(b, k)
	b = append(b, ": "...)
	b = appendLine(b, v)
	return append(b, "\r\n"...)
}

func appendLine(b []byte, s string) []byte {
	for i := 0; i < len(s); i++ {
		if c := s[i]; c == '\r' || c == '\n' {
			b = append(b, s[:i]...)
			return appendLine(append(b, ' '), s[i+1:])
		}
	}
	return append(b, s...)
}

// fail words err as the failure of the fragment request: a deadline that
// passed is context.DeadlineExceeded.
func (f *fragments) fail(err error) error {
	var tooLarge errTooLarge
	switch {
	case errors.As(err, &tooLarge):
		return fmt.Errorf("fragment is larger than %d bytes", f.max)
	case errors.Is(err, os.ErrDeadlineExceeded), errors.Is(err, context.DeadlineExceeded):
		return fmt.Errorf("GET %s%s: %w", f.host, f.uri, context.DeadlineExceeded)
	}
	return fmt.Errorf("GET %s%s: %w", f.host, f.uri, err)
}

// noAnswer is an error met before any byte of the answer came.
type noAnswer struct{ error }

func (e noAnswer) Unwrap() error { return e.error }

// stale reports whether err is what a request on a connection the peer
// had closed meets: the write fails, or the read ends before any answer.
func stale(err error) bool {
	var na noAnswer
	return errors.As(err, &na) &&
		(errors.Is(err, io.EOF) || errors.Is(err, syscall.ECONNRESET) || errors.Is(err, syscall.EPIPE))
}

// body is a pooled buffer for an answer's body, with the func that hands
// it back, made once.
type body struct {
	b       []byte
	release func()
}

var bodies sync.Pool

// newBody returns a pooled body buffer, or a new one.
func newBody() *body {
	if b, ok := bodies.Get().(*body); ok {
		return b
	}
	b := new(body)
	b.release = func() {
		if cap(b.b) > 64<<10 {
			b.b = nil // a rare large body is not kept
		}
		b.b = b.b[:0]
		bodies.Put(b)
	}
	return b
}
