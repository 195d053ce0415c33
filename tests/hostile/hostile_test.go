// Package hostile runs the collage binary as a child process on 127.0.0.1
// and attacks it: slowloris, file descriptor exhaustion, decompression
// bombs, many large bodies at once, shutdown with stuck connections. Each
// test logs its figures (RSS, open connections, statuses, exit status) on
// lines that start with "figure:" (go test -v shows them).
//
// COLLAGE_HOSTILE_OLD_BIN names a binary built before the edge had its
// limits: the tests then run it without the flags it lacks, and fail where
// it falls, with the figures it gave.
package hostile

import (
	"bytes"
	"compress/gzip"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/collage-dev/collage/internal/testbin"
)

// bin is the collage binary under test; old is whether it is the one of
// COLLAGE_HOSTILE_OLD_BIN.
var (
	bin string
	old bool
)

// TestMain builds the collage binary once for every test.
func TestMain(m *testing.M) {
	os.Exit(run(m))
}

func run(m *testing.M) int {
	if runtime.GOOS != "linux" {
		fmt.Println("SKIPPING tests/hostile: they read /proc and need Linux")
		return 0
	}
	if bin = os.Getenv("COLLAGE_HOSTILE_OLD_BIN"); bin != "" {
		old = true
		return m.Run()
	}
	dir, err := os.MkdirTemp("", "collage-hostile-")
	if err != nil {
		fmt.Println(err)
		return 1
	}
	defer os.RemoveAll(dir)
	if bin, err = testbin.Build(dir); err != nil {
		fmt.Println(err)
		return 1
	}
	return m.Run()
}

// bffServer is the BFF of the test project, in this process: fragments
// (slow when the page's path starts with /slow), POST /sink, which reads
// the whole body and answers how many bytes it got, and GET /big, an answer
// of 300 MiB.
func bffServer(t *testing.T) *httptest.Server {
	t.Helper()
	return slowBFFServer(t, nil)
}

// slowBFFServer is bffServer, telling slow each time a fragment of /slow
// begins, so that a test knows the page is in flight.
func slowBFFServer(t *testing.T, slow chan<- struct{}) *httptest.Server {
	t.Helper()
	mux := http.NewServeMux()
	mux.HandleFunc("GET /_fragment", func(w http.ResponseWriter, r *http.Request) {
		if strings.HasPrefix(r.Header.Get("Collage-Path"), "/slow") {
			if slow != nil {
				select {
				case slow <- struct{}{}:
				default:
				}
			}
			time.Sleep(1500 * time.Millisecond)
		}
		io.WriteString(w, "<p>fragment</p>")
	})
	mux.HandleFunc("POST /sink", func(w http.ResponseWriter, r *http.Request) {
		n, err := io.Copy(io.Discard, r.Body)
		if err != nil {
			http.Error(w, "reading the body: "+err.Error(), http.StatusBadRequest)
			return
		}
		fmt.Fprintf(w, `{"bytes":%d}`, n)
	})
	mux.HandleFunc("GET /big", func(w http.ResponseWriter, r *http.Request) {
		// 300 MiB, with its length declared when the query asks for it,
		// else streamed in chunks.
		const size = 300 << 20
		if r.URL.Query().Has("length") {
			w.Header().Set("Content-Length", strconv.Itoa(size))
		}
		chunk := bytes.Repeat([]byte("x"), 64<<10)
		for sent := 0; sent < size; sent += len(chunk) {
			if _, err := w.Write(chunk); err != nil {
				return
			}
		}
	})
	s := httptest.NewServer(mux)
	t.Cleanup(s.Close)
	return s
}

