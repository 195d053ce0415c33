package invoke

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/collage-dev/collage/bff"
)

// batchServer answers GET /NAME/_fragment with <p>NAME</p>, after the
// delay its delays gives NAME, and counts the connections it accepts.
type batchServer struct {
	*httptest.Server
	conns atomic.Int32
	mu    sync.Mutex
	seen  map[string][]time.Duration // when each request for NAME arrived, after start
	start time.Time
}

func newBatchServer(t *testing.T, delays map[string]time.Duration) *batchServer {
	s := &batchServer{seen: map[string][]time.Duration{}, start: time.Now()}
	s.Server = httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		name, _, _ := strings.Cut(strings.TrimPrefix(r.URL.Path, "/"), "/")
		s.mu.Lock()
		s.seen[name] = append(s.seen[name], time.Since(s.start))
		s.mu.Unlock()
		time.Sleep(delays[name])
		w.Write([]byte("<p>" + name + "</p>"))
	}))
	s.Config.ConnState = func(_ net.Conn, st http.ConnState) {
		if st == http.StateNew {
			s.conns.Add(1)
		}
	}
	s.Start()
	t.Cleanup(s.Close)
	return s
}

// client returns the invoker of NAME's BFF on s, with a record of slow
// answers in batches if slow.
func (s *batchServer) client(t *testing.T, name string, slow bool) *remote {
	inv, err := HTTP(s.URL+"/"+name, HTTPOptions{})
	if err != nil {
		t.Fatal(err)
	}
	r := inv.(*remote)
	if slow {
		for range recordSize {
			r.fragments.record.add(5 * time.Millisecond)
		}
		r.fragments.record.retry.Store(time.Now().Add(time.Hour).UnixNano())
	}
	return r
}

// remotes returns the invokers of the BFFs base/NAME, one a name.
func remotes(t testing.TB, base string, names ...string) []*remote {
	t.Helper()
	var rs []*remote
	for _, name := range names {
		inv, err := HTTP(base+"/"+name, HTTPOptions{})
		if err != nil {
			t.Fatal(err)
		}
		rs = append(rs, inv.(*remote))
	}
	return rs
}

func begin(t *testing.T, b *Batch, ctx context.Context, rs ...*remote) []*Pending {
	t.Helper()
	var ps []*Pending
	for _, r := range rs {
		p := r.BeginFragment(ctx, &bff.FragmentCall{Path: "/"}, b)
		if p == nil {
			t.Fatalf("%s: not batched", r.fragments.uri)
		}
		ps = append(ps, p)
	}
	return ps
}

func wantBody(t *testing.T, p *Pending, want string) {
	t.Helper()
	ans, ok, err := p.Wait(time.Time{})
	if !ok || err != nil || string(ans.Body) != want {
		t.Fatalf("Wait = %q, %v, %v; want %q", ans.Body, ok, err, want)
	}
	ans.Release()
}

