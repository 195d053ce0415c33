package compose_test

import (
	"context"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/collage-dev/collage/shell/compose"
	"github.com/collage-dev/collage/shell/layout"
)

// quick composes l once with quick answers, so that its slots are quick
// for the next page.
func quick(t *testing.T, l *layout.Layout) {
	t.Helper()
	f := fetcher{}
	for _, s := range l.Slots {
		f[s.Frontend] = answer(200, strings.ToUpper(s.Frontend))
	}
	page(t, l, f, nil)
	for _, s := range l.Slots {
		if !s.Quick.Load() {
			t.Fatalf("slot %s is not quick after a quick fetch", s.Frontend)
		}
	}
}

// TestQuickSlotsOneAfterAnother: slots whose last fetch was quick are
// fetched one after another, on one goroutine; a slow fetch ends that.
func TestQuickSlotsOneAfterAnother(t *testing.T) {
	t.Parallel()
	l := parse(t, `<collage-slot frontend=a></collage-slot><collage-slot frontend=b></collage-slot><collage-slot frontend=c></collage-slot>`)
	quick(t, l)

	// a waits for b to begin: fetched side by side, b would.
	bBegan := make(chan struct{})
	together := false
	f := fetcher{
		"a": func(ctx context.Context, s *layout.Slot, r *compose.Request) compose.Result {
			select {
			case <-bBegan:
				together = true
			case <-time.After(50 * time.Millisecond):
			}
			return answer(200, "A")(ctx, s, r)
		},
		"b": func(ctx context.Context, s *layout.Slot, r *compose.Request) compose.Result {
			close(bBegan)
			return answer(200, "B")(ctx, s, r)
		},
		"c": answer(200, "C"),
	}
	r := compose.Start(context.Background(), l, f, compose.Head{}, &compose.Request{Path: "/"})
	r.Coalesce = time.Hour // no spreading while a takes its time
	var w buffer
	if err := r.WriteTo(&w); err != nil {
		t.Fatal(err)
	}
	r.Close()
	if together {
		t.Error("b began while a was being fetched")
	}
	if want := `<collage-slot frontend="a">A</collage-slot><collage-slot frontend="b">B</collage-slot><collage-slot frontend="c">C</collage-slot>`; w.String() != want {
		t.Errorf("body:\n got %s\nwant %s", w.String(), want)
	}
	// a took 50 ms: it is no longer quick, and the next page fetches it on
	// its own goroutine.
	for _, s := range l.Slots {
		if want := s.Frontend != "a"; s.Quick.Load() != want {
			t.Errorf("slot %s quick: %v, want %v", s.Frontend, s.Quick.Load(), want)
		}
	}
}

// TestQuickSlotTurnedSlow: a quick slot that hangs does not hold up the
// quick slots behind it for more than the coalescing window, whether the
// page is being written or waits for its primary slot.
func TestQuickSlotTurnedSlow(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name string
		src  string
		wait func(*compose.Render) string
	}{
		{"writing", `<collage-slot frontend=a timeout=1m>A</collage-slot><collage-slot frontend=b timeout=5s>b</collage-slot>`,
			func(r *compose.Render) string {
				var w buffer
				if err := r.WriteTo(&w); err != nil {
					return err.Error()
				}
				return w.String()
			}},
		{"primary", `<collage-slot frontend=a timeout=1m>A</collage-slot><collage-slot frontend=b timeout=5s primary>b</collage-slot>`,
			func(r *compose.Render) string {
				status, _ := r.Status()
				return http.StatusText(status)
			}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			l := parse(t, tc.src)
			quick(t, l)
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			var once sync.Once
			bRan := make(chan struct{})
			f := fetcher{
				"a": untilDone, // until the page's end, past b's deadline
				"b": func(ctx context.Context, s *layout.Slot, r *compose.Request) compose.Result {
					once.Do(func() { close(bRan) })
					return answer(200, "B")(ctx, s, r)
				},
			}
			r := compose.Start(ctx, l, f, compose.Head{}, &compose.Request{Path: "/"})
			defer r.Close()
			out := make(chan string, 1)
			go func() { out <- tc.wait(r) }()
			select {
			case <-bRan:
			case <-time.After(4 * time.Second):
				t.Fatal("b was not fetched while a hung")
			}
			if tc.name == "primary" {
				if got := <-out; got != "OK" {
					t.Errorf("status %s, want OK", got)
				}
				return
			}
			cancel() // a ends; the page is written
			if got, want := <-out, `<collage-slot frontend="b">B</collage-slot>`; !strings.Contains(got, want) {
				t.Errorf("body:\n got %s\nwant it to contain %s", got, want)
			}
		})
	}
}
