package compose

import (
	"context"
	"testing"
	"time"

	"github.com/collage-dev/collage/shell/layout"
)

// swapIdle sets the idle goroutines for a test, and puts back those
// before it when the test ends.
func swapIdle(t *testing.T, waiting []idler) {
	idle.Lock()
	saved := idle.waiting
	idle.waiting = waiting
	idle.Unlock()
	t.Cleanup(func() {
		idle.Lock()
		idle.waiting = saved
		idle.Unlock()
	})
}

// TestIdleLastTakenFirst: a task goes to the goroutine idle last, whose
// stack is likeliest to be grown still.
func TestIdleLastTakenFirst(t *testing.T) {
	first, last := make(chan task, 1), make(chan task, 1)
	swapIdle(t, []idler{{first, time.Now()}, {last, time.Now()}})
	st := &slot{render: &Render{}}
	run(task{slot: st})
	select {
	case got := <-last:
		if got.slot != st {
			t.Fatalf("the goroutine idle last got %+v, want the task run gave", got)
		}
	case <-first:
		t.Fatal("the task went to the goroutine idle first")
	default:
		t.Fatal("no idle goroutine got the task")
	}
	idle.Lock()
	defer idle.Unlock()
	if len(idle.waiting) != 1 || idle.waiting[0].tasks != first {
		t.Errorf("idle after run: %d goroutines, want the one idle first left", len(idle.waiting))
	}
}

// staticFetcher answers every slot with an empty 200.
type staticFetcher struct{}

func (staticFetcher) Fetch(context.Context, *layout.Slot, *Request) Result {
	return Result{Status: 200}
}

// TestIdleLongEnds: a goroutine that begins to wait ends the one that has
// waited idleFor, and leaves one that has waited less.
func TestIdleLongEnds(t *testing.T) {
	stale, recent := make(chan task), make(chan task)
	swapIdle(t, []idler{{stale, time.Now().Add(-idleFor)}, {recent, time.Now()}})
	r := &Render{req: &Request{}, start: time.Now()}
	r.hold(1)
	r.slots[0] = slot{render: r, slot: &layout.Slot{}, fetcher: staticFetcher{}, ctx: context.Background()}
	w, ended := make(chan task), make(chan struct{})
	go func() {
		work(w, task{slot: &r.slots[0]})
		close(ended)
	}()
	select {
	case _, ok := <-stale:
		if ok {
			t.Fatal("the goroutine idle for idleFor was given a task, not ended")
		}
	case <-time.After(10 * time.Second):
		t.Fatal("the goroutine idle for idleFor was not ended")
	}
	close(w) // ends the worker, now idle
	<-ended
	idle.Lock()
	defer idle.Unlock()
	if len(idle.waiting) != 2 || idle.waiting[0].tasks != recent || idle.waiting[1].tasks != w {
		t.Errorf("idle after the task: %d goroutines, want the recent one and the worker", len(idle.waiting))
	}
}
