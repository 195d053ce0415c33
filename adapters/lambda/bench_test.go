package lambda_test

import (
	"context"
	"testing"

	"github.com/collage-dev/collage/adapters/lambda"
	cart "github.com/collage-dev/collage/frontends/cart/bff"
)

// BenchmarkHandler measures the codec around the cart's fragment: decoding
// a payload-2.0 event, the BFF, and encoding the answer, without Lambda.
func BenchmarkHandler(b *testing.B) {
	c, err := cart.New(nil)
	if err != nil {
		b.Fatal(err)
	}
	h := lambda.NewHandler(c, lambda.Options{})
	event := []byte(`{"version":"2.0","rawPath":"/_fragment","headers":{"collage-path":"/","user-agent":"bench"},` +
		`"cookies":["collage_cart=0123456789abcdef0123456789abcdef"],"requestContext":{"http":{"method":"GET","sourceIp":"127.0.0.1"}}}`)
	ctx := context.Background()
	b.ReportAllocs()
	for b.Loop() {
		if _, err := h.Invoke(ctx, event); err != nil {
			b.Fatal(err)
		}
	}
}
