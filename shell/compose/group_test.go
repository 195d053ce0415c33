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

// quick composes l with quick answers until its slots are quick for the
// next page: a fetch that takes a few microseconds may take more under
// the race detector or on a busy machine, but not every time.
func quick(t *testing.T, l *layout.Layout) {
	t.Helper()
	f := fetcher{}
	for _, s := range l.Slots {
		res := compose.Result{Status: 200, Body: []byte(strings.ToUpper(s.Frontend)), Outcome: compose.OK}
		f[s.Frontend] = func(context.Context, *layout.Slot, *compose.Request) compose.Result { return res }
	}
	for range 1000 {
		page(t, l, f, nil)
		if allQuick(l) {
			return
		}
	}
	t.Fatal("the slots are not quick after 1000 pages of quick fetches")
}

func allQuick(l *layout.Layout) bool {
	for _, s := range l.Slots {
		if !s.Quick.Load() {
			return false
		}
	}
	return true
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
	if l.Slots[0].Quick.Load() {
		t.Error("slot a is still quick after a fetch of 50 ms")
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

// TestQuickSlotBeforeAHungOne: a page waiting for a quick slot that the
// group is fetching has it when it ends, though the group then hangs in
// a later one: not at its deadline.
func TestQuickSlotBeforeAHungOne(t *testing.T) {
	t.Parallel()
	l := parse(t, `<collage-slot frontend=a timeout=5s primary>a</collage-slot><collage-slot frontend=b timeout=1m>b</collage-slot>`)
	quick(t, l)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	// The page waits for a while the group fetches it; then the group
	// hangs in b.
	aBegan := make(chan struct{})
	a := func(ctx context.Context, s *layout.Slot, r *compose.Request) compose.Result {
		close(aBegan)
		time.Sleep(10 * time.Millisecond)
		return answer(200, "A")(ctx, s, r)
	}
	r := compose.Start(ctx, l, fetcher{"a": a, "b": untilDone}, compose.Head{}, &compose.Request{Path: "/"})
	defer r.Close()
	<-aBegan
	status := make(chan int, 1)
	go func() {
		s, _ := r.Status()
		status <- s
	}()
	select {
	case s := <-status:
		if s != http.StatusOK {
			t.Errorf("status %d, want 200", s)
		}
	case <-time.After(4 * time.Second):
		t.Fatal("the page waited for a, over, until its deadline")
	}
}
