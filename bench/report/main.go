// Command report turns the raw results of one bench/run.sh run into the
// markdown tables of docs/BENCHMARKS.md: medians over the rounds of wrk's
// requests/s and latencies, ttfb's first-byte and page times, the
// open-loop latencies, and the ratios the design's bars ask for.
//
//	report bench/results/RUN            # the tables, on stdout
//	report -peak a-slow bench/results/RUN # median requests/s of a-slow
package main

import (
	"bufio"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"log"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
)

// server is one server × variant the harness runs.
type server struct {
	key     string // file name stem: a-fast, d, …
	name    string
	variant string
}

var servers = []server{
	{"a-fast", "(a) collage serve, HTTP fragments, no collapse, no cache", "no delay"},
	{"ac-fast", "(a+) collage serve, defaults (collapsing, cache)", "no delay"},
	{"n-fast", "(n) nginx SSI, upstream keep-alive", "no delay"},
	{"b-fast", "(b) collage, in-process BFFs", "no delay"},
	{"c-fast", "(c) naive fiber composer", "no delay"},
	{"e-fast", floorName, "no delay"},
	{"f-fast", pipelinedName, "no delay"},
	{"d", "(d) fiber, static page", "—"},
	{"a-slow", "(a) collage serve, HTTP fragments, no collapse, no cache", "5/20/10/2 ms"},
	{"ac-slow", "(a+) collage serve, defaults (collapsing, cache)", "5/20/10/2 ms"},
	{"n-slow", "(n) nginx SSI, upstream keep-alive", "5/20/10/2 ms"},
	{"b-slow", "(b) collage, in-process BFFs", "5/20/10/2 ms"},
	{"c-slow", "(c) naive fiber composer", "5/20/10/2 ms"},
	{"e-slow", floorName, "5/20/10/2 ms"},
	{"f-slow", pipelinedName, "5/20/10/2 ms"},
}

// added are the rows that results of runs before them lack.
var added = map[string]bool{"e-fast": true, "e-slow": true, "f-fast": true, "f-slow": true}

const (
	floorName     = "(e) sequential fiber composer, one goroutine a page (a floor, not a composer)"
	pipelinedName = "(f) the floor (e) pipelined: a page's GETs in one write on one connection (a floor, not a composer)"
)

func main() {
	peak := flag.String("peak", "", "print only the median requests/s of this server key (a-fast, a-slow, …)")
	flag.Parse()
	if flag.NArg() != 1 {
		log.Fatal("usage: report [-peak KEY] RESULTS_DIR")
	}
	dir := flag.Arg(0)
	if *peak != "" {
		w, err := loadWrk(dir, *peak)
		if err != nil {
			log.Fatalf("report: %v", err)
		}
		fmt.Printf("%.0f\n", median(w.rps))
		return
	}
	if err := write(os.Stdout, dir); err != nil {
		log.Fatalf("report: %v", err)
	}
}

// wrkRuns are the rounds of one server under wrk.
type wrkRuns struct {
	rps, p50, p99 []float64 // per round; latencies in ms
	cpu, upCPU    []float64 // per round: CPU µs per page of the server, of its fragment server
	sysCPU        []float64 // per round: the system's part of cpu, if measured
	reads, writes []float64 // per round: the server's read and write system calls per page, if measured
	errors        int       // socket errors and non-2xx/3xx, all rounds
	rssKB         float64   // peak resident set of the server over its runs, 0 if not measured
	fileKB        float64   // of the resident set after the runs, the pages mapped from files, if measured
}

// roundRatios is a[i] / b[i] for each round i, a measure of a against b
// that the machine's drift between rounds disturbs less than the ratio of
// their medians.
func roundRatios(a, b []float64) string {
	if len(a) != len(b) {
		return "not paired"
	}
	rs := make([]string, len(a))
	for i := range a {
		rs[i] = fmt.Sprintf("%.2f×", a[i]/b[i])
	}
	return strings.Join(rs, ", ")
}

var errNoResults = errors.New("no wrk results")

