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
// is not packaged for Debian). Each of its --workers holds a keep-alive
// connection, opened before the schedule starts, and reads its answers on
// its own goroutine:
//
//	ttfb --url http://127.0.0.1:18111/ --rate 1500 --duration 5s
//
// Either way it prints one JSON object and stops by itself: every request
// has a deadline, and a run ends at most --grace after its schedule.
package main

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"log"
	"net"
	"net/http"
	"net/http/httptrace"
	"net/url"
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
	flag.IntVar(&o.workers, "workers", 256, "most requests in flight in the open-loop mode, each worker on a connection of its own, opened first")
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

// newClient is the sequential mode's client: one keep-alive connection.
func newClient(o options) *http.Client {
	t := http.DefaultTransport.(*http.Transport).Clone()
	t.DisableCompression = true
	t.MaxIdleConnsPerHost = 1
	t.MaxConnsPerHost = 1
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
	c := newClient(o)
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
	total := int(o.rate * o.duration.Seconds())
	if total < 1 {
		return nil, errors.New("--rate × --duration is less than one request")
	}
	u, err := url.Parse(o.url)
	if err != nil || u.Scheme != "http" || u.Host == "" {
		return nil, fmt.Errorf("--url %q: want http://HOST:PORT/PATH", o.url)
	}
	req := []byte("GET " + u.RequestURI() + " HTTP/1.1\r\nHost: " + u.Host + "\r\n\r\n")
	// Every worker's connection is open before the schedule starts, so
	// that no latency counts a connection's setup.
	workers := make([]*conn, o.workers)
	for i := range workers {
		if workers[i], err = dial(u.Host, o.timeout); err != nil {
			for _, c := range workers[:i] {
				c.close()
			}
			return nil, err
		}
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
	for _, c := range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			defer c.close()
			for at := range due {
				if ctx.Err() != nil {
					continue // past the grace: count as not done
				}
				err := c.get(u.Host, req, o.timeout)
				lat := time.Since(at)
				mu.Lock()
				if err != nil {
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

// conn is an open-loop worker's keep-alive connection. A request on it is
// one write and the answer is read on the worker's goroutine, with
// net/http's parser: no goroutines of a Transport to hand it between,
// which on this kind of machine cost the generator more CPU a request
// than the servers it measures spend.
type conn struct {
	nc net.Conn // nil after an error, until the next request dials again
	br *bufio.Reader
}

func dial(host string, timeout time.Duration) (*conn, error) {
	nc, err := net.DialTimeout("tcp", host, timeout)
	if err != nil {
		return nil, err
	}
	return &conn{nc: nc, br: bufio.NewReaderSize(nc, 16<<10)}, nil
}

// get sends req and reads the answer to the end of its body, within
// timeout. After an error the connection is closed, to be dialed again.
func (c *conn) get(host string, req []byte, timeout time.Duration) error {
	if c.nc == nil {
		d, err := dial(host, timeout)
		if err != nil {
			return err
		}
		*c = *d
	}
	status, last, err := c.roundTrip(req, timeout)
	if err != nil || last {
		c.close()
	}
	if err == nil && status != http.StatusOK {
		err = fmt.Errorf("status %d", status)
	}
	return err
}

// roundTrip sends req and reads its answer to the end; last says the
// server closes the connection after it.
func (c *conn) roundTrip(req []byte, timeout time.Duration) (status int, last bool, err error) {
	c.nc.SetDeadline(time.Now().Add(timeout))
	if _, err := c.nc.Write(req); err != nil {
		return 0, false, err
	}
	resp, err := http.ReadResponse(c.br, nil)
	if err != nil {
		return 0, false, err
	}
	_, err = io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	return resp.StatusCode, resp.Close, err
}

func (c *conn) close() {
	if c.nc != nil {
		c.nc.Close()
		c.nc = nil
	}
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
