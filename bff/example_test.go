package bff_test

import (
	"context"
	"fmt"
	"net/http/httptest"
	"strings"

	"github.com/collage-dev/collage/bff"
)

func ExampleHandle() {
	type addItem struct {
		ProductID string `json:"product_id"`
		Qty       int    `json:"qty"`
	}
	b := bff.New("cart")
	bff.Handle(b, "POST /items", func(ctx context.Context, in addItem) (map[string]int, error) {
		if in.Qty <= 0 {
			return nil, bff.BadRequest("qty", "must be at least 1")
		}
		bff.SetStatus(ctx, 201)
		return map[string]int{in.ProductID: in.Qty}, nil
	})

	for _, body := range []string{`{"product_id":"sku-1","qty":2}`, `{"product_id":"sku-1","qty":0}`} {
		r := httptest.NewRequest("POST", "/items", strings.NewReader(body))
		r.Header.Set("Content-Type", "application/json")
		rec := httptest.NewRecorder()
		b.ServeHTTP(rec, r)
		fmt.Println(rec.Code, rec.Body)
	}
	// Output:
	// 201 {"sku-1":2}
	// 400 {"error":{"code":"bad_request","message":"must be at least 1","field":"qty"}}
}