func loadWrk(dir, key string) (*wrkRuns, error) {
	files, _ := filepath.Glob(filepath.Join(dir, "wrk", key+"-r*.txt"))
	if len(files) == 0 {
		return nil, fmt.Errorf("%s in %s: %w", key, dir, errNoResults)
	}
	w := &wrkRuns{}
	for _, f := range files {
		r, err := parseWrk(f)
		if err != nil {
			return nil, err
		}
		w.rps, w.p50, w.p99 = append(w.rps, r.rps), append(w.p50, r.p50), append(w.p99, r.p99)
		w.errors += r.errors
		cpuFile := filepath.Join(dir, "cpu", strings.TrimSuffix(filepath.Base(f), ".txt")+".txt")
		if c, err := cpuPerPage(cpuFile, r.requests); err == nil {
			w.cpu, w.upCPU = append(w.cpu, c.server), append(w.upCPU, c.upstream)
			if c.system >= 0 {
				w.sysCPU = append(w.sysCPU, c.system)
			}
			if c.reads >= 0 {
				w.reads, w.writes = append(w.reads, c.reads), append(w.writes, c.writes)
			}
		} else if !errors.Is(err, os.ErrNotExist) {
			return nil, err
		}
	}
	if b, err := os.ReadFile(filepath.Join(dir, "rss", key+".txt")); err == nil {
		// The peak, then (if measured) the part mapped from files.
		if n, err := fmt.Sscan(string(b), &w.rssKB, &w.fileKB); n == 0 {
			return nil, fmt.Errorf("%s: want the peak RSS in kB (%v)", filepath.Join(dir, "rss", key+".txt"), err)
		}
	} else if !errors.Is(err, os.ErrNotExist) {
		return nil, err
	}
	return w, nil
}

// pageCost is what one page cost a server over a wrk run.
type pageCost struct {
	server, upstream float64 // CPU µs of the server, of its fragment server
	system           float64 // the system's part of server; -1 if not measured
	reads, writes    float64 // the server's read and write system calls; -1 if not measured
}

// cpuPerPage reads "SERVER_TICKS UPSTREAM_TICKS CLK_TCK [SERVER_SYSTEM_TICKS
// [READS WRITES]]" and returns their cost per page.
func cpuPerPage(file string, requests int) (pageCost, error) {
	c := pageCost{system: -1, reads: -1, writes: -1}
	b, err := os.ReadFile(file)
	if err != nil {
		return c, err
	}
	var hz float64
	n, err := fmt.Sscan(string(b), &c.server, &c.upstream, &hz, &c.system, &c.reads, &c.writes)
	if n < 3 || n == 5 || hz == 0 || requests == 0 {
		return c, fmt.Errorf("%s: want SERVER_TICKS UPSTREAM_TICKS CLK_TCK [SERVER_SYSTEM_TICKS [READS WRITES]] (%v)", file, err)
	}
	perPage := 1e6 / hz / float64(requests)
	c.server, c.upstream = c.server*perPage, c.upstream*perPage
	if c.system >= 0 {
		c.system *= perPage
	}
	if c.reads >= 0 {
		c.reads, c.writes = c.reads/float64(requests), c.writes/float64(requests)
	}
	return c, nil
}

type wrkRun struct {
	rps, p50, p99 float64
	requests      int
	errors        int
}

// parseWrk reads the output of wrk --latency.
func parseWrk(file string) (*wrkRun, error) {
	f, err := os.Open(file)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	r := &wrkRun{}
	var haveRPS bool
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		fields := strings.Fields(sc.Text())
		switch {
		case len(fields) == 2 && fields[0] == "Requests/sec:":
			r.rps, err = strconv.ParseFloat(fields[1], 64)
			haveRPS = err == nil
		case len(fields) > 3 && fields[1] == "requests" && fields[2] == "in":
			r.requests, err = strconv.Atoi(fields[0])
		case len(fields) == 2 && fields[0] == "50%":
			r.p50, err = wrkDuration(fields[1])
		case len(fields) == 2 && fields[0] == "99%":
			r.p99, err = wrkDuration(fields[1])
		case len(fields) > 1 && fields[0] == "Socket" && fields[1] == "errors:":
			// Socket errors: connect 0, read 0, write 0, timeout 0
			for i := 3; i < len(fields); i += 2 {
				n, _ := strconv.Atoi(strings.TrimSuffix(fields[i], ","))
				r.errors += n
			}
		case len(fields) == 4 && fields[0] == "Non-2xx":
			n, _ := strconv.Atoi(fields[3])
			r.errors += n
		}
		if err != nil {
			return nil, fmt.Errorf("%s: %v", file, err)
		}
	}
	if !haveRPS {
		return nil, fmt.Errorf("%s: no Requests/sec line: did wrk run?", file)
	}
	return r, sc.Err()
}