// project writes a collage.yaml with two pages, / and /slow, whose one
// slot is the BFF at bffURL.
func project(t *testing.T, bffURL string) string {
	t.Helper()
	dir := t.TempDir()
	files := map[string]string{
		"collage.yaml": "layouts: layouts\nroutes:\n  /: page.html\n  /slow: page.html\nfrontends:\n  sink: { bff: \"" + bffURL + "\" }\n",
		"layouts/page.html": "<!doctype html><html><head><title>t</title></head><body>" +
			`<collage-slot frontend="sink" timeout="5s">fallback</collage-slot></body></html>`,
	}
	for name, data := range files {
		p := filepath.Join(dir, name)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(data), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return filepath.Join(dir, "collage.yaml")
}

// server is a running collage serve. Under prlimit too, its Cmd's
// process is collage: prlimit execs the command.
type server struct {
	*testbin.Server
}

// start runs collage serve on the project of cfg, with edge flags the old
// binary is run without, under prlimit --nofile=nofile when nofile > 0. It
// is killed when the test ends.
func start(t *testing.T, cfg string, nofile int, edge ...string) *server {
	t.Helper()
	args := []string{"serve", "--config", cfg, "--dist", filepath.Join(t.TempDir(), "dist"), "--addr", "127.0.0.1:0"}
	if !old {
		args = append(args, "--data", t.TempDir())
		args = append(args, edge...)
	}
	name := bin
	if nofile > 0 {
		prlimit, err := exec.LookPath("prlimit")
		if err != nil {
			if os.Getenv("CI") == "true" {
				t.Fatal("prlimit (util-linux) is missing under CI")
			}
			t.Skip("SKIPPING: prlimit (util-linux) is not installed")
		}
		args = append([]string{fmt.Sprintf("--nofile=%d:%d", nofile, nofile), "--", bin}, args...)
		name = prlimit
	}
	return &server{testbin.Start(t, "collage", exec.Command(name, args...))}
}

// exited waits up to d for the process to end and returns its exit status,
// or -1 if it still runs.
func (s *server) exited(d time.Duration) int {
	select {
	case <-s.Done():
		return s.Cmd.ProcessState.ExitCode()
	case <-time.After(d):
		return -1
	}
}

// alive reports whether the process still runs.
func (s *server) alive() bool {
	select {
	case <-s.Done():
		return false
	default:
		return true
	}
}

// memory is the process's VmRSS and VmHWM (its peak) in bytes.
func (s *server) memory(t *testing.T) (rss, peak int64) {
	t.Helper()
	data, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", s.Cmd.Process.Pid))
	if err != nil {
		t.Fatalf("reading the server's memory: %v", err)
	}
	for _, line := range strings.Split(string(data), "\n") {
		k, v, _ := strings.Cut(line, ":")
		kb, _ := strconv.ParseInt(strings.TrimSuffix(strings.TrimSpace(v), " kB"), 10, 64)
		switch k {
		case "VmRSS":
			rss = kb << 10
		case "VmHWM":
			peak = kb << 10
		}
	}
	return rss, peak
}

// sockets counts the sockets the process has open: its listener, its
// connections to the BFF and those of clients.
func (s *server) sockets(t *testing.T) int {
	t.Helper()
	dir := fmt.Sprintf("/proc/%d/fd", s.Cmd.Process.Pid)
	fds, err := os.ReadDir(dir)
	if err != nil {
		t.Fatalf("reading the server's descriptors: %v", err)
	}
	n := 0
	for _, fd := range fds {
		if l, err := os.Readlink(filepath.Join(dir, fd.Name())); err == nil && strings.HasPrefix(l, "socket:") {
			n++
		}
	}
	return n
}

// get fetches url and returns its status and body, or an error.
func get(c *http.Client, url string) (int, string, error) {
	resp, err := c.Get(url)
	if err != nil {
		return 0, "", err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	return resp.StatusCode, string(body), err
}

// mb formats bytes in MiB.
func mb(n int64) string { return fmt.Sprintf("%.1f MiB", float64(n)/(1<<20)) }

// dialAll opens n connections to the server's address and writes head on
// each; they are closed when the test ends. It returns the connections
// made and the error that stopped it, if one did.
func dialAll(t *testing.T, url string, n int, head string) ([]net.Conn, error) {
	t.Helper()
	addr := strings.TrimPrefix(url, "http://")
	conns := make([]net.Conn, 0, n)
	t.Cleanup(func() {
		for _, c := range conns {
			c.Close()
		}
	})
	for range n {
		c, err := net.DialTimeout("tcp", addr, 5*time.Second)
		if err != nil {
			return conns, fmt.Errorf("connection %d: %w", len(conns), err)
		}
		conns = append(conns, c)
		if head != "" {
			if _, err := io.WriteString(c, head); err != nil {
				return conns, fmt.Errorf("connection %d: %w", len(conns), err)
			}
		}
	}
	return conns, nil
}

// closedByServer waits up to d for the server to close each connection and
// counts those it closed.
func closedByServer(conns []net.Conn, d time.Duration) int {
	deadline := time.Now().Add(d)
	var mu sync.Mutex
	var wg sync.WaitGroup
	n := 0
	for _, c := range conns {
		wg.Add(1)
		go func() {
			defer wg.Done()
			c.SetReadDeadline(deadline)
			_, err := io.Copy(io.Discard, c)
			if ne, ok := err.(net.Error); ok && ne.Timeout() {
				return
			}
			mu.Lock()
			n++
			mu.Unlock()
		}()
	}
	wg.Wait()
	return n
}

// TestSlowloris holds 1,000 connections that send half a request and stop:
// pages are served meanwhile, and the header timeout closes them all.
func TestSlowloris(t *testing.T) {
	forEachServer(t, func(t *testing.T, server string) {
		bff := bffServer(t)
		s := start(t, project(t, bff.URL), 0, "--server", server, "--header-timeout", "1s", "--idle-timeout", "1s")
		c := &http.Client{Timeout: 10 * time.Second}
		if status, body, err := get(c, s.URL+"/"); err != nil || status != 200 {
			t.Fatalf("GET / before the attack = %d %v\n%s", status, err, body)
		}
		rss0, _ := s.memory(t)
		conns, err := dialAll(t, s.URL, 1000, "GET / HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Slow: ")
		if err != nil {
			t.Fatal(err)
		}
		held := 0
		for end := time.Now().Add(2 * time.Second); held < 1000 && time.Now().Before(end); time.Sleep(50 * time.Millisecond) {
			held = s.sockets(t) // the server accepts them as fast as it can
		}
		ok := 0
		for range 20 {
			if status, _, err := get(c, s.URL+"/"); err == nil && status == 200 {
				ok++
			}
		}
		closed := closedByServer(conns, 15*time.Second)
		_, peak := s.memory(t)
		left := s.sockets(t)
		t.Logf("figure: slowloris 1000 conns: sockets held %d, pages 200 during it %d/20, closed by server within 15s %d/1000, sockets after %d, RSS %s -> peak %s",
			held, ok, closed, left, mb(rss0), mb(peak))
		if ok != 20 {
			t.Errorf("%d of 20 pages answered 200 during the attack", ok)
		}
		if closed != 1000 {
			t.Errorf("the server closed %d of the 1000 half-sent connections within 15s (header timeout 1s)", closed)
		}
		if status, _, err := get(c, s.URL+"/"); err != nil || status != 200 {
			t.Errorf("GET / after the attack = %d %v", status, err)
		}
	})
}

// TestFileDescriptorExhaustion runs the server with 64 descriptors and
// opens 200 connections: accepting fails with EMFILE, and the server must
// neither exit nor stop serving once the clients go.
func TestFileDescriptorExhaustion(t *testing.T) {
	forEachServer(t, func(t *testing.T, server string) {
		bff := bffServer(t)
		s := start(t, project(t, bff.URL), 64, "--server", server, "--header-timeout", "30s")
		c := &http.Client{Timeout: 10 * time.Second}
		if status, _, err := get(c, s.URL+"/"); err != nil || status != 200 {
			t.Fatalf("GET / before the attack = %d %v", status, err)
		}
		conns, dialErr := dialAll(t, s.URL, 200, "")
		time.Sleep(time.Second) // the server accepts until it runs out
		held := -1
		if s.alive() {
			held = s.sockets(t)
		}
		status := s.exited(2 * time.Second)
		for _, c := range conns {
			c.Close()
		}
		var got int
		var err error
		if status == -1 {
			// Once the clients have gone, the server accepts again.
			for end := time.Now().Add(15 * time.Second); time.Now().Before(end); time.Sleep(200 * time.Millisecond) {
				if got, _, err = get(c, s.URL+"/"); err == nil && got == 200 {
					break
				}
			}
		}
		t.Logf("figure: fd exhaustion (nofile 64, 200 conns): dialling %d made, stopped by %v; sockets held %d, exit status while exhausted %d (-1: still running), GET / after the clients left %d %v",
			len(conns), dialErr, held, status, got, err)
		if status != -1 {
			t.Fatalf("the server exited with status %d when out of descriptors:\n%s", status, s.Out.String())
		}
		if got != 200 {
			t.Errorf("GET / after the clients left = %d %v, want 200", got, err)
		}
		if !strings.Contains(s.Out.String(), "too many open files") {
			t.Errorf("the server never ran out of descriptors (the test did not test):\n%s", s.Out.String())
		}
	})
}

// TestMaxConns holds --max-conns connections open: one more is answered
// 503 at once, and the server serves again once they go.
func TestMaxConns(t *testing.T) {
	forEachServer(t, func(t *testing.T, server string) {
		if old {
			t.Skip("the old binary has no --max-conns")
		}
		bff := bffServer(t)
		s := start(t, project(t, bff.URL), 0, "--server", server, "--max-conns", "20", "--header-timeout", "30s")
		conns, err := dialAll(t, s.URL, 20, "GET / HTTP/1.1\r\nHost: 127.0.0.1\r\n")
		if err != nil {
			t.Fatal(err)
		}
		c := &http.Client{Timeout: 10 * time.Second, Transport: &http.Transport{DisableKeepAlives: true}}
		status := 0
		for end := time.Now().Add(10 * time.Second); status != http.StatusServiceUnavailable && time.Now().Before(end); time.Sleep(50 * time.Millisecond) {
			status, _, _ = get(c, s.URL+"/") // until the server has taken all 20
		}
		for _, c := range conns {
			c.Close()
		}
		after := 0
		for end := time.Now().Add(10 * time.Second); after != 200 && time.Now().Before(end); time.Sleep(50 * time.Millisecond) {
			after, _, _ = get(c, s.URL+"/")
		}
		t.Logf("figure: --max-conns 20 with 20 held: one more gets %d; once they go, %d", status, after)
		if status != http.StatusServiceUnavailable || after != 200 {
			t.Errorf("one connection over the cap got %d, and %d once the others went; want 503, then 200", status, after)
		}
	})
}

// bomb is a gzip body of n MiB of zeros, as members of one MiB each (the
// format allows many): about 1 KiB per MiB.
func bomb(n int) []byte {
	var member bytes.Buffer
	w, _ := gzip.NewWriterLevel(&member, gzip.BestCompression) // a valid level
	w.Write(make([]byte, 1<<20))
	w.Close()
	return bytes.Repeat(member.Bytes(), n)
}

// TestDecompressionBomb posts gzip bodies that decode to 1 GiB (chunked)
// and 512 MiB (with a length): 413, and the server's memory barely moves.
func TestDecompressionBomb(t *testing.T) {
	forEachServer(t, func(t *testing.T, server string) {
		bff := bffServer(t)
		s := start(t, project(t, bff.URL), 0, "--server", server)
		c := &http.Client{Timeout: 120 * time.Second}
		for _, tt := range []struct {
			name    string
			mib     int
			chunked bool
		}{
			{"1 GiB, chunked", 1024, true},
			{"512 MiB, with Content-Length", 512, false},
		} {
			body := bomb(tt.mib)
			rss0, _ := s.memory(t)
			var r io.Reader = bytes.NewReader(body)
			if tt.chunked {
				r = io.MultiReader(r) // no length: the client sends it chunked
			}
			req, _ := http.NewRequest(http.MethodPost, s.URL+"/bff/sink/sink", r)
			req.Header.Set("Content-Type", "application/json")
			req.Header.Set("Content-Encoding", "gzip")
			resp, err := c.Do(req)
			status, answer := 0, ""
			if err == nil {
				b, _ := io.ReadAll(resp.Body)
				resp.Body.Close()
				status, answer = resp.StatusCode, string(b)
			}
			rss, peak := s.memory(t)
			t.Logf("figure: gzip bomb %s (%d bytes sent): status %d %v, RSS %s -> %s (peak %s, growth %s)",
				tt.name, len(body), status, err, mb(rss0), mb(rss), mb(peak), mb(peak-rss0))
			if status != http.StatusRequestEntityTooLarge || !strings.Contains(answer, `"payload_too_large"`) {
				t.Errorf("%s: %d %v %s, want a 413 in JSON", tt.name, status, err, answer)
			}
			if peak-rss0 > 50<<20 {
				t.Errorf("%s: the server grew by %s, want under 50 MiB", tt.name, mb(peak-rss0))
			}
		}
	})
}

// resetWhileSending counts a refused body whose answer the client did not
// read before the server's reset.
const resetWhileSending = "reset while sending"

// TestManyLargeBodies posts 40 bodies of 4 MiB at once, half with a length
// and half chunked (413, over --max-body), again as multipart forms, then
// 40 of 900 KiB (they reach the BFF whole): the server's memory stays
// bounded.
func TestManyLargeBodies(t *testing.T) {
	forEachServer(t, func(t *testing.T, server string) {
		bff := bffServer(t)
		s := start(t, project(t, bff.URL), 0, "--server", server)
		c := &http.Client{Timeout: 120 * time.Second, Transport: &http.Transport{MaxConnsPerHost: 40, MaxIdleConnsPerHost: 40}}
		for _, tt := range []struct {
			name      string
			size      int
			multipart bool
			status    int
		}{
			{"4 MiB", 4 << 20, false, http.StatusRequestEntityTooLarge},
			{"4 MiB multipart", 4 << 20, true, http.StatusRequestEntityTooLarge},
			{"900 KiB", 900 << 10, false, http.StatusOK},
		} {
			rss0, _ := s.memory(t)
			payload := bytes.Repeat([]byte("x"), tt.size)
			if tt.multipart {
				// One file field, well formed.
				payload = slices.Concat([]byte("--xyz\r\nContent-Disposition: form-data; name=\"f\"; filename=\"f\"\r\n\r\n"),
					payload, []byte("\r\n--xyz--\r\n"))
			}
			statuses := map[string]int{}
			var mu sync.Mutex
			var wg sync.WaitGroup
			for i := range 40 {
				wg.Add(1)
				go func() {
					defer wg.Done()
					var r io.Reader = bytes.NewReader(payload)
					if i%2 == 1 {
						r = io.MultiReader(r) // chunked
					}
					req, _ := http.NewRequest(http.MethodPost, s.URL+"/bff/sink/sink", r)
					req.Header.Set("Content-Type", "application/json")
					if tt.multipart {
						req.Header.Set("Content-Type", "multipart/form-data; boundary=xyz")
					}
					resp, err := c.Do(req)
					key := ""
					switch {
					case err != nil && tt.status == http.StatusRequestEntityTooLarge && errors.Is(err, syscall.ECONNRESET):
						// net/http answers 413 and closes while the
						// client still sends: on a loaded machine the
						// reset can reach the client before the answer
						// it has not read yet. The body was refused all
						// the same, and the figure shows how often.
						key = resetWhileSending
					case err != nil:
						key = fmt.Sprintf("error (chunked %v): %v", i%2 == 1, err)
					default:
						b, _ := io.ReadAll(resp.Body)
						resp.Body.Close()
						key = strconv.Itoa(resp.StatusCode)
						if resp.StatusCode == 200 && string(b) != fmt.Sprintf(`{"bytes":%d}`, tt.size) {
							key = "200 with " + string(b)
						}
					}
					mu.Lock()
					statuses[key]++
					mu.Unlock()
				}()
			}
			wg.Wait()
			_, peak := s.memory(t)
			t.Logf("figure: 40 concurrent %s bodies: statuses %v, RSS %s -> peak %s (growth %s)", tt.name, statuses, mb(rss0), mb(peak), mb(peak-rss0))
			if statuses[strconv.Itoa(tt.status)]+statuses[resetWhileSending] != 40 {
				t.Errorf("%s: statuses %v, want 40 × %d", tt.name, statuses, tt.status)
			}
			if peak-rss0 > 60<<20 {
				t.Errorf("%s: the server grew by %s, want under 60 MiB", tt.name, mb(peak-rss0))
			}
		}
	})
}

// TestLargeAnswer asks for a BFF answer of 300 MiB through /bff, with its
// length declared (502 before anything is sent) and streamed (cut at
// --max-bff-response): the server never holds the answer.
func TestLargeAnswer(t *testing.T) {
	bff := bffServer(t)
	s := start(t, project(t, bff.URL), 0)
	c := &http.Client{Timeout: 120 * time.Second}
	for _, tt := range []struct {
		name, query string
		status      int
	}{
		{"declared", "?length=1", http.StatusBadGateway},
		{"streamed", "", http.StatusOK},
	} {
		rss0, _ := s.memory(t)
		status, got := 0, int64(0)
		resp, err := c.Get(s.URL + "/bff/sink/big" + tt.query)
		if err == nil {
			status = resp.StatusCode
			got, err = io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
		}
		_, peak := s.memory(t)
		t.Logf("figure: a 300 MiB /bff answer, %s: status %d, %s received (%v), RSS %s -> peak %s (growth %s)",
			tt.name, status, mb(got), err, mb(rss0), mb(peak), mb(peak-rss0))
		if status != tt.status {
			t.Errorf("%s: status %d, want %d", tt.name, status, tt.status)
		}
		if got > 8<<20 {
			t.Errorf("%s: %s reached the client, want at most the 8 MiB bound", tt.name, mb(got))
		}
		if peak-rss0 > 50<<20 {
			t.Errorf("%s: the server grew by %s, want under 50 MiB", tt.name, mb(peak-rss0))
		}
	}
}

// TestShutdown sends SIGTERM while a slow page is in flight, with idle
// keep-alive connections and half-sent requests open: the page finishes,
// and the server exits 0 without waiting for the others.
func TestShutdown(t *testing.T) {
	forEachServer(t, func(t *testing.T, server string) {
		slow := make(chan struct{}, 1)
		bff := slowBFFServer(t, slow)
		s := start(t, project(t, bff.URL), 0, "--server", server, "--shutdown-timeout", "20s", "--header-timeout", "30s", "--idle-timeout", "60s")
		idle := &http.Client{Timeout: 10 * time.Second, Transport: &http.Transport{MaxIdleConnsPerHost: 20}}
		var wg sync.WaitGroup
		for range 20 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				get(idle, s.URL+"/")
			}()
		}
		wg.Wait()
		if _, err := dialAll(t, s.URL, 20, "GET / HTTP/1.1\r\nHost: 127.0.0.1\r\n"); err != nil { // half-sent: no blank line
			t.Fatal(err)
		}
		type result struct {
			status int
			body   string
			err    error
		}
		page := make(chan result, 1)
		go func() {
			status, body, err := get(&http.Client{Timeout: 30 * time.Second}, s.URL+"/slow")
			page <- result{status, body, err}
		}()
		select { // the page is waiting for its fragment
		case <-slow:
		case <-time.After(10 * time.Second):
			t.Fatal("the page's fragment was not asked for in 10s")
		}
		held := s.sockets(t)
		began := time.Now()
		s.Cmd.Process.Signal(syscall.SIGTERM)
		status := s.exited(30 * time.Second)
		took := time.Since(began)
		p := <-page
		t.Logf("figure: shutdown with 20 idle, 20 half-sent and 1 in-flight page (sockets %d): exit status %d after %s, the page %d %v",
			held, status, took.Round(time.Millisecond), p.status, p.err)
		if p.err != nil || p.status != 200 || !strings.Contains(p.body, "<p>fragment</p>") {
			t.Errorf("the page in flight = %d %v, want it whole:\n%s", p.status, p.err, p.body)
		}
		if status != 0 {
			t.Errorf("exit status %d, want 0:\n%s", status, s.Out.String())
		}
		// The page takes 1.5s; waiting for the idle and stuck connections
		// would take the whole 20s.
		if took > 15*time.Second {
			t.Errorf("the server took %s to exit", took)
		}
	})
}

