package compose_test

import (
	"context"
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/collage-dev/collage/shell/compose"
	"github.com/collage-dev/collage/shell/layout"
)

// discard is a compose.Writer that keeps nothing.
type discard struct{}

func (discard) Write(p []byte) (int, error) { return len(p), nil }
func (discard) Flush() error                { return nil }

// benchLayout is a page of four ~2 KB slots, one of them async and one the
// primary, as the load harness's page.
var benchLayout = `<!doctype html><html><head><title>bench</title></head><body>` +
	`<collage-slot frontend=header>h</collage-slot><main><collage-slot frontend=catalog primary>c</collage-slot></main>` +
	`<aside><collage-slot frontend=cart>k</collage-slot></aside><collage-slot frontend=recs async>r</collage-slot></body></html>`

// BenchmarkPage composes a page whose four fragments answer at once: the
// composer's own cost per page, from Start to Close.
func BenchmarkPage(b *testing.B) {
	l, err := layout.Parse("bench.html", []byte(benchLayout))
	if err != nil {
		b.Fatal(err)
	}
	body := []byte("<p>" + strings.Repeat("x", 2000) + "</p>")
	ok := func(context.Context, *layout.Slot, *compose.Request) compose.Result {
		return compose.Result{Status: 200, Header: http.Header{}, Body: body, Outcome: compose.OK}
	}
	f := fetcher{"header": ok, "catalog": ok, "cart": ok, "recs": ok}
	head := compose.NewHead(`<script type="importmap" nonce="{nonce}">{"imports":{}}</script>`+"\n", "{nonce}")
	b.ReportAllocs()
	for b.Loop() {
		r := compose.Start(context.Background(), l, f, head, &compose.Request{Path: "/", Params: "id=7", Nonce: "bm9uY2U"})
		r.Status()
		if _, err := r.WritePrefix(io.Discard); err != nil {
			b.Fatal(err)
		}
		if err := r.WriteTo(discard{}); err != nil {
			b.Fatal(err)
		}
		r.ServerTiming()
		r.Results()
		r.Close()
	}
}
