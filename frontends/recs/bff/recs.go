package recs

import (
	"cmp"
	"context"
	"fmt"
	"slices"
	"time"

	"github.com/collage-dev/collage/bff"
	"github.com/collage-dev/collage/frontends/internal/shopdata"
)

// Count is how many products a recommendation holds.
const Count = 4

// Query asks for recommendations for the page of one product.
type Query struct {
	Exclude string `query:"exclude"` // Optional. The id of the product being shown.
}

// Recs is a titled list of recommended products.
type Recs struct {
	Title    string             `json:"title"`
	Products []shopdata.Product `json:"products"`
}

// popular is what the shop recommends when no product is being shown.
var popular = []string{"3", "6", "8", "2"}

// New returns the recs BFF. Settings:
//
//   - delay: how long to wait before answering, as a Go duration ("300ms").
//     Optional. Default: 0.
func New(s bff.Settings) (*bff.BFF, error) {
	delay, err := s.Duration("delay", 0)
	if err != nil {
		return nil, err
	}
	b := bff.New("recs")
	bff.Handle(b, "GET /recs", func(ctx context.Context, q Query) (Recs, error) {
		if err := sleep(ctx, delay); err != nil {
			return Recs{}, err
		}
		return recommend(q.Exclude), nil
	})
	bff.Component(b, func(ctx context.Context, f *bff.FragmentRequest) (Recs, error) {
		if err := sleep(ctx, delay); err != nil {
			return Recs{}, err
		}
		return recommend(f.Param("id")), nil
	})
	return b, nil
}

// sleep waits for d, or less if ctx ends first: the shell has given up on
// the answer by then, so there is no point in finishing it.
func sleep(ctx context.Context, d time.Duration) error {
	if d <= 0 {
		return nil
	}
	select {
	case <-time.After(d):
		return nil
	case <-ctx.Done():
		return fmt.Errorf("recs: gave up waiting %v: %w", d, context.Cause(ctx))
	}
}

// recommend picks Count products for the page of product id: others of its
// category first, then the rest, each in catalogue order starting after it.
// An unknown or empty id gets the popular products.
func recommend(id string) Recs {
	all := shopdata.Products()
	at := slices.IndexFunc(all, func(p shopdata.Product) bool { return p.ID == id })
	if at < 0 {
		r := Recs{Title: "Popular right now"}
		for _, id := range popular {
			p, _ := shopdata.ProductByID(id)
			r.Products = append(r.Products, p)
		}
		return r
	}
	current := all[at]
	others := slices.Concat(all[at+1:], all[:at])
	slices.SortStableFunc(others, func(a, b shopdata.Product) int {
		return cmp.Compare(otherCategory(a, current), otherCategory(b, current))
	})
	return Recs{Title: "You may also like", Products: others[:Count]}
}

func otherCategory(p, current shopdata.Product) int {
	if p.Category == current.Category {
		return 0
	}
	return 1
}

var _ bff.Factory = New
