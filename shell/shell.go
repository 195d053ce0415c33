package shell

import (
	"context"
	"fmt"
	"log/slog"
	"slices"
	"sort"
	"strings"
	"sync/atomic"
	"time"

	"github.com/collage-dev/collage/shell/compose"
	"github.com/collage-dev/collage/shell/invoke"
	"github.com/collage-dev/collage/shell/layout"
	"github.com/collage-dev/collage/shell/registry"
)

// Options make a Shell.
type Options struct {
	// Routes map path patterns to layouts, matched in order.
	Routes []Route
	// Frontends are the frontends the layouts may name, with their BFFs.
	Frontends map[string]Frontend
	// Registry holds the versions served. Optional. Default: an empty
	// registry (server fragments only).
	Registry *registry.Registry
	// Releases reach the BFF of each version the registry serves; install
	// each snapshot in it before it reaches the registry. Optional.
	// Default: NewReleases(Frontends, nil), every version through its
	// Frontend.Invoker.
	Releases *Releases
	// AssetsURL is an absolute http:// or https:// URL, without a query or
	// fragment, under which the pages link the bundles (NAME/VERSION/FILE)
	// and the client runtime (_collage/FILE): a CDN whose origin may be
	// this shell's /assets. The links keep their integrity and are fetched
	// with crossorigin; the assets' server must answer CORS requests, as
	// the shell's /assets does. The default CSP allows its origin.
	// Optional. Default: "", the shell's own /assets/.
	AssetsURL string
	// PageTimeout bounds a whole page. Optional. Default: 10s.
	PageTimeout time.Duration
	// Coalesce is how long the head of a page waits for fragments, so that
	// a page whose fragments all arrive within it leaves whole, in one
	// write, and how long later fragments gather before a flush (see
	// compose.Render.Coalesce). Optional. Default: compose.DefaultCoalesce.
	Coalesce time.Duration
	// NoCoalesce flushes the head, and each fragment, at once: Coalesce is
	// then ignored. Optional. Default: false.
	NoCoalesce bool
	// StreamAlone flushes at once, as NoCoalesce does, on a page that no
	// other page is being composed beside: with nothing else to do, the
	// write the head costs alone is free, and the browser starts on the
	// page's assets before its fragments come. While others are composed,
	// Coalesce holds, and saves that write where writes cost throughput.
	// Optional. Default: false, Coalesce on every page.
	StreamAlone bool
	// Redirects are the origins (scheme://host[:port]) a primary slot may
	// redirect to besides the page's own; a Location anywhere else fails
	// the slot. Optional. Default: none, so only paths on the site and URLs
	// on the page's origin.
	Redirects []string
	// Fetcher gets the fragments. Each slot's request reaches it with the
	// credentials of the slot's frontend alone, so that a cache or the
	// collapsing of fetches sees what the BFF sees. Optional. Default:
	// NewFetcher(Releases, 0), which wrappers such as shell/cache
	// take as their next step.
	Fetcher compose.Fetcher
	// Observer is told of every page composed, for metrics. Optional.
	Observer Observer
	// Canary is told, by version, of every slot and /bff call of a
	// frontend in a canary, so that a canary that fails more than its
	// active version can end itself. Optional. Default: none.
	Canary CanaryObserver
	// CatchUp brings Registry up to its store at once, for a request that
	// names what is not in the snapshot yet and that another replica may
	// have just made: a preview link, an asset of a new version, a /bff
	// call pinned to one. Optional. Default: none, for a shell that is its
	// store's only writer.
	CatchUp func(ctx context.Context)
	// Log receives a line per page and per failed slot.
	// Optional. Default: slog.Default().
	Log *slog.Logger
	// Dev links the dev client (runtime.DevFile) in the head of every
	// page, and the Handler serves it: collage dev, whose events it
	// follows at DevPrefix. Optional. Default: false.
	Dev bool
}

// Observer is told of every page once it is written. The results are
// the page's own: they are reused once ObservePage returns.
type Observer interface {
	ObservePage(route string, slots []*layout.Slot, results []*compose.Result, took time.Duration)
}

// A CanaryObserver is told of the outcomes of the versions of a frontend in
// a canary: the canary's and the active version's alike. It is called on
// the request path, and must not wait.
type CanaryObserver interface {
	// ObserveVersion says that a slot or a /bff call of version label of
	// frontend failed (an error, a timeout, a 5xx) or not.
	ObserveVersion(frontend, label string, failed bool)
}

// Route is one entry of collage.yaml's routes.
type Route struct {
	// Pattern is a path with {name} parameters: /products/{id}.
	Pattern string
	Layout  *layout.Layout
}

// Frontend is one entry of collage.yaml's frontends.
type Frontend struct {
	Invoker invoke.Invoker
	// Cookies are the names of the browser's cookies that the frontend's
	// BFF receives, on fragment requests and /bff calls, and the only
	// cookies it may set. Optional. Default: none.
	Cookies []string
	// Headers are the request headers, such as Authorization, that the BFF
	// receives besides Forwarded (see CheckHeaderName for those refused).
	// Optional. Default: none.
	Headers []string
}

