package shell_test

import (
	"io"
	"log/slog"
	"strings"
	"testing"

	"github.com/collage-dev/collage/shell"
	"github.com/collage-dev/collage/shell/compose"
	"github.com/collage-dev/collage/shell/layout"
)

// BenchmarkCompose serves a page of four in-process fragments of ~2 KB
// through Shell.Compose, logging and all, as the load harness's page.
func BenchmarkCompose(b *testing.B) {
	text := strings.Repeat("x", 2000)
	l, err := layout.Parse("bench.html", []byte(`<!doctype html><html><head><title>bench</title></head><body>`+
		`<collage-slot frontend=header>h</collage-slot><main><collage-slot frontend=catalog primary>c</collage-slot></main>`+
		`<aside><collage-slot frontend=cart>k</collage-slot></aside><collage-slot frontend=recs async>r</collage-slot></body></html>`))
	if err != nil {
		b.Fatal(err)
	}
	sh, err := shell.New(shell.Options{
		Routes: []shell.Route{{Pattern: "/products/{id}", Layout: l}},
		Frontends: map[string]shell.Frontend{
			"header": textBFF("header", text), "catalog": textBFF("catalog", text),
			"cart": textBFF("cart", text), "recs": textBFF("recs", text),
		},
		Log: slog.New(slog.DiscardHandler),
	})
	if err != nil {
		b.Fatal(err)
	}
	p := sh.Pages()[0]
	b.ReportAllocs()
	for b.Loop() {
		r, done := sh.Compose(p, &compose.Request{Path: "/products/7", Params: "id=7", Nonce: "bm9uY2U"})
		r.Status()
		complete, err := r.WritePrefix(io.Discard)
		if err != nil {
			b.Fatal(err)
		}
		if !complete {
			if err := r.WriteTo(&buffer{}); err != nil {
				b.Fatal(err)
			}
		}
		r.ServerTiming()
		done()
	}
}
