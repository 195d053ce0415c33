// Command ttfb measures a page from the client's side, in one of two ways.
//
// Without --rate it sends --n requests one after another over one
// keep-alive connection and reports the time to first byte (httptrace's
// GotFirstResponseByte) and the time to the last byte of the page:
//
//	ttfb --url http://127.0.0.1:18111/ --n 200
//
// With --rate it is an open-loop load generator: requests start on a fixed
// schedule, --rate per second for --duration, whatever the server does, and
// each latency is counted from the request's scheduled start, so a server
// that falls behind sees its queueing in the numbers (as wrk2 does, which
// is not packaged for Debian):
//
//	ttfb --url http://127.0.0.1:18111/ --rate 1500 --duration 5s
//
// Either way it prints one JSON object and stops by itself: every request
// has a deadline, and a run ends at most --grace after its schedule.
package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"log"
	"net/http"
	"net/http/httptrace"
	"os"
	"slices"
	"sync"
	"time"
)

// options are the command's flags.
type options struct {
	url      string
	n        int
	warmup   int
	rate     float64
	duration time.Duration
	workers  int
	timeout  time.Duration
	grace    time.Duration
}

func main() {
	var o options
	flag.StringVar(&o.url, "url", "http://127.0.0.1:18111/", "the page to request (loopback only)")
	flag.IntVar(&o.n, "n", 200, "sequential requests measured, without --rate")
	flag.IntVar(&o.warmup, "warmup", 20, "requests sent first and not measured")
	flag.Float64Var(&o.rate, "rate", 0, "requests per second of the open-loop mode. Default: sequential mode")
	flag.DurationVar(&o.duration, "duration", 5*time.Second, "how long the open-loop schedule runs")
	flag.IntVar(&o.workers, "workers", 256, "most requests in flight in the open-loop mode (and connections)")
	flag.DurationVar(&o.timeout, "timeout", 2*time.Second, "deadline of one request")
	flag.DurationVar(&o.grace, "grace", 5*time.Second, "how long the open-loop mode waits past its schedule for the last requests")
	flag.Parse()
	var out any
	var err error
	if o.rate > 0 {
		out, err = openLoop(o)
	} else {
		out, err = sequential(o)
	}
	if err != nil {
		log.Fatalf("ttfb: %v", err)
	}
	json.NewEncoder(os.Stdout).Encode(out)
}

func newClient(o options, conns int) *http.Client {
	t := http.DefaultTransport.(*http.Transport).Clone()
	t.DisableCompression = true
	t.MaxIdleConnsPerHost = conns
	t.MaxConnsPerHost = conns
	return &http.Client{Transport: t, Timeout: o.timeout}
}

// SeqResult is the output of the sequential mode; times are milliseconds.
type SeqResult struct {
	URL       string  `json:"url"`
	N         int     `json:"n"`
	Bytes     int64   `json:"bytes"`
	TTFBp50   float64 `json:"ttfb_p50_ms"`
	TTFBp99   float64 `json:"ttfb_p99_ms"`
	TTFBmax   float64 `json:"ttfb_max_ms"`
	TotalP50  float64 `json:"total_p50_ms"`
	TotalP99  float64 `json:"total_p99_ms"`
	TotalMax  float64 `json:"total_max_ms"`
	TotalMean float64 `json:"total_mean_ms"`
	Errors    int     `json:"errors"`
	FirstErr  string  `json:"first_error,omitempty"`
}

func sequential(o options) (*SeqResult, error) {
	c := newClient(o, 1)
	res := &SeqResult{URL: o.url, N: o.n}
	var ttfbs, totals []time.Duration
	for i := 0; i < o.warmup+o.n; i++ {
		ttfb, total, n, err := timed(c, o.url)
		if err != nil {
			res.Errors++
			if res.FirstErr == "" {
				res.FirstErr = err.Error()
			}
			if res.Errors > o.n/10+1 {
				return nil, fmt.Errorf("%s: too many errors, the first: %s", o.url, res.FirstErr)
			}
			continue
		}
		if i < o.warmup {
			continue
		}
		res.Bytes = n
		ttfbs, totals = append(ttfbs, ttfb), append(totals, total)
	}
	if len(totals) == 0 {
		return nil, fmt.Errorf("%s: no request succeeded: %s", o.url, res.FirstErr)
	}
	res.TTFBp50, res.TTFBp99, res.TTFBmax = pct(ttfbs, 50), pct(ttfbs, 99), pct(ttfbs, 100)
	res.TotalP50, res.TotalP99, res.TotalMax = pct(totals, 50), pct(totals, 99), pct(totals, 100)
	var sum time.Duration
	for _, d := range totals {
		sum += d
	}
	res.TotalMean = ms(sum / time.Duration(len(totals)))
	return res, nil
}