// TestShutdownCutsLatePages gives a page in flight less time than it needs:
// the server exits 1 and says why.
func TestShutdownCutsLatePages(t *testing.T) {
	forEachServer(t, func(t *testing.T, server string) {
		if old {
			t.Skip("the old binary has no --shutdown-timeout")
		}
		slow := make(chan struct{}, 1)
		bff := slowBFFServer(t, slow)
		s := start(t, project(t, bff.URL), 0, "--server", server, "--shutdown-timeout", "200ms")
		go get(&http.Client{Timeout: 30 * time.Second}, s.URL+"/slow")
		select { // the page is waiting for its fragment
		case <-slow:
		case <-time.After(10 * time.Second):
			t.Fatal("the page's fragment was not asked for in 10s")
		}
		s.Cmd.Process.Signal(syscall.SIGTERM)
		status := s.exited(30 * time.Second)
		t.Logf("figure: shutdown with a page outliving --shutdown-timeout: exit status %d", status)
		if status != 1 || !strings.Contains(s.Out.String(), "1 request(s) still running") {
			t.Errorf("exit status %d, want 1 with a message:\n%s", status, s.Out.String())
		}
	})
}

// forEachServer runs test once over each HTTP binding --server takes, as
// a subtest named for it; the old binary has fiber only.
func forEachServer(t *testing.T, test func(t *testing.T, server string)) {
	t.Helper()
	for _, server := range []string{"fiber", "nethttp"} {
		t.Run(server, func(t *testing.T) {
			if old && server != "fiber" {
				t.Skip("the old binary has no --server")
			}
			test(t, server)
		})
	}
}
