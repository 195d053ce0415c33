package replicas

import (
	"encoding/json"
	"fmt"
	"io"
	"math"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/collage-dev/collage/internal/testbin"
	"github.com/collage-dev/collage/shell"
	"github.com/collage-dev/collage/shell/registry"
)

// visit fetches the home page from s as a browser with cookie (none when
// empty), and returns the version of recs it names and the cookie the
// browser holds after it ("" when it holds none). It calls no method of
// testing.T: it runs on a goroutine of its own.
func visit(s *server, cookie string) (recs, holds string, err error) {
	req, err := http.NewRequest(http.MethodGet, s.URL+"/", nil)
	if err != nil {
		return "", "", err
	}
	if cookie != "" {
		req.Header.Set("Cookie", cookie)
	}
	resp, err := client.Do(req)
	if err != nil {
		return "", "", err
	}
	body, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	if err != nil || resp.StatusCode != http.StatusOK {
		return "", "", fmt.Errorf("replica %s: GET /: %d %v", s.name, resp.StatusCode, err)
	}
	p, err := parsePage(body)
	if err != nil {
		return "", "", fmt.Errorf("replica %s: GET /: %v", s.name, err)
	}
	holds = cookie
	for _, c := range resp.Cookies() {
		if c.Name == shell.BucketCookie {
			if cookie != "" {
				return "", "", fmt.Errorf("replica %s: a browser with %s was given another bucket, %s", s.name, cookie, c.Value)
			}
			holds = c.Name + "=" + c.Value
		}
	}
	return p.versions.Get("recs"), holds, nil
}

// each runs fn for every i below n on 4 goroutines, and fails the test
// with the first errors it returns.
func each(t *testing.T, n int, fn func(i int) error) {
	t.Helper()
	var next atomic.Int64
	var mu sync.Mutex
	var errs []string
	var wg sync.WaitGroup
	for range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := int(next.Add(1) - 1); i < n; i = int(next.Add(1) - 1) {
				if err := fn(i); err != nil {
					mu.Lock()
					errs = append(errs, err.Error())
					mu.Unlock()
				}
			}
		}()
	}
	wg.Wait()
	if len(errs) > 0 {
		t.Fatalf("%d errors, such as:\n%s", len(errs), strings.Join(errs[:min(len(errs), 10)], "\n"))
	}
}

// canaryPercent is the share of the canary of recs that s serves, 0 when
// none runs.
func (s *server) canaryPercent(t *testing.T) int {
	t.Helper()
	return s.health(t).Canaries["recs"].Percent
}

