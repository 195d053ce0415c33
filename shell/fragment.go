package shell

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"time"
	"unicode/utf8"

	"github.com/collage-dev/collage/bff"
	"github.com/collage-dev/collage/shell/compose"
	"github.com/collage-dev/collage/shell/invoke"
	"github.com/collage-dev/collage/shell/layout"
)

// Forwarded are the request headers every fragment request and /bff call
// carry to the BFF, in canonical form. None is a credential: those cross to
// a BFF only when its Frontend declares them.
var Forwarded = []string{"Accept-Language", "User-Agent", "Traceparent", "X-Request-Id"}

// BFFForwarded are the request headers a /bff call carries besides
// Forwarded, in canonical form.
var BFFForwarded = []string{"Content-Type", "Accept", "If-None-Match", "If-Modified-Since"}

// DefaultMaxFragmentBytes bounds a fragment's body.
const DefaultMaxFragmentBytes = invoke.DefaultMaxFragmentBytes

// NewFetcher returns the fetcher that gets fragments through the invokers
// of the versions a page is rendered with (compose.Request.Versions): GET
// /_fragment with the Collage-* and forwarded headers. A body over maxBytes
// (0: DefaultMaxFragmentBytes) or a 5xx is a failure, and the slot falls
// back.
func NewFetcher(invokers Invokers, maxBytes int64) compose.Fetcher {
	if maxBytes <= 0 {
		maxBytes = DefaultMaxFragmentBytes
	}
	return &fetcher{invokers: invokers, max: maxBytes}
}

// fetcher gets fragments through the frontends' invokers.
type fetcher struct {
	invokers Invokers
	max      int64
}

func (f *fetcher) Fetch(ctx context.Context, slot *layout.Slot, req *compose.Request) compose.Result {
	start := time.Now()
	res := f.fetch(ctx, slot, req)
	res.Took = time.Since(start)
	if res.Err != nil && res.Outcome == "" {
		res.Outcome = compose.Failed
		// A BFF cut short by the slot's deadline may answer with an error of
		// its own; the deadline is the reason either way.
		if errors.Is(res.Err, context.DeadlineExceeded) || errors.Is(ctx.Err(), context.DeadlineExceeded) {
			res.Outcome = compose.Timeout
		}
	}
	return res
}

func (f *fetcher) fetch(ctx context.Context, slot *layout.Slot, req *compose.Request) compose.Result {
	inv, ok := f.invokers.Invoker(slot.Frontend, req.Versions[slot.Frontend])
	if !ok {
		return compose.Result{Err: fmt.Errorf("no frontend called %s", slot.Frontend)}
	}
	if ff, ok := inv.(invoke.FragmentFetcher); ok {
		call := &bff.FragmentCall{Path: req.Path, Params: req.Params, Slot: slot.Name, Header: req.Header}
		ans, ok, err := ff.FetchFragment(ctx, call)
		if err != nil {
			return compose.Result{Err: err}
		}
		if ok {
			res := f.result(ans.Status, ans.Header, ans.Body)
			res.Release = ans.Releaser() // the composer hands the body back, shown or not
			return res
		}
	}
	r, err := http.NewRequestWithContext(ctx, http.MethodGet, bff.FragmentPath, nil)
	if err != nil {
		return compose.Result{Err: err}
	}
	for k, v := range req.Header {
		r.Header[k] = v
	}
	r.Header.Set(bff.HeaderPath, req.Path)
	r.Header.Set(bff.HeaderParams, req.Params)
	if slot.Name != "" {
		r.Header.Set(bff.HeaderSlot, slot.Name)
	}
	resp, err := inv.RoundTrip(r)
	if err != nil {
		return compose.Result{Err: err}
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, f.max+1))
	if err != nil {
		return compose.Result{Err: fmt.Errorf("reading the fragment: %w", err)}
	}
	return f.result(resp.StatusCode, resp.Header, body)
}

// result checks a fragment's answer: its body must be within the bound and
// UTF-8, and a 5xx is a failure.
func (f *fetcher) result(status int, header http.Header, body []byte) compose.Result {
	if int64(len(body)) > f.max {
		return compose.Result{Err: fmt.Errorf("fragment is larger than %d bytes", f.max)}
	}
	if !utf8.Valid(body) {
		return compose.Result{Status: status, Err: errors.New("fragment is not valid UTF-8")}
	}
	if status >= 500 {
		return compose.Result{Status: status, Err: fmt.Errorf("fragment answered %d", status)}
	}
	return compose.Result{Status: status, Header: header, Body: body, Outcome: compose.OK}
}