// wrkDuration parses wrk's 812.00us, 1.23ms, 2.01s or 1.50m into ms.
func wrkDuration(s string) (float64, error) {
	for _, u := range []struct {
		suffix string
		ms     float64
	}{{"us", 1e-3}, {"ms", 1}, {"s", 1e3}, {"m", 60e3}} {
		if v, ok := strings.CutSuffix(s, u.suffix); ok {
			f, err := strconv.ParseFloat(v, 64)
			return f * u.ms, err
		}
	}
	return 0, fmt.Errorf("unknown wrk duration %q", s)
}

// seq is ttfb's sequential result.
type seq struct {
	Bytes    int64   `json:"bytes"`
	TTFBp50  float64 `json:"ttfb_p50_ms"`
	TTFBp99  float64 `json:"ttfb_p99_ms"`
	TotalP50 float64 `json:"total_p50_ms"`
	TotalP99 float64 `json:"total_p99_ms"`
	Errors   int     `json:"errors"`
}

// load is ttfb's open-loop result.
type load struct {
	Rate     float64 `json:"rate"`
	Sent     int     `json:"sent"`
	Errors   int     `json:"errors"`
	Achieved float64 `json:"achieved_rps"`
	P50      float64 `json:"p50_ms"`
	P99      float64 `json:"p99_ms"`
	Max      float64 `json:"max_ms"`
}

func readJSON(file string, v any) error {
	b, err := os.ReadFile(file)
	if err != nil {
		return err
	}
	if err := json.Unmarshal(b, v); err != nil {
		return fmt.Errorf("%s: %v", file, err)
	}
	return nil
}

