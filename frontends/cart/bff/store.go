package cart

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"time"

	"github.com/collage-dev/collage/bff"
	"github.com/collage-dev/collage/frontends/internal/shopdata"
)

// idleTTL is how long a cart is kept after the last request of its
// session: every request that carries the session's cookie and reads or
// changes the cart starts it again.
const idleTTL = 7 * 24 * time.Hour

// newSessionTTL is how long the cart of a session that has not come back
// with its cookie is kept: a request without a cookie, as a flood sends,
// holds a cart for an hour, not a week, and is the first to go when the
// store is full.
const newSessionTTL = time.Hour

// line is a product and how many of it a cart holds.
type line struct {
	ProductID string `json:"productId"`
	Qty       int    `json:"qty"`
}

// stored is a cart as the store keeps it: the lines, priced when read.
type stored struct {
	Lines []line `json:"lines"`
}

// store keeps each session's cart in the BFF's State, as the JSON of a
// stored under "cart:" and the session id.
type store struct{ state bff.State }

func cartKey(id string) string { return "cart:" + id }

// ttl is how long the cart of v is kept after a change.
func (v visit) ttl() time.Duration {
	if v.returning {
		return idleTTL
	}
	return newSessionTTL
}

// get returns the cart of v's session, empty if it has none.
func (s store) get(ctx context.Context, v visit) (Cart, error) {
	if !v.returning { // a session that starts now has no cart
		return cartOf(nil), nil
	}
	data, ok, err := s.state.Touch(ctx, cartKey(v.id), idleTTL)
	if err != nil || !ok {
		return cartOf(nil), err
	}
	c, err := decodeCart(data)
	return cartOf(c.Lines), err
}

// add adds qty of a product to the cart of v's session. Two adds at once,
// in one process or two, both count: the change is one Update.
func (s store) add(ctx context.Context, v visit, productID string, qty int) (Cart, error) {
	var c stored
	_, err := s.state.Update(ctx, cartKey(v.id), v.ttl(), func(old []byte, ok bool) ([]byte, error) {
		c = stored{}
		if ok {
			var err error
			if c, err = decodeCart(old); err != nil {
				return nil, err
			}
		}
		i := slices.IndexFunc(c.Lines, func(l line) bool { return l.ProductID == productID })
		have := 0
		if i >= 0 {
			have = c.Lines[i].Qty
		}
		if have+qty > MaxQty {
			return nil, bff.BadRequest("qty", "The cart holds at most %d of a product and already has %d", MaxQty, have)
		}
		if i < 0 {
			c.Lines = append(c.Lines, line{ProductID: productID, Qty: qty})
		} else {
			c.Lines[i].Qty += qty
		}
		return json.Marshal(c)
	})
	if err != nil {
		return Cart{}, err
	}
	return cartOf(c.Lines), nil
}

// remove takes a product out of the cart of v's session. Removing a
// product the cart does not hold is not an error: the result is the same.
// A cart left empty is deleted.
func (s store) remove(ctx context.Context, v visit, productID string) (Cart, error) {
	if !v.returning {
		return cartOf(nil), nil
	}
	var c stored
	_, err := s.state.Update(ctx, cartKey(v.id), idleTTL, func(old []byte, ok bool) ([]byte, error) {
		c = stored{}
		if !ok {
			return nil, nil
		}
		var err error
		if c, err = decodeCart(old); err != nil {
			return nil, err
		}
		c.Lines = slices.DeleteFunc(c.Lines, func(l line) bool { return l.ProductID == productID })
		if len(c.Lines) == 0 {
			return nil, nil
		}
		return json.Marshal(c)
	})
	if err != nil {
		return Cart{}, err
	}
	return cartOf(c.Lines), nil
}

func decodeCart(data []byte) (stored, error) {
	var c stored
	if err := json.Unmarshal(data, &c); err != nil {
		return stored{}, fmt.Errorf("cart: a stored cart is not JSON of a cart: %w", err)
	}
	return c, nil
}

// cartOf prices lines with the catalogue's current prices. A product the
// shop no longer sells drops out.
func cartOf(lines []line) Cart {
	c := Cart{Items: []Item{}}
	for _, l := range lines {
		p, ok := shopdata.ProductByID(l.ProductID)
		if !ok {
			continue
		}
		total := p.Price * l.Qty
		c.Items = append(c.Items, Item{
			ProductID:     p.ID,
			Name:          p.Name,
			Price:         p.Price,
			PriceText:     p.PriceText,
			Qty:           l.Qty,
			LineTotal:     total,
			LineTotalText: shopdata.FormatPrice(total),
		})
		c.Count += l.Qty
		c.Total += total
	}
	c.TotalText = shopdata.FormatPrice(c.Total)
	return c
}
