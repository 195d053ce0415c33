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
	f.outcome(ctx, &res)
	return res
}

// outcome says how a fetch that failed went.
func (f *fetcher) outcome(ctx context.Context, res *compose.Result) {
	if res.Err != nil && res.Outcome == "" {
		res.Outcome = compose.Failed
		// A BFF cut short by the slot's deadline may answer with an error of
		// its own; the deadline is the reason either way.
		if errors.Is(res.Err, context.DeadlineExceeded) || errors.Is(ctx.Err(), context.DeadlineExceeded) {
			res.Outcome = compose.Timeout
		}
	}
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

// batchKey is the context key of a page's batch of fragment requests.
type batchKey struct{}

// withBatch returns ctx with a batch for the fragment requests of a page:
// those its slots begin go in it (see fetcher.Begin).
func withBatch(ctx context.Context) context.Context {
	return context.WithValue(ctx, batchKey{}, invoke.NewBatch())
}

// Begin begins slot's fetch in the page's batch when its BFF can take the
// request pipelined with the page's others (invoke.Beginner).
func (f *fetcher) Begin(ctx context.Context, slot *layout.Slot, req *compose.Request) compose.Pending {
	b, _ := ctx.Value(batchKey{}).(*invoke.Batch)
	if b == nil {
		return nil
	}
	inv, ok := f.invokers.Invoker(slot.Frontend, req.Versions[slot.Frontend])
	if !ok {
		return nil
	}
	bi, ok := inv.(invoke.Beginner)
	if !ok {
		return nil
	}
	// The call is made with its pending, in one allocation.
	p := &pending{f: f, ctx: ctx, b: b, start: time.Now()}
	p.call = bff.FragmentCall{Path: req.Path, Params: req.Params, Slot: slot.Name, Header: req.Header}
	if p.p = bi.BeginFragment(ctx, &p.call, b); p.p == nil {
		return nil
	}
	return p
}

// pending is a fragment request in a page's batch.
type pending struct {
	f     *fetcher
	ctx   context.Context
	p     *invoke.Pending
	b     *invoke.Batch
	start time.Time
	call  bff.FragmentCall
}

func (p *pending) Send()  { p.b.Send() }
func (p *pending) Close() { p.p.Close() }

func (p *pending) Wait(until time.Time) (compose.Result, bool) {
	ans, ok, err := p.p.Wait(until)
	if !ok {
		return compose.Result{}, false
	}
	var res compose.Result
	if err != nil {
		res = compose.Result{Err: err}
	} else {
		res = p.f.result(ans.Status, ans.Header, ans.Body)
		res.Release = ans.Releaser()
	}
	res.Took = time.Since(p.start)
	p.f.outcome(p.ctx, &res)
	return res, true
}
