package cache

import (
	"context"
	"log/slog"
	"net/http"
	"slices"
	"time"

	"github.com/collage-dev/collage/shell/compose"
	"github.com/collage-dev/collage/shell/layout"
	"golang.org/x/sync/singleflight"
)

const (
	// DefaultMaxBytes is Options.MaxBytes when it is zero.
	DefaultMaxBytes = 64 << 20
	// DefaultMaxEntries is Options.MaxEntries when it is zero: with the
	// default bytes, room for fragments of 4 KiB on average.
	DefaultMaxEntries = 16384
)

// anonymous are the request headers known not to identify a user. Any
// other header a request carries (Cookie, Authorization, a header a
// frontend declares for its BFF) counts as a credential.
var anonymous = []string{"Accept", "Accept-Encoding", "Accept-Language", "Traceparent", "Tracestate", "User-Agent", "X-Request-Id"}

// Options tune a Fetcher. A zero field means its default.
type Options struct {
	// MaxBytes bounds the memory the cache holds: every entry's key,
	// stored headers and body, and a fixed overhead per entry. A fragment
	// that would take more than an eighth of it is not cached.
	// Optional. Default: DefaultMaxBytes (64 MiB).
	MaxBytes int64
	// MaxEntries bounds how many fragments the cache holds.
	// Optional. Default: DefaultMaxEntries (16384).
	MaxEntries int
	// NoCache switches the cache off; collapsing still applies.
	// Optional. Default: false (cache).
	NoCache bool
	// NoCollapse switches off the collapsing of identical fetches in flight.
	// Optional. Default: false (collapse).
	NoCollapse bool
	// Credentials names request headers that identify a user, besides
	// Cookie and Authorization; a request that carries one is treated as a
	// request with a cookie. Every header but Accept, Accept-Encoding,
	// Accept-Language, Traceparent, Tracestate, User-Agent and X-Request-Id
	// is one whether named or not: naming one of those makes it one too.
	// Optional. Default: none.
	Credentials []string
	// Now is the clock. Optional. Default: time.Now.
	Now func() time.Time
	// Log is told of Cache-Control headers it cannot read.
	// Optional. Default: slog.Default().
	Log *slog.Logger
}

// Fetcher caches and collapses the fetches of the Fetcher it wraps.
//
// A fragment fetched for, or cached from, one request is given to another
// only when that is safe: a request that carried credentials (a Cookie,
// Authorization, any header not known to be anonymous, or one
// Options.Credentials names) gets a shared fragment only if the fragment is
// Cache-Control: public and its Vary names every credential header the
// request carried, so that its key holds their values; and it is never
// collapsed with another request.
type Fetcher struct {
	next      compose.Fetcher
	opts      Options
	anonymous []string // headers that are no credential: canonical, sorted
	cache     *cache   // nil with NoCache
	inflight  singleflight.Group
}

// New wraps next.
func New(next compose.Fetcher, opts Options) *Fetcher {
	if opts.MaxBytes <= 0 {
		opts.MaxBytes = DefaultMaxBytes
	}
	if opts.MaxEntries <= 0 {
		opts.MaxEntries = DefaultMaxEntries
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if opts.Log == nil {
		opts.Log = slog.Default()
	}
	f := &Fetcher{next: next, opts: opts}
	for _, a := range anonymous {
		if !slices.ContainsFunc(opts.Credentials, func(c string) bool { return http.CanonicalHeaderKey(c) == a }) {
			f.anonymous = append(f.anonymous, a)
		}
	}
	if !opts.NoCache {
		f.cache = newCache(opts.MaxBytes, opts.MaxEntries)
	}
	return f
}

// Fetch answers from the cache when it may, else fetches, once for all
// identical anonymous requests in flight, and stores what may be stored.
func (f *Fetcher) Fetch(ctx context.Context, slot *layout.Slot, req *compose.Request) compose.Result {
	start := f.opts.Now()
	if f.cache == nil && f.opts.NoCollapse {
		// Neither a cache nor collapsing: no key to make.
		res := f.next.Fetch(ctx, slot, req)
		if res.Took == 0 {
			res.Took = f.opts.Now().Sub(start)
		}
		return res
	}
	h := canonical(req.Header)
	creds := carried(h, f.anonymous)
	base := baseKey(slot, req)
	if f.cache != nil {
		if e, fresh := f.cache.get(base, h, creds, start); e != nil {
			if !fresh {
				f.revalidate(base, slot, req, creds)
			}
			return compose.Result{Status: e.status, Header: e.header, Body: e.body, Outcome: compose.Cached, Took: f.opts.Now().Sub(start)}
		}
	}
	var res compose.Result
	if f.opts.NoCollapse || len(creds) > 0 {
		res = f.next.Fetch(ctx, slot, req)
		f.store(base, slot, h, creds, &res)
	} else {
		res = f.collapse(ctx, base, h, slot, req)
	}
	if res.Took == 0 {
		res.Took = f.opts.Now().Sub(start)
	}
	return res
}

// revalidate refreshes a stale entry in the background, once for all the
// requests that find it stale.
func (f *Fetcher) revalidate(base string, slot *layout.Slot, req *compose.Request, creds []string) {
	r := *req
	r.Header = canonical(req.Header).Clone()
	go f.inflight.DoChan("revalidate\x00"+headerKey(base, r.Header), func() (any, error) {
		ctx, cancel := context.WithTimeout(context.Background(), slotTimeout(slot))
		defer cancel()
		res := f.next.Fetch(ctx, slot, &r)
		f.store(base, slot, r.Header, creds, &res)
		if res.Release != nil { // not stored, and no page shows it
			res.Release()
		}
		return nil, nil
	})
}

// store keeps res when it may, and logs a Cache-Control it cannot read;
// such a fragment is still shown, just not cached.
func (f *Fetcher) store(base string, slot *layout.Slot, h http.Header, creds []string, res *compose.Result) {
	if f.cache == nil {
		return
	}
	if err := f.cache.put(base, h, creds, res, f.opts.Now()); err != nil {
		f.opts.Log.Warn("fragment not cached", "frontend", slot.Frontend, "err", err)
	}
}

// slotTimeout bounds a fetch that outlives the request that began it.
func slotTimeout(slot *layout.Slot) time.Duration {
	if slot.Timeout > 0 {
		return slot.Timeout
	}
	return layout.DefaultTimeout
}

var _ compose.Fetcher = (*Fetcher)(nil)

// Begin passes a slot's fetch down to be begun when there is neither a
// cache nor collapsing: either would need the answer to pass through it.
func (f *Fetcher) Begin(ctx context.Context, slot *layout.Slot, req *compose.Request) compose.Pending {
	if f.cache != nil || !f.opts.NoCollapse {
		return nil
	}
	if b, ok := f.next.(compose.Beginner); ok {
		return b.Begin(ctx, slot, req)
	}
	return nil
}
