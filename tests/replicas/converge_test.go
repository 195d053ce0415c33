package replicas

import (
	"bytes"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/collage-dev/collage/internal/testbin"
)

// poll is how often a replica checks the store's revision (the default
// of shell/replica).
const poll = 2 * time.Second

// TestPromoteServedEverywhere: three replicas share one Redis. A version
// of recs published with the command line through A, which nobody serves
// yet, and promoted through B, is served by all three, each with its
// files, which C reads from Redis, having never seen the upload. Then 100
// promotes through B, alternating two versions, are each timed from the
// sending of the promote (a raw API call) to the first page of A and of C
// that names the version, both polled meanwhile.
func TestPromoteServedEverywhere(t *testing.T) {
	r := startRedis(t, false)
	a, b, c := start(t, "A", r.url()), start(t, "B", r.url()), start(t, "C", r.url())
	all := []*server{a, b, c}

	if got := strings.TrimSpace(a.must(t, "publish", "frontends/recs", "--label", "v1")); got != "v1" {
		t.Fatalf("publish printed %q, want the label v1", got)
	}
	for _, s := range all {
		if got := s.recs(t, ""); got == "v1" {
			t.Errorf("replica %s serves recs v1 before any promote", s.name)
		}
	}
	b.must(t, "promote", "recs", "v1")
	for _, s := range all {
		await(t, 10*time.Second, "replica "+s.name+" serving recs v1 promoted through B", func() bool { return s.recs(t, "") == "v1" })
		s.checkAssets(t, s.page(t, "/", ""))
	}

	b.publish(t, demo.NewRelease(t, "v2", 1, 64))
	labels := []string{"v1", "v2"}
	const promotes = 100
	var onA, onC, onBoth, answered []time.Duration
	for i := range promotes {
		label := labels[(i+1)%2]
		type seen struct {
			took time.Duration
			err  error
		}
		seenA, seenC := make(chan seen, 1), make(chan seen, 1)
		begin := time.Now()
		for _, w := range []struct {
			s  *server
			to chan seen
		}{{a, seenA}, {c, seenC}} {
			go func() {
				took, err := servedSince(w.s, label, begin, 10*time.Second)
				w.to <- seen{took, err}
			}()
		}
		b.promote(t, label)
		answered = append(answered, time.Since(begin))
		sa, sc := <-seenA, <-seenC
		if sa.err != nil || sc.err != nil {
			t.Fatalf("promote %d of recs %s through B: A: %v; C: %v", i, label, sa.err, sc.err)
		}
		onA, onC, onBoth = append(onA, sa.took), append(onC, sc.took), append(onBoth, max(sa.took, sc.took))
	}
	t.Logf("figure: promote through B → served on another replica (%d promotes, 3 replicas on one redis-server, loopback, load %s): "+
		"A p50 %s p99 %s max %s; C p50 %s p99 %s max %s; both A and C p50 %s p99 %s; B's answer p50 %s p99 %s",
		promotes, load(),
		testbin.Millis(testbin.Percentile(onA, 50)), testbin.Millis(testbin.Percentile(onA, 99)), testbin.Millis(testbin.Percentile(onA, 100)),
		testbin.Millis(testbin.Percentile(onC, 50)), testbin.Millis(testbin.Percentile(onC, 99)), testbin.Millis(testbin.Percentile(onC, 100)),
		testbin.Millis(testbin.Percentile(onBoth, 50)), testbin.Millis(testbin.Percentile(onBoth, 99)),
		testbin.Millis(testbin.Percentile(answered, 50)), testbin.Millis(testbin.Percentile(answered, 99)))
}

// servedSince polls the page at / of s until it names label as recs's
// version, and returns the time from begin; an error after limit. It
// calls no method of testing.T: it runs on a goroutine of its own.
func servedSince(s *server, label string, begin time.Time, limit time.Duration) (time.Duration, error) {
	for {
		resp, err := client.Get(s.URL + "/")
		if err != nil {
			return 0, err
		}
		body, err := io.ReadAll(resp.Body)
		resp.Body.Close()
		if err != nil || resp.StatusCode != http.StatusOK {
			return 0, fmt.Errorf("GET /: %d %v", resp.StatusCode, err)
		}
		p, err := parsePage(body)
		if err != nil {
			return 0, err
		}
		if p.versions.Get("recs") == label {
			return time.Since(begin), nil
		}
		if time.Since(begin) > limit {
			return 0, fmt.Errorf("recs %s not served within %s (it serves %s)", label, limit, p.versions.Get("recs"))
		}
		time.Sleep(time.Millisecond)
	}
}

