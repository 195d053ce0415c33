package cart

import (
	"context"
	"log/slog"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/collage-dev/collage/bff"
	"github.com/collage-dev/collage/frontends/internal/shoptest"
)

// onState returns a cart BFF with the keyed settings, keeping its carts
// in store.
func onState(t testing.TB, store bff.StateStore) *bff.BFF {
	t.Helper()
	b, err := newCart(keyed, slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	b.Log = slog.New(slog.DiscardHandler)
	b.UseState(store)
	return b
}

// replicas sends each request to the next of its handlers in turn, as a
// load balancer in front of replicas does.
type replicas struct {
	hs   []http.Handler
	next atomic.Int64
}

func (r *replicas) ServeHTTP(w http.ResponseWriter, req *http.Request) {
	r.hs[int(r.next.Add(1))%len(r.hs)].ServeHTTP(w, req)
}

// clock is a time that tests move by hand.
type clock struct {
	mu  sync.Mutex
	now time.Time
}

func newClock() *clock { return &clock{now: time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)} }

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *clock) Add(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
}

func getCart() *http.Request { return shoptest.JSONRequest(http.MethodGet, "/cart", nil) }

// TestReplicasShareCarts: two cart BFFs on one State, each request of a
// shopper going to the next, show one cart, and adds sent to both at once
// all count.
func TestReplicasShareCarts(t *testing.T) {
	t.Parallel()
	store := bff.NewMemState()
	lb := &replicas{hs: []http.Handler{onState(t, store), onState(t, store)}}
	shopper := shoptest.NewBrowser(lb)
	do(t, shopper, getCart(), 200)
	do(t, shopper, add("1", 2), 200)
	do(t, shopper, add("5", 1), 200)
	if c := do(t, shopper, getCart(), 200); c.Count != 3 || len(c.Items) != 2 {
		t.Fatalf("the cart through two replicas is %+v, want 2 of product 1 and 1 of 5", c)
	}
	var wg sync.WaitGroup
	for range 8 {
		wg.Go(func() {
			for range 5 {
				if w := shopper.Do(add("2", 1)); w.Code != 200 {
					t.Errorf("an add: status %d; body: %s", w.Code, w.Body)
				}
			}
		})
	}
	wg.Wait()
	for range 2 { // once from each replica
		if c := do(t, shopper, getCart(), 200); c.Count != 43 {
			t.Fatalf("count %d after 40 adds at once through two replicas, want 43", c.Count)
		}
	}
	c := do(t, shopper, shoptest.JSONRequest(http.MethodDelete, "/items/1", nil), 200)
	if c.Count != 41 {
		t.Errorf("after removing product 1 through one replica: %+v", c)
	}
	if c := do(t, shopper, getCart(), 200); c.Count != 41 {
		t.Errorf("the other replica shows %+v after the remove, want 41", c)
	}
}

// TestStoredCart: what the State holds for a cart, which every version of
// the BFF and every process that shares the State must read.
func TestStoredCart(t *testing.T) {
	t.Parallel()
	store := bff.NewMemState()
	shopper := shoptest.NewBrowser(onState(t, store))
	w := shopper.Do(add("3", 2))
	do(t, shopper, add("10", 1), 200)
	id, _, _ := strings.Cut(onlyCookie(t, w).Value, ".")
	v, ok, err := store.Namespace("cart").Get(context.Background(), "cart:"+id)
	if want := `{"lines":[{"productId":"3","qty":2},{"productId":"10","qty":1}]}`; err != nil || !ok || string(v) != want {
		t.Errorf("the State holds %s, %v, %v; want %s", v, ok, err, want)
	}
	do(t, shopper, shoptest.JSONRequest(http.MethodDelete, "/items/3", nil), 200)
	do(t, shopper, shoptest.JSONRequest(http.MethodDelete, "/items/10", nil), 200)
	if v, ok, err := store.Namespace("cart").Get(context.Background(), "cart:"+id); ok || err != nil {
		t.Errorf("an emptied cart is still stored: %s, %v", v, err)
	}

	if err := store.Namespace("cart").Set(context.Background(), "cart:"+id, []byte("{"), 0); err != nil {
		t.Fatal(err)
	}
	if w := shopper.Do(getCart()); w.Code != http.StatusInternalServerError {
		t.Errorf("a cart stored broken: status %d, want 500; body: %s", w.Code, w.Body)
	}
}

