package compose_test

import (
	"context"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/collage-dev/collage/shell/compose"
	"github.com/collage-dev/collage/shell/layout"
)

// beginner is a fake compose.Beginner: it begins the slots of the
// frontends in begun, whose results are next's, and leaves the others to
// next.Fetch.
type beginner struct {
	next    fetcher
	begun   map[string]bool
	release <-chan struct{} // begun slots answer once it is closed; nil: at once

	mu      sync.Mutex
	fetched []string // frontends fetched by Fetch
	sent    int
	waits   []string // frontends whose results Wait returned, in order
	closed  int
}

func (b *beginner) Fetch(ctx context.Context, s *layout.Slot, req *compose.Request) compose.Result {
	b.mu.Lock()
	b.fetched = append(b.fetched, s.Frontend)
	b.mu.Unlock()
	return b.next.Fetch(ctx, s, req)
}

func (b *beginner) Begin(ctx context.Context, s *layout.Slot, req *compose.Request) compose.Pending {
	if !b.begun[s.Frontend] {
		return nil
	}
	return &fakePending{b: b, ctx: ctx, slot: s, req: req}
}

type fakePending struct {
	b    *beginner
	ctx  context.Context
	slot *layout.Slot
	req  *compose.Request
}

func (p *fakePending) Send() {
	p.b.mu.Lock()
	p.b.sent++
	p.b.mu.Unlock()
}

func (p *fakePending) Wait(until time.Time) (compose.Result, bool) {
	if p.b.release != nil {
		var timeout <-chan time.Time
		if !until.IsZero() {
			t := time.NewTimer(time.Until(until))
			defer t.Stop()
			timeout = t.C
		}
		select {
		case <-p.b.release:
		case <-timeout:
			return compose.Result{}, false
		}
	}
	p.b.mu.Lock()
	if p.b.sent == 0 {
		panic("Wait before Send")
	}
	p.b.waits = append(p.b.waits, p.slot.Frontend)
	p.b.mu.Unlock()
	return p.b.next.Fetch(p.ctx, p.slot, p.req), true
}

func (p *fakePending) Close() {
	p.b.mu.Lock()
	p.b.closed++
	p.b.mu.Unlock()
}

// TestBegunSlots: slots a Beginner begins are sent together and finished
// on the page's goroutine, in page order; the others are fetched as
// usual; every one begun is closed with the page.
func TestBegunSlots(t *testing.T) {
	t.Parallel()
	l := parse(t, `<body><collage-slot frontend=a></collage-slot><collage-slot frontend=b></collage-slot><collage-slot frontend=c></collage-slot></body>`)
	b := &beginner{next: fetcher{"a": answer(200, "A"), "b": answer(200, "B"), "c": answer(200, "C")}, begun: map[string]bool{"a": true, "c": true}}
	_, _, got := page(t, l, b, nil)
	if want := `<body><collage-slot frontend="a">A</collage-slot><collage-slot frontend="b">B</collage-slot><collage-slot frontend="c">C</collage-slot></body>`; got != want {
		t.Errorf("page:\n got %s\nwant %s", got, want)
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	if strings.Join(b.fetched, ",") != "b" || strings.Join(b.waits, ",") != "a,c" || b.sent != 2 || b.closed != 2 {
		t.Errorf("fetched %v, waited for %v, %d sends, %d closed; want b, a and c, 2 and 2", b.fetched, b.waits, b.sent, b.closed)
	}
}

// TestBegunSlotCoalesces: the head waits for a begun slot no longer than
// the coalescing window.
func TestBegunSlotCoalesces(t *testing.T) {
	t.Parallel()
	release := make(chan struct{})
	l := parse(t, `<head></head><body><collage-slot frontend=a timeout=1m></collage-slot></body>`)
	b := &beginner{next: fetcher{"a": answer(200, "A")}, begun: map[string]bool{"a": true}, release: release}
	r := compose.Start(context.Background(), l, b, compose.Head{}, &compose.Request{Nonce: "n"})
	defer r.Close()
	w := &buffer{}
	complete, err := r.WritePrefix(w)
	if err != nil || complete {
		t.Fatalf("WritePrefix = %v, %v; want a prefix, the slot not in", complete, err)
	}
	close(release)
	if err := r.WriteTo(w); err != nil {
		t.Fatal(err)
	}
	if got, want := w.String(), `<head></head><body><collage-slot frontend="a">A</collage-slot></body>`; got != want {
		t.Errorf("page:\n got %s\nwant %s", got, want)
	}
}
