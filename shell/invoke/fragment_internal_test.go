package invoke

import (
	"context"
	"crypto/x509"
	"errors"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"sync"
	"testing"
	"time"

	"github.com/collage-dev/collage/bff"
)

// TestFragmentsOverTLS: an https:// BFF's fragments come over TLS, with
// the server's name checked against its certificate.
func TestFragmentsOverTLS(t *testing.T) {
	t.Parallel()
	srv := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Write([]byte("<p>" + r.TLS.ServerName + r.URL.Path + "</p>"))
	}))
	t.Cleanup(srv.Close)
	u, err := url.Parse(srv.URL + "/team")
	if err != nil {
		t.Fatal(err)
	}
	u.Host = "example.com:" + u.Port() // the test certificate's name
	f := newFragments(u, HTTPOptions{MaxConnsPerHost: 2, MaxFragmentBytes: 1 << 10})
	f.addr = srv.Listener.Addr().String() // dialed there, not resolved
	roots := x509.NewCertPool()
	roots.AddCert(srv.Certificate())
	f.tls.RootCAs = roots
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	for range 2 { // the second on the pooled connection
		ans, err := f.fetch(ctx, &bff.FragmentCall{Path: "/"})
		if err != nil {
			t.Fatal(err)
		}
		if string(ans.Body) != "<p>example.com/team/_fragment</p>" {
			t.Errorf("body %q", ans.Body)
		}
		ans.Release()
	}
	f.tls.RootCAs = x509.NewCertPool()
	f.idle = nil
	if _, err := f.fetch(ctx, &bff.FragmentCall{Path: "/"}); err == nil {
		t.Error("a certificate no root signed is accepted")
	}
}

// TestIdleConnectionsSwept: a connection left in the pool past idleFor is
// closed without a request to come, and the sweep stops once the pool is
// empty.
func TestIdleConnectionsSwept(t *testing.T) {
	t.Parallel()
	var states sync.Map // the server's connections, by remote address
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Write([]byte("<p>ok</p>"))
	}))
	srv.Config.ConnState = func(c net.Conn, s http.ConnState) { states.Store(c.RemoteAddr().String(), s) }
	srv.Start()
	t.Cleanup(srv.Close)
	u, err := url.Parse(srv.URL)
	if err != nil {
		t.Fatal(err)
	}
	f := newFragments(u, HTTPOptions{MaxConnsPerHost: 4, MaxFragmentBytes: 1 << 10})
	f.idleFor = 50 * time.Millisecond
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	ans, err := f.fetch(ctx, &bff.FragmentCall{Path: "/"})
	if err != nil {
		t.Fatal(err)
	}
	ans.Release()
	closed := func() bool {
		n := 0
		states.Range(func(_, s any) bool {
			if s != http.StateClosed {
				n++
			}
			return true
		})
		return n == 0
	}
	for !closed() {
		select {
		case <-ctx.Done():
			t.Fatal("the idle connection is still open 10 s after it went idle")
		case <-time.After(10 * time.Millisecond):
		}
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	if len(f.idle) != 0 || f.sweeping {
		t.Errorf("after the sweep: %d idle, sweeping %v", len(f.idle), f.sweeping)
	}
}

// TestGuard: a watched read from the socket ends when the context does,
// and unwatch then says the connection may not carry another request; a
// context that ends with no read from the socket leaves it usable.
func TestGuard(t *testing.T) {
	t.Parallel()
	client, server := net.Pipe()
	t.Cleanup(func() { client.Close(); server.Close() })
	g := &guard{conn: client}

	ctx, cancel := context.WithCancel(context.Background())
	g.watch(ctx)
	cancel()
	if !g.unwatch() {
		t.Error("unwatch after a context ended with no read from the socket: false, want true")
	}

	ctx, cancel = context.WithCancel(context.Background())
	g.watch(ctx)
	time.AfterFunc(10*time.Millisecond, cancel)
	client.SetReadDeadline(time.Now().Add(10 * time.Second)) // should the guard not cut the read
	if _, err := g.Read(make([]byte, 1)); !errors.Is(err, os.ErrDeadlineExceeded) {
		t.Fatalf("a read when the context ended: %v, want a deadline exceeded", err)
	}
	if g.unwatch() {
		t.Error("unwatch after the context cut a read: true, want false")
	}

	client.SetReadDeadline(time.Time{})
	go server.Write([]byte("x"))
	if n, err := g.Read(make([]byte, 1)); n != 1 || err != nil {
		t.Errorf("an unwatched read: %d, %v", n, err)
	}
}

// TestPeekLends: on a TCP connection, peek lends a reader only once
// bytes or the end of the stream are there to read, gives back an
// emptied one before it waits again, and ends with no reader lent when
// the context watched does.
func TestPeekLends(t *testing.T) {
	t.Parallel()
	ln := listen(t)
	accepted := make(chan net.Conn, 1)
	go func() {
		c, err := ln.Accept()
		if err == nil {
			accepted <- c
		}
	}()
	f := newFragments(&url.URL{Scheme: "http", Host: ln.Addr().String()}, HTTPOptions{MaxConnsPerHost: 1})
	c, err := f.dial(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	server := <-accepted
	t.Cleanup(func() { server.Close() })
	if c.raw == nil {
		t.Fatal("a TCP connection has no raw socket to wait on")
	}

	ctx, cancel := context.WithCancel(context.Background())
	c.guard.watch(ctx)
	time.AfterFunc(10*time.Millisecond, cancel)
	c.SetReadDeadline(time.Now().Add(10 * time.Second)) // should the guard not cut the wait
	if err := c.peek(); !errors.Is(err, os.ErrDeadlineExceeded) {
		t.Fatalf("a peek when the context ended: %v, want a deadline exceeded", err)
	}
	if c.guard.unwatch() {
		t.Error("unwatch after the context cut a peek: true, want false")
	}
	if c.br != nil {
		t.Error("a peek that met no byte left a reader lent")
	}

	c.SetReadDeadline(time.Now().Add(10 * time.Second)) // should a peek miss the byte
	time.AfterFunc(10*time.Millisecond, func() { server.Write([]byte("x")) })
	if err := c.peek(); err != nil {
		t.Fatalf("a peek for a byte: %v", err)
	}
	if c.br == nil || c.br.Buffered() != 1 {
		t.Fatalf("after a peek that met a byte, the reader lent holds %d", c.buffered())
	}
	if b, err := c.br.ReadByte(); b != 'x' || err != nil {
		t.Errorf("the byte peeked: %q, %v", b, err)
	}
	ctx, cancel = context.WithCancel(context.Background())
	c.guard.watch(ctx)
	time.AfterFunc(10*time.Millisecond, cancel)
	if err := c.peek(); !errors.Is(err, os.ErrDeadlineExceeded) {
		t.Fatalf("a peek for a second answer when the context ended: %v, want a deadline exceeded", err)
	}
	c.guard.unwatch()
	if c.br != nil {
		t.Error("a peek for a second answer kept the emptied reader while it waited")
	}
	c.SetReadDeadline(time.Time{})

	server.Close()
	if err := c.peek(); !errors.Is(err, io.EOF) {
		t.Errorf("a peek at the end of the stream: %v, want EOF", err)
	}
}

// listen returns a listener on a free port of 127.0.0.1, closed when the
// test ends.
func listen(t *testing.T) net.Listener {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	return ln
}