// TestBatchPipelines: a page's requests to one host go on one connection,
// which the next page's reuse.
func TestBatchPipelines(t *testing.T) {
	t.Parallel()
	s := newBatchServer(t, nil)
	rs := []*remote{s.client(t, "a", false), s.client(t, "b", false), s.client(t, "c", false)}
	for _, r := range rs {
		// A patience of seconds: on a machine busy enough to hold the
		// first answer past Patience, the ones behind it would be sent
		// again on connections of their own (TestBatchPatience).
		r.fragments.leadTime.Store(int64(time.Second))
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	for range 3 {
		b := NewBatch()
		ps := begin(t, b, ctx, rs...)
		b.Send()
		for i, name := range []string{"a", "b", "c"} {
			wantBody(t, ps[i], "<p>"+name+"</p>")
		}
	}
	if n := s.conns.Load(); n != 1 {
		t.Errorf("%d connections for three pages of three fragments, want 1", n)
	}
}

// TestBatchSlowLeave: a fragment whose answers in a batch are slow leaves
// batches, and joins one again, last, once every Retry.
func TestBatchSlowLeave(t *testing.T) {
	t.Parallel()
	s := newBatchServer(t, map[string]time.Duration{"slow": 20 * time.Millisecond})
	a, slow := s.client(t, "a", false), s.client(t, "slow", false)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	call := &bff.FragmentCall{Path: "/"}
	for range recordMin { // behind a, its time is its own
		b := NewBatch()
		ps := begin(t, b, ctx, a, slow)
		b.Send()
		wantBody(t, ps[0], "<p>a</p>")
		wantBody(t, ps[1], "<p>slow</p>")
	}
	slow.fragments.record.retry.Store(time.Now().Add(time.Hour).UnixNano()) // no Retry due
	if p := slow.BeginFragment(ctx, call, NewBatch()); p != nil {
		t.Fatal("a fragment whose answers took 20 ms in batches was batched")
	}
	slow.fragments.record.retry.Store(0) // its Retry is due
	b := NewBatch()
	pSlow := slow.BeginFragment(ctx, call, b)
	pA := a.BeginFragment(ctx, call, b)
	if pSlow == nil || pA == nil {
		t.Fatal("not batched when its Retry was due")
	}
	if p := slow.BeginFragment(ctx, call, NewBatch()); p != nil {
		t.Error("batched again before its next Retry")
	}
	b.Send()
	if g := pA.g; len(g.members) != 2 || g.members[0] != pA || g.members[1] != pSlow {
		t.Errorf("the fragment on trial is not the batch's last request")
	}
	wantBody(t, pSlow, "<p>slow</p>")
	wantBody(t, pA, "<p>a</p>")
}

// TestBatchPatience: the requests behind an answer that does not begin
// within Patience are sent again on their own, and do not wait for it.
func TestBatchPatience(t *testing.T) {
	t.Parallel()
	s := newBatchServer(t, map[string]time.Duration{"slow": time.Second})
	rs := []*remote{s.client(t, "slow", false), s.client(t, "b", false)}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	b := NewBatch()
	ps := begin(t, b, ctx, rs...)
	b.Send()
	wantBody(t, ps[0], "<p>slow</p>")
	wantBody(t, ps[1], "<p>b</p>")
	s.mu.Lock()
	defer s.mu.Unlock()
	if len(s.seen["b"]) == 0 || s.seen["b"][0] > 700*time.Millisecond {
		t.Errorf("b's request first arrived at %v, want it sent again well before slow's answer (1 s)", s.seen["b"])
	}
}

// TestBatchDeadline: an answer past its slot's deadline fails that slot
// only; the requests behind it are answered.
func TestBatchDeadline(t *testing.T) {
	t.Parallel()
	s := newBatchServer(t, map[string]time.Duration{"slow": 500 * time.Millisecond})
	rs := []*remote{s.client(t, "slow", false), s.client(t, "b", false)}
	long, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	short, cancelShort := context.WithTimeout(long, 50*time.Millisecond)
	defer cancelShort()
	b := NewBatch()
	p0 := rs[0].BeginFragment(short, &bff.FragmentCall{Path: "/"}, b)
	p1 := rs[1].BeginFragment(long, &bff.FragmentCall{Path: "/"}, b)
	if p0 == nil || p1 == nil {
		t.Fatal("not batched")
	}
	b.Send()
	if _, ok, err := p0.Wait(time.Time{}); !ok || !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("the slot past its deadline: ok %v, err %v; want a context.DeadlineExceeded", ok, err)
	}
	wantBody(t, p1, "<p>b</p>")
}

// TestBatchWaitUntil: Wait gives up at until without losing the answer,
// which a later Wait returns.
func TestBatchWaitUntil(t *testing.T) {
	t.Parallel()
	s := newBatchServer(t, map[string]time.Duration{"a": 100 * time.Millisecond})
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	b := NewBatch()
	ps := begin(t, b, ctx, s.client(t, "a", false))
	b.Send()
	if _, ok, _ := ps[0].Wait(time.Now().Add(10 * time.Millisecond)); ok {
		t.Fatal("Wait returned an answer that takes 100 ms within 10 ms")
	}
	wantBody(t, ps[0], "<p>a</p>")
}

