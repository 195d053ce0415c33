package nethttp

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"sync"
	"time"

	"github.com/collage-dev/collage/bff"
	"github.com/collage-dev/collage/shell"
)

// maxHeaderBytes bounds a request's line and headers, as fiber's read
// buffer does.
const maxHeaderBytes = 16 << 10

// Serve serves sh on ln until ctx is done, then shuts down: it stops
// accepting, closes the connections that are not in a request (idle
// keep-alives, and clients still sending theirs), and lets the requests in
// flight finish for up to cfg.ShutdownTimeout. It returns nil once they
// have, and an error if some were still running at the deadline or if ln
// failed for good. Failures to accept that a process recovers from are
// retried by http.Server after a pause, from 5 ms doubling to 1 s.
func Serve(ctx context.Context, ln net.Listener, sh *shell.Shell, cfg Config) error {
	return ServeHandler(ctx, ln, shell.NewHandler(sh, cfg))
}

// ServeHandler is Serve of h, whose shell may be swapped while it serves,
// with h's config.
func ServeHandler(ctx context.Context, ln net.Listener, h *shell.Handler) error {
	cfg := h.Config()
	tr := &tracker{conns: map[net.Conn]http.ConnState{}}
	srv := &http.Server{
		Handler:           NewHandler(h),
		ReadHeaderTimeout: cfg.HeaderTimeout,
		// A request's body, unread by a page or read by /bff (which gives it
		// its own deadline), must arrive in time too.
		ReadTimeout: cfg.HeaderTimeout + cfg.BodyTimeout,
		// Each response sets its write deadline when it begins, as fiber's
		// runs from the end of the handler.
		IdleTimeout:    cfg.IdleTimeout,
		MaxHeaderBytes: maxHeaderBytes,
		ConnState:      tr.track,
		ErrorLog:       slog.NewLogLogger(h.Shell().Log().Handler(), slog.LevelWarn),
	}
	capped := &limitListener{Listener: ln, max: cfg.MaxConns}
	served := make(chan error, 1)
	go func() { served <- srv.Serve(capped) }()
	select {
	case err := <-served:
		if errors.Is(err, http.ErrServerClosed) {
			err = net.ErrClosed
		}
		return fmt.Errorf("serving on %s: %w", ln.Addr(), err)
	case <-ctx.Done():
	}
	sctx, cancel := context.WithTimeout(context.Background(), cfg.ShutdownTimeout)
	defer cancel()
	stop := make(chan struct{})
	swept := make(chan struct{})
	go func() {
		defer close(swept)
		tr.sweep(stop)
	}()
	err := srv.Shutdown(sctx)
	close(stop)
	<-swept
	if err != nil {
		busy := tr.busy()
		srv.Close()
		<-served
		return fmt.Errorf("shut down with %d request(s) still running after %s: they were cut off", busy, cfg.ShutdownTimeout)
	}
	<-served
	return nil
}

// tracker knows the state of each connection, so that shutdown can close
// those that are still sending their request: http.Server's Shutdown
// would wait five seconds for them.
type tracker struct {
	mu    sync.Mutex
	conns map[net.Conn]http.ConnState
}

func (t *tracker) track(c net.Conn, s http.ConnState) {
	t.mu.Lock()
	defer t.mu.Unlock()
	switch s {
	case http.StateClosed, http.StateHijacked:
		delete(t.conns, c)
	default:
		t.conns[c] = s
	}
}

// sweep closes every connection that has not sent a whole request, every
// 50 ms until stop is closed.
func (t *tracker) sweep(stop <-chan struct{}) {
	tick := time.NewTicker(50 * time.Millisecond)
	defer tick.Stop()
	for {
		t.mu.Lock()
		var quiet []net.Conn
		for c, s := range t.conns {
			if s == http.StateNew {
				quiet = append(quiet, c)
			}
		}
		t.mu.Unlock()
		for _, c := range quiet {
			c.Close()
		}
		select {
		case <-stop:
			return
		case <-tick.C:
		}
	}
}

// busy counts the connections in a request.
func (t *tracker) busy() int {
	t.mu.Lock()
	defer t.mu.Unlock()
	n := 0
	for _, s := range t.conns {
		if s == http.StateActive {
			n++
		}
	}
	return n
}

// limitListener caps the connections open at once: one more is answered
// 503 and closed.
type limitListener struct {
	net.Listener
	max int

	mu   sync.Mutex
	open int
}

// overCap is the answer to a connection over the cap.
var overCap = func() []byte {
	body := (&bff.Error{Code: bff.CodeServiceUnavailable, Message: "the server is at its connection limit"}).JSON()
	return fmt.Appendf(nil, "HTTP/1.1 503 Service Unavailable\r\nContent-Type: application/json\r\nContent-Length: %d\r\nConnection: close\r\n\r\n%s", len(body), body)
}()

func (l *limitListener) Accept() (net.Conn, error) {
	for {
		c, err := l.Listener.Accept()
		if err != nil {
			return nil, err
		}
		l.mu.Lock()
		over := l.open >= l.max
		if !over {
			l.open++
		}
		l.mu.Unlock()
		if !over {
			return &limitedConn{Conn: c, l: l}, nil
		}
		go func() {
			c.SetWriteDeadline(time.Now().Add(time.Second))
			c.Write(overCap)
			c.Close()
		}()
	}
}

// limitedConn gives its place back once closed.
type limitedConn struct {
	net.Conn
	l    *limitListener
	once sync.Once
}

func (c *limitedConn) Close() error {
	c.once.Do(func() {
		c.l.mu.Lock()
		c.l.open--
		c.l.mu.Unlock()
	})
	return c.Conn.Close()
}
