package shell

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/collage-dev/collage/bff"
	"github.com/collage-dev/collage/component"
	"github.com/collage-dev/collage/shell/compose"
	"github.com/collage-dev/collage/shell/layout"
	"github.com/collage-dev/collage/shell/registry"
	"golang.org/x/sync/singleflight"
)

// An Engine makes the renderer of one server bundle: adapters/quickjs's
// pool. frontend names it in errors; sourceMap may be nil.
type Engine func(frontend string, source, sourceMap []byte) (component.Renderer, error)

// ComponentOptions make the fetcher of NewComponents.
type ComponentOptions struct {
	// Registry holds the releases, whose server bundles render.
	Registry *registry.Registry
	// Blobs hold the releases' files.
	Blobs registry.Blobs
	// Engine loads a server bundle.
	Engine Engine
	// Cache keeps the renders of shared data. Optional. Default:
	// component.NewCache(0).
	Cache *component.Cache
	// Log receives a line for each component that fails to render, with
	// its stack. Optional. Default: slog.Default().
	Log *slog.Logger
	// Drift, when set, checks the fragments that a Go template renders
	// against the frontend's component, for the frontends whose release
	// has a server bundle: their fragment requests carry bff.HeaderDrift,
	// the template's data is rendered with View, and Drift is told of the
	// differences (none when they agree) or of why the component did not
	// render. The check runs beside the page, which shows the template's
	// HTML and does not wait for it. It costs a render per such slot:
	// collage dev sets it, a production shell does not.
	// Optional. Default: nil, no check.
	Drift func(ctx context.Context, slot *layout.Slot, req *compose.Request, diffs []component.Difference, err error)
}

// ComponentFailed is the message of the log line of a component that
// failed to render in the shell; its attributes are frontend, version,
// slot, path, err and, when the component threw, stack.
const ComponentFailed = "component failed to render"

// NewComponents returns a fetcher that renders the fragments next answers
// as data (component.MediaType, a BFF's bff.Component without a Renderer)
// with the server bundle of the version the page is rendered with, and
// leaves every other answer as it is. The slot gets the data, for the
// browser to hydrate with, then the component's HTML (component.Fragment).
// A render runs under the slot's deadline; one that fails, or a version
// without a server bundle, fails the slot, which shows its fallback.
// Renders of shared data go through the cache; those of per-user data
// (bff.HeaderPerUser) do not.
func NewComponents(next compose.Fetcher, o ComponentOptions) *Components {
	if o.Cache == nil {
		o.Cache = component.NewCache(0)
	}
	if o.Log == nil {
		o.Log = slog.Default()
	}
	return &Components{next: next, o: o, engines: map[string]*engine{}}
}

// Components is the fetcher of NewComponents.
type Components struct {
	next compose.Fetcher
	o    ComponentOptions

	mu      sync.Mutex
	engines map[string]*engine // by frontend "@" bundle version
	loading singleflight.Group
}

// engine is a loaded server bundle.
type engine struct {
	raw, cached component.Renderer
}

func (c *Components) Fetch(ctx context.Context, slot *layout.Slot, req *compose.Request) compose.Result {
	name := slot.Frontend
	snap := c.o.Registry.Current()
	label := req.Versions[name]
	if label == "" {
		label = snap.Versions[name]
	}
	rel := snap.Release(name, label)
	drift := c.o.Drift != nil && rel != nil && rel.Manifest != nil && rel.Manifest.Server != ""
	if drift {
		r := *req
		r.Header = req.Header.Clone()
		if r.Header == nil {
			r.Header = http.Header{}
		}
		r.Header.Set(bff.HeaderDrift, "1")
		req = &r
	}
	res := c.next.Fetch(ctx, slot, req)
	return c.finish(ctx, snap, slot, req, rel, drift, label, res)
}

