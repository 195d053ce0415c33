package bff_test

import (
	"context"
	"fmt"
	"net/http/httptest"
	"strconv"
	"strings"
	"time"

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

func ExampleBFF_State() {
	b := bff.New("visits")
	visits := b.State()
	bff.Handle(b, "POST /visits", func(ctx context.Context, _ struct{}) (int, error) {
		v, err := visits.Update(ctx, "count", 24*time.Hour, func(old []byte, _ bool) ([]byte, error) {
			n, _ := strconv.Atoi(string(old))
			return strconv.AppendInt(nil, int64(n+1), 10), nil
		})
		n, _ := strconv.Atoi(string(v))
		return n, err
	})
	b.UseState(bff.NewMemState()) // what the runtime does: the shell, a bootstrap

	for range 3 {
		rec := httptest.NewRecorder()
		b.ServeHTTP(rec, httptest.NewRequest("POST", "/visits", nil))
		fmt.Println(rec.Code, rec.Body)
	}
	// Output:
	// 200 1
	// 200 2
	// 200 3
}