// timed gets url and returns the time to the first response byte, the time
// to the end of the body, and the body's size.
func timed(c *http.Client, url string) (ttfb, total time.Duration, n int64, err error) {
	var first time.Time
	trace := &httptrace.ClientTrace{GotFirstResponseByte: func() { first = time.Now() }}
	req, err := http.NewRequestWithContext(httptrace.WithClientTrace(context.Background(), trace), http.MethodGet, url, nil)
	if err != nil {
		return 0, 0, 0, err
	}
	start := time.Now()
	resp, err := c.Do(req)
	if err != nil {
		return 0, 0, 0, err
	}
	defer resp.Body.Close()
	n, err = io.Copy(io.Discard, resp.Body)
	end := time.Now()
	if err != nil {
		return 0, 0, 0, err
	}
	if resp.StatusCode != http.StatusOK {
		return 0, 0, 0, fmt.Errorf("status %d", resp.StatusCode)
	}
	return first.Sub(start), end.Sub(start), n, nil
}

// LoadResult is the output of the open-loop mode; times are milliseconds
// from each request's scheduled start to the end of its body.
type LoadResult struct {
	URL      string  `json:"url"`
	Rate     float64 `json:"rate"`
	Seconds  float64 `json:"seconds"`
	Sent     int     `json:"sent"`
	OK       int     `json:"ok"`
	Errors   int     `json:"errors"`
	FirstErr string  `json:"first_error,omitempty"`
	Achieved float64 `json:"achieved_rps"`
	P50      float64 `json:"p50_ms"`
	P90      float64 `json:"p90_ms"`
	P99      float64 `json:"p99_ms"`
	Max      float64 `json:"max_ms"`
}

func openLoop(o options) (*LoadResult, error) {
	c := newClient(o, o.workers)
	total := int(o.rate * o.duration.Seconds())
	if total < 1 {
		return nil, errors.New("--rate × --duration is less than one request")
	}
	ctx, cancel := context.WithTimeout(context.Background(), o.duration+o.grace)
	defer cancel()
	interval := time.Duration(float64(time.Second) / o.rate)

	// The schedule goes into a queue as deep as the whole run, so a slow
	// server delays when a request is sent, never when it was due.
	due := make(chan time.Time, total)
	var (
		mu   sync.Mutex
		lats []time.Duration
		res  = &LoadResult{URL: o.url, Rate: o.rate}
		wg   sync.WaitGroup
	)
	for range o.workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for at := range due {
				if ctx.Err() != nil {
					continue // past the grace: count as not done
				}
				err := get(ctx, c, o.url)
				lat := time.Since(at)
				mu.Lock()
				if err != nil {
					res.Errors++
					if res.FirstErr == "" {
						res.FirstErr = err.Error()
					}
				} else {
					lats = append(lats, lat)
				}
				mu.Unlock()
			}
		}()
	}
	start := time.Now()
	for i := range total {
		at := start.Add(time.Duration(i) * interval)
		if d := time.Until(at); d > 0 {
			time.Sleep(d)
		}
		due <- at
		res.Sent++
	}
	close(due)
	wg.Wait()
	res.Seconds = time.Since(start).Seconds()
	res.OK = len(lats)
	res.Errors = res.Sent - res.OK
	res.Achieved = float64(res.OK) / o.duration.Seconds()
	if len(lats) > 0 {
		res.P50, res.P90, res.P99, res.Max = pct(lats, 50), pct(lats, 90), pct(lats, 99), pct(lats, 100)
	}
	return res, nil
}

// get gets url to the end of its body.
func get(ctx context.Context, c *http.Client, url string) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return err
	}
	resp, err := c.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if _, err := io.Copy(io.Discard, resp.Body); err != nil {
		return err
	}
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("status %d", resp.StatusCode)
	}
	return nil
}

// pct is the p-th percentile of ds (nearest rank), in milliseconds.
func pct(ds []time.Duration, p float64) float64 {
	s := slices.Clone(ds)
	slices.Sort(s)
	i := int(float64(len(s))*p/100+0.5) - 1
	i = max(0, min(i, len(s)-1))
	return ms(s[i])
}

func ms(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }
