package fasthttp

import (
	"testing"

	"github.com/valyala/fasthttp"
)

// A fragment's usual answer costs its Header one small map (two allocations) and one slice: the
// names and values it commonly sends are not copied.
func TestHeaderSharesCommonStrings(t *testing.T) {
	var rh fasthttp.ResponseHeader
	rh.Set("Content-Type", "text/html; charset=utf-8")
	rh.Set("Date", "Mon, 30 Nov 2026 14:00:00 GMT")
	rh.SetContentLength(2048)
	h := header(&rh)
	if len(h) != 1 || h.Get("Content-Type") != "text/html; charset=utf-8" {
		t.Fatalf("header: %v", h)
	}
	if n := testing.AllocsPerRun(100, func() { header(&rh) }); n > 3 {
		t.Errorf("header allocates %v times, want at most 3 (the map and its group, the value's slice)", n)
	}
	rh.Set("X-Team", "recs")
	if h := header(&rh); h.Get("X-Team") != "recs" || len(h) != 2 {
		t.Errorf("an uncommon header: %v", h)
	}
}