// finish checks a fetched answer: a component's is rendered on the
// server, and with drift its template's checked against it.
func (c *Components) finish(ctx context.Context, snap *registry.Snapshot, slot *layout.Slot, req *compose.Request, rel *registry.Release, drift bool, label string, res compose.Result) compose.Result {
	name := slot.Frontend
	if drift && res.Err == nil && res.Header.Get(bff.HeaderDrift) != "" {
		return c.drift(ctx, snap, slot, req, rel, res)
	}
	if ct, _, _ := strings.Cut(res.Header.Get("Content-Type"), ";"); res.Err != nil || strings.TrimSpace(ct) != component.MediaType {
		return res
	}
	start := time.Now()
	fail := func(err error) compose.Result {
		res.Keep()
		args := []any{"frontend", name, "version", label, "slot", slot.Name, "path", req.Path, "err", err}
		var e *component.Error
		if errors.As(err, &e) && e.Stack != "" {
			args = append(args, "stack", e.Stack)
		}
		c.o.Log.ErrorContext(ctx, ComponentFailed, args...)
		outcome := compose.Failed
		if errors.Is(err, context.DeadlineExceeded) {
			outcome = compose.Timeout
		}
		return compose.Result{Status: res.Status, Err: err, Outcome: outcome, Took: res.Took}
	}
	if rel == nil || rel.Manifest == nil || rel.Manifest.Server == "" {
		return fail(component.ErrNoServerBundle)
	}
	eng, err := c.engine(ctx, snap, name, rel)
	if err != nil {
		return fail(err)
	}
	r := eng.cached
	if res.Header.Get(bff.HeaderPerUser) != "" {
		r = eng.raw
	}
	html, err := r.Render(ctx, res.Body)
	if err != nil {
		return fail(err)
	}
	var buf bytes.Buffer
	if err := component.Fragment(&buf, html, res.Body); err != nil {
		return fail(err)
	}
	res.Keep()
	header := res.Header.Clone()
	header.Set("Content-Type", "text/html; charset=utf-8")
	return compose.Result{Status: res.Status, Header: header, Body: buf.Bytes(), Outcome: res.Outcome,
		Took: res.Took + time.Since(start)}
}

// drift answers the template's HTML alone, and checks it against the
// component rendered with the data the template's answer carries. The
// check runs beside the page, with a timeout of its own: the page shows
// the template's HTML either way, and must not wait for an engine that
// loads.
func (c *Components) drift(ctx context.Context, snap *registry.Snapshot, slot *layout.Slot, req *compose.Request, rel *registry.Release, res compose.Result) compose.Result {
	html, data, ok := component.Split(res.Body)
	if !ok {
		return res
	}
	html, data = bytes.Clone(html), bytes.Clone(data) // before the body is handed back
	if res.Release != nil {
		res.Release()
		res.Release = nil
	}
	res.Body = html
	res.Header = res.Header.Clone()
	res.Header.Del(bff.HeaderDrift)
	go func() {
		ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), driftTimeout)
		defer cancel()
		var diffs []component.Difference
		eng, err := c.engine(ctx, snap, slot.Frontend, rel)
		if err == nil {
			var view []byte
			if view, err = eng.raw.Render(ctx, data); err == nil {
				diffs = component.Drift(html, view)
			}
		}
		c.o.Drift(ctx, slot, req, diffs, err)
	}()
	return res
}

// driftTimeout bounds a drift check, the load of the engine included.
const driftTimeout = 10 * time.Second

// Warm loads the server bundles of the versions snap makes active, so
// that the first page of a version does not wait for its engine; a bundle
// that does not load is logged, and its pages try again. Pass it to
// Releases.OnInstall.
func (c *Components) Warm(snap *registry.Snapshot) {
	for name, label := range snap.Versions {
		rel := snap.Release(name, label)
		if rel == nil || rel.Manifest == nil || rel.Manifest.Server == "" {
			continue
		}
		if _, err := c.engine(context.Background(), snap, name, rel); err != nil {
			c.o.Log.Error("component: the server bundle does not load", "frontend", name, "version", label, "err", err)
		}
	}
}

