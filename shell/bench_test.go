package shell_test

import (
	"log/slog"
	"net/http"
	"testing"

	"github.com/collage-dev/collage/shell"
	"github.com/collage-dev/collage/shell/compose"
	"github.com/collage-dev/collage/shell/layout"
)

// BenchmarkComposePage composes a page of four in-process fragments, the
// request path below the HTTP edge: for an anonymous browser, and for a
// signed-in one that sends four cookies and an Authorization header.
func BenchmarkComposePage(b *testing.B) {
	l, err := layout.Parse("home.html", []byte(`<!doctype html><html><head></head><body>
<collage-slot frontend="header" timeout="1s">h</collage-slot>
<collage-slot frontend="catalog" timeout="1s" primary>c</collage-slot>
<collage-slot frontend="cart" timeout="1s">k</collage-slot>
<collage-slot frontend="recs" timeout="1s">r</collage-slot>
</body></html>`))
	if err != nil {
		b.Fatal(err)
	}
	// Two frontends declare credentials, two do not.
	header, cart := textBFF("header", "HEADER"), textBFF("cart", "CART")
	header.Cookies, header.Headers = []string{"session"}, []string{"Authorization"}
	cart.Cookies = []string{"collage_cart"}
	sh, err := shell.New(shell.Options{
		Routes: []shell.Route{{Pattern: "/", Layout: l}},
		Frontends: map[string]shell.Frontend{
			"header": header, "catalog": textBFF("catalog", "CATALOG"),
			"cart": cart, "recs": textBFF("recs", "RECS"),
		},
		Log: slog.New(slog.DiscardHandler),
	})
	if err != nil {
		b.Fatal(err)
	}
	anonymous := http.Header{
		"Accept-Language": {"de-CH"},
		"User-Agent":      {"Mozilla/5.0 (X11; Linux x86_64) bench"},
		"X-Request-Id":    {"req-42"},
	}
	signedIn := anonymous.Clone()
	signedIn["Cookie"] = []string{"_ga=GA1.1.123.456; collage_cart=c2f1e0a9b8d7; theme=dark; session=s3cr3t"}
	signedIn["Authorization"] = []string{"Bearer eyJhbGciOiJIUzI1NiJ9.e30.sig"}
	page := sh.Pages()[0]
	for _, bc := range []struct {
		name   string
		header http.Header
	}{{"anonymous", anonymous}, {"signed-in", signedIn}} {
		b.Run(bc.name, func(b *testing.B) {
			b.ReportAllocs()
			var w buffer
			for b.Loop() {
				r, done := sh.Compose(page, &compose.Request{Path: "/", Header: bc.header, ID: "req-42"})
				r.Status()
				w.Reset()
				if err := r.WriteTo(&w); err != nil {
					b.Fatal(err)
				}
				done()
			}
		})
	}
}
