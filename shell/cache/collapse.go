package cache

import (
	"context"
	"net/http"

	"github.com/collage-dev/collage/shell/compose"
	"github.com/collage-dev/collage/shell/layout"
)

// collapse fetches once for all identical requests in flight: the same
// slot, page and forwarded headers. Only anonymous requests come here (see
// Fetcher), so a response made for one user never reaches another. The one
// fetch stores its result for all of them.
func (f *Fetcher) collapse(ctx context.Context, base string, h http.Header, slot *layout.Slot, req *compose.Request) compose.Result {
	ch := f.inflight.DoChan(headerKey(base, h), func() (any, error) {
		// The shared fetch outlives any one caller, bounded by the slot's own deadline.
		sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), slotTimeout(slot))
		defer cancel()
		res := f.next.Fetch(sctx, slot, req)
		res.Keep() // shared by every page that asked
		f.store(base, slot, h, nil, &res)
		return res, nil
	})
	select {
	case r := <-ch:
		return r.Val.(compose.Result)
	case <-ctx.Done():
		return compose.Result{Outcome: compose.Timeout, Err: ctx.Err()}
	}
}
