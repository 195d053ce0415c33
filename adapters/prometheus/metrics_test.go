package prometheus_test

import (
	"context"
	"io"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/collage-dev/collage/adapters/prometheus"
	"github.com/collage-dev/collage/shell/compose"
	"github.com/collage-dev/collage/shell/layout"
)

type blocking struct{ entered, release chan struct{} }

func (b blocking) Fetch(ctx context.Context, slot *layout.Slot, req *compose.Request) compose.Result {
	close(b.entered)
	<-b.release
	return compose.Result{Status: 200, Outcome: compose.OK}
}

func scrape(t *testing.T, m *prometheus.Metrics) string {
	t.Helper()
	rec := httptest.NewRecorder()
	m.Handler().ServeHTTP(rec, httptest.NewRequest("GET", "/metrics", nil))
	body, _ := io.ReadAll(rec.Body)
	return string(body)
}

func TestMetrics(t *testing.T) {
	m := prometheus.New()
	slots := []*layout.Slot{{Frontend: "recs"}, {Frontend: "cart"}}
	m.ObservePage("/", slots, []*compose.Result{
		{Outcome: compose.Timeout, Took: 300 * time.Millisecond},
		{Outcome: compose.Cached, Took: time.Millisecond},
	}, 310*time.Millisecond)

	b := blocking{entered: make(chan struct{}), release: make(chan struct{})}
	done := make(chan struct{})
	go func() {
		m.Fetcher(b).Fetch(context.Background(), slots[0], &compose.Request{})
		close(done)
	}()
	<-b.entered
	during := scrape(t, m)
	close(b.release)
	<-done
	after := scrape(t, m)

	for _, want := range []string{
		`collage_slot_outcomes_total{frontend="recs",outcome="timeout"} 1`,
		`collage_slot_outcomes_total{frontend="cart",outcome="cache"} 1`,
		`collage_page_duration_seconds_count{route="/"} 1`,
		`collage_slot_duration_seconds_bucket{frontend="recs",outcome="timeout",le="0.5"} 1`,
		`collage_fragment_fetches_in_flight{frontend="recs"} 1`,
		"go_goroutines",
	} {
		if !strings.Contains(during, want) {
			t.Errorf("metrics lack %s", want)
		}
	}
	if !strings.Contains(after, `collage_fragment_fetches_in_flight{frontend="recs"} 0`) {
		t.Errorf("the fetch in flight was not counted down")
	}
}

// BenchmarkObservePage is the metrics' cost of a page of four slots.
func BenchmarkObservePage(b *testing.B) {
	m := prometheus.New()
	var slots []*layout.Slot
	var results []*compose.Result
	for _, f := range []string{"header", "product", "recs", "footer"} {
		slots = append(slots, &layout.Slot{Frontend: f})
		results = append(results, &compose.Result{Outcome: compose.OK, Took: time.Millisecond})
	}
	b.ReportAllocs()
	for b.Loop() {
		m.ObservePage("/", slots, results, 2*time.Millisecond)
	}
}

// begun is a compose.Beginner whose fetches are begun and answer at once.
type begun struct{}

func (begun) Fetch(context.Context, *layout.Slot, *compose.Request) compose.Result {
	return compose.Result{}
}

func (begun) Begin(context.Context, *layout.Slot, *compose.Request) compose.Pending {
	return begunPending{}
}

type begunPending struct{}

func (begunPending) Send()  {}
func (begunPending) Close() {}
func (begunPending) Wait(time.Time) (compose.Result, bool) {
	return compose.Result{Status: 200, Outcome: compose.OK}, true
}

// TestBegunFetchInFlight: a fetch begun is in flight until its result is
// in, or until it is dropped.
func TestBegunFetchInFlight(t *testing.T) {
	m := prometheus.New()
	b, ok := m.Fetcher(begun{}).(compose.Beginner)
	if !ok {
		t.Fatal("the metrics' fetcher cannot begin a fetch")
	}
	slot := &layout.Slot{Frontend: "recs"}
	waited, dropped := b.Begin(context.Background(), slot, &compose.Request{}), b.Begin(context.Background(), slot, &compose.Request{})
	if got := scrape(t, m); !strings.Contains(got, `collage_fragment_fetches_in_flight{frontend="recs"} 2`) {
		t.Error("two fetches begun are not in flight")
	}
	if res, ok := waited.Wait(time.Time{}); !ok || res.Status != 200 {
		t.Errorf("Wait = %+v, %v", res, ok)
	}
	dropped.Close()
	waited.Close()
	if got := scrape(t, m); !strings.Contains(got, `collage_fragment_fetches_in_flight{frontend="recs"} 0`) {
		t.Error("the fetches begun were not counted down once")
	}
}
