// Package frag is the page every benchmark server serves: four fragments of
// about 2 KB (header, product, recs, footer), the layout that places them,
// and the per-fragment delays of a variant. Every server renders the same
// bytes from here, so the servers differ only in how they compose them.
package frag

import (
	"context"
	_ "embed"
	"fmt"
	"strconv"
	"strings"
	"time"
)

// Layout is the page's layout: a full HTML document with a head and one
// <collage-slot timeout="1s"> per fragment, in Names order.
//
//go:embed layout.html
var Layout []byte

// Names are the fragments of the page, in document order.
var Names = []string{"header", "product", "recs", "footer"}

// Size is the least size of a fragment's body.
const Size = 2048

var bodies = func() map[string][]byte {
	m := make(map[string][]byte, len(Names))
	for _, n := range Names {
		m[n] = render(n)
	}
	return m
}()

// Body returns the HTML of the fragment called name, or nil for an unknown
// name. The slice is shared: do not change it.
func Body(name string) []byte { return bodies[name] }

// render makes a deterministic fragment of at least Size bytes: a section
// with a list of items, like a server-rendered product tile list.
func render(name string) []byte {
	var b strings.Builder
	fmt.Fprintf(&b, "<section class=\"%s\" data-fragment=\"%s\">\n<h2>%s</h2>\n<ul>\n", name, name, strings.ToUpper(name[:1])+name[1:])
	for i := 1; b.Len() < Size-len("</ul>\n</section>\n"); i++ {
		fmt.Fprintf(&b, "<li class=\"item\"><a href=\"/%s/%d\">%s item %d</a> <span class=\"price\">%d.%02d EUR</span></li>\n",
			name, i, name, i, 10+i*7%90, i*13%100)
	}
	b.WriteString("</ul>\n</section>\n")
	return []byte(b.String())
}

// ParseDelays parses one delay per fragment, comma-separated in Names
// order: "0,0,0,0" or "5,20,10,2". A bare number is milliseconds; a Go
// duration ("1.5ms") is taken as is.
func ParseDelays(s string) ([]time.Duration, error) {
	parts := strings.Split(s, ",")
	if len(parts) != len(Names) {
		return nil, fmt.Errorf("delays %q: want %d values (%s), got %d", s, len(Names), strings.Join(Names, ","), len(parts))
	}
	out := make([]time.Duration, len(parts))
	for i, p := range parts {
		p = strings.TrimSpace(p)
		if ms, err := strconv.ParseFloat(p, 64); err == nil {
			out[i] = time.Duration(ms * float64(time.Millisecond))
		} else if out[i], err = time.ParseDuration(p); err != nil {
			return nil, fmt.Errorf("delays %q: %q is neither milliseconds nor a duration", s, p)
		}
		if out[i] < 0 {
			return nil, fmt.Errorf("delays %q: %q is negative", s, p)
		}
	}
	return out, nil
}

// Sleep waits d, or until ctx is done, whichever comes first; it returns
// ctx's error in the second case.
func Sleep(ctx context.Context, d time.Duration) error {
	if d <= 0 {
		return ctx.Err()
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}