// TestLostMessage: replica B reaches Redis through a proxy that can make
// its subscription deaf, dropping every message Redis sends on it while
// every other command passes, as a subscription that silently lost its
// messages would. Each promote through A, whose message the proxy drops,
// is served by B within the poll bound of 2s (the test allows three of
// them). Each promote comes just after the poll by which B saw the one
// before, so each time measured is close to a whole poll period: the
// worst case. Then B's subscription is cut (CLIENT KILL TYPE pubsub) just
// before each promote: B subscribes again, and reloads as it does.
func TestLostMessage(t *testing.T) {
	r := startRedis(t, false)
	p := newDeafProxy(t, "127.0.0.1:"+r.port)
	a, b := start(t, "A", r.url()), start(t, "B", "redis://"+p.addr())
	a.publish(t, demo.NewRelease(t, "d1", 1, 64), demo.NewRelease(t, "d2", 1, 64))
	labels := []string{"d1", "d2"}

	const rounds = 5
	var deaf, cut []time.Duration
	p.deaf.Store(true)
	for i := range rounds {
		label := labels[i%2]
		dropped := p.dropped.Load()
		begin := time.Now()
		a.promote(t, label)
		await(t, 3*poll, fmt.Sprintf("round %d: replica B, deaf to pub/sub, serving recs %s promoted through A", i, label),
			func() bool { return b.recs(t, "") == label })
		deaf = append(deaf, time.Since(begin))
		if p.dropped.Load() == dropped {
			t.Fatalf("round %d: the proxy dropped no message of B's subscription: the test did not cut what it means to", i)
		}
	}
	p.deaf.Store(false)
	// B hears again: its subscription is whole, or a new one replaced it.
	for i := range rounds {
		label := labels[i%2]
		if _, err := r.do("CLIENT", "KILL", "TYPE", "pubsub"); err != nil {
			t.Fatal(err)
		}
		begin := time.Now()
		a.promote(t, label)
		await(t, 3*poll, fmt.Sprintf("round %d: replica B, its subscription cut, serving recs %s promoted through A", i, label),
			func() bool { return b.recs(t, "") == label })
		cut = append(cut, time.Since(begin))
	}
	t.Logf("figure: convergence of replica B after a lost pub/sub message (poll every %s; %d promotes through A, load %s): %s; max %s",
		poll, rounds, load(), list(deaf), testbin.Millis(testbin.Percentile(deaf, 100)))
	t.Logf("figure: convergence of replica B after its subscription was cut just before the change (%d promotes, load %s): %s; max %s",
		rounds, load(), list(cut), testbin.Millis(testbin.Percentile(cut, 100)))
}

// TestNamedBeforeHeard: a browser that a load balancer sends to two
// replicas. Its page comes from A just after a promote through A; its
// assets go to B, which has not heard of the promote, its subscription
// deaf, and would not for up to a poll. The first request that names the
// new version makes B look at the store, and every asset is served at
// once, whole. (Should B's poll come within the few milliseconds between
// the promote and the assets, the test passes without the look.)
func TestNamedBeforeHeard(t *testing.T) {
	r := startRedis(t, false)
	p := newDeafProxy(t, "127.0.0.1:"+r.port)
	a, b := start(t, "A", r.url()), start(t, "B", "redis://"+p.addr())
	a.publish(t, demo.NewRelease(t, "nb", 1, 64))
	p.deaf.Store(true)
	a.promote(t, "nb")
	pg := a.page(t, "/", "")
	if got := pg.versions.Get("recs"); got != "nb" {
		t.Fatalf("replica A after the promote: recs %s, want nb", got)
	}
	b.checkAssets(t, pg)
	if got := b.recs(t, ""); got != "nb" {
		t.Errorf("replica B after serving the assets of nb: recs %s, want nb", got)
	}
}

// list is ds in milliseconds, for figures.
func list(ds []time.Duration) string {
	var out []string
	for _, d := range ds {
		out = append(out, testbin.Millis(d))
	}
	return strings.Join(out, ", ")
}

// A deafProxy forwards TCP connections to a Redis. While deaf is set, it
// drops what Redis sends on the connections that subscribed, and counts
// the messages among it: a subscriber hears nothing, its connection
// stays up, and every other connection works.
type deafProxy struct {
	target  string
	l       net.Listener
	deaf    atomic.Bool
	dropped atomic.Int64 // messages dropped while deaf
	mu      sync.Mutex
	conns   []net.Conn
}

// newDeafProxy listens on a free port of 127.0.0.1 for connections to
// target, until the test ends.
func newDeafProxy(t *testing.T, target string) *deafProxy {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	p := &deafProxy{target: target, l: l}
	go p.serve()
	t.Cleanup(func() {
		l.Close()
		p.mu.Lock()
		defer p.mu.Unlock()
		for _, c := range p.conns {
			c.Close()
		}
	})
	return p
}

func (p *deafProxy) addr() string { return p.l.Addr().String() }

func (p *deafProxy) serve() {
	for {
		in, err := p.l.Accept()
		if err != nil {
			return
		}
		out, err := net.DialTimeout("tcp", p.target, 2*time.Second)
		if err != nil {
			in.Close()
			continue
		}
		p.mu.Lock()
		p.conns = append(p.conns, in, out)
		p.mu.Unlock()
		var subscriber atomic.Bool
		go func() {
			defer in.Close()
			defer out.Close()
			buf := make([]byte, 32<<10)
			for {
				n, err := in.Read(buf)
				if n > 0 {
					if bytes.Contains(bytes.ToLower(buf[:n]), []byte("subscribe")) {
						subscriber.Store(true)
					}
					if _, err := out.Write(buf[:n]); err != nil {
						return
					}
				}
				if err != nil {
					return
				}
			}
		}()
		go func() {
			defer in.Close()
			defer out.Close()
			buf := make([]byte, 32<<10)
			for {
				// A message is a few dozen bytes: one read has it whole,
				// so that dropping reads leaves the stream well formed.
				n, err := out.Read(buf)
				if n > 0 {
					if subscriber.Load() && p.deaf.Load() {
						p.dropped.Add(int64(bytes.Count(buf[:n], []byte("message"))))
					} else if _, err := in.Write(buf[:n]); err != nil {
						return
					}
				}
				if err != nil {
					return
				}
			}
		}()
	}
}
