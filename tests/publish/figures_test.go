package publish

import (
	"fmt"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/collage-dev/collage/internal/testbin"
)

// TestFigurePublish measures the publish of a 5 MiB bundle over loopback,
// without the build: 30 distinct archives (20 random files of 256 KiB and
// recs's own), packed beforehand, each uploaded until the shell's answer,
// which comes once its files are stored and synced and the version is
// committed.
func TestFigurePublish(t *testing.T) {
	s := start(t, t.TempDir())
	const uploads = 30
	var archives [][]byte
	for i := range uploads {
		archives = append(archives, demo.NewRelease(t, fmt.Sprintf("p5-%02d", i), 20, 256<<10).Archive(t))
	}
	var took []time.Duration
	for i, a := range archives {
		begin := time.Now()
		status, body := s.upload(t, adminToken, "recs", a)
		took = append(took, time.Since(begin))
		if status != http.StatusCreated {
			t.Fatalf("upload %d: %d %s", i, status, body)
		}
	}
	t.Logf("figure: publish of a 5 MiB bundle over loopback (%d uploads of %.1f MiB archives, no build): p50 %s, p95 %s, max %s",
		uploads, float64(len(archives[0]))/(1<<20),
		testbin.Millis(testbin.Percentile(took, 50)), testbin.Millis(testbin.Percentile(took, 95)), testbin.Millis(testbin.Percentile(took, 100)))
}

// TestFigurePromote measures promote → served by the same shell: 100
// promotes of recs, alternating two versions, each timed from the sending
// of the promote (a raw API call, not a process of the command line) to
// the first page whose collage-versions names the version, polling the
// page meanwhile.
func TestFigurePromote(t *testing.T) {
	s := start(t, t.TempDir())
	labels := []string{"pa", "pb"}
	for _, label := range labels {
		if status, body := s.upload(t, adminToken, "recs", demo.NewRelease(t, label, 1, 64).Archive(t)); status != http.StatusCreated {
			t.Fatalf("publishing %s: %d %s", label, status, body)
		}
	}
	s.must(t, adminToken, "promote", "recs", labels[0])
	const promotes = 100
	var served, answered []time.Duration
	polls := 0
	for i := range promotes {
		label := labels[(i+1)%2]
		type answer struct {
			status int
			body   []byte
			err    error
			took   time.Duration
		}
		done := make(chan answer, 1)
		begin := time.Now()
		go func() {
			req, _ := http.NewRequest(http.MethodPost, s.URL+"/_collage/api/frontends/recs/promote", strings.NewReader(`{"version":"`+label+`"}`))
			req.Header.Set("Authorization", "Bearer "+adminToken)
			req.Header.Set("Content-Type", "application/json")
			var a answer
			resp, err := client.Do(req)
			if err == nil {
				a.status = resp.StatusCode
				a.body, err = io.ReadAll(resp.Body)
				resp.Body.Close()
			}
			a.err, a.took = err, time.Since(begin)
			done <- a
		}()
		for deadline := begin.Add(10 * time.Second); ; polls++ {
			if s.page(t, "/").versions.Get("recs") == label {
				served = append(served, time.Since(begin))
				break
			}
			if time.Now().After(deadline) {
				t.Fatalf("promote %d to %s: not served within 10s", i, label)
			}
		}
		a := <-done
		if a.err != nil || a.status != http.StatusOK || !strings.Contains(string(a.body), `"label":"`+label+`"`) {
			t.Fatalf("promote %d to %s: %v %d %s", i, label, a.err, a.status, a.body)
		}
		answered = append(answered, a.took)
	}
	t.Logf("figure: promote → served by the same shell (%d promotes, %d page polls): p50 %s, p99 %s, max %s; the promote's answer p50 %s, p99 %s",
		promotes, polls+promotes,
		testbin.Millis(testbin.Percentile(served, 50)), testbin.Millis(testbin.Percentile(served, 99)), testbin.Millis(testbin.Percentile(served, 100)),
		testbin.Millis(testbin.Percentile(answered, 50)), testbin.Millis(testbin.Percentile(answered, 99)))
}
