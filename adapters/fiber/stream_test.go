package fiber

import (
	"bufio"
	"context"
	"io"
	"log/slog"
	"net"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/collage-dev/collage/shell"
	"github.com/collage-dev/collage/shell/invoke"
	"github.com/collage-dev/collage/shell/layout"
)

// late answers a fragment once released.
type late chan struct{}

func (l late) RoundTrip(r *http.Request) (*http.Response, error) {
	<-l
	return invoke.NewResponse(r, http.StatusOK, http.Header{}, []byte("<p>late</p>")), nil
}

// writes is a listener whose connections record each Write.
type writes struct {
	net.Listener
	mu  sync.Mutex
	got []string
}

func (w *writes) Accept() (net.Conn, error) {
	c, err := w.Listener.Accept()
	return &recording{c, w}, err
}

type recording struct {
	net.Conn
	w *writes
}

func (r *recording) Write(p []byte) (int, error) {
	r.w.mu.Lock()
	r.w.got = append(r.w.got, string(p))
	r.w.mu.Unlock()
	return r.Conn.Write(p)
}

// serveRecorded serves sh on a listener that records each Write, until the
// test ends.
func serveRecorded(t *testing.T, sh *shell.Shell) (*writes, net.Conn) {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	rec := &writes{Listener: ln}
	ctx, cancel := context.WithCancel(context.Background())
	served := make(chan error, 1)
	go func() { served <- Serve(ctx, rec, sh, Config{}) }()
	t.Cleanup(func() {
		cancel()
		<-served
	})
	c, err := net.Dial("tcp", ln.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	c.SetDeadline(time.Now().Add(10 * time.Second))
	return rec, c
}

// pages is a shell of three routes: / a page without slots, whole at once;
// /late one whose slot waits for release; /primary one whose primary slot
// (which decides its status, so nothing is written before it) waits for
// release. Each page is larger than fasthttp's 4 KiB write buffer.
func pages(t *testing.T, release late) *shell.Shell {
	t.Helper()
	filler := strings.Repeat("<p>filler</p>", 500) // 6.5 KB
	whole, err := layout.Parse("whole.html", []byte("<head></head><body>"+filler+"</body>"))
	if err != nil {
		t.Fatal(err)
	}
	slow, err := layout.Parse("late.html", []byte("<head></head><body>"+filler+"<collage-slot frontend=x>fb</collage-slot>"+filler+"</body>"))
	if err != nil {
		t.Fatal(err)
	}
	primary, err := layout.Parse("primary.html", []byte("<head></head><body><collage-slot frontend=x primary>fb</collage-slot></body>"))
	if err != nil {
		t.Fatal(err)
	}
	sh, err := shell.New(shell.Options{
		Routes:     []shell.Route{{Pattern: "/", Layout: whole}, {Pattern: "/late", Layout: slow}, {Pattern: "/primary", Layout: primary}},
		Frontends:  map[string]shell.Frontend{"x": {Invoker: release}},
		NoCoalesce: true,
		Log:        slog.New(slog.DiscardHandler),
	})
	if err != nil {
		t.Fatal(err)
	}
	return sh
}

// TestStreamedPageEnd: a page that streams sends each chunk in one write,
// though larger than the write buffer, and its last chunk with the end of
// the body.
func TestStreamedPageEnd(t *testing.T) {
	t.Parallel()
	release := make(late)
	rec, c := serveRecorded(t, pages(t, release))
	io.WriteString(c, "GET /late HTTP/1.1\r\nHost: shell\r\n\r\n")
	resp, err := http.ReadResponse(bufio.NewReader(c), nil)
	if err != nil {
		t.Fatal(err)
	}
	close(release) // the head has come
	body, err := io.ReadAll(resp.Body)
	if err != nil || !strings.Contains(string(body), "<p>late</p>") {
		t.Fatalf("page %q, %v", body, err)
	}
	rec.mu.Lock()
	defer rec.mu.Unlock()
	if len(rec.got) != 2 || !strings.HasSuffix(rec.got[1], "\r\n0\r\n\r\n") || !strings.Contains(rec.got[1], "<p>late</p>") {
		t.Errorf("the page took %d writes, want 2 (the head; the rest with the end): %q", len(rec.got), rec.got)
	}
}

// get sends request on c and reads the answer whole.
func get(t *testing.T, c net.Conn, request string) (*http.Response, []byte) {
	t.Helper()
	io.WriteString(c, request)
	resp, err := http.ReadResponse(bufio.NewReader(c), nil)
	if err != nil {
		t.Fatal(err)
	}
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatalf("after %d of %d bytes: %v", len(body), resp.ContentLength, err)
	}
	return resp, body
}

// TestWholePageOneWrite: a page written whole leaves with its headers in
// one write, though larger than the write buffer.
func TestWholePageOneWrite(t *testing.T) {
	t.Parallel()
	rec, c := serveRecorded(t, pages(t, make(late)))
	_, body := get(t, c, "GET / HTTP/1.1\r\nHost: shell\r\n\r\n")
	if !strings.HasSuffix(string(body), "</body></html>") && !strings.HasSuffix(string(body), "</body>") {
		t.Fatalf("page %q", body)
	}
	rec.mu.Lock()
	defer rec.mu.Unlock()
	if len(rec.got) != 1 {
		t.Errorf("the page took %d writes, want 1", len(rec.got))
	}
}

// TestPipelinedAnswer: an answer whose end the connection gathers leaves
// when the next request, pipelined behind it, starts, not once that one
// writes.
func TestPipelinedAnswer(t *testing.T) {
	t.Parallel()
	release := make(late)
	_, c := serveRecorded(t, pages(t, release))
	io.WriteString(c, "GET / HTTP/1.1\r\nHost: shell\r\n\r\nGET /primary HTTP/1.1\r\nHost: shell\r\n\r\n")
	c.SetReadDeadline(time.Now().Add(5 * time.Second))
	br := bufio.NewReader(c)
	resp, err := http.ReadResponse(br, nil)
	if err != nil {
		t.Fatalf("the first answer did not come while the second page waits: %v", err)
	}
	if _, err := io.Copy(io.Discard, resp.Body); err != nil {
		t.Fatalf("the first answer's body: %v", err)
	}
	release <- struct{}{}
	if resp, err = http.ReadResponse(br, nil); err != nil {
		t.Fatalf("the second page: %v", err)
	}
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("the second page answered %s: its slot timed out while the first answer waited for it", resp.Status)
	}
}

// TestClosingAnswer: an answer whose connection closes after it leaves
// whole before the close.
func TestClosingAnswer(t *testing.T) {
	t.Parallel()
	_, c := serveRecorded(t, pages(t, make(late)))
	resp, body := get(t, c, "GET / HTTP/1.1\r\nHost: shell\r\nConnection: close\r\n\r\n")
	if int64(len(body)) != resp.ContentLength || !resp.Close {
		t.Fatalf("%d of %d bytes, close %v", len(body), resp.ContentLength, resp.Close)
	}
}
