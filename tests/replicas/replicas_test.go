// Package replicas runs several collage binaries as child processes on
// 127.0.0.1, each `collage serve --redis` on the demo project of this
// repository with its own cache of files, all sharing one redis-server
// that the test starts for itself (so that it can kill and restart it
// without hurting anybody else's), and checks what replicas promise: a
// publish or a promote through one is served by the others within
// milliseconds, and within the poll bound when a pub/sub message is lost;
// Redis killed under load loses no page, and writes work again once it is
// back, without a restart of the shells; concurrent publishes through two
// replicas both land whole; a canary keeps each user on its side on every
// replica, and ends by itself when its BFF fails; a preview link made
// through one replica opens on another; the demo cart is one cart on
// every replica. Figures go to lines that start with "figure:" (go test
// -v shows them).
package replicas

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/collage-dev/collage/build"
	"github.com/collage-dev/collage/internal/syncbuf"
	"github.com/collage-dev/collage/internal/testbin"
	"github.com/collage-dev/collage/shell/registry"
)

var (
	// demo is the collage binary and the demo, built once for every test.
	demo testbin.Demo
	// redisServer is the redis-server binary, "" when there is none.
	redisServer string
)

// adminToken is the admin secret every replica is started with.
const adminToken = "replicas-test-admin-secret"

// TestMain builds the collage binary and the demo once for every test.
func TestMain(m *testing.M) {
	var err error
	if redisServer, err = exec.LookPath("redis-server"); err != nil {
		os.Exit(testbin.Skip("tests/replicas: no redis-server on PATH: each test starts and kills one of its own (apt-get install redis-server; the README's test command does)"))
	}
	os.Exit(demo.Main(m, "tests/replicas"))
}

// A redisProc is a redis-server of one test, on a port of its own.
type redisProc struct {
	port string
	dir  string   // its working folder: where an append-only file goes
	args []string // its arguments but the port
	cmd  *exec.Cmd
	out  *syncbuf.Buffer
	done chan struct{} // closed once the process has exited
}

// startRedis runs a redis-server on a free port of 127.0.0.1 that keeps
// nothing on disk, or, with persist, writes every change to an
// append-only file before answering it, so that it comes back with its
// data after a SIGKILL. It is killed when the test ends.
func startRedis(t *testing.T, persist bool) *redisProc {
	t.Helper()
	r := &redisProc{port: freePort(t), dir: t.TempDir()}
	r.args = []string{"--bind", "127.0.0.1", "--save", "", "--dir", r.dir}
	if persist {
		r.args = append(r.args, "--appendonly", "yes", "--appendfsync", "always")
	} else {
		r.args = append(r.args, "--appendonly", "no")
	}
	r.start(t)
	t.Cleanup(func() {
		r.kill()
		if t.Failed() {
			t.Logf("redis-server on port %s:\n%s", r.port, r.out.String())
		}
	})
	return r
}

