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

// TestStreamedPageEnd: a page that streams sends its last chunk and the
// end of the body in one write.
func TestStreamedPageEnd(t *testing.T) {
	t.Parallel()
	l, err := layout.Parse("p.html", []byte("<head></head><body><collage-slot frontend=x>fb</collage-slot></body>"))
	if err != nil {
		t.Fatal(err)
	}
	release := make(late)
	sh, err := shell.New(shell.Options{
		Routes:     []shell.Route{{Pattern: "/", Layout: l}},
		Frontends:  map[string]shell.Frontend{"x": {Invoker: release}},
		NoCoalesce: true,
		Log:        slog.New(slog.DiscardHandler),
	})
	if err != nil {
		t.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	rec := &writes{Listener: ln}
	ctx, cancel := context.WithCancel(context.Background())
	served := make(chan error, 1)
	go func() { served <- Serve(ctx, rec, sh, Config{}) }()
	defer func() {
		cancel()
		<-served
	}()
	c, err := net.Dial("tcp", ln.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	c.SetDeadline(time.Now().Add(10 * time.Second))
	io.WriteString(c, "GET / HTTP/1.1\r\nHost: shell\r\n\r\n")
	br := bufio.NewReader(c)
	resp, err := http.ReadResponse(br, nil)
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
