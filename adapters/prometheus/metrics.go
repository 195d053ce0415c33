// Package prometheus exports the shell's metrics in the Prometheus format:
// page and slot latency histograms, slot outcomes (ok, timeout, error,
// cache), fragment fetches in flight, and the registry snapshot's revision
// and age. It is the only package that
// imports client_golang.
package prometheus

import (
	"context"
	"net/http"
	"sync"
	"time"

	"github.com/collage-dev/collage/shell"
	"github.com/collage-dev/collage/shell/compose"
	"github.com/collage-dev/collage/shell/layout"
	"github.com/collage-dev/collage/shell/registry"
	prom "github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// Metrics observes pages and fetches. Make one with New.
type Metrics struct {
	registry *prom.Registry
	pages    *prom.HistogramVec
	slots    *prom.HistogramVec
	outcomes *prom.CounterVec
	inflight *prom.GaugeVec

	// The series of each label set seen, found once: a lookup by labels
	// hashes them and takes a lock, four to nine times a page.
	routes   sync.Map // route → prom.Observer
	slotsOf  sync.Map // slotKey → *slotSeries
	fetching sync.Map // frontend → prom.Gauge
}

type slotKey struct {
	frontend string
	outcome  compose.Outcome
}

// slotSeries are the series of one frontend and outcome.
type slotSeries struct {
	took  prom.Observer
	count prom.Counter
}

// New returns Metrics registered on a registry of their own, with the Go
// runtime and process collectors.
func New() *Metrics {
	buckets := []float64{.0005, .001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10}
	m := &Metrics{
		registry: prom.NewRegistry(),
		pages: prom.NewHistogramVec(prom.HistogramOpts{
			Name: "collage_page_duration_seconds", Help: "Time to compose and stream a page.", Buckets: buckets,
		}, []string{"route"}),
		slots: prom.NewHistogramVec(prom.HistogramOpts{
			Name: "collage_slot_duration_seconds", Help: "Time until a slot's fragment, or its fallback, was decided.", Buckets: buckets,
		}, []string{"frontend", "outcome"}),
		outcomes: prom.NewCounterVec(prom.CounterOpts{
			Name: "collage_slot_outcomes_total", Help: "Slots composed, by outcome: ok, cache, timeout, error, canceled.",
		}, []string{"frontend", "outcome"}),
		inflight: prom.NewGaugeVec(prom.GaugeOpts{
			Name: "collage_fragment_fetches_in_flight", Help: "Fragment fetches under way.",
		}, []string{"frontend"}),
	}
	m.registry.MustRegister(m.pages, m.slots, m.outcomes, m.inflight,
		collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	return m
}

// Handler serves the metrics.
func (m *Metrics) Handler() http.Handler {
	return promhttp.HandlerFor(m.registry, promhttp.HandlerOpts{})
}

// ObservePage records a composed page and its slots.
func (m *Metrics) ObservePage(route string, slots []*layout.Slot, results []*compose.Result, took time.Duration) {
	m.page(route).Observe(took.Seconds())
	for i, res := range results {
		s := m.slot(slotKey{slots[i].Frontend, res.Outcome})
		s.took.Observe(res.Took.Seconds())
		s.count.Inc()
	}
}

// page is the page duration series of route.
func (m *Metrics) page(route string) prom.Observer {
	if o, ok := m.routes.Load(route); ok {
		return o.(prom.Observer)
	}
	o, _ := m.routes.LoadOrStore(route, m.pages.WithLabelValues(route))
	return o.(prom.Observer)
}

// slot is the series of a slot's frontend and outcome.
func (m *Metrics) slot(k slotKey) *slotSeries {
	if s, ok := m.slotsOf.Load(k); ok {
		return s.(*slotSeries)
	}
	s, _ := m.slotsOf.LoadOrStore(k, &slotSeries{
		took:  m.slots.WithLabelValues(k.frontend, string(k.outcome)),
		count: m.outcomes.WithLabelValues(k.frontend, string(k.outcome)),
	})
	return s.(*slotSeries)
}

// fetches is the gauge of frontend's fetches in flight.
func (m *Metrics) fetches(frontend string) prom.Gauge {
	if g, ok := m.fetching.Load(frontend); ok {
		return g.(prom.Gauge)
	}
	g, _ := m.fetching.LoadOrStore(frontend, m.inflight.WithLabelValues(frontend))
	return g.(prom.Gauge)
}

// Fetcher wraps next, counting the fetches in flight.
func (m *Metrics) Fetcher(next compose.Fetcher) compose.Fetcher {
	return fetcher{next: next, m: m}
}

type fetcher struct {
	next compose.Fetcher
	m    *Metrics
}

func (f fetcher) Fetch(ctx context.Context, slot *layout.Slot, req *compose.Request) compose.Result {
	g := f.m.fetches(slot.Frontend)
	g.Inc()
	defer g.Dec()
	return f.next.Fetch(ctx, slot, req)
}

var _ shell.Observer = (*Metrics)(nil)

// WatchRegistry exports how reg's snapshot keeps up with its store: the
// revision served, the seconds since it was last found current (its age,
// which grows while the store does not answer), and whether the store
// answers.
func (m *Metrics) WatchRegistry(reg *registry.Registry) {
	m.registry.MustRegister(
		prom.NewGaugeFunc(prom.GaugeOpts{
			Name: "collage_registry_revision", Help: "The registry revision of the snapshot served.",
		}, func() float64 { return float64(reg.Current().Revision) }),
		prom.NewGaugeFunc(prom.GaugeOpts{
			Name: "collage_registry_snapshot_age_seconds", Help: "Seconds since the snapshot served was last found current in the store.",
		}, func() float64 {
			if c := reg.Sync().Checked; !c.IsZero() {
				return time.Since(c).Seconds()
			}
			return 0
		}),
		prom.NewGaugeFunc(prom.GaugeOpts{
			Name: "collage_registry_store_up", Help: "1 while the registry's store answers, 0 while the last snapshot is served without it.",
		}, func() float64 {
			if reg.Sync().Err != nil {
				return 0
			}
			return 1
		}),
	)
}

// Begin counts a fetch begun as in flight until its result is in, or it
// is dropped.
func (f fetcher) Begin(ctx context.Context, slot *layout.Slot, req *compose.Request) compose.Pending {
	b, ok := f.next.(compose.Beginner)
	if !ok {
		return nil
	}
	p := b.Begin(ctx, slot, req)
	if p == nil {
		return nil
	}
	g := f.m.fetches(slot.Frontend)
	g.Inc()
	return &gaugePending{Pending: p, g: g}
}

type gaugePending struct {
	compose.Pending
	g    prom.Gauge
	done bool
}

func (p *gaugePending) Wait(until time.Time) (compose.Result, bool) {
	res, ok := p.Pending.Wait(until)
	if ok && !p.done {
		p.done = true
		p.g.Dec()
	}
	return res, ok
}

func (p *gaugePending) Close() {
	if !p.done {
		p.done = true
		p.g.Dec()
	}
	p.Pending.Close()
}