// TestBatchClose: a page that drops its requests before their answers
// closes the batch's connection, and gives back its token.
func TestBatchClose(t *testing.T) {
	t.Parallel()
	s := newBatchServer(t, map[string]time.Duration{"a": 50 * time.Millisecond})
	rs := []*remote{s.client(t, "a", false), s.client(t, "b", false)}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	b := NewBatch()
	ps := begin(t, b, ctx, rs...)
	b.Send()
	for _, p := range ps {
		p.Close()
	}
	f := rs[0].fragments
	f.mu.Lock()
	idle := len(f.idle)
	f.mu.Unlock()
	if idle != 0 || len(f.conns) != 0 {
		t.Errorf("after Close: %d idle connections, %d tokens held; want none", idle, len(f.conns))
	}
}

// TestNoPipeline: a BFF reached with NoPipeline never joins a batch.
func TestNoPipeline(t *testing.T) {
	t.Parallel()
	s := newBatchServer(t, nil)
	inv, err := HTTP(s.URL+"/a", HTTPOptions{NoPipeline: true})
	if err != nil {
		t.Fatal(err)
	}
	if p := inv.(*remote).BeginFragment(context.Background(), &bff.FragmentCall{Path: "/"}, NewBatch()); p != nil {
		t.Error("batched with NoPipeline")
	}
}

// TestBatchStaleConnection: a batch on a pooled connection the BFF has
// closed while it was idle sends its requests again, and every one is
// answered.
func TestBatchStaleConnection(t *testing.T) {
	t.Parallel()
	s := newBatchServer(t, nil)
	rs := []*remote{s.client(t, "a", false), s.client(t, "b", false)}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	for i := range 2 {
		if i == 1 {
			s.CloseClientConnections() // the pooled connection is closed
		}
		b := NewBatch()
		ps := begin(t, b, ctx, rs...)
		b.Send()
		wantBody(t, ps[0], "<p>a</p>")
		wantBody(t, ps[1], "<p>b</p>")
	}
}

// TestBatchOneAnswerAConnection: a BFF that answers one request a
// connection, and closes it, answers every request of a batch all the
// same, and its fragments leave batches.
func TestBatchOneAnswerAConnection(t *testing.T) {
	t.Parallel()
	ln := listen(t)
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			go func() {
				defer c.Close()
				r, err := http.ReadRequest(bufio.NewReader(c))
				if err != nil {
					return
				}
				body := "<p>" + strings.Split(r.URL.Path, "/")[1] + "</p>"
				fmt.Fprintf(c, "HTTP/1.1 200 OK\r\nContent-Length: %d\r\n\r\n%s", len(body), body)
			}()
		}
	}()
	rs := remotes(t, "http://"+ln.Addr().String(), "a", "b")
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	for range recordMin {
		b := NewBatch()
		ps := begin(t, b, ctx, rs...)
		b.Send()
		wantBody(t, ps[0], "<p>a</p>")
		wantBody(t, ps[1], "<p>b</p>")
	}
	rs[1].fragments.record.retry.Store(time.Now().Add(time.Hour).UnixNano())
	if p := rs[1].BeginFragment(ctx, &bff.FragmentCall{Path: "/"}, NewBatch()); p != nil {
		t.Error("a fragment its BFF never answered behind another is still batched")
	}
}

