package catalog

import (
	"context"

	"github.com/collage-dev/collage/bff"
	"github.com/collage-dev/collage/frontends/internal/shopdata"
)

// ListQuery selects the products of GET /products.
type ListQuery struct {
	Category string `query:"category"` // Optional. Default: every category.
}

// Validate rejects a category the shop does not have.
func (q ListQuery) Validate() error {
	if q.Category == "" {
		return nil
	}
	if _, ok := shopdata.CategoryBySlug(q.Category); !ok {
		return bff.BadRequest("category", "No category called %q", q.Category)
	}
	return nil
}

// ProductQuery names the product of GET /products/{id}.
type ProductQuery struct {
	ID string `path:"id"`
}

// Listing is a page of the product grid.
type Listing struct {
	Title    string             `json:"title"` // "All products" or the category's name
	Products []shopdata.Product `json:"products"`
}

// view is the data of the fragment, which the frontend's View renders: a
// listing or one product (src/types.ts, Fragment).
type view struct {
	Listing *Listing          `json:"listing,omitempty"`
	Product *shopdata.Product `json:"product,omitempty"`
}

// New returns the catalog BFF. It has no settings.
func New(bff.Settings) (*bff.BFF, error) {
	b := bff.New("catalog")
	bff.Handle(b, "GET /products", func(_ context.Context, q ListQuery) (Listing, error) {
		return list(q.Category), nil
	})
	bff.Handle(b, "GET /products/{id}", func(_ context.Context, q ProductQuery) (shopdata.Product, error) {
		return product(q.ID)
	})
	bff.Component(b, func(_ context.Context, f *bff.FragmentRequest) (view, error) {
		if f.Params.Has("id") {
			p, err := product(f.Param("id"))
			if err != nil {
				return view{}, err
			}
			return view{Product: &p}, nil
		}
		q := ListQuery{Category: f.Query.Get("category")}
		if err := q.Validate(); err != nil {
			return view{}, err
		}
		l := list(q.Category)
		return view{Listing: &l}, nil
	})
	return b, nil
}

// list returns the listing of a known category, or of every product.
func list(category string) Listing {
	l := Listing{Title: "All products", Products: shopdata.InCategory(category)}
	if c, ok := shopdata.CategoryBySlug(category); ok {
		l.Title = c.Name
	}
	return l
}

func product(id string) (shopdata.Product, error) {
	p, ok := shopdata.ProductByID(id)
	if !ok {
		return p, bff.NotFound("No product with id %q", id)
	}
	return p, nil
}

var _ bff.Factory = New