// Shell composes pages. It is safe for concurrent use.
type Shell struct {
	opts  Options
	pages []*Page
	// assetsBase is the prefix of the head's asset URLs, ending in "/";
	// assetsOrigin is AssetsURL's origin, "" by default.
	assetsBase, assetsOrigin string
	// scopes are the credentials of the frontends that declare some.
	scopes map[string]*scope
	// credentials are the names of the headers some frontend declares,
	// Cookie first when one declares cookies.
	credentials []string
	// composing counts the pages between Compose and their done.
	composing atomic.Int64
}

// Page is a route ready to serve.
type Page struct {
	Route
	// Params are the names of the pattern's parameters, in order.
	Params   []string
	head     atomic.Pointer[headCache]
	slotKeys []string // log keys, slot.INDEX.FRONTEND
	// scopes are the credentials of the page's frontends: nil first, for
	// those that declare none, then one for each frontend that declares
	// some. slotScope is each slot's, by index into scopes.
	scopes    []*scope
	slotScope []int
	cookies   bool            // whether a frontend of the page declares cookies
	dev       bool            // Options.Dev
	fetcher   compose.Fetcher // for a request without credentials
	segs      []segment       // the pattern, parsed once
}

// New checks opts and prepares every page.
func New(opts Options) (*Shell, error) {
	if opts.Registry == nil {
		opts.Registry = registry.New(&registry.Snapshot{})
	}
	if opts.PageTimeout == 0 {
		opts.PageTimeout = 10 * time.Second
	}
	if opts.Coalesce < 0 {
		return nil, fmt.Errorf("coalesce %s is negative: zero is the default, and NoCoalesce flushes at once", opts.Coalesce)
	}
	base, assetsOrigin, err := parseAssetsURL(opts.AssetsURL)
	if err != nil {
		return nil, err
	}
	redirects := make([]string, 0, len(opts.Redirects))
	for _, o := range opts.Redirects {
		origin, err := compose.ParseOrigin(o)
		if err != nil {
			return nil, fmt.Errorf("redirects: %w", err)
		}
		redirects = append(redirects, origin)
	}
	opts.Redirects = redirects
	if opts.Releases == nil {
		opts.Releases = NewReleases(opts.Frontends, nil)
	}
	if opts.Fetcher == nil {
		opts.Fetcher = NewFetcher(opts.Releases, 0)
	}
	if opts.Log == nil {
		opts.Log = slog.Default()
	}
	s := &Shell{opts: opts, scopes: map[string]*scope{}, assetsBase: base, assetsOrigin: assetsOrigin}
	var known []string
	for name := range opts.Frontends {
		known = append(known, name)
	}
	sort.Strings(known)
	cookies := false
	for _, name := range known {
		sc, err := newScope(name, opts.Frontends[name])
		if err != nil {
			return nil, err
		}
		if sc == nil {
			continue
		}
		s.scopes[name] = sc
		cookies = cookies || len(sc.cookies) > 0
		for _, h := range sc.headers {
			if !has(s.credentials, h) {
				s.credentials = append(s.credentials, h)
			}
		}
	}
	sort.Strings(s.credentials)
	if cookies {
		s.credentials = append([]string{"Cookie"}, s.credentials...)
	}
	for _, r := range opts.Routes {
		segs, params, err := parsePattern(r.Pattern)
		if err != nil {
			return nil, err
		}
		for _, slot := range r.Layout.Slots {
			if _, ok := opts.Frontends[slot.Frontend]; !ok {
				return nil, &layout.Error{File: r.Layout.Name, Line: slot.Line, Msg: fmt.Sprintf(
					"unknown frontend %q: collage.yaml names %s", slot.Frontend, strings.Join(known, ", "))}
			}
		}
		p := &Page{Route: r, Params: params, segs: segs, scopes: []*scope{nil}, fetcher: opts.Fetcher, dev: opts.Dev}
		for i, slot := range r.Layout.Slots {
			p.slotKeys = append(p.slotKeys, fmt.Sprintf("slot.%d.%s", i, slot.Frontend))
			sc, j := s.scopes[slot.Frontend], 0
			if sc != nil {
				if j = slices.Index(p.scopes, sc); j < 0 {
					j, p.scopes = len(p.scopes), append(p.scopes, sc)
				}
				p.cookies = p.cookies || len(sc.cookies) > 0
			}
			p.slotScope = append(p.slotScope, j)
		}
		if r.Layout.Primary != nil {
			p.fetcher = &pageFetcher{next: opts.Fetcher, page: p, log: opts.Log}
		}
		s.pages = append(s.pages, p)
	}
	return s, nil
}

// Pages returns the pages in route order.
func (s *Shell) Pages() []*Page { return s.pages }

// Invoker returns the invoker of version label of the frontend called
// name: of its active version when label is "" or no longer served.
func (s *Shell) Invoker(name, label string) (invoke.Invoker, bool) {
	return s.opts.Releases.Invoker(name, label)
}