// TestCanaryStickiness: a canary of recs at 30%, started through A, is
// served alike by A and B. 1,000 browsers each open the home page without
// a cookie on one replica, keep the bucket cookie it sets, and open it
// again on the other: the same version both times. The share on the
// canary is 30% within sampling noise: for 1,000 users its standard
// deviation is 1.45 points, and the test allows 3 of them, 4.5 points
// (the ±2 points of the issue is 1.4 deviations: it would fail about one
// run in six with a perfect hash). Raised to 50% through B, every browser
// of the 30% stays, and the share is 50% within 3 deviations (4.7
// points). A rollback ends the canary: every browser gets the active
// version again.
func TestCanaryStickiness(t *testing.T) {
	r := startRedis(t, false)
	a, b := start(t, "A", r.url()), start(t, "B", r.url())
	replicas := []*server{a, b}
	active := a.recs(t, "")
	a.publish(t, demo.NewRelease(t, "k2", 1, 64))
	a.must(t, "promote", "recs", "k2", "--canary", "30")
	for _, s := range replicas {
		await(t, 4*poll, "replica "+s.name+" running the canary at 30%", func() bool { return s.canaryPercent(t) == 30 })
	}

	const users = 1000
	cookies := make([]string, users)
	at30 := make([]bool, users)
	each(t, users, func(i int) error {
		first, second := replicas[i%2], replicas[(i+1)%2]
		got, holds, err := visit(first, "")
		if err != nil {
			return err
		}
		if err == nil && holds == "" {
			err = fmt.Errorf("user %d on %s: a page served during a canary set no %s cookie", i, first.name, shell.BucketCookie)
		}
		if err != nil {
			return err
		}
		again, _, err := visit(second, holds)
		switch {
		case err != nil:
			return err
		case got != active && got != "k2":
			return fmt.Errorf("user %d on %s: recs %s, want %s or k2", i, first.name, got, active)
		case again != got:
			return fmt.Errorf("user %d (%s): recs %s on %s, then %s on %s", i, holds, got, first.name, again, second.name)
		}
		cookies[i], at30[i] = holds, got == "k2"
		return nil
	})
	share30 := share(at30)
	// The buckets are drawn at random: the share of 1,000 strays from the
	// asked one by sampling alone. Four standard deviations (about 6
	// points) fail once in 15,000 runs by chance, and still catch a hash
	// that is off; shell's own test checks 10,000 fixed buckets within a
	// point.
	if sd := math.Sqrt(30 * 70 / float64(users)); math.Abs(share30-30) > 4*sd {
		t.Errorf("%.1f%% of %d users on the canary of 30%%: more than 4 standard deviations (%.2f points each) away", share30, users, sd)
	}

	b.must(t, "promote", "recs", "k2", "--canary", "50")
	for _, s := range replicas {
		await(t, 4*poll, "replica "+s.name+" running the canary at 50%", func() bool { return s.canaryPercent(t) == 50 })
	}
	at50 := make([]bool, users)
	var left atomic.Int64
	each(t, users, func(i int) error {
		got, _, err := visit(replicas[(i+1)%2], cookies[i])
		if err != nil {
			return err
		}
		at50[i] = got == "k2"
		if at30[i] && !at50[i] {
			left.Add(1)
			return fmt.Errorf("user %d (%s) was on the canary at 30%%, and is served recs %s at 50%%", i, cookies[i], got)
		}
		return nil
	})
	share50 := share(at50)
	if sd := math.Sqrt(50 * 50 / float64(users)); math.Abs(share50-50) > 4*sd {
		t.Errorf("%.1f%% of %d users on the canary of 50%%: more than 4 standard deviations (%.2f points each) away", share50, users, sd)
	}
	t.Logf("figure: canary of recs over %d browsers, each on both replicas: %.1f%% on it at 30%% (4 sd = ±%.1f points), %.1f%% at 50%% (±%.1f); "+
		"%d of the 30%% left it when raised; every second visit, on the other replica, had the first one's version",
		users, share30, 4*math.Sqrt(30*70/float64(users)), share50, 4*math.Sqrt(50*50/float64(users)), left.Load())

	a.must(t, "rollback", "recs")
	for _, s := range replicas {
		await(t, 4*poll, "replica "+s.name+" ending the canary", func() bool { return s.canaryPercent(t) == 0 })
	}
	each(t, 100, func(i int) error {
		got, _, err := visit(replicas[i%2], cookies[i])
		if err == nil && got != active {
			err = fmt.Errorf("user %d after the rollback: recs %s, want the active %s", i, got, active)
		}
		return err
	})
}

// share is the percentage of true in on.
func share(on []bool) float64 {
	n := 0
	for _, v := range on {
		if v {
			n++
		}
	}
	return 100 * float64(n) / float64(len(on))
}

