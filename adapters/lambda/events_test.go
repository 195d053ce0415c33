package lambda_test

import (
	"context"
	"io"
	"net/http"
	"testing"

	"github.com/collage-dev/collage/adapters/lambda"
	"github.com/collage-dev/collage/tests/parity"
)

// TestRealEvents feeds every real AWS event, and each as HEAD, to the
// codec: the handler must see the request the client sent, and the answer
// must be in the event's shape.
func TestRealEvents(t *testing.T) {
	t.Parallel()
	h := lambda.NewHandler(parity.SeenHandler(), lambda.Options{Log: quiet()})
	ctx := context.Background()
	for _, ev := range parity.RealEvents(t) {
		head, err := ev.AsHead()
		if err != nil {
			t.Fatal(err)
		}
		for _, e := range []parity.RealEvent{ev, head} {
			t.Run(e.Name, func(t *testing.T) {
				t.Parallel()
				if kind, err := lambda.Detect(e.Payload); kind != e.Kind || err != nil {
					t.Fatalf("Detect = %v, %v; want %v", kind, err, e.Kind)
				}
				out, err := h.Invoke(ctx, e.Payload)
				if err != nil {
					t.Fatal(err)
				}
				if err := e.Check(out); err != nil {
					t.Error(err)
				}
			})
		}
	}
}

// BenchmarkRealEvents measures the codec alone on each real event:
// decoding it, a handler that reads the body and answers a cookie and a
// small JSON body, and encoding the answer.
func BenchmarkRealEvents(b *testing.B) {
	h := lambda.NewHandler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.Copy(io.Discard, r.Body)
		w.Header().Add("Set-Cookie", "seen=1; Path=/")
		w.Header().Set("Content-Type", "application/json")
		w.Write([]byte(`{"ok":true}`))
	}), lambda.Options{Log: quiet()})
	ctx := context.Background()
	for _, ev := range parity.RealEvents(b) {
		b.Run(ev.Name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if _, err := h.Invoke(ctx, ev.Payload); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
