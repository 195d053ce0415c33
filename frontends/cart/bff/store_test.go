package cart

import (
	"fmt"
	"log/slog"
	"net/http"
	"strings"
	"sync"
	"testing"

	"github.com/collage-dev/collage/bff"
	"github.com/collage-dev/collage/frontends/internal/shoptest"
)

// order returns the ids of g from the most recently used to the least.
func (g *segment) order() []string {
	ids := []string{}
	for e := g.root.next; e != &g.root; e = e.next {
		ids = append(ids, e.id)
	}
	return ids
}

// checkStore fails t unless s holds its bounds and its lists agree with
// its map.
func checkStore(t *testing.T, s *store) {
	t.Helper()
	s.mu.Lock()
	defer s.mu.Unlock()
	if len(s.carts) > s.max || s.protected.len > s.maxProtected {
		t.Errorf("%d carts (at most %d), %d protected (at most %d)", len(s.carts), s.max, s.protected.len, s.maxProtected)
	}
	seen := 0
	for _, g := range []*segment{&s.probation, &s.protected} {
		n := 0
		for e := g.root.next; e != &g.root; e = e.next {
			if e.seg != g || e.next.prev != e || s.carts[e.id] != e {
				t.Fatalf("cart %s is linked wrong", e.id)
			}
			n++
		}
		if n != g.len {
			t.Errorf("a segment counts %d carts and links %d", g.len, n)
		}
		seen += n
	}
	if seen != len(s.carts) {
		t.Errorf("the map holds %d carts, the segments %d", len(s.carts), seen)
	}
}

// TestEvictionOrder runs steps on a store of five carts, at most four of
// them protected. A step is "+id" (an add from a request without a
// cookie, which starts session id), "id" (a request that carries id's
// cookie: a get, or an add that creates the cart), "?id" (a get that
// carries id's cookie, when id has no cart) or "-id" (id removes its only
// product).
func TestEvictionOrder(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name                 string
		steps                string
		probation, protected string // from the most recent to the least
	}{
		{"new sessions on probation", "+a +b +c", "c b a", ""},
		{"a full probation drops its least recent", "+a +b +c +d +e +f +g", "g f e d c", ""},
		{"a session that comes back is protected", "+a +b +c a", "c b", "a"},
		{"coming back again makes it the most recent", "+a +b a b a", "", "a b"},
		{"a cart first made with the cookie is protected", "a b", "", "b a"},
		{"a get with a cookie and no cart stores nothing", "+a ?b", "a", ""},
		{"a full store drops probation's least recent", "a b c +d +e +f", "f e", "c b a"},
		{"anonymous adds never drop protected", "a b c d +e +f +g +h +i +j", "j", "d c b a"},
		{"a full protected demotes its least recent to probation", "a b c d e", "a", "e d c b"},
		{"a full store drops older probation before a demoted cart", "+x a b c d e", "a", "e d c b"},
		{"a demoted cart is the next dropped", "a b c d e +x", "x", "e d c b"},
		{"a demoted cart that comes back is protected again", "a b c d e a", "b", "a e d c"},
		{"removing the last product drops the cart", "+a b -a -b", "", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			s := newStore(5)
			ids := map[string]bool{} // the sessions that exist, by name
			for step := range strings.FieldsSeq(tt.steps) {
				switch {
				case step[0] == '+':
					ids[step[1:]] = true
					if _, err := s.add(visit{id: step[1:]}, "1", 1); err != nil {
						t.Fatal(err)
					}
				case step[0] == '?':
					s.get(visit{id: step[1:], returning: true})
				case step[0] == '-':
					s.remove(visit{id: step[1:], returning: true}, "1")
				case ids[step]:
					s.get(visit{id: step, returning: true})
				default:
					ids[step] = true
					if _, err := s.add(visit{id: step, returning: true}, "1", 1); err != nil {
						t.Fatal(err)
					}
				}
				checkStore(t, s)
			}
			if got := strings.Join(s.probation.order(), " "); got != tt.probation {
				t.Errorf("probation %q, want %q", got, tt.probation)
			}
			if got := strings.Join(s.protected.order(), " "); got != tt.protected {
				t.Errorf("protected %q, want %q", got, tt.protected)
			}
		})
	}
}

