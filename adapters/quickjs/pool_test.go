package quickjs

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"runtime/debug"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/collage-dev/collage/component"
)

// bundle is a server bundle by hand: line 2 renders, line 3 throws, line 4
// loops for ever, line 5 reads document, line 6 logs, line 7 counts the
// renders of its VM.
const bundle = `var renders = 0;
function view(d) { return "<p>" + d.name + "</p>"; }
function boom(d) { throw new TypeError("no " + d.name); }
function spin() { for (;;) {} }
function page() { return document.title; }
function say(d) { console.warn("saying", d); return ""; }
globalThis.collageRender = function (s) { renders++; var d = JSON.parse(s); if (d.count) return String(renders); if (d.throw) boom(d); if (d.loop) spin(); if (d.page) return page(); if (d.say) return say(d); return view(d); };
`

// lineMap maps every line L of the bundle, from its first column, to line
// L+10 of src/View.tsx.
func lineMap(lines int) []byte {
	var m strings.Builder
	for i := range lines {
		if i > 0 {
			m.WriteString(";")
		}
		if i == 0 {
			m.WriteString("AAUA") // line 0 → 10
		} else {
			m.WriteString("AACA") // one line down
		}
	}
	return []byte(`{"version":3,"sources":["src/View.tsx"],"mappings":"` + m.String() + `"}`)
}

func newPool(t testing.TB, cfg Config) *Pool {
	t.Helper()
	if cfg.Source == nil {
		cfg.Source = []byte(bundle)
	}
	cfg.Frontend = "shop"
	p, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { p.Close() })
	return p
}

func TestRender(t *testing.T) {
	t.Parallel()
	p := newPool(t, Config{VMs: 1})
	html, err := p.Render(context.Background(), []byte(`{"name":"Mug & <cup>"}`))
	if err != nil || string(html) != "<p>Mug & <cup></p>" {
		t.Fatalf("Render = %q, %v", html, err)
	}
}

func TestThrowGivesMappedStack(t *testing.T) {
	t.Parallel()
	p := newPool(t, Config{VMs: 1, SourceMap: lineMap(8)})
	_, err := p.Render(context.Background(), []byte(`{"name":"mug","throw":true}`))
	var e *component.Error
	if !errors.As(err, &e) {
		t.Fatalf("err = %v, want a *component.Error", err)
	}
	if e.Frontend != "shop" || !strings.Contains(e.Message, "TypeError: no mug") || e.Interrupted {
		t.Errorf("error %+v", e)
	}
	// boom is on line 3 of the bundle, so line 13 of the source.
	if !strings.Contains(e.Stack, "at boom (src/View.tsx:13:") || !strings.Contains(e.Stack, "src/View.tsx:17:") {
		t.Errorf("stack not mapped:\n%s", e.Stack)
	}
	// The VM that threw serves the next render, its state kept.
	if html, err := p.Render(context.Background(), []byte(`{"count":true}`)); err != nil || string(html) != "2" {
		t.Errorf("after a throw: %q, %v; want the same VM's second render", html, err)
	}
}

func TestDeadlineInterruptsAndReplacesTheVM(t *testing.T) {
	t.Parallel()
	p := newPool(t, Config{VMs: 1})
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	start := time.Now()
	_, err := p.Render(ctx, []byte(`{"loop":true}`))
	var e *component.Error
	if !errors.As(err, &e) || !e.Interrupted || !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("err = %v, want an interrupt at the deadline", err)
	}
	if took := time.Since(start); took > 5*time.Second {
		t.Errorf("the loop ran %v past a 50ms deadline", took)
	}
	// A fresh VM renders next: its first render.
	if html, err := p.Render(context.Background(), []byte(`{"count":true}`)); err != nil || string(html) != "1" {
		t.Errorf("after an interrupt: %q, %v; want a fresh VM's first render", html, err)
	}
}

func TestCancelInterrupts(t *testing.T) {
	t.Parallel()
	p := newPool(t, Config{VMs: 1, Timeout: time.Minute})
	ctx, cancel := context.WithCancel(context.Background())
	time.AfterFunc(30*time.Millisecond, cancel)
	if _, err := p.Render(ctx, []byte(`{"loop":true}`)); !errors.Is(err, context.Canceled) {
		t.Fatalf("err = %v, want the cancellation", err)
	}
	if html, err := p.Render(context.Background(), []byte(`{"name":"x"}`)); err != nil || string(html) != "<p>x</p>" {
		t.Errorf("after a cancel: %q, %v", html, err)
	}
}

