package replicas

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/collage-dev/collage/internal/testbin"
)

// TestRedisKilled: two replicas serve the home page to three clients
// that ask for it one page after another, alternating replicas, for 3s;
// then redis-server is killed (SIGKILL) for 5s, and started again on its
// port with its data (an append-only file synced on every write). Every
// page, before, during and after, is a 200 with all four fragments; while
// Redis is away both replicas say "degraded", serve the files they
// cached, and refuse a promote and a publish with a 503 that says why;
// once it is back they say "ok" and take writes again, without a
// restart. The pages served while Redis was away are counted.
func TestRedisKilled(t *testing.T) {
	r := startRedis(t, true)
	a, b := start(t, "A", r.url()), start(t, "B", r.url())
	replicas := []*server{a, b}
	a.publish(t, demo.NewRelease(t, "o1", 1, 64))
	// What a browser loaded once, each replica has on its disk.
	pages := map[*server]page{}
	for _, s := range replicas {
		pages[s] = s.page(t, "/", "")
		s.checkAssets(t, pages[s])
	}

	var killed, back atomic.Int64 // UnixNano; 0 until it happens
	type tally struct{ before, during, after, failed int }
	var mu sync.Mutex
	var counts tally
	var failures []string
	stop := make(chan struct{})
	var wg sync.WaitGroup
	for w := range 3 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; ; i++ {
				select {
				case <-stop:
					return
				default:
				}
				s := replicas[(w+i)%len(replicas)]
				at := time.Now().UnixNano()
				problem := wholePage(s)
				mu.Lock()
				switch k, bk := killed.Load(), back.Load(); {
				case problem != "":
					counts.failed++
					if len(failures) < 10 {
						failures = append(failures, fmt.Sprintf("replica %s: %s", s.name, problem))
					}
				case k == 0 || at < k:
					counts.before++
				case bk == 0 || at < bk:
					counts.during++
				default:
					counts.after++
				}
				mu.Unlock()
			}
		}()
	}
	defer func() {
		select {
		case <-stop:
		default:
			close(stop)
		}
		wg.Wait()
	}()

	time.Sleep(3 * time.Second)
	r.kill()
	killed.Store(time.Now().UnixNano())
	for _, s := range replicas {
		took := await(t, 4*poll, "replica "+s.name+" saying degraded once Redis is killed", func() bool { return s.health(t).Status == "degraded" })
		t.Logf("replica %s: degraded %s after the kill", s.name, testbin.Millis(took))
	}
	// Writes are refused, and say why.
	out, errOut, code := a.collage(t, "promote", "recs", "o1")
	if code != 1 || !strings.Contains(errOut, "service_unavailable (503)") || !strings.Contains(errOut, "store") {
		t.Errorf("collage promote through A while Redis is away: exit status %d, want 1 and a 503 that names the registry's store\n%s%s", code, out, errOut)
	}
	status, body := b.upload(t, "recs", demo.NewRelease(t, "o2", 1, 64).Archive(t))
	var refusal struct {
		Error struct{ Code, Message string }
	}
	if status != http.StatusServiceUnavailable || json.Unmarshal(body, &refusal) != nil || refusal.Error.Code != "service_unavailable" ||
		!strings.Contains(refusal.Error.Message, "store") {
		t.Errorf("an upload through B while Redis is away: %d %s; want 503, service_unavailable, and a message that names the registry's store", status, body)
	}
	for _, s := range replicas {
		s.checkAssets(t, pages[s])
	}
	time.Sleep(time.Until(time.Unix(0, killed.Load()).Add(5 * time.Second)))
	r.start(t)
	back.Store(time.Now().UnixNano())
	for _, s := range replicas {
		took := await(t, 4*poll, "replica "+s.name+" saying ok once Redis is back", func() bool { return s.health(t).Status == "ok" })
		t.Logf("replica %s: ok %s after Redis came back", s.name, testbin.Millis(took))
	}
	time.Sleep(time.Second)
	close(stop)
	wg.Wait()

	mu.Lock()
	c, f := counts, failures
	mu.Unlock()
	if c.failed > 0 {
		t.Errorf("%d of %d pages failed, such as:\n%s", c.failed, c.before+c.during+c.after+c.failed, strings.Join(f, "\n"))
	}
	if c.before == 0 || c.during == 0 || c.after == 0 {
		t.Errorf("pages before the kill %d, while Redis was away %d, after %d: the load did not span the outage", c.before, c.during, c.after)
	}
	t.Logf("figure: pages served with Redis killed mid-run (3 clients, 2 replicas, 3s before, 5s without Redis, then back with its data; load %s): "+
		"%d of %d failed; %d while Redis was away (%d before, %d after)", load(), c.failed, c.before+c.during+c.after+c.failed, c.during, c.before, c.after)

	// Writes work again, through either replica, and reach the other.
	b.must(t, "promote", "recs", "o1")
	await(t, 4*poll, "replica A serving recs o1 promoted through B after the outage", func() bool { return a.recs(t, "") == "o1" })
	if got := strings.TrimSpace(a.must(t, "publish", "frontends/recs", "--label", "o3", "--promote")); got != "o3" {
		t.Fatalf("publish printed %q, want the label o3", got)
	}
	await(t, 4*poll, "replica B serving recs o3 published through A after the outage", func() bool { return b.recs(t, "") == "o3" })
	for _, s := range replicas {
		if h := s.health(t); h.Status != "ok" {
			t.Errorf("replica %s after the outage: %+v, want ok", s.name, h)
		}
	}
}

// wholePage fetches the home page from s and says what is wrong with it:
// "" when it is a 200 with every fragment. It calls no method of
// testing.T: it runs on a goroutine of its own.
func wholePage(s *server) string {
	resp, err := client.Get(s.URL + "/")
	if err != nil {
		return err.Error()
	}
	body, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	switch {
	case err != nil:
		return err.Error()
	case resp.StatusCode != http.StatusOK:
		return fmt.Sprintf("GET /: %d", resp.StatusCode)
	}
	if lack := whole(string(body)); lack != "" {
		return "GET /: " + lack
	}
	return ""
}