func TestStoreBounds(t *testing.T) {
	t.Parallel()
	tests := []struct{ max, maxProtected int }{
		{1, 0}, {2, 1}, {5, 4}, {9, 8}, {10, 8}, {maxCarts, 8000},
	}
	for _, tt := range tests {
		s := newStore(tt.max)
		if s.maxProtected != tt.maxProtected {
			t.Errorf("newStore(%d) protects %d carts, want %d", tt.max, s.maxProtected, tt.maxProtected)
		}
		for i := range 3 * tt.max {
			v := visit{id: fmt.Sprint(i), returning: i%2 == 0}
			if _, err := s.add(v, "1", 1); err != nil {
				t.Fatal(err)
			}
			s.get(visit{id: fmt.Sprint(i / 2), returning: true})
		}
		checkStore(t, s)
		if len(s.carts) != tt.max {
			t.Errorf("newStore(%d) holds %d carts after %d adds, want %d", tt.max, len(s.carts), 3*tt.max, tt.max)
		}
	}
}

// TestFloodKeepsShoppers: 10,000 adds without a cookie, as many as the
// store holds, drop no shopper's cart, and starting no sessions for them.
func TestFloodKeepsShoppers(t *testing.T) {
	t.Parallel()
	st := newStore(maxCarts)
	h := shoptest.New(t, func(s bff.Settings) (*bff.BFF, error) {
		return newCart(s, slog.New(slog.DiscardHandler), st)
	}, keyed)

	// Shoppers as the demo's frontend makes them: GET /cart, then add.
	shoppers := make([]*shoptest.Browser, 100)
	for i := range shoppers {
		shoppers[i] = shoptest.NewBrowser(h)
		do(t, shoppers[i], shoptest.JSONRequest(http.MethodGet, "/cart", nil), 200)
		do(t, shoppers[i], add("1", 1+i%MaxQty), 200)
	}
	// A shopper whose first call was the add, who then came back.
	late := shoptest.NewBrowser(h)
	do(t, late, add("2", 1), 200)
	do(t, late, shoptest.JSONRequest(http.MethodGet, "/cart", nil), 200)

	for range 10_000 {
		if w := shoptest.Serve(h, add("3", 1)); w.Code != 200 {
			t.Fatalf("an anonymous add: status %d; body: %s", w.Code, w.Body)
		}
	}
	checkStore(t, st)
	if len(st.carts) != maxCarts {
		t.Errorf("%d carts after the flood, want the store full with %d", len(st.carts), maxCarts)
	}

	for i, b := range shoppers {
		w := b.Do(shoptest.JSONRequest(http.MethodGet, "/cart", nil))
		if c := shoptest.Decode[Cart](t, w); c.Count != 1+i%MaxQty || len(w.Header()["Set-Cookie"]) != 0 {
			t.Fatalf("shopper %d after the flood: %+v, Set-Cookie %v; want %d of product 1 and the same session",
				i, c, w.Header()["Set-Cookie"], 1+i%MaxQty)
		}
	}
	if c := do(t, late, shoptest.JSONRequest(http.MethodGet, "/cart", nil), 200); c.Count != 1 || c.Items[0].ProductID != "2" {
		t.Errorf("the shopper who came back after an anonymous add: %+v, want 1 of product 2", c)
	}
}

// TestConcurrentStore runs every kind of call at once on a small store;
// run with -race.
func TestConcurrentStore(t *testing.T) {
	t.Parallel()
	s := newStore(50)
	var wg sync.WaitGroup
	for g := range 8 {
		wg.Go(func() {
			for i := range 2_000 {
				v := visit{id: fmt.Sprint(g, "-", i%120), returning: i%3 != 0}
				switch i % 4 {
				case 0, 1:
					s.add(v, "1", 1) // past MaxQty it is a 400: the store is what is tested
				case 2:
					s.get(v)
				case 3:
					s.remove(v, "1")
				}
			}
		})
	}
	wg.Wait()
	checkStore(t, s)
}

// BenchmarkStoreAddFull adds a new session's cart to a full store: each
// add drops a cart.
func BenchmarkStoreAddFull(b *testing.B) {
	s := newStore(maxCarts)
	ids := make([]string, 2*maxCarts) // an id comes round again long after it was dropped
	for i := range ids {
		ids[i] = fmt.Sprintf("%032x", i)
	}
	for _, id := range ids[:maxCarts] {
		s.add(visit{id: id}, "1", 1)
	}
	i := maxCarts
	for b.Loop() {
		if _, err := s.add(visit{id: ids[i%len(ids)]}, "1", 1); err != nil {
			b.Fatal(err)
		}
		i++
	}
	if len(s.carts) != maxCarts {
		b.Fatalf("the store holds %d carts, want %d", len(s.carts), maxCarts)
	}
}