// TestCanaryAbort: a version of recs whose BFF is an HTTP server that
// answers every fragment with a 500, published with the command line
// through A, is canaried at 50% through B, on replicas that judge a
// canary after 50 slots of it. Browsers without a cookie open the home
// page on both replicas, each page a 200: the canary ends by itself
// within a bound (the replicas add up their counts every 5s), the history
// says so with a reason, and every browser, those of the canary too, is
// served the active version again.
func TestCanaryAbort(t *testing.T) {
	var hits atomic.Int64
	failing := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		hits.Add(1)
		http.Error(w, `{"error":{"code":"internal_server_error","message":"this BFF is broken"}}`, http.StatusInternalServerError)
	}))
	t.Cleanup(failing.Close)
	r := startRedis(t, false)
	a, b := start(t, "A", r.url(), "--canary-min-sample", "50"), start(t, "B", r.url(), "--canary-min-sample", "50")
	replicas := []*server{a, b}
	active := a.recs(t, "")
	a.must(t, "publish", "frontends/recs", "--label", "bad", "--bff", failing.URL+"/recs")
	begin := time.Now()
	b.must(t, "promote", "recs", "bad", "--canary", "50")
	for _, s := range replicas {
		await(t, 4*poll, "replica "+s.name+" running the canary", func() bool { return s.canaryPercent(t) == 50 })
	}

	var pages, onCanary atomic.Int64
	var mu sync.Mutex
	var canaryCookies []string
	var problems []string
	stop := make(chan struct{})
	var wg sync.WaitGroup
	for w := range 2 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; ; i++ {
				select {
				case <-stop:
					return
				case <-time.After(5 * time.Millisecond):
				}
				got, holds, err := visit(replicas[(w+i)%2], "")
				pages.Add(1)
				mu.Lock()
				switch {
				case err != nil:
					problems = append(problems, err.Error())
				case got == "bad" && holds == "":
					problems = append(problems, "a page of the canary set no "+shell.BucketCookie+" cookie")
				case got == "bad":
					onCanary.Add(1)
					canaryCookies = append(canaryCookies, holds)
				}
				mu.Unlock()
			}
		}()
	}
	ended := func() bool {
		for _, s := range replicas {
			if s.canaryPercent(t) != 0 {
				return false
			}
		}
		return true
	}
	const limit = 60 * time.Second
	for !ended() && time.Since(begin) < limit {
		time.Sleep(50 * time.Millisecond)
	}
	took := time.Since(begin)
	close(stop)
	wg.Wait()
	if !ended() {
		t.Fatalf("the failing canary still runs %s after its start, %d pages later (%d on it; its BFF called %d times)", limit, pages.Load(), onCanary.Load(), hits.Load())
	}
	if len(problems) > 0 {
		t.Errorf("%d pages failed while the canary ran, such as:\n%s", len(problems), strings.Join(problems[:min(len(problems), 10)], "\n"))
	}
	if onCanary.Load() == 0 || hits.Load() == 0 {
		t.Fatalf("%d pages, %d on the canary, its BFF called %d times: the canary was never served", pages.Load(), onCanary.Load(), hits.Load())
	}

	var history struct {
		Changes []registry.Change `json:"changes"`
	}
	if err := json.Unmarshal([]byte(a.must(t, "history", "recs", "--json")), &history); err != nil {
		t.Fatal(err)
	}
	var abort *registry.Change
	for i, c := range history.Changes {
		if c.Kind == registry.KindCanaryAbort {
			abort = &history.Changes[i]
		}
	}
	if abort == nil || abort.Label != "bad" || abort.By != "collage (canary check)" || !strings.Contains(abort.Reason, "bad failed") {
		t.Fatalf("the history of recs has no canary_abort of bad by the canary check with its reason:\n%+v", history.Changes)
	}
	if table := a.must(t, "history", "recs"); !strings.Contains(table, "canary_abort") {
		t.Errorf("collage history recs does not show the canary_abort:\n%s", table)
	}
	for i, cookie := range canaryCookies[:min(len(canaryCookies), 20)] {
		s := replicas[i%2]
		if got := s.recs(t, cookie); got != active {
			t.Errorf("replica %s, a browser of the ended canary (%s): recs %s, want the active %s", s.name, cookie, got, active)
		}
	}
	t.Logf("figure: a canary whose BFF fails ended by itself %s after its promote, after %d pages on 2 replicas (%d on the canary; --canary-min-sample 50, counts added every 5s; load %s): %q",
		testbin.Millis(took), pages.Load(), onCanary.Load(), load(), abort.Reason)
}
