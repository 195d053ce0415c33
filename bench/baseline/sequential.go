package main

import (
	"bufio"
	"bytes"
	"errors"
	"io"
	"log/slog"
	"net"
	"net/url"
	"os"
	"strconv"
	"sync"
	"time"

	"github.com/gofiber/fiber/v2"
)

// sequential composes a page on the goroutine that serves its request,
// with no goroutine per fragment: it sends every slot's GET on a pooled
// keep-alive connection, streams the layout up to the first slot as one
// chunk, then reads the answers in slot order (the order the page is
// written in, so no byte waits longer than it would anyway) and sends the
// rest as a second chunk. It logs a line a page, as collage serve does.
//
// With pipelined, every slot's GET goes on one connection, all of them in
// one write, and the answers are read from it in order (HTTP/1.1
// pipelining): one write and a read or two a page instead of one of each
// per slot, on both ends. The server answers them one after the other, so
// the page takes the sum of the fragments' times, not the longest.
//
// It is a floor, not a composer: one deadline for the whole page and no
// deadline of a slot's own, no timeout fallback before that deadline, a
// fragment read only with a Content-Length, no headers forwarded, no
// metrics. What it measures is what composing over HTTP/1.1 on fiber costs
// without a goroutine hand-off per fragment.
type sequential struct {
	static [][]byte
	slots  []seqSlot
	log    *slog.Logger
	// pipelined: every GET in one write on one connection (then every
	// slot's conns is the same pool), all of them in all.
	pipelined bool
	all       []byte
}

type seqSlot struct {
	conns    *connPool
	req      []byte // the whole GET
	open     []byte // <collage-slot frontend="NAME">
	fallback []byte
}

// pageDeadline bounds a page's fragments, as each slot's timeout="1s"
// in the benchmark's layout.
const pageDeadline = time.Second

func newSequential(src []byte, base string, pipelined bool) (*sequential, error) {
	u, err := url.Parse(base)
	if err != nil {
		return nil, err
	}
	l, err := parseLayout(src)
	if err != nil {
		return nil, err
	}
	s := &sequential{static: l.static, log: slog.New(slog.NewTextHandler(os.Stderr, nil)), pipelined: pipelined}
	shared := &connPool{addr: u.Host}
	for i, name := range l.names {
		conns := shared
		if !pipelined {
			conns = &connPool{addr: u.Host}
		}
		s.slots = append(s.slots, seqSlot{
			conns:    conns,
			req:      []byte("GET " + u.Path + "/" + name + "/_fragment HTTP/1.1\r\nHost: " + u.Host + "\r\nCollage-Path: /\r\nCollage-Params: \r\n\r\n"),
			open:     []byte(`<collage-slot frontend="` + name + `">`),
			fallback: l.fallbacks[i],
		})
		s.all = append(s.all, s.slots[i].req...)
	}
	return s, nil
}

func (s *sequential) handle(c *fiber.Ctx) error {
	p := &seqPage{s: s, start: time.Now(), conns: make([]*seqConn, len(s.slots))}
	deadline := p.start.Add(pageDeadline)
	if s.pipelined {
		cn := send(s.slots[0].conns, deadline, s.all)
		for i := range p.conns {
			p.conns[i] = cn
		}
	} else {
		for i, sl := range s.slots {
			p.conns[i] = send(sl.conns, deadline, sl.req) // nil: the slot gets its fallback
		}
	}
	c.Type("html", "utf-8")
	c.Context().SetBodyStream(p, -1)
	return nil
}

// send writes req on a connection of cp, or returns nil if it cannot.
func send(cp *connPool, deadline time.Time, req []byte) *seqConn {
	cn, err := cp.get()
	if err != nil {
		return nil
	}
	if err = cn.SetDeadline(deadline); err == nil {
		_, err = cn.Write(req)
	}
	if err != nil {
		cn.Close()
		return nil
	}
	return cn
}

// seqPage is a page's body: fasthttp calls its WriteTo on the
// connection's goroutine, and each Write is a chunk sent at once.
type seqPage struct {
	s     *sequential
	start time.Time
	conns []*seqConn
}

func (p *seqPage) Read([]byte) (int, error)  { return 0, io.EOF }
func (p *seqPage) SupportsBodyWriteTo() bool { return true }

// Close closes the connections of a page that ended before reading them.
func (p *seqPage) Close() error {
	for i, cn := range p.conns {
		if cn != nil {
			cn.Close()
			p.drop(i, cn)
		}
	}
	return nil
}

