package cart

import (
	"slices"
	"sync"

	"github.com/collage-dev/collage/bff"
	"github.com/collage-dev/collage/frontends/internal/shopdata"
)

// maxCarts bounds the memory the store uses: anyone can start a session.
const maxCarts = 10_000

// line is a product and how many of it a cart holds.
type line struct {
	productID string
	qty       int
}

// entry is one session's cart, linked into the segment that holds it.
type entry struct {
	id         string
	lines      []line
	seg        *segment
	prev, next *entry
}

// segment is a list of carts from the most recently used to the least.
type segment struct {
	root entry // root.next is the most recent, root.prev the least
	len  int
}

func (g *segment) init() {
	g.root.next, g.root.prev = &g.root, &g.root
}

func (g *segment) pushFront(e *entry) {
	e.seg, e.prev, e.next = g, &g.root, g.root.next
	g.root.next.prev = e
	g.root.next = e
	g.len++
}

func (g *segment) unlink(e *entry) {
	e.prev.next, e.next.prev = e.next, e.prev
	e.seg, e.prev, e.next = nil, nil, nil
	g.len--
}

// back returns the least recently used cart, nil when there is none.
func (g *segment) back() *entry {
	if g.len == 0 {
		return nil
	}
	return g.root.prev
}

// store holds every cart in memory, by session id, in two segments (see
// the package doc): probation for carts of sessions that have not come
// back with their cookie, protected for those that have.
type store struct {
	mu           sync.Mutex
	carts        map[string]*entry
	max          int // carts in all
	maxProtected int // carts in protected; the rest is probation's at least
	probation    segment
	protected    segment
}

// newStore returns a store of at most n carts, n ≥ 1, of which a fifth
// (at least one) is always left to probation.
func newStore(n int) *store {
	s := &store{carts: make(map[string]*entry, n), max: n, maxProtected: n - max(1, n/5)}
	s.probation.init()
	s.protected.init()
	return s
}

// get returns the cart of v's session, empty if it has none.
func (s *store) get(v visit) Cart {
	s.mu.Lock()
	defer s.mu.Unlock()
	if e := s.lookupLocked(v); e != nil {
		return cartOf(e.lines)
	}
	return cartOf(nil)
}

// add adds qty of a product to the cart of v's session.
func (s *store) add(v visit, productID string, qty int) (Cart, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	e := s.lookupLocked(v)
	var have int
	i := -1
	if e != nil {
		i = slices.IndexFunc(e.lines, func(l line) bool { return l.productID == productID })
	}
	if i >= 0 {
		have = e.lines[i].qty
	}
	if have+qty > MaxQty {
		return Cart{}, bff.BadRequest("qty", "The cart holds at most %d of a product and already has %d", MaxQty, have)
	}
	if e == nil {
		e = s.insertLocked(v)
	}
	if i < 0 {
		e.lines = append(e.lines, line{productID: productID, qty: qty})
	} else {
		e.lines[i].qty += qty
	}
	return cartOf(e.lines), nil
}

// remove takes a product out of the cart of v's session. Removing a
// product the cart does not hold is not an error: the result is the same.
func (s *store) remove(v visit, productID string) Cart {
	s.mu.Lock()
	defer s.mu.Unlock()
	e := s.lookupLocked(v)
	if e == nil {
		return cartOf(nil)
	}
	e.lines = slices.DeleteFunc(e.lines, func(l line) bool { return l.productID == productID })
	if len(e.lines) == 0 {
		e.seg.unlink(e)
		delete(s.carts, e.id)
		return cartOf(nil)
	}
	return cartOf(e.lines)
}

// lookupLocked returns the cart of v's session, nil if it has none. A
// returning session's cart becomes the most recent of protected.
func (s *store) lookupLocked(v visit) *entry {
	e := s.carts[v.id]
	if e != nil && v.returning {
		e.seg.unlink(e)
		s.protectLocked(e)
	}
	return e
}

// insertLocked adds an empty cart for v's session, first dropping the
// least recently used cart of probation when the store is full. Probation
// is never empty then: protected holds at most maxProtected < max.
func (s *store) insertLocked(v visit) *entry {
	if len(s.carts) >= s.max {
		old := s.probation.back()
		s.probation.unlink(old)
		delete(s.carts, old.id)
	}
	e := &entry{id: v.id}
	s.carts[v.id] = e
	if v.returning {
		s.protectLocked(e)
	} else {
		s.probation.pushFront(e)
	}
	return e
}

// protectLocked makes e, linked nowhere, the most recent of protected; a
// full protected hands its least recent cart back to probation, as its
// most recent, rather than dropping it.
func (s *store) protectLocked(e *entry) {
	s.protected.pushFront(e)
	if s.protected.len > s.maxProtected {
		old := s.protected.back()
		s.protected.unlink(old)
		s.probation.pushFront(old)
	}
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
		})
		c.Count += l.qty
		c.Total += total
	}
	c.TotalText = shopdata.FormatPrice(c.Total)
	return c
}