// start runs the server on its port and waits until it answers PING.
func (r *redisProc) start(t *testing.T) {
	t.Helper()
	r.out, r.done = &syncbuf.Buffer{}, make(chan struct{})
	r.cmd = exec.Command(redisServer, append([]string{"--port", r.port}, r.args...)...)
	r.cmd.Dir = r.dir
	r.cmd.Stdout, r.cmd.Stderr = r.out, r.out
	if err := r.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() {
		r.cmd.Wait()
		close(r.done)
	}()
	for deadline := time.Now().Add(10 * time.Second); ; {
		reply, err := r.do("PING")
		if err == nil && reply == "PONG" {
			return
		}
		select {
		case <-r.done:
			t.Fatalf("redis-server exited before answering:\n%s", r.out.String())
		default:
		}
		if time.Now().After(deadline) {
			t.Fatalf("redis-server on port %s did not answer PING within 10s: %v\n%s", r.port, err, r.out.String())
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// kill sends SIGKILL to the server, as a crash would, and waits for it to
// end.
func (r *redisProc) kill() {
	r.cmd.Process.Kill()
	<-r.done
}

// url is the server's address for --redis.
func (r *redisProc) url() string { return "redis://127.0.0.1:" + r.port }

// do sends one command to the server on a connection of its own, and
// returns the reply: a status, an integer or a bulk string as text; an
// error reply as an error.
func (r *redisProc) do(args ...string) (string, error) {
	return redisDo("127.0.0.1:"+r.port, args...)
}

// redisDo sends one command to the Redis at addr in RESP, and reads its
// reply, all within 5s.
func redisDo(addr string, args ...string) (string, error) {
	conn, err := net.DialTimeout("tcp", addr, 2*time.Second)
	if err != nil {
		return "", err
	}
	defer conn.Close()
	conn.SetDeadline(time.Now().Add(5 * time.Second))
	var req bytes.Buffer
	fmt.Fprintf(&req, "*%d\r\n", len(args))
	for _, a := range args {
		fmt.Fprintf(&req, "$%d\r\n%s\r\n", len(a), a)
	}
	if _, err := conn.Write(req.Bytes()); err != nil {
		return "", err
	}
	br := bufio.NewReader(conn)
	line, err := br.ReadString('\n')
	if err != nil {
		return "", err
	}
	line = strings.TrimSuffix(line, "\r\n")
	if line == "" {
		return "", errors.New("an empty reply")
	}
	switch line[0] {
	case '+', ':':
		return line[1:], nil
	case '-':
		return "", errors.New(line[1:])
	case '$':
		n, err := strconv.Atoi(line[1:])
		if err != nil || n < 0 {
			return "", err
		}
		data := make([]byte, n+2)
		if _, err := io.ReadFull(br, data); err != nil {
			return "", err
		}
		return string(data[:n]), nil
	}
	return "", fmt.Errorf("a reply this test does not read: %q", line)
}

// freePort returns a TCP port of 127.0.0.1 that nothing listened on a
// moment ago.
func freePort(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	_, port, _ := net.SplitHostPort(l.Addr().String())
	return port
}

// server is a running collage serve.
type server struct {
	*testbin.Server
	name string // A, B, C: how the test's messages call it
}

// start runs collage serve on the demo, its registry in the Redis of
// redisURL, its files cached in a folder of its own, on a free port of
// 127.0.0.1, with the flags of extra. It is killed when the test ends.
func start(t *testing.T, name, redisURL string, extra ...string) *server {
	t.Helper()
	args := append([]string{"--data", t.TempDir(), "--redis", redisURL}, extra...)
	return &server{Server: demo.Serve(t, "replica "+name, adminToken, args...), name: name}
}

// collage runs the command line in the repository against s with the
// admin token, and returns its output and exit status.
func (s *server) collage(t *testing.T, args ...string) (stdout, stderr string, code int) {
	t.Helper()
	return demo.Run(t, s.URL, adminToken, args...)
}

// must runs the command line against s, and fails the test unless it
// succeeds; it returns its standard output.
func (s *server) must(t *testing.T, args ...string) string {
	t.Helper()
	out, errOut, code := s.collage(t, args...)
	if code != 0 {
		t.Fatalf("collage %s through %s: exit status %d\n%s%s", strings.Join(args, " "), s.name, code, out, errOut)
	}
	return out
}

// client is every test's HTTP client. It follows no redirect: a preview
// link's is what a test looks at.
var client = &http.Client{Timeout: time.Minute, CheckRedirect: func(*http.Request, []*http.Request) error {
	return http.ErrUseLastResponse
}}

// call sends a request to s with the admin token, and returns the
// answer's status and body.
func (s *server) call(t *testing.T, method, path, contentType string, body []byte) (int, []byte) {
	t.Helper()
	req, err := http.NewRequest(method, s.URL+path, bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer "+adminToken)
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	resp, data := testbin.Send(t, client, req)
	return resp.StatusCode, data
}

// get fetches path from s, with cookie (a Cookie header) unless it is
// empty, and returns the answer and its body.
func (s *server) get(t *testing.T, path, cookie string) (*http.Response, []byte) {
	t.Helper()
	req, err := http.NewRequest(http.MethodGet, s.URL+path, nil)
	if err != nil {
		t.Fatal(err)
	}
	if cookie != "" {
		req.Header.Set("Cookie", cookie)
	}
	return testbin.Send(t, client, req)
}

// upload posts archive as a version of frontend, and returns the status
// and the answer.
func (s *server) upload(t *testing.T, frontend string, archive []byte) (int, []byte) {
	t.Helper()
	return s.call(t, http.MethodPost, "/_collage/api/frontends/"+frontend+"/versions", "application/gzip", archive)
}

// health is what /_collage/health answers.
type health struct {
	Status    string                     `json:"status"`
	Revision  uint64                     `json:"revision"`
	Frontends map[string]string          `json:"frontends"`
	Canaries  map[string]registry.Canary `json:"canaries"`
}

// health returns what s says of itself.
func (s *server) health(t *testing.T) health {
	t.Helper()
	resp, body := s.get(t, "/_collage/health", "")
	var h health
	if resp.StatusCode != http.StatusOK || json.Unmarshal(body, &h) != nil {
		t.Fatalf("replica %s: GET /_collage/health: %d %s", s.name, resp.StatusCode, body)
	}
	return h
}

// await checks ok every 20ms until it holds, and fails the test when it
// does not within limit; it returns how long it took.
func await(t *testing.T, limit time.Duration, what string, ok func() bool) time.Duration {
	t.Helper()
	begin := time.Now()
	for !ok() {
		if time.Since(begin) > limit {
			t.Fatalf("%s: not within %s", what, limit)
		}
		time.Sleep(20 * time.Millisecond)
	}
	return time.Since(begin)
}

// page is one page as the shell rendered it.
type page struct {
	body     string
	versions url.Values // the collage-versions meta: label by frontend
	cookies  []*http.Cookie
}

// parsePage reads the collage-versions meta of a page's body; it returns
// an error when the body has none.
func parsePage(body []byte) (page, error) {
	v, err := testbin.Versions(string(body))
	return page{body: string(body), versions: v}, err
}

// page fetches the page at path, with cookie unless it is empty.
func (s *server) page(t *testing.T, path, cookie string) page {
	t.Helper()
	resp, body := s.get(t, path, cookie)
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("replica %s: GET %s: %d\n%s", s.name, path, resp.StatusCode, body)
	}
	p, err := parsePage(body)
	if err != nil {
		t.Fatalf("replica %s: GET %s: %v\n%s", s.name, path, err, body)
	}
	p.cookies = resp.Cookies()
	return p
}

// recs is the version of recs the page at / of s names, with cookie.
func (s *server) recs(t *testing.T, cookie string) string {
	t.Helper()
	return s.page(t, "/", cookie).versions.Get("recs")
}

// fragments are what the home page shows of each of its four slots when
// their BFFs answered, and never in a fallback.
var fragments = []string{`class="header-nav"`, `class="catalog-grid"`, `<section class="cart"`, `class="recs-list"`}

// whole reports what a home page lacks of its fragments, or "" when it
// has every one. (The async recs slot holds its fallback until its
// fragment, sent later in the page, replaces it, or marks it with
// data-collage-fallback when it failed.)
func whole(body string) string {
	for _, f := range fragments {
		if !strings.Contains(body, f) {
			return "no " + f
		}
	}
	if strings.Contains(body, "data-collage-fallback") {
		return "a failed async slot"
	}
	return ""
}

// checkAssets fetches every asset of the page from s, and checks its
// content against its integrity.
func (s *server) checkAssets(t *testing.T, p page) {
	t.Helper()
	for path, integrity := range testbin.PageImportMap(t, p.body).Integrity {
		resp, body := s.get(t, path, "")
		if resp.StatusCode != http.StatusOK || build.Integrity(body) != integrity {
			t.Errorf("replica %s: GET %s: %d, integrity %s; want 200 and %s", s.name, path, resp.StatusCode, build.Integrity(body), integrity)
		}
	}
}

// publish uploads the releases through s, and fails the test unless each
// is created.
func (s *server) publish(t *testing.T, rs ...*testbin.Release) {
	t.Helper()
	for _, r := range rs {
		if status, body := s.upload(t, "recs", r.Archive(t)); status != http.StatusCreated {
			t.Fatalf("publishing recs %s through %s: %d %s", r.Label, s.name, status, body)
		}
	}
}

// promote makes label the active version of recs through the publish
// API of s, a raw call, and fails the test unless it succeeds.
func (s *server) promote(t *testing.T, label string) {
	t.Helper()
	status, body := s.call(t, http.MethodPost, "/_collage/api/frontends/recs/promote", "application/json", []byte(`{"version":"`+label+`"}`))
	if status != http.StatusOK {
		t.Fatalf("promoting recs %s through %s: %d %s", label, s.name, status, body)
	}
}

// load is the machine's load average over the last minute, for figures.
func load() string {
	data, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return "unknown"
	}
	f := strings.Fields(string(data))
	if len(f) == 0 {
		return "unknown"
	}
	return f[0]
}
