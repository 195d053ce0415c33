// Command baseline is what the benchmarks compare collage with, on fiber:
//
//   - --mode naive: a naive composer. Per request it GETs every fragment of
//     the layout in parallel with net/http, waits for all of them, buffers
//     the whole page and sends it.
//   - --mode static: the same page bytes as a static page (--page FILE).
//   - --mode sequential: a floor for composing over HTTP/1.1 on fiber, not
//     a composer (sequential.go): one goroutine a page, no goroutine per
//     fragment.
//   - --mode pipelined: the same floor with every GET of a page in one write
//     on one connection, the answers read from it in order (HTTP/1.1
//     pipelining).
//
// It lives in its own Go module because the main module lets one package
// only, adapters/fiber, import fiber (docs/ARCHITECTURE.md, rule 1).
//
//	baseline --mode naive --frags http://127.0.0.1:18101 --layout ../internal/frag/layout.html
//	baseline --mode static --page page.html
//	baseline --mode sequential --frags http://127.0.0.1:18101 --layout ../internal/frag/layout.html
//	baseline --mode pipelined --frags http://127.0.0.1:18101 --layout ../internal/frag/layout.html
//
// It stops on SIGINT or SIGTERM.
package main

import (
	"bytes"
	"context"
	"flag"
	"fmt"
	"io"
	"log"
	"net"
	"net/http"
	"os"
	"os/signal"
	"regexp"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/gofiber/fiber/v2"
)

// options are the command's flags.
type options struct {
	mode        string
	addr        string
	frags       string
	layout      string
	page        string
	idlePerHost int
}

func main() {
	var o options
	flag.StringVar(&o.mode, "mode", "naive", "naive (compose per request), sequential (compose on the request's goroutine), pipelined (sequential, every GET on one connection) or static (serve --page)")
	flag.StringVar(&o.addr, "addr", "127.0.0.1:18121", "address to listen on (loopback only)")
	flag.StringVar(&o.frags, "frags", "http://127.0.0.1:18101", "base URL of fragserver, for naive, sequential and pipelined; NAME's fragment is BASE/NAME/_fragment")
	flag.StringVar(&o.layout, "layout", "bench/internal/frag/layout.html", "the layout, for naive, sequential and pipelined")
	flag.StringVar(&o.page, "page", "", "the page's bytes, for static")
	flag.IntVar(&o.idlePerHost, "idle-per-host", 256, "keep-alive connections the naive composer's http.Transport pools per host "+
		"(net/http's default of 2 makes it open and close a connection for most fragments)")
	flag.Parse()
	if err := run(o); err != nil {
		log.Fatalf("baseline: %v", err)
	}
}

func run(o options) error {
	cfg := fiber.Config{DisableStartupMessage: true}
	if o.mode == "sequential" || o.mode == "pipelined" {
		// collage serve's buffers, so that a page's chunk leaves in one
		// write as it does there.
		cfg.ReadBufferSize, cfg.WriteBufferSize = 16<<10, 16<<10
	}
	app := fiber.New(cfg)
	switch o.mode {
	case "static":
		page, err := os.ReadFile(o.page)
		if err != nil {
			return err
		}
		app.Get("/", func(c *fiber.Ctx) error {
			c.Type("html", "utf-8")
			return c.Send(page)
		})
	case "naive":
		src, err := os.ReadFile(o.layout)
		if err != nil {
			return err
		}
		n, err := newNaive(src, o.frags, o.idlePerHost)
		if err != nil {
			return err
		}
		app.Get("/", n.handle)
	case "sequential", "pipelined":
		src, err := os.ReadFile(o.layout)
		if err != nil {
			return err
		}
		s, err := newSequential(src, o.frags, o.mode == "pipelined")
		if err != nil {
			return err
		}
		app.Get("/", s.handle)
	default:
		return fmt.Errorf("--mode %q: want naive, sequential, pipelined or static", o.mode)
	}
	ln, err := net.Listen("tcp", o.addr)
	if err != nil {
		return err
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	errc := make(chan error, 1)
	go func() { errc <- app.Listener(ln) }()
	log.Printf("baseline: --mode %s serving the page on http://%s", o.mode, ln.Addr())
	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
		return app.ShutdownWithTimeout(2 * time.Second)
	}
}

// naive composes the page by fetching every fragment and waiting for all.
type naive struct {
	client *http.Client
	static [][]byte // static[i] comes before slot i; the last one ends the page
	slots  []naiveSlot
}

type naiveSlot struct {
	url      string
	open     []byte // <collage-slot frontend="NAME">
	fallback []byte
}

var slotRE = regexp.MustCompile(`(?s)<collage-slot\s[^>]*frontend="([^"]+)"[^>]*>(.*?)</collage-slot>`)

func newNaive(src []byte, base string, idlePerHost int) (*naive, error) {
	t := http.DefaultTransport.(*http.Transport).Clone()
	t.MaxIdleConnsPerHost = idlePerHost
	n := &naive{client: &http.Client{Transport: t, Timeout: time.Second}}
	l, err := parseLayout(src)
	if err != nil {
		return nil, err
	}
	n.static = l.static
	for i, name := range l.names {
		n.slots = append(n.slots, naiveSlot{
			url:      strings.TrimSuffix(base, "/") + "/" + name + "/_fragment",
			open:     []byte(`<collage-slot frontend="` + name + `">`),
			fallback: l.fallbacks[i],
		})
	}
	return n, nil
}

// layout is a layout cut at its slots: static[i] comes before slot i, and
// the last one ends the page.
type layout struct {
	static    [][]byte
	names     []string
	fallbacks [][]byte
}

func parseLayout(src []byte) (layout, error) {
	var l layout
	last := 0
	for _, m := range slotRE.FindAllSubmatchIndex(src, -1) {
		l.static = append(l.static, src[last:m[0]])
		l.names = append(l.names, string(src[m[2]:m[3]]))
		l.fallbacks = append(l.fallbacks, src[m[4]:m[5]])
		last = m[1]
	}
	if len(l.names) == 0 {
		return l, fmt.Errorf("the layout has no <collage-slot frontend=…>")
	}
	l.static = append(l.static, src[last:])
	return l, nil
}

func (n *naive) handle(c *fiber.Ctx) error {
	bodies := make([][]byte, len(n.slots))
	var wg sync.WaitGroup
	for i, s := range n.slots {
		wg.Add(1)
		go func() {
			defer wg.Done()
			bodies[i] = n.fetch(s)
		}()
	}
	wg.Wait()
	var page bytes.Buffer
	for i, s := range n.slots {
		page.Write(n.static[i])
		page.Write(s.open)
		page.Write(bodies[i])
		page.WriteString("</collage-slot>")
	}
	page.Write(n.static[len(n.slots)])
	c.Type("html", "utf-8")
	return c.Send(page.Bytes())
}

// fetch returns the fragment's body, or the slot's fallback if it fails.
func (n *naive) fetch(s naiveSlot) []byte {
	resp, err := n.client.Get(s.url)
	if err != nil {
		return s.fallback
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil || resp.StatusCode != http.StatusOK {
		return s.fallback
	}
	return body
}