// TestIdleCartExpires: a cart lasts a week after the last request of its
// session that reads or changes it, page views included; the cart of a
// session whose cookie has not come back lasts an hour.
func TestIdleCartExpires(t *testing.T) {
	t.Parallel()
	c := newClock()
	h := onState(t, &bff.MemState{Now: c.Now})
	count := func(b *shoptest.Browser) int {
		t.Helper()
		return do(t, b, getCart(), 200).Count
	}

	shopper := shoptest.NewBrowser(h)
	do(t, shopper, getCart(), 200) // the frontend's first call: the cookie
	do(t, shopper, add("1", 2), 200)
	c.Add(idleTTL - time.Second)
	if n := count(shopper); n != 2 {
		t.Fatalf("a second before a week idle the cart holds %d, want 2", n)
	}
	c.Add(idleTTL - time.Second)
	if w := shopper.Do(shoptest.FragmentRequest("/", nil)); !strings.Contains(w.Body.String(), "House Blend") {
		t.Fatalf("a week after the last read, a page shows no cart: %s", w.Body)
	}
	c.Add(idleTTL - time.Second)
	do(t, shopper, add("1", 1), 200)
	c.Add(idleTTL - time.Second)
	if n := count(shopper); n != 3 {
		t.Fatalf("a second before a week after the last add the cart holds %d, want 3", n)
	}
	c.Add(idleTTL)
	if n := count(shopper); n != 0 {
		t.Errorf("a week idle the cart holds %d, want it gone", n)
	}

	// An add without a cookie, and the session's cookie back within the
	// hour: from then a week.
	late := shoptest.NewBrowser(h)
	do(t, late, add("2", 1), 200)
	c.Add(newSessionTTL - time.Second)
	if n := count(late); n != 1 {
		t.Fatalf("the cookie back within the hour shows %d, want 1", n)
	}
	c.Add(idleTTL - time.Second)
	if n := count(late); n != 1 {
		t.Errorf("a shopper back within the hour then idle for less than a week has %d, want 1", n)
	}

	// An add without a cookie whose cookie never comes back in the hour.
	once := shoptest.NewBrowser(h)
	do(t, once, add("2", 1), 200)
	c.Add(newSessionTTL)
	if n := count(once); n != 0 {
		t.Errorf("an hour after an add without a cookie the cart holds %d, want it gone", n)
	}
}

// TestFloodKeepsShoppers: adds without a cookie, twice as many as a full
// store holds, drop no shopper's cart and start no session for them:
// their carts expire first, so they are the ones a full store drops.
func TestFloodKeepsShoppers(t *testing.T) {
	t.Parallel()
	const maxKeys = 1000
	h := onState(t, &bff.MemState{MaxKeys: maxKeys})

	// Shoppers as the demo's frontend makes them: GET /cart, then add.
	shoppers := make([]*shoptest.Browser, 100)
	for i := range shoppers {
		shoppers[i] = shoptest.NewBrowser(h)
		do(t, shoppers[i], getCart(), 200)
		do(t, shoppers[i], add("1", 1+i%MaxQty), 200)
	}
	// A shopper whose first call was the add, who then came back.
	late := shoptest.NewBrowser(h)
	do(t, late, add("2", 1), 200)
	do(t, late, getCart(), 200)

	for range 2 * maxKeys {
		if w := shoptest.Serve(h, add("3", 1)); w.Code != 200 {
			t.Fatalf("an anonymous add: status %d; body: %s", w.Code, w.Body)
		}
	}
	for i, b := range shoppers {
		w := b.Do(getCart())
		if c := shoptest.Decode[Cart](t, w); c.Count != 1+i%MaxQty || len(w.Header()["Set-Cookie"]) != 0 {
			t.Fatalf("shopper %d after the flood: %+v, Set-Cookie %v; want %d of product 1 and the same session",
				i, c, w.Header()["Set-Cookie"], 1+i%MaxQty)
		}
	}
	if c := do(t, late, getCart(), 200); c.Count != 1 || c.Items[0].ProductID != "2" {
		t.Errorf("the shopper who came back after an anonymous add: %+v, want 1 of product 2", c)
	}
}

// BenchmarkAddFullStore sends adds without a cookie to a cart whose store
// is full, as a flood does: each starts a session and drops a cart.
func BenchmarkAddFullStore(b *testing.B) {
	const maxKeys = 10_000
	h := onState(b, &bff.MemState{MaxKeys: maxKeys})
	for range maxKeys {
		shoptest.Serve(h, add("1", 1))
	}
	b.Run("serial", func(b *testing.B) {
		for b.Loop() {
			if w := shoptest.Serve(h, add("1", 1)); w.Code != 200 {
				b.Fatalf("status %d", w.Code)
			}
		}
	})
	b.Run("parallel", func(b *testing.B) {
		b.RunParallel(func(pb *testing.PB) {
			for pb.Next() {
				if w := shoptest.Serve(h, add("1", 1)); w.Code != 200 {
					b.Errorf("status %d", w.Code)
					return
				}
			}
		})
	})
}