// catchUpTimeout bounds the wait of a request on the registry's store.
const catchUpTimeout = 500 * time.Millisecond

// catchUp brings the registry up to its store, for a request that names a
// version, or a preview, that its snapshot does not hold: another replica
// may have made it a moment ago, and sent the browser here before this
// replica heard of it. It reports whether the shell can catch up at all
// (Options.CatchUp): if not, the snapshot is all there is.
func (s *Shell) catchUp() bool {
	if s.opts.CatchUp == nil {
		return false
	}
	ctx, cancel := context.WithTimeout(context.Background(), catchUpTimeout)
	defer cancel()
	s.opts.CatchUp(ctx)
	return true
}

// Registry returns the registry of bundle versions.
func (s *Shell) Registry() *registry.Registry { return s.opts.Registry }

// Log returns the shell's logger.
func (s *Shell) Log() *slog.Logger { return s.opts.Log }

// Compose starts composing p for req, and sets req.Deadline from
// PageTimeout if it has none. The caller must call done when the page is
// written, or as soon as it knows it writes no more (a redirect, an answer
// to HEAD, a client gone): it cancels the slots still running without
// waiting for them, and logs the page. The Render is not used after done.
//
// The page is rendered with req.Versions, of the registry's current
// snapshot; nil: its active versions.
func (s *Shell) Compose(p *Page, req *compose.Request) (r *compose.Render, done func()) {
	return s.compose(p, req, s.opts.Registry.Current())
}

// compose is Compose with the versions of snap.
func (s *Shell) compose(p *Page, req *compose.Request, snap *registry.Snapshot) (r *compose.Render, done func()) {
	start := time.Now()
	if req.Deadline.IsZero() {
		req.Deadline = start.Add(s.opts.PageTimeout)
	}
	if req.Versions == nil {
		req.Versions = snap.Versions
	}
	alone := s.composing.Add(1) == 1
	rd := compose.Start(withBatch(context.Background()), p.Layout, s.fetcher(p, req), p.headFor(snap, req.Versions, s.assetsBase), req)
	rd.Coalesce, rd.NoCoalesce, rd.Redirects = s.opts.Coalesce, s.opts.NoCoalesce || alone && s.opts.StreamAlone, s.opts.Redirects
	return rd, func() {
		s.composing.Add(-1)
		rd.Cancel()
		results := rd.Results()
		defer rd.Close() // once the results are read
		took := time.Since(start)
		if s.opts.Canary != nil && len(snap.Canaries) > 0 {
			for i, slot := range p.Layout.Slots {
				if _, ok := snap.Canaries[slot.Frontend]; ok && results[i].Outcome != compose.Canceled {
					s.opts.Canary.ObserveVersion(slot.Frontend, req.Versions[slot.Frontend], results[i].Err != nil)
				}
			}
		}
		s.logPage(p, req, results, took)
		if s.opts.Observer != nil {
			s.opts.Observer.ObservePage(p.Pattern, p.Layout.Slots, results, took)
		}
	}
}

func (s *Shell) logPage(p *Page, req *compose.Request, results []*compose.Result, took time.Duration) {
	level := slog.LevelInfo
	for _, res := range results {
		if res.Err != nil {
			level = slog.LevelWarn
		}
	}
	ctx := context.Background()
	h := s.opts.Log.Handler()
	if !h.Enabled(ctx, level) {
		return
	}
	h.Handle(ctx, pageRecord(level, p, req, results, took))
}

// pageRecord is the page's log line: a record of its own, without the
// caller's PC that Logger looks up for every line, as a page's line says
// where it comes from. It is built in a frame of its own, gone before the
// handler runs, so that the page's stack is no deeper at its deepest.
func pageRecord(level slog.Level, p *Page, req *compose.Request, results []*compose.Result, took time.Duration) slog.Record {
	r := slog.NewRecord(time.Now(), level, "page", 0)
	var buf [16]slog.Attr
	attrs := append(buf[:0], slog.String("request_id", req.ID), slog.String("path", req.Path),
		slog.String("layout", p.Layout.Name), slog.Duration("took", took))
	// Every slot's "OUTCOME TOOK" is a piece of one string, made at once.
	var bs [256]byte
	var endsBuf [16]int
	b, ends := bs[:0], endsBuf[:0]
	for _, res := range results {
		b = append(b, res.Outcome...)
		b = append(b, ' ')
		b = append(b, res.Took.Round(time.Microsecond).String()...)
		ends = append(ends, len(b))
	}
	line, start := string(b), 0
	for i, res := range results {
		key := p.slotKeys[i]
		attrs = append(attrs, slog.String(key, line[start:ends[i]]))
		start = ends[i]
		if res.Err != nil {
			attrs = append(attrs, slog.String(key+".err", res.Err.Error()))
		}
	}
	r.AddAttrs(attrs...) // the attributes past the record's own few in one slice
	return r
}