// drop forgets cn from slot i on: with pipelined, the slots after i wait
// on the same connection.
func (p *seqPage) drop(i int, cn *seqConn) {
	for j := i; j < len(p.conns); j++ {
		if p.conns[j] == cn {
			p.conns[j] = nil
		}
	}
}

var pageBufs = sync.Pool{New: func() any { return new([]byte) }}

func (p *seqPage) WriteTo(w io.Writer) (int64, error) {
	n, err := w.Write(p.s.static[0])
	if err != nil {
		return int64(n), err
	}
	bp := pageBufs.Get().(*[]byte)
	b := (*bp)[:0]
	failed := 0
	for i, sl := range p.s.slots {
		b = append(b, sl.open...)
		if cn := p.conns[i]; cn != nil {
			var ok bool
			b, ok = cn.readAnswer(b, sl.fallback)
			p.conns[i] = nil
			switch {
			case !ok:
				cn.Close()
				p.drop(i, cn) // with pipelined, the answers after it are lost too
				failed++
			case !p.s.pipelined || i == len(p.conns)-1:
				sl.conns.put(cn)
			}
		} else {
			b = append(b, sl.fallback...)
			failed++
		}
		b = append(b, "</collage-slot>"...)
		b = append(b, p.s.static[i+1]...)
	}
	m, err := w.Write(b)
	*bp = b
	pageBufs.Put(bp)
	p.s.log.Info("page", "path", "/", "took", time.Since(p.start), "failed", failed)
	return int64(n + m), err
}

// connPool holds the idle keep-alive connections to one fragment server.
type connPool struct {
	addr string
	mu   sync.Mutex
	idle []*seqConn
}

type seqConn struct {
	net.Conn
	br *bufio.Reader
}

func (cp *connPool) get() (*seqConn, error) {
	cp.mu.Lock()
	if n := len(cp.idle); n > 0 {
		cn := cp.idle[n-1]
		cp.idle = cp.idle[:n-1]
		cp.mu.Unlock()
		return cn, nil
	}
	cp.mu.Unlock()
	nc, err := net.DialTimeout("tcp", cp.addr, pageDeadline)
	if err != nil {
		return nil, err
	}
	return &seqConn{Conn: nc, br: bufio.NewReaderSize(nc, 4096)}, nil
}

func (cp *connPool) put(cn *seqConn) {
	cp.mu.Lock()
	cp.idle = append(cp.idle, cn)
	cp.mu.Unlock()
}

var errAnswer = errors.New("not an answer this floor reads")

// readAnswer appends the answer's body to b, or the fallback if it is not
// a 200 with a Content-Length; ok reports whether cn may carry another
// request.
func (cn *seqConn) readAnswer(b, fallback []byte) (_ []byte, ok bool) {
	status, length, err := cn.readHead()
	if err != nil || length < 0 || length > 1<<20 {
		return append(b, fallback...), false
	}
	start := len(b)
	b = append(b, make([]byte, length)...)
	if _, err := io.ReadFull(cn.br, b[start:]); err != nil {
		return append(b[:start], fallback...), false
	}
	if status != 200 {
		return append(b[:start], fallback...), true
	}
	return b, true
}

// readHead reads the status line and the headers, and returns the status
// and the Content-Length (-1 without one).
func (cn *seqConn) readHead() (status, length int, err error) {
	line, err := cn.br.ReadSlice('\n')
	if err != nil {
		return 0, -1, err
	}
	if len(line) < 12 || !bytes.HasPrefix(line, []byte("HTTP/1.1 ")) {
		return 0, -1, errAnswer
	}
	if status, err = strconv.Atoi(string(line[9:12])); err != nil {
		return 0, -1, errAnswer
	}
	length = -1
	for {
		line, err := cn.br.ReadSlice('\n')
		if err != nil {
			return 0, -1, err
		}
		line = bytes.TrimRight(line, "\r\n")
		if len(line) == 0 {
			return status, length, nil
		}
		k, v, found := bytes.Cut(line, []byte(":"))
		switch {
		case !found:
			return 0, -1, errAnswer
		case bytes.EqualFold(k, []byte("Content-Length")):
			if length, err = strconv.Atoi(string(bytes.TrimSpace(v))); err != nil {
				return 0, -1, errAnswer
			}
		case bytes.EqualFold(k, []byte("Transfer-Encoding")), bytes.EqualFold(k, []byte("Connection")) && bytes.EqualFold(bytes.TrimSpace(v), []byte("close")):
			return 0, -1, errAnswer
		}
	}
}
