package cart

import (
	"slices"
	"sync"

	"github.com/collage-dev/collage/bff"
	"github.com/collage-dev/collage/bff/shopdata"
)

// maxCarts bounds the memory the store uses: anyone can start a session,
// so when it is full the cart touched least recently is dropped.
const maxCarts = 10_000

// line is a product and how many of it a cart holds.
type line struct {
	productID string
	qty       int
}

type entry struct {
	lines   []line
	touched uint64 // the store's clock when the cart last changed
}

// store holds every cart in memory, by session id.
type store struct {
	mu    sync.Mutex
	carts map[string]*entry
	max   int
	clock uint64
}

func newStore(max int) *store {
	return &store{carts: map[string]*entry{}, max: max}
}

// get returns the cart of session id, empty if it has none.
func (s *store) get(id string) Cart {
	s.mu.Lock()
	defer s.mu.Unlock()
	if e := s.carts[id]; e != nil {
		return cartOf(e.lines)
	}
	return cartOf(nil)
}

// add adds qty of a product to the cart of session id.
func (s *store) add(id, productID string, qty int) (Cart, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	e := s.carts[id]
	if e == nil {
		if len(s.carts) >= s.max {
			s.evictLocked()
		}
		e = &entry{}
		s.carts[id] = e
	}
	i := slices.IndexFunc(e.lines, func(l line) bool { return l.productID == productID })
	if i < 0 {
		e.lines = append(e.lines, line{productID: productID})
		i = len(e.lines) - 1
	}
	if have := e.lines[i].qty; have+qty > MaxQty {
		return Cart{}, bff.BadRequest("qty", "The cart holds at most %d of a product and already has %d", MaxQty, have)
	}
	e.lines[i].qty += qty
	s.clock++
	e.touched = s.clock
	return cartOf(e.lines), nil
}

// remove takes a product out of the cart of session id. Removing a product
// the cart does not hold is not an error: the result is the same.
func (s *store) remove(id, productID string) Cart {
	s.mu.Lock()
	defer s.mu.Unlock()
	e := s.carts[id]
	if e == nil {
		return cartOf(nil)
	}
	e.lines = slices.DeleteFunc(e.lines, func(l line) bool { return l.productID == productID })
	if len(e.lines) == 0 {
		delete(s.carts, id)
		return cartOf(nil)
	}
	s.clock++
	e.touched = s.clock
	return cartOf(e.lines)
}

// evictLocked drops the cart touched least recently. It is linear in the
// number of carts but runs only when the store is full.
func (s *store) evictLocked() {
	oldest, at := "", uint64(0)
	for id, e := range s.carts {
		if oldest == "" || e.touched < at {
			oldest, at = id, e.touched
		}
	}
	delete(s.carts, oldest)
}

// cartOf prices lines with the catalogue's current prices. A product the
// shop no longer sells drops out.
func cartOf(lines []line) Cart {
	c := Cart{Items: []Item{}}
	for _, l := range lines {
		p, ok := shopdata.ProductByID(l.productID)
		if !ok {
			continue
		}
		total := p.Price * l.qty
		c.Items = append(c.Items, Item{
			ProductID:     p.ID,
			Name:          p.Name,
			Price:         p.Price,
			PriceText:     p.PriceText,
			Qty:           l.qty,
			LineTotal:     total,
			LineTotalText: shopdata.FormatPrice(total),
			Color:         p.Color,
			Emoji:         p.Emoji,
		})
		c.Count += l.qty
		c.Total += total
	}
	c.TotalText = shopdata.FormatPrice(c.Total)
	return c
}
