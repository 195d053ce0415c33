package component

import (
	"context"
	"errors"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// counting renders "<p>DATA</p>" and counts its renders; with gate set,
// each render waits for it to close.
type counting struct {
	n    atomic.Int32
	gate chan struct{}
	err  error
}

func (c *counting) Render(ctx context.Context, data []byte) ([]byte, error) {
	c.n.Add(1)
	if c.gate != nil {
		<-c.gate
	}
	if c.err != nil {
		return nil, c.err
	}
	return []byte("<p>" + string(data) + "</p>"), nil
}

func TestCacheHitsByVersionAndData(t *testing.T) {
	t.Parallel()
	c := NewCache(0)
	r := &counting{}
	v1, v2 := c.Renderer("v1", r), c.Renderer("v2", r)
	ctx := context.Background()
	for _, call := range []struct {
		r    Renderer
		data string
	}{{v1, "1"}, {v1, "1"}, {v1, "2"}, {v2, "1"}, {v2, "1"}} {
		html, err := call.r.Render(ctx, []byte(call.data))
		if err != nil || string(html) != "<p>"+call.data+"</p>" {
			t.Fatalf("Render(%s) = %q, %v", call.data, html, err)
		}
	}
	if got := r.n.Load(); got != 3 {
		t.Errorf("%d renders, want 3 (v1 1, v1 2, v2 1)", got)
	}
}

func TestCacheRendersAMissingKeyOnce(t *testing.T) {
	t.Parallel()
	c := NewCache(0)
	r := &counting{gate: make(chan struct{})}
	cr := c.Renderer("v", r)
	var wg sync.WaitGroup
	for range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if html, err := cr.Render(context.Background(), []byte("x")); err != nil || string(html) != "<p>x</p>" {
				t.Errorf("Render = %q, %v", html, err)
			}
		}()
	}
	for r.n.Load() == 0 {
		time.Sleep(time.Millisecond)
	}
	time.Sleep(20 * time.Millisecond) // let the others join the flight
	close(r.gate)
	wg.Wait()
	if got := r.n.Load(); got != 1 {
		t.Errorf("%d renders, want 1", got)
	}
}

func TestCacheWaiterStopsAtItsDeadline(t *testing.T) {
	t.Parallel()
	c := NewCache(0)
	r := &counting{gate: make(chan struct{})}
	defer close(r.gate)
	cr := c.Renderer("v", r)
	go cr.Render(context.Background(), []byte("x"))
	for r.n.Load() == 0 {
		time.Sleep(time.Millisecond)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Millisecond)
	defer cancel()
	if _, err := cr.Render(ctx, []byte("x")); !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("err = %v, want the waiter's deadline", err)
	}
}

func TestCacheKeepsNoError(t *testing.T) {
	t.Parallel()
	c := NewCache(0)
	r := &counting{err: errors.New("boom")}
	cr := c.Renderer("v", r)
	for range 2 {
		if _, err := cr.Render(context.Background(), []byte("x")); err == nil {
			t.Fatal("no error")
		}
	}
	if r.n.Load() != 2 || c.Len() != 0 {
		t.Errorf("%d renders and %d kept, want 2 and 0", r.n.Load(), c.Len())
	}
}

func TestCacheBound(t *testing.T) {
	t.Parallel()
	c := NewCache(30) // two renders of "<p>1234</p>" (11 bytes each)
	r := &counting{}
	cr := c.Renderer("v", r)
	for _, d := range []string{"1111", "2222", "3333", "1111", "4444"} {
		cr.Render(context.Background(), []byte(d))
	}
	// The least recently used go first: 1111 and 4444 stay.
	if c.Len() != 2 {
		t.Errorf("%d kept, want 2", c.Len())
	}
	before := r.n.Load()
	cr.Render(context.Background(), []byte("1111"))
	cr.Render(context.Background(), []byte("2222"))
	if got := r.n.Load() - before; got != 1 {
		t.Errorf("%d renders, want 1 (2222 only)", got)
	}
	if _, err := c.Renderer("v", &counting{}).Render(context.Background(), []byte(strings.Repeat("x", 40))); err != nil {
		t.Fatal(err)
	}
	if c.Len() > 2 {
		t.Errorf("an entry larger than the bound was kept")
	}
}