func write(out io.Writer, dir string) error {
	wrk := map[string]*wrkRuns{}
	ttfb := map[string]*seq{}
	for _, s := range servers {
		w, err := loadWrk(dir, s.key)
		if errors.Is(err, errNoResults) && added[s.key] {
			continue
		}
		if err != nil {
			return err
		}
		wrk[s.key] = w
		var t seq
		if err := readJSON(filepath.Join(dir, "ttfb", s.key+".json"), &t); err == nil {
			ttfb[s.key] = &t
		} else if !errors.Is(err, os.ErrNotExist) {
			return err
		}
	}
	meta := readMeta(filepath.Join(dir, "meta.env"))
	rounds := len(wrk["a-fast"].rps)

	if meta["DATE"] != "" {
		fmt.Fprintf(out, "Run %s, commit %s, %s, %s, %s, load average %s at the start and %s at the end: `%s`.\n\n",
			meta["DATE"], meta["COMMIT"], meta["CPU"], meta["GO"], meta["WRK"], meta["LOAD_START"], meta["LOAD_END"], meta["COMMAND"])
	}

	fmt.Fprintf(out, "Closed loop: `wrk -t%s -c%s -d%ss --latency` (-c%s with fragment delays), %d rounds interleaved, medians (min–max of the rounds for requests/s). "+
		"CPU µs/page: user + system time the composer used over the wrk run, per page (nginx: master and workers), in brackets the system's part, "+
		"and beside it that of the fragment server (10 ms ticks over thousands of pages; less disturbed by the other load on the machine than req/s). "+
		"Reads / writes a page: the composer's read and write system calls over the run (syscr and syscw of /proc/PID/io), per page, "+
		"with the reads that found nothing yet and the page log's writes; nginx's reads are not shown, as it reads its sockets with recv, which syscr leaves out. "+
		"Peak RSS: VmHWM after the last round (nginx: the sum over master and workers), in brackets the part of the resident set then that is mapped from files "+
		"(the executable's pages, which VmHWM counts once touched). "+
		"Low load: `bench/ttfb`, %s sequential requests on one keep-alive connection after %s of warm-up.\n\n",
		meta["THREADS"], meta["CONNS"], meta["DURATION"], meta["CONNS_SLOW"], rounds, meta["TTFB_N"], meta["TTFB_WARMUP"])
	fmt.Fprintln(out, "| server | fragment delays | req/s | p50 ms | p99 ms | errors | CPU µs/page (system) | reads / writes a page | fragment server CPU µs/page | peak RSS MB (from files) | first byte p50 / p99 ms | full page p50 / p99 ms | bytes |")
	fmt.Fprintln(out, "|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
	for _, s := range servers {
		w := wrk[s.key]
		if w == nil {
			continue
		}
		ttfbCol, totalCol, bytesCol := "–", "–", "–"
		if t := ttfb[s.key]; t != nil {
			ttfbCol = fmt.Sprintf("%.2f / %.2f", t.TTFBp50, t.TTFBp99)
			totalCol = fmt.Sprintf("%.2f / %.2f", t.TotalP50, t.TotalP99)
			bytesCol = strconv.FormatInt(t.Bytes, 10)
		}
		cpuCol, callsCol, upCol, rssCol := "–", "–", "–", "–"
		if len(w.reads) > 0 {
			reads := fmt.Sprintf("%.2f", median(w.reads))
			if strings.HasPrefix(s.key, "n-") {
				reads = "–" // nginx reads its sockets with recv, which syscr leaves out
			}
			callsCol = fmt.Sprintf("%s / %.2f", reads, median(w.writes))
		}
		if len(w.cpu) > 0 {
			cpuCol = fmt.Sprintf("%.0f", median(w.cpu))
			if len(w.sysCPU) > 0 {
				cpuCol += fmt.Sprintf(" (%.0f)", median(w.sysCPU))
			}
			if up := median(w.upCPU); up > 0 {
				upCol = fmt.Sprintf("%.0f", up)
			}
		}
		if w.rssKB > 0 {
			rssCol = fmt.Sprintf("%.1f", w.rssKB/1024)
			if w.fileKB > 0 {
				rssCol += fmt.Sprintf(" (%.1f)", w.fileKB/1024)
			}
		}
		fmt.Fprintf(out, "| %s | %s | %.0f (%.0f–%.0f) | %.2f | %.2f | %d | %s | %s | %s | %s | %s | %s | %s |\n",
			s.name, s.variant, median(w.rps), slices.Min(w.rps), slices.Max(w.rps),
			median(w.p50), median(w.p99), w.errors, cpuCol, callsCol, upCol, rssCol, ttfbCol, totalCol, bytesCol)
	}

	var alone *seq
	var a seq
	if err := readJSON(filepath.Join(dir, "ttfb", "frag-slow-product.json"), &a); err == nil {
		alone = &a
		fmt.Fprintf(out, "| slowest fragment alone (fragserver product, 20 ms) | — | – | – | – | – | – | – | – | %.2f / %.2f | %.2f / %.2f | %d |\n",
			a.TTFBp50, a.TTFBp99, a.TotalP50, a.TotalP99, a.Bytes)
	} else if !errors.Is(err, os.ErrNotExist) {
		return err
	}

	loads := map[string][]load{}
	for _, key := range []string{"a-fast", "ac-fast", "n-fast", "c-fast", "a-slow", "ac-slow", "n-slow", "c-slow"} {
		files, _ := filepath.Glob(filepath.Join(dir, "open", key+"-r*.json"))
		for _, f := range files {
			var l load
			if err := readJSON(f, &l); err != nil {
				return err
			}
			loads[key] = append(loads[key], l)
		}
	}
	if len(loads) > 0 {
		fmt.Fprintf(out, "\nOpen loop at half of (a)'s peak: `bench/ttfb --rate R --duration %ss` (at most %s requests in flight), "+
			"latency from each request's scheduled start to its last byte, so queueing counts; medians of the rounds.\n\n",
			meta["DURATION"], meta["OPEN_WORKERS"])
		fmt.Fprintln(out, "| server | fragment delays | rate req/s | achieved req/s | p50 ms | p99 ms | max ms | failed |")
		fmt.Fprintln(out, "|---|---|---:|---:|---:|---:|---:|---:|")
		for _, s := range servers {
			ls := loads[s.key]
			if len(ls) == 0 {
				continue
			}
			fmt.Fprintf(out, "| %s | %s | %.0f | %.0f | %.2f | %.2f | %.2f | %d |\n", s.name, s.variant, ls[0].Rate,
				medianOf(ls, func(l load) float64 { return l.Achieved }),
				medianOf(ls, func(l load) float64 { return l.P50 }),
				medianOf(ls, func(l load) float64 { return l.P99 }),
				medianOf(ls, func(l load) float64 { return l.Max }),
				sumOf(ls, func(l load) int { return l.Errors }))
		}
	}

	fmt.Fprintln(out, "\nBars (reported, not enforced):")
	fmt.Fprintln(out)
	fmt.Fprintln(out, "| bar | measured | met |")
	fmt.Fprintln(out, "|---|---|---|")
	ratio := func(a, b string) float64 { return median(wrk[a].rps) / median(wrk[b].rps) }
	bar := func(name, measured string, ok bool) {
		fmt.Fprintf(out, "| %s | %s | %s |\n", name, measured, yes(ok))
	}
	r := ratio("a-fast", "n-fast")
	bar("(a) ≥ 1.2× req/s of nginx SSI (n), no delay", fmt.Sprintf("%.3f× (rounds: %s)", r, roundRatios(wrk["a-fast"].rps, wrk["n-fast"].rps)), r >= 1.2)
	if a, n := wrk["a-fast"], wrk["n-fast"]; len(a.cpu) > 0 && len(n.cpu) > 0 {
		r := median(a.cpu) / median(n.cpu)
		bar("(a) CPU per page ≤ 0.8× nginx SSI's, no delay", fmt.Sprintf("%.3f× (%.0f / %.0f µs; rounds: %s)", r, median(a.cpu), median(n.cpu), roundRatios(a.cpu, n.cpu)), r <= 0.8)
	}
	if e, n := wrk["e-fast"], wrk["n-fast"]; e != nil && len(e.cpu) > 0 && len(n.cpu) > 0 {
		r := median(e.cpu) / median(n.cpu)
		fmt.Fprintf(out, "| (e), the floor, for scale: its CPU per page and req/s against nginx SSI's, no delay | %.3f× (%.0f / %.0f µs; rounds: %s); %.3f× req/s | – |\n",
			r, median(e.cpu), median(n.cpu), roundRatios(e.cpu, n.cpu), ratio("e-fast", "n-fast"))
	}
	if f, n := wrk["f-fast"], wrk["n-fast"]; f != nil && len(f.cpu) > 0 && len(n.cpu) > 0 {
		r := median(f.cpu) / median(n.cpu)
		fmt.Fprintf(out, "| (f), the floor pipelined, for scale: its CPU per page and req/s against nginx SSI's, no delay | %.3f× (%.0f / %.0f µs; rounds: %s); %.3f× req/s | – |\n",
			r, median(f.cpu), median(n.cpu), roundRatios(f.cpu, n.cpu), ratio("f-fast", "n-fast"))
	}
	if a, n := wrk["a-fast"], wrk["n-fast"]; a.rssKB > 0 && n.rssKB > 0 {
		r := a.rssKB / n.rssKB
		bar("(a) peak RSS ≤ 1.5× nginx SSI's, no delay", fmt.Sprintf("%.2f× (%.1f / %.1f MB)", r, a.rssKB/1024, n.rssKB/1024), r <= 1.5)
	}
	if a, n := ttfb["a-fast"], ttfb["n-fast"]; a != nil && n != nil {
		bar("(a) first byte p50 at low load ≤ nginx SSI's, no delay", fmt.Sprintf("%.2f / %.2f ms", a.TTFBp50, n.TTFBp50), a.TTFBp50 <= n.TTFBp50)
	}
	for _, v := range []string{"fast", "slow"} {
		r := ratio("a-"+v, "c-"+v)
		bar(fmt.Sprintf("(a) ≥ 1.5× req/s of (c), %s variant, collapsing off", v), fmt.Sprintf("%.3f×", r), r >= 1.5)
	}
	for _, v := range []string{"fast", "slow"} {
		r := ratio("ac-"+v, "c-"+v)
		bar(fmt.Sprintf("(a+) ≥ 1.5× req/s of (c), %s variant, collapsing on", v), fmt.Sprintf("%.2f×", r), r >= 1.5)
	}
	r = ratio("b-fast", "d")
	measured := fmt.Sprintf("%.3f× (rounds: %s)", r, roundRatios(wrk["b-fast"].rps, wrk["d"].rps))
	if b, d := wrk["b-fast"], wrk["d"]; len(b.cpu) > 0 && len(d.cpu) > 0 {
		measured += fmt.Sprintf("; CPU per page %.0f / %.0f µs", median(b.cpu), median(d.cpu))
	}
	bar("(b) ≥ 0.5× req/s of (d)", measured, r >= 0.5)
	for _, v := range []string{"fast", "slow"} {
		r := ratio("ac-"+v, "a-"+v)
		bar(fmt.Sprintf("(a+) ≥ (a) req/s, %s variant: collapsing keeps its lead", v), fmt.Sprintf("%.2f×", r), r >= 1)
	}
	for _, key := range []string{"a-slow", "b-slow"} {
		if t := ttfb[key]; t != nil {
			bar(fmt.Sprintf("%s first byte p50 ≤ 2 ms", key), fmt.Sprintf("%.2f ms (p99 %.2f)", t.TTFBp50, t.TTFBp99), t.TTFBp50 <= 2)
			bar(fmt.Sprintf("%s page ≈ slowest fragment (20 ms), not the sum (37 ms)", key),
				fmt.Sprintf("p50 %.2f ms", t.TotalP50), t.TotalP50 < 25)
		}
	}
	if t, c := ttfb["a-slow"], ttfb["c-slow"]; t != nil && c != nil && alone != nil {
		bar("(a) page p50 − slowest fragment p50, low load, < 1 ms", fmt.Sprintf("%.2f ms (naive (c): %.2f ms)",
			t.TotalP50-alone.TotalP50, c.TotalP50-alone.TotalP50), t.TotalP50-alone.TotalP50 < 1)
	}
	// The tail under an open-loop load is held to nginx's at the same rate:
	// at that rate the generator, the fragment server and the composer
	// share two cores, and their queueing is in every server's tail.
	for _, v := range []string{"fast", "slow"} {
		a, n := loads["a-"+v], loads["n-"+v]
		if len(a) == 0 || len(n) == 0 {
			continue
		}
		p99 := func(ls []load) float64 { return medianOf(ls, func(l load) float64 { return l.P99 }) }
		bar(fmt.Sprintf("(a) open-loop p99 at half its peak (%.0f req/s) ≤ nginx SSI's at that rate, %s variant", a[0].Rate, v),
			fmt.Sprintf("%.2f / %.2f ms", p99(a), p99(n)), p99(a) <= p99(n))
	}
	return nil
}

func yes(ok bool) string {
	if ok {
		return "yes"
	}
	return "**no**"
}

func readMeta(file string) map[string]string {
	m := map[string]string{}
	b, err := os.ReadFile(file)
	if err != nil {
		return m
	}
	for _, line := range strings.Split(string(b), "\n") {
		if k, v, ok := strings.Cut(line, "="); ok {
			m[k] = v
		}
	}
	return m
}

func median(xs []float64) float64 {
	s := slices.Clone(xs)
	slices.Sort(s)
	n := len(s)
	if n%2 == 1 {
		return s[n/2]
	}
	return (s[n/2-1] + s[n/2]) / 2
}

func medianOf[T any](xs []T, f func(T) float64) float64 {
	vs := make([]float64, len(xs))
	for i, x := range xs {
		vs[i] = f(x)
	}
	return median(vs)
}

func sumOf[T any](xs []T, f func(T) int) int {
	n := 0
	for _, x := range xs {
		n += f(x)
	}
	return n
}
