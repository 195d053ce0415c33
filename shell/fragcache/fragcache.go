package fragcache

import (
	"context"
	"log/slog"
	"net/http"
	"sort"
	"strings"
	"time"

	"github.com/collage-dev/collage/shell/compose"
	"github.com/collage-dev/collage/shell/layout"
	"golang.org/x/sync/singleflight"
)

// Options tune a Fetcher.
type Options struct {
	// MaxBytes bounds the cached fragment bodies. Optional. Default: 64 MiB;
	// negative disables the cache.
	MaxBytes int64
	// NoCollapse switches off the collapsing of identical fetches in flight.
	// Optional. Default: false (collapse).
	NoCollapse bool
	// Now is the clock. Optional. Default: time.Now.
	Now func() time.Time
	// Log is told of Cache-Control headers it cannot read.
	// Optional. Default: slog.Default().
	Log *slog.Logger
}

// Fetcher caches and collapses the fetches of the Fetcher it wraps.
type Fetcher struct {
	next     compose.Fetcher
	opts     Options
	cache    *cache
	inflight singleflight.Group
}

// New wraps next.
func New(next compose.Fetcher, opts Options) *Fetcher {
	if opts.MaxBytes == 0 {
		opts.MaxBytes = 64 << 20
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if opts.Log == nil {
		opts.Log = slog.Default()
	}
	f := &Fetcher{next: next, opts: opts}
	if opts.MaxBytes > 0 {
		f.cache = newCache(opts.MaxBytes)
	}
	return f
}

// Fetch answers from the cache when it can, else fetches, once for all
// identical requests in flight.
func (f *Fetcher) Fetch(ctx context.Context, slot *layout.Slot, req *compose.Request) compose.Result {
	start := f.opts.Now()
	base := baseKey(slot, req)
	if f.cache != nil {
		if e, fresh := f.cache.get(base, req.Header, start); e != nil {
			if !fresh {
				f.revalidate(base, slot, req)
			}
			return compose.Result{Status: e.status, Header: e.header, Body: e.body, Outcome: compose.Cached, Took: f.opts.Now().Sub(start)}
		}
	}
	res := f.fetch(ctx, base, slot, req)
	f.store(base, slot, req.Header, &res)
	if res.Took == 0 {
		res.Took = f.opts.Now().Sub(start)
	}
	return res
}

// fetch collapses identical anonymous fetches: requests without a cookie or
// credentials, for the same slot, page and headers. A request with a Cookie
// never shares a response, so no session leaks between users.
func (f *Fetcher) fetch(ctx context.Context, base string, slot *layout.Slot, req *compose.Request) compose.Result {
	if f.opts.NoCollapse || req.Header.Get("Cookie") != "" || req.Header.Get("Authorization") != "" {
		return f.next.Fetch(ctx, slot, req)
	}
	key := base + "\x00" + headerKey(req.Header)
	ch := f.inflight.DoChan(key, func() (any, error) {
		// The shared fetch outlives any one caller, bounded by the slot's own deadline.
		sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), slot.Timeout)
		defer cancel()
		res := f.next.Fetch(sctx, slot, req)
		res.Keep() // shared by every page that asked
		return res, nil
	})
	select {
	case r := <-ch:
		return r.Val.(compose.Result)
	case <-ctx.Done():
		return compose.Result{Outcome: compose.Timeout, Err: ctx.Err()}
	}
}

// revalidate refreshes a stale entry in the background, once.
func (f *Fetcher) revalidate(base string, slot *layout.Slot, req *compose.Request) {
	r := *req
	r.Header = req.Header.Clone()
	go f.inflight.DoChan("revalidate\x00"+base+"\x00"+headerKey(r.Header), func() (any, error) {
		ctx, cancel := context.WithTimeout(context.Background(), slot.Timeout)
		defer cancel()
		res := f.next.Fetch(ctx, slot, &r)
		f.store(base, slot, r.Header, &res)
		if res.Release != nil { // not stored, and no page shows it
			res.Release()
		}
		return nil, nil
	})
}

// store keeps res when its Cache-Control allows, and logs one it cannot read;
// such a fragment is still shown, just not cached.
func (f *Fetcher) store(base string, slot *layout.Slot, h http.Header, res *compose.Result) {
	if f.cache == nil {
		return
	}
	if err := f.cache.put(base, h, res, f.opts.Now()); err != nil {
		f.opts.Log.Warn("fragment not cached", "frontend", slot.Frontend, "err", err)
	}
}

// baseKey names a fragment: frontend, slot, page path and query, params.
func baseKey(slot *layout.Slot, req *compose.Request) string {
	return slot.Frontend + "\x00" + slot.Name + "\x00" + req.Path + "\x00" + req.Params
}

// headerKey is the forwarded headers that may change a response.
func headerKey(h http.Header) string {
	names := make([]string, 0, len(h))
	for k := range h {
		if k != "X-Request-Id" && k != "Traceparent" {
			names = append(names, k)
		}
	}
	sort.Strings(names)
	var b strings.Builder
	for _, k := range names {
		b.WriteString(k)
		b.WriteByte(':')
		b.WriteString(strings.Join(h[k], ","))
		b.WriteByte('\n')
	}
	return b.String()
}

var _ compose.Fetcher = (*Fetcher)(nil)
