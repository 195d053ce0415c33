package edgetest

import (
	"bufio"
	"io"
	"net"
	"net/http"
	"runtime"
	"strings"
	"testing"

	"github.com/collage-dev/collage/shell"
)

// idleConnBudget is what an idle keep-alive connection may hold of the
// server's heap and stacks: its read buffer (16 KiB at most, the limit of
// a request's head), its goroutine's stack (8 KiB) and its state, with
// room for the race detector's share, but no write buffer (16 KiB more),
// which a connection takes only while it writes a response.
const idleConnBudget = 36 << 10

// TestIdleConnectionMemory holds keep-alive connections open, each after
// a page, and measures what they hold of the server's memory (heap and
// stacks, after collecting): --max-conns of them must fit the memory an
// operator sizes it to.
func (su suite) TestIdleConnectionMemory(t *testing.T) {
	const n = 200
	f := su.newFixture(t, shell.EdgeConfig{})
	addr := strings.TrimPrefix(f.app.url, "http://")
	br := bufio.NewReader(nil) // one for all, so that the client holds none
	page := func(c net.Conn) {
		if _, err := io.WriteString(c, "GET / HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n"); err != nil {
			t.Fatal(err)
		}
		br.Reset(c)
		resp, err := http.ReadResponse(br, nil)
		if err != nil {
			t.Fatal(err)
		}
		_, err = io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		if err != nil || resp.StatusCode != http.StatusOK || br.Buffered() > 0 {
			t.Fatalf("GET /: %d, %v, %d bytes more", resp.StatusCode, err, br.Buffered())
		}
	}
	dial := func() net.Conn {
		c, err := net.Dial("tcp", addr)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { c.Close() })
		return c
	}
	page(dial()) // the server's first page, out of the count
	before := inUse()
	conns := make([]net.Conn, n)
	for i := range conns {
		conns[i] = dial()
		page(conns[i])
	}
	per := (inUse() - before) / n
	t.Logf("an idle keep-alive connection holds %.1f KiB of heap and stack", float64(per)/1024)
	if per > idleConnBudget {
		t.Errorf("an idle keep-alive connection holds %d bytes, want at most %d", per, idleConnBudget)
	}
	for _, c := range conns {
		page(c) // still served
	}
}

// inUse is the process's heap in use and its goroutines' stacks, after two
// collections (the second empties what sync.Pools keep).
func inUse() int64 {
	runtime.GC()
	runtime.GC()
	var m runtime.MemStats
	runtime.ReadMemStats(&m)
	return int64(m.HeapAlloc + m.StackInuse)
}
