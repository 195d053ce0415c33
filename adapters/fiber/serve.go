package fiber

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/collage-dev/collage/shell"
	"github.com/gofiber/fiber/v2"
)

// Serve serves sh on ln until ctx is done, then shuts down: it stops
// accepting, closes the connections that are not in a request (idle
// keep-alives, and clients still sending theirs), and lets the requests in
// flight finish for up to cfg.ShutdownTimeout. It returns nil once they
// have, and an error if some were still running at the deadline or if ln
// failed for good. Failures to accept that a process recovers from (out of
// file descriptors, a connection aborted in the queue) are retried after a
// pause, from 5 ms doubling to 1 s.
func Serve(ctx context.Context, ln net.Listener, sh *shell.Shell, cfg Config) error {
	return ServeHandler(ctx, ln, shell.NewHandler(sh, cfg))
}

// ServeHandler is Serve of h, whose shell may be swapped while it serves,
// with h's config.
func ServeHandler(ctx context.Context, ln net.Listener, h *shell.Handler) error {
	cfg := h.Config()
	app := NewHandler(h)
	el := newListener(ln, h.Shell().Log())
	served := make(chan error, 1)
	go func() { served <- app.Listener(el) }()
	select {
	case err := <-served:
		el.Close()
		if err == nil { // ln was closed under it
			err = net.ErrClosed
		}
		return fmt.Errorf("serving on %s: %w", ln.Addr(), err)
	case <-ctx.Done():
	}
	el.Close()
	sctx, cancel := context.WithTimeout(context.Background(), cfg.ShutdownTimeout)
	defer cancel()
	stop := make(chan struct{})
	swept := make(chan struct{})
	go func() {
		defer close(swept)
		el.sweep(stop)
	}()
	err := app.ShutdownWithContext(sctx)
	close(stop)
	<-swept
	<-served
	if err != nil {
		return fmt.Errorf("shut down with %d request(s) still running after %s: they were cut off", el.busy(), cfg.ShutdownTimeout)
	}
	return nil
}

// markConn is the first handler of every request: it marks the request's
// connection as in a request, for shutdown.
func markConn(c *fiber.Ctx) error {
	if tc, ok := c.Context().Conn().(*conn); ok {
		// The answer before, to a request pipelined with this one, leaves
		// now rather than after this one.
		if err := tc.uncork(); err != nil {
			return err
		}
		tc.state.Store(inRequest)
		tc.served.Store(true)
	}
	return c.Next()
}

// The states of a connection, as shutdown sees them.
const (
	// between requests: idle, or a request's headers or body on the way.
	between int32 = iota
	// inRequest: a handler runs.
	inRequest
	// answering: the response is being written.
	answering
)

// listener tracks the connections it accepted, so that shutdown can close
// those not in a request, and retries the accept errors a server recovers
// from.
type listener struct {
	net.Listener
	log *slog.Logger

	mu     sync.Mutex
	conns  map[*conn]struct{}
	closed chan struct{}
	once   sync.Once
}

func newListener(ln net.Listener, log *slog.Logger) *listener {
	return &listener{Listener: ln, log: log, conns: map[*conn]struct{}{}, closed: make(chan struct{})}
}

// Accept waits for a connection. An error the process may recover from is
// logged and retried after a pause, as net/http does; it returns only when
// the listener is closed or fails for good.
func (l *listener) Accept() (net.Conn, error) {
	var pause time.Duration
	for {
		c, err := l.Listener.Accept()
		if err == nil {
			tc := &conn{Conn: c, l: l}
			l.mu.Lock()
			l.conns[tc] = struct{}{}
			l.mu.Unlock()
			return tc, nil
		}
		if !retryable(err) {
			return nil, err
		}
		pause = min(max(2*pause, 5*time.Millisecond), time.Second)
		l.log.Warn("accepting a connection failed; retrying", "err", err, "pause", pause)
		select {
		case <-time.After(pause):
		case <-l.closed:
			return nil, net.ErrClosed
		}
	}
}

// retryable reports whether an accept error passes: the process is out of
// descriptors or memory for now, or the client gave up in the queue.
func retryable(err error) bool {
	for _, e := range []syscall.Errno{syscall.EMFILE, syscall.ENFILE, syscall.ENOBUFS, syscall.ENOMEM,
		syscall.ECONNABORTED, syscall.ECONNRESET, syscall.EINTR, syscall.EAGAIN, syscall.EPROTO} {
		if errors.Is(err, e) {
			return true
		}
	}
	return false
}

// Close stops accepting; it may be called more than once.
func (l *listener) Close() error {
	var err error
	l.once.Do(func() {
		close(l.closed)
		err = l.Listener.Close()
	})
	return err
}