func TestBrowserGlobalSaysWhereToUseIt(t *testing.T) {
	t.Parallel()
	p := newPool(t, Config{VMs: 1})
	_, err := p.Render(context.Background(), []byte(`{"page":true}`))
	if err == nil || !strings.Contains(err.Error(), "document is a browser API") {
		t.Fatalf("err = %v", err)
	}
}

func TestConsoleReachesTheLog(t *testing.T) {
	t.Parallel()
	var buf bytes.Buffer
	p := newPool(t, Config{VMs: 1, Log: slog.New(slog.NewTextHandler(&buf, nil))})
	if _, err := p.Render(context.Background(), []byte(`{"say":true,"name":"n"}`)); err != nil {
		t.Fatal(err)
	}
	if got := buf.String(); !strings.Contains(got, `level=WARN msg="component: saying {\"say\":true,\"name\":\"n\"}"`) || !strings.Contains(got, "frontend=shop") {
		t.Errorf("log: %s", got)
	}
}

func TestBadBundles(t *testing.T) {
	t.Parallel()
	tests := []struct{ name, src, want string }{
		{"syntax", "function (", "SyntaxError"},
		{"throws while loading", "throw new Error('at load')", "at load"},
		{"no render function", "var x = 1;", "defines no function collageRender"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			_, err := New(Config{Frontend: "shop", Source: []byte(tt.src), VMs: 1})
			if err == nil || !strings.Contains(err.Error(), tt.want) || !strings.Contains(err.Error(), "shop") {
				t.Errorf("err = %v, want %q naming the frontend", err, tt.want)
			}
		})
	}
}

func TestConcurrentRenders(t *testing.T) {
	t.Parallel()
	p := newPool(t, Config{VMs: 2})
	var wg sync.WaitGroup
	for i := range 16 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for j := range 20 {
				name := fmt.Sprintf("%d-%d", i, j)
				html, err := p.Render(context.Background(), []byte(`{"name":"`+name+`"}`))
				if err != nil || string(html) != "<p>"+name+"</p>" {
					t.Errorf("Render(%s) = %q, %v", name, html, err)
					return
				}
			}
		}()
	}
	wg.Wait()
}

func TestRenderAfterClose(t *testing.T) {
	t.Parallel()
	p, err := New(Config{Source: []byte(bundle), VMs: 2})
	if err != nil {
		t.Fatal(err)
	}
	p.Close()
	if _, err := p.Render(context.Background(), []byte(`{}`)); !errors.Is(err, errClosed) {
		t.Errorf("err = %v, want errClosed", err)
	}
}

// TestNoGrowth renders many times and checks that the process does not
// grow: 2,000 renders, or COLLAGE_RENDERS of them (100000 for the figure
// in docs/COMPONENTS.md).
func TestNoGrowth(t *testing.T) {
	n := 2000
	if s := os.Getenv("COLLAGE_RENDERS"); s != "" {
		var err error
		if n, err = strconv.Atoi(s); err != nil {
			t.Fatalf("COLLAGE_RENDERS=%q: %v", s, err)
		}
	}
	p := newPool(t, Config{VMs: 1})
	data := []byte(`{"name":"` + strings.Repeat("x", 4000) + `"}`)
	render := func(k int) {
		for range k {
			if _, err := p.Render(context.Background(), data); err != nil {
				t.Fatal(err)
			}
		}
	}
	render(n / 10) // warm up: the allocators reach their working size
	before := rss(t)
	render(n - n/10)
	grew := rss(t) - before
	t.Logf("%d renders; resident memory grew %d KiB after the first tenth", n, grew>>10)
	// A render that kept its data (4 KB in, the object parsed from it, 4 KB
	// out) would grow by 12 KB or more each time: 21 MB over 1,800 renders.
	if limit := int64(8 << 20); grew > limit {
		t.Errorf("resident memory grew %d bytes over %d renders (limit %d)", grew, n, limit)
	}
}

// rss returns the process's resident memory in bytes, after a collection
// that hands the heap's free pages back to the system: what a render kept
// stays counted, and when the collector last ran does not.
func rss(t testing.TB) int64 {
	t.Helper()
	debug.FreeOSMemory()
	data, err := os.ReadFile("/proc/self/statm")
	if err != nil {
		t.Skipf("no /proc/self/statm: %v", err)
	}
	f := strings.Fields(string(data))
	pages, _ := strconv.ParseInt(f[1], 10, 64)
	return pages * int64(os.Getpagesize())
}
