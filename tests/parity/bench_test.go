package parity_test

import (
	"context"
	"io"
	"net/http"
	"os"
	"slices"
	"testing"
	"time"

	"github.com/collage-dev/collage/bff"
	cart "github.com/collage-dev/collage/frontends/cart/bff"
	"github.com/collage-dev/collage/internal/emulator"
	"github.com/collage-dev/collage/shell/invoke"
)

// fragmentRequest is the cart slot's request, as the shell sends it for a
// shopper with a session: the call a page makes to a BFF.
func fragmentRequest() *http.Request {
	r, _ := http.NewRequestWithContext(context.Background(), "GET", bff.FragmentPath, nil)
	r.Header.Set(bff.HeaderPath, "/")
	r.Header.Set("Cookie", "collage_cart=0123456789abcdef0123456789abcdef")
	r.Header.Set("User-Agent", "bench")
	r.RemoteAddr = "127.0.0.1:1234"
	return r
}

// reportLatency reports the p50 and p99 of the calls' durations.
func reportLatency(b *testing.B, took []time.Duration) {
	slices.Sort(took)
	at := func(q float64) float64 { return float64(took[int(q*float64(len(took)-1))].Nanoseconds()) / 1e3 }
	b.ReportMetric(at(0.50), "p50-µs")
	b.ReportMetric(at(0.99), "p99-µs")
}

func benchInvoker(b *testing.B, inv invoke.Invoker) {
	took := make([]time.Duration, 0, b.N)
	b.ResetTimer()
	for b.Loop() {
		start := time.Now()
		resp, err := inv.RoundTrip(fragmentRequest())
		if err != nil {
			b.Fatal(err)
		}
		io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		if resp.StatusCode != 200 {
			b.Fatalf("status %d", resp.StatusCode)
		}
		took = append(took, time.Since(start))
	}
	reportLatency(b, took)
}

// BenchmarkInvoke measures one cart fragment call through each transport,
// one call at a time (the emulator takes no overlapping calls), with
// keep-alive connections.
func BenchmarkInvoke(b *testing.B) {
	bin := bootstrap(b, "./frontends/cart/bff/cmd/bootstrap")
	b.Run("in-process", func(b *testing.B) {
		c, err := cart.New(nil)
		if err != nil {
			b.Fatal(err)
		}
		benchInvoker(b, invoke.Local(c))
	})
	b.Run("local-http", func(b *testing.B) {
		inv, err := invoke.HTTP(serveHTTP(b, bin), invoke.HTTPOptions{})
		if err != nil {
			b.Fatal(err)
		}
		benchInvoker(b, inv)
	})
	b.Run("lambda-invoke-emulator", func(b *testing.B) {
		inv, _ := viaEmulator(b, emulator.Require(b), bin)
		benchInvoker(b, inv)
	})
}

// BenchmarkColdStart measures a bootstrap's cold start under the emulator:
// from the first invocation, which makes the emulator start the bootstrap
// process, to its answer. It also reports the bootstrap's size for this
// machine's architecture (collage build prints the arm64 one).
func BenchmarkColdStart(b *testing.B) {
	rie := emulator.Require(b)
	bin := bootstrap(b, "./frontends/cart/bff/cmd/bootstrap")
	info, err := os.Stat(bin)
	if err != nil {
		b.Fatal(err)
	}
	event := []byte(`{"version":"2.0","rawPath":"/_fragment","headers":{"collage-path":"/"},"requestContext":{"http":{"method":"GET"}}}`)
	var took []time.Duration
	b.ResetTimer()
	for b.Loop() {
		b.StopTimer()
		em, err := emulator.Start(rie, bin)
		if err != nil {
			b.Fatal(err)
		}
		b.StartTimer()
		start := time.Now()
		status, body, err := em.Invoke(context.Background(), event)
		took = append(took, time.Since(start))
		b.StopTimer()
		em.Close()
		if err != nil || status != 200 {
			b.Fatalf("first invocation: %d %s %v", status, body, err)
		}
		b.StartTimer()
	}
	slices.Sort(took)
	b.ReportMetric(float64(took[len(took)/2].Microseconds())/1e3, "p50-cold-ms")
	b.ReportMetric(float64(took[len(took)-1].Microseconds())/1e3, "max-cold-ms")
	b.ReportMetric(float64(info.Size())/1e6, "bootstrap-MB")
}
