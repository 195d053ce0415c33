package edgetest

import (
	"bufio"
	"context"
	"html/template"
	"io"
	"log/slog"
	"net"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/collage-dev/collage/bff"
	"github.com/collage-dev/collage/shell"
	"github.com/collage-dev/collage/shell/invoke"
	"github.com/collage-dev/collage/shell/layout"
)

// BenchmarkPage serves a page of four in-process fragments over serve and
// asks for it over one keep-alive connection, with a client that
// allocates nothing per page: the allocations reported are the server's.
func BenchmarkPage(b *testing.B, serve Serve) {
	l, err := layout.Parse("home.html", []byte(`<!doctype html><html><head></head><body>
<collage-slot frontend="header" timeout="1s">h</collage-slot>
<collage-slot frontend="catalog" timeout="1s" primary>c</collage-slot>
<collage-slot frontend="cart" timeout="1s">k</collage-slot>
<collage-slot frontend="recs" timeout="1s">r</collage-slot>
</body></html>`))
	if err != nil {
		b.Fatal(err)
	}
	text := func(name string) shell.Frontend {
		f := bff.New(name)
		f.Log = slog.New(slog.DiscardHandler)
		body := strings.Repeat(name+" ", 300)
		bff.Fragment(f, template.Must(template.New(name).Parse(`<p>{{.}}</p>`)), func(context.Context, *bff.FragmentRequest) (string, error) {
			return body, nil
		})
		return shell.Frontend{Invoker: invoke.Local(f)}
	}
	sh, err := shell.New(shell.Options{
		Routes: []shell.Route{{Pattern: "/", Layout: l}},
		Frontends: map[string]shell.Frontend{
			"header": text("header"), "catalog": text("catalog"), "cart": text("cart"), "recs": text("recs"),
		},
		// The fragments answer at once: a wide window makes sure each page
		// leaves whole, with a length, even on a loaded machine.
		Coalesce: time.Second,
		Log:      slog.New(slog.DiscardHandler),
	})
	if err != nil {
		b.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		b.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- serve(ctx, ln, sh, shell.EdgeConfig{}) }()
	defer func() {
		cancel()
		<-done
	}()
	c, err := net.Dial("tcp", ln.Addr().String())
	if err != nil {
		b.Fatal(err)
	}
	defer c.Close()
	req := []byte("GET / HTTP/1.1\r\nHost: 127.0.0.1\r\nUser-Agent: bench\r\nAccept-Language: de-CH\r\n\r\n")
	r := bufio.NewReaderSize(c, 64<<10)
	body := make([]byte, 64<<10)
	b.ReportAllocs()
	for b.Loop() {
		if _, err := c.Write(req); err != nil {
			b.Fatal(err)
		}
		n := -1
		for {
			line, err := r.ReadSlice('\n')
			if err != nil {
				b.Fatal(err)
			}
			if len(line) <= 2 {
				break
			}
			if v, ok := strings.CutPrefix(string(line), "Content-Length: "); ok {
				n, _ = strconv.Atoi(strings.TrimSpace(v))
			}
		}
		if n < 0 {
			b.Fatal("a page without a Content-Length: it streamed")
		}
		if _, err := io.ReadFull(r, body[:n]); err != nil {
			b.Fatal(err)
		}
	}
}