// TestBatchAnswersReadTogether: a batch's answers that reach the socket
// together, four fragments of 2 KiB, are taken by the read of the first.
// A machine busy enough to hold the first answer past the batch's
// patience sends the others again on connections of their own, which
// leaves nothing to measure: the page is tried again, up to five times.
func TestBatchAnswersReadTogether(t *testing.T) {
	t.Parallel()
	ln := listen(t)
	names := []string{"a", "b", "c", "d"}
	answer := func(name string) string {
		body := strings.Repeat(name, 2<<10)
		return fmt.Sprintf("HTTP/1.1 200 OK\r\nContent-Type: text/html\r\nContent-Length: %d\r\n\r\n%s", len(body), body)
	}
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			go func() { // the requests that came together, then their answers in one write
				defer c.Close()
				br := bufio.NewReader(c)
				for {
					var all strings.Builder
					for {
						r, err := http.ReadRequest(br)
						if err != nil {
							return
						}
						all.WriteString(answer(strings.Split(r.URL.Path, "/")[1]))
						if br.Buffered() == 0 {
							break
						}
					}
					c.Write([]byte(all.String()))
				}
			}()
		}
	}()
	rs := remotes(t, "http://"+ln.Addr().String(), names...)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	rest := len(answer("b") + answer("c") + answer("d"))
	for try := 1; ; try++ {
		b := NewBatch()
		ps := begin(t, b, ctx, rs...)
		b.Send()
		wantBody(t, ps[0], strings.Repeat("a", 2<<10))
		buffered := -1 // unless the others went alone
		if g := ps[0].g; g.c != nil && !g.extra {
			buffered = g.c.buffered()
		}
		for i, name := range names[1:] {
			wantBody(t, ps[i+1], strings.Repeat(name, 2<<10))
		}
		switch {
		case buffered >= 0:
			if buffered != rest {
				t.Errorf("after the first answer, %d bytes are read ahead; want the other three answers' %d", buffered, rest)
			}
			return
		case try == 5:
			t.Skip("in five tries the machine held the first answer past the batch's patience every time")
		}
	}
}

// BenchmarkBatch: a page of four 2 KiB fragments from a net/http server
// on 127.0.0.1, pipelined on one connection.
func BenchmarkBatch(b *testing.B) {
	page := strings.Repeat("x", 2<<10)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		io.WriteString(w, page)
	}))
	b.Cleanup(srv.Close)
	rs := remotes(b, srv.URL, "a", "b", "c", "d")
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	call := &bff.FragmentCall{Path: "/"}
	ps := make([]*Pending, len(rs))
	b.ReportAllocs()
	for b.Loop() {
		batch := NewBatch()
		for i, r := range rs {
			if ps[i] = r.BeginFragment(ctx, call, batch); ps[i] == nil {
				b.Fatal("not batched")
			}
		}
		batch.Send()
		for _, p := range ps {
			ans, ok, err := p.Wait(time.Time{})
			if !ok || err != nil || len(ans.Body) != len(page) {
				b.Fatal(ok, err)
			}
			ans.Release()
		}
	}
}

// TestReaderLent: a connection is lent a reader only while it reads
// answers, from the first byte of the first on: pooled, or waiting for a
// BFF, it holds none.
func TestReaderLent(t *testing.T) {
	t.Parallel()
	s := newBatchServer(t, nil)
	r := s.client(t, "a", false)
	r2 := s.client(t, "b", false)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	pooled := func() *bufio.Reader {
		t.Helper()
		r.fragments.mu.Lock()
		defer r.fragments.mu.Unlock()
		if len(r.fragments.idle) != 1 {
			t.Fatalf("%d pooled connections, want 1", len(r.fragments.idle))
		}
		return r.fragments.idle[0].br
	}
	ans, err := r.fragments.fetch(ctx, &bff.FragmentCall{Path: "/"})
	if err != nil {
		t.Fatal(err)
	}
	ans.Release()
	if pooled() != nil {
		t.Error("after a fetch on its own, the pooled connection holds a reader")
	}
	for _, rs := range [][]*remote{{r}, {r, r2}} {
		b := NewBatch()
		ps := begin(t, b, ctx, rs...)
		b.Send()
		if ps[0].g.c.br != nil {
			t.Errorf("a batch of %d waiting for its answers holds a reader", len(rs))
		}
		wantBody(t, ps[0], "<p>a</p>")
		if len(rs) > 1 {
			if ps[0].g.c.br == nil {
				t.Errorf("a batch of %d reads with no reader", len(rs))
			}
			wantBody(t, ps[1], "<p>b</p>")
		}
		if pooled() != nil {
			t.Errorf("after a batch of %d, the pooled connection holds a reader", len(rs))
		}
	}
}