// engine returns the renderer of rel's server bundle, loading it once.
// It then closes the engines of the versions snap no longer serves.
func (c *Components) engine(ctx context.Context, snap *registry.Snapshot, name string, rel *registry.Release) (*engine, error) {
	key := name + "@" + rel.Manifest.Version
	c.mu.Lock()
	e := c.engines[key]
	c.mu.Unlock()
	if e != nil {
		return e, nil
	}
	v, err, _ := c.loading.Do(key, func() (any, error) {
		// The load outlives the request that asked first: the others
		// want it too.
		lctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), assetTimeout)
		defer cancel()
		src, err := c.blob(lctx, rel, rel.Manifest.Server)
		if err != nil {
			return nil, err
		}
		smap, err := c.blob(lctx, rel, rel.Manifest.Server+".map")
		if err != nil && !errors.Is(err, errNoFile) {
			return nil, err
		}
		r, err := c.o.Engine(name, src, smap)
		if err != nil {
			return nil, err
		}
		e := &engine{raw: r, cached: c.o.Cache.Renderer(key, r)}
		c.mu.Lock()
		c.engines[key] = e
		c.mu.Unlock()
		c.sweep(snap)
		return e, nil
	})
	if err != nil {
		return nil, err
	}
	return v.(*engine), nil
}

// sweep closes the engines of the versions the registry no longer serves,
// when a new one loads: publishes and promotes do not pile up engines.
func (c *Components) sweep(snap *registry.Snapshot) {
	served := map[string]bool{}
	for name, versions := range snap.Served {
		for _, rel := range versions {
			if rel.Manifest != nil {
				served[name+"@"+rel.Manifest.Version] = true
			}
		}
	}
	c.mu.Lock()
	var gone []*engine
	for key, e := range c.engines {
		if !served[key] {
			gone = append(gone, e)
			delete(c.engines, key)
		}
	}
	c.mu.Unlock()
	for _, e := range gone {
		if cl, ok := e.raw.(io.Closer); ok {
			go cl.Close() // after the renders running on it
		}
	}
}

var errNoFile = errors.New("no such file in the release")

func (c *Components) blob(ctx context.Context, rel *registry.Release, file string) ([]byte, error) {
	key, ok := rel.Blobs[file]
	if !ok {
		return nil, fmt.Errorf("%s %s: %s: %w", rel.Frontend, rel.Label, file, errNoFile)
	}
	rc, err := c.o.Blobs.Open(ctx, key)
	if err != nil {
		return nil, fmt.Errorf("%s %s: %s: %w", rel.Frontend, rel.Label, file, err)
	}
	defer rc.Close()
	return io.ReadAll(rc)
}

var _ compose.Fetcher = (*Components)(nil)

// Begin begins a slot's fetch below, unless drift is checked for its
// version: that fetch asks for the template's HTML.
func (c *Components) Begin(ctx context.Context, slot *layout.Slot, req *compose.Request) compose.Pending {
	b, ok := c.next.(compose.Beginner)
	if !ok {
		return nil
	}
	snap := c.o.Registry.Current()
	label := req.Versions[slot.Frontend]
	if label == "" {
		label = snap.Versions[slot.Frontend]
	}
	rel := snap.Release(slot.Frontend, label)
	if c.o.Drift != nil && rel != nil && rel.Manifest != nil && rel.Manifest.Server != "" {
		return nil
	}
	p := b.Begin(ctx, slot, req)
	if p == nil {
		return nil
	}
	return &componentPending{Pending: p, c: c, ctx: ctx, snap: snap, slot: slot, req: req, rel: rel, label: label}
}

// componentPending is a fetch begun below, which Components finishes as
// it finishes a fetch.
type componentPending struct {
	compose.Pending
	c     *Components
	ctx   context.Context
	snap  *registry.Snapshot
	slot  *layout.Slot
	req   *compose.Request
	rel   *registry.Release
	label string
}

func (p *componentPending) Wait(until time.Time) (compose.Result, bool) {
	res, ok := p.Pending.Wait(until)
	if !ok {
		return res, false
	}
	return p.c.finish(p.ctx, p.snap, p.slot, p.req, p.rel, false, p.label, res), true
}