// sweep closes every connection that is not in a request, every 50 ms
// until stop is closed: a connection that has just answered its last
// request is closed as soon as it would wait for the next.
func (l *listener) sweep(stop <-chan struct{}) {
	t := time.NewTicker(50 * time.Millisecond)
	defer t.Stop()
	for {
		l.mu.Lock()
		var quiet []*conn
		for c := range l.conns {
			if c.state.Load() == between {
				quiet = append(quiet, c)
			}
		}
		l.mu.Unlock()
		for _, c := range quiet {
			c.Close()
		}
		select {
		case <-stop:
			return
		case <-t.C:
		}
	}
}

// busy counts the connections in a request.
func (l *listener) busy() int {
	l.mu.Lock()
	defer l.mu.Unlock()
	n := 0
	for c := range l.conns {
		if c.state.Load() != between {
			n++
		}
	}
	return n
}

// conn is an accepted connection that knows whether it is in a request: edge
// marks it when a handler starts, its first write marks the answer, and the
// read that follows an answer (waiting for the next request, or draining
// what the client sent too much) ends it.
//
// It can also gather writes (cork): fasthttp's 4 KiB write buffer, which a
// streamed page holds while it waits for its fragments, flushes a larger
// page in several writes, and the connection sends them as one.
type conn struct {
	net.Conn
	l      *listener
	state  atomic.Int32
	served atomic.Bool // whether a request reached a handler
	once   sync.Once
	// While corked, what is written gathers in held, to leave in one write
	// (send). Only the connection's goroutine corks it and writes; mu
	// guards held against a Close or Read from another (fasthttp closes
	// idle connections on shutdown, while one may be sending its last
	// answer's end before it waits for the next request; a BFF may read a
	// request's body while its answer is written).
	corked atomic.Bool
	mu     sync.Mutex
	held   *[]byte
}

func (c *conn) Read(p []byte) (int, error) {
	// A response's end leaves before the connection waits for the next.
	if err := c.uncork(); err != nil {
		return 0, err
	}
	c.state.CompareAndSwap(answering, between)
	return c.Conn.Read(p)
}

// cork gathers what is written from now on, until send or uncork.
func (c *conn) cork() { c.corked.Store(true) }

// uncork sends what was gathered, if corked, and writes go out at once
// again.
func (c *conn) uncork() error {
	if !c.corked.Swap(false) {
		return nil
	}
	return c.send()
}

// heldPool holds the buffers of gathered writes; one above maxHeld is
// dropped.
var heldPool = sync.Pool{New: func() any { return new([]byte) }}

// maxHeld bounds what a corked connection gathers before it sends.
const maxHeld = 64 << 10

// send writes what was gathered, in one write, and gives its buffer back.
func (c *conn) send() error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.held == nil {
		return nil
	}
	b := *c.held
	_, err := c.Conn.Write(b)
	if cap(b) <= maxHeld {
		*c.held = b[:0]
		heldPool.Put(c.held)
	}
	c.held = nil
	return err
}

func (c *conn) Write(p []byte) (int, error) {
	c.state.CompareAndSwap(inRequest, answering)
	if !c.corked.Load() {
		// What a write gathered as a Read uncorked the connection under it
		// still goes first.
		if err := c.send(); err != nil {
			return 0, err
		}
		return c.Conn.Write(p)
	}
	c.mu.Lock()
	if c.held == nil {
		c.held = heldPool.Get().(*[]byte)
	}
	*c.held = append(*c.held, p...)
	full := len(*c.held) >= maxHeld
	c.mu.Unlock()
	if full {
		if err := c.send(); err != nil {
			return 0, err
		}
	}
	return len(p), nil
}

// lingerFor bounds how long a connection closed right after its answer
// keeps reading what the client still sends.
const lingerFor = 2 * time.Second

// Close closes the connection. One that has served a request (a 413 before
// the body was read, a Connection: close, the end of a keep-alive) first
// sends its FIN and reads what the client still sends, for up to lingerFor:
// closing with unread bytes would reset the connection, and a client still
// sending its body would lose the answer. One that never got a whole
// request (a slowloris, a client that sends nothing) is closed at once.
func (c *conn) Close() error {
	// What the connection gathered leaves before it closes.
	c.send()
	var err error
	c.once.Do(func() {
		c.l.mu.Lock()
		delete(c.l.conns, c)
		c.l.mu.Unlock()
		tc, ok := c.Conn.(*net.TCPConn)
		if !ok || !c.served.Load() || tc.CloseWrite() != nil {
			err = c.Conn.Close()
			return
		}
		go func() {
			tc.SetReadDeadline(time.Now().Add(lingerFor))
			io.Copy(io.Discard, tc)
			tc.Close()
		}()
	})
	return err
}
