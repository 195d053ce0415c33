package shell

import (
	"context"
	"net/http"
	"testing"

	"github.com/collage-dev/collage/shell/compose"
	"github.com/collage-dev/collage/shell/layout"
)

type nopFetcher struct{}

func (nopFetcher) Fetch(context.Context, *layout.Slot, *compose.Request) compose.Result {
	return compose.Result{}
}

// BenchmarkScope measures the scoping of one page's fragment requests
// alone: choosing each slot's request, for four slots of which two belong
// to frontends that declare credentials, without the composer's
// goroutines, whose scheduling hides it in BenchmarkComposePage.
func BenchmarkScope(b *testing.B) {
	l, err := layout.Parse("home.html", []byte(`<collage-slot frontend=header></collage-slot>`+
		`<collage-slot frontend=catalog primary></collage-slot><collage-slot frontend=cart></collage-slot>`+
		`<collage-slot frontend=recs></collage-slot>`))
	if err != nil {
		b.Fatal(err)
	}
	s, err := New(Options{
		Routes: []Route{{Pattern: "/", Layout: l}},
		Frontends: map[string]Frontend{
			"header": {Cookies: []string{"session"}, Headers: []string{"Authorization"}}, "catalog": {},
			"cart": {Cookies: []string{"collage_cart"}}, "recs": {},
		},
		Fetcher: nopFetcher{},
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
	tracked := anonymous.Clone() // cookies that no frontend declares
	tracked["Cookie"] = []string{"_ga=GA1.1.123.456; theme=dark"}
	p := s.pages[0]
	for _, bc := range []struct {
		name   string
		header http.Header
	}{{"anonymous", anonymous}, {"undeclared-cookies", tracked}, {"signed-in", signedIn}} {
		b.Run(bc.name, func(b *testing.B) {
			b.ReportAllocs()
			req := &compose.Request{Path: "/", Header: bc.header}
			ctx := context.Background()
			for b.Loop() {
				f := s.fetcher(p, req)
				for _, slot := range l.Slots {
					f.Fetch(ctx, slot, req)
				}
			}
		})
	}
}
