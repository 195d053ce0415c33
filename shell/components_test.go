package shell_test

import (
	"bytes"
	"context"
	"errors"
	"log/slog"
	"net/http"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/collage-dev/collage/bff"
	"github.com/collage-dev/collage/build"
	"github.com/collage-dev/collage/component"
	"github.com/collage-dev/collage/shell"
	"github.com/collage-dev/collage/shell/compose"
	"github.com/collage-dev/collage/shell/layout"
	"github.com/collage-dev/collage/shell/registry"
)

// answer is a fetcher that answers every slot with one result.
type answer compose.Result

func (a answer) Fetch(context.Context, *layout.Slot, *compose.Request) compose.Result {
	r := compose.Result(a)
	r.Header = r.Header.Clone()
	return r
}

// bundleEngine renders "<p>" + data + "</p>" prefixed by the source it was
// loaded from, or fails with err; it counts its renders.
type bundleEngine struct {
	src     string
	renders *atomic.Int32
	err     error
	closed  chan string
}

// Close records that the engine was closed.
func (e bundleEngine) Close() error {
	e.closed <- e.src
	return nil
}

func (e bundleEngine) Render(_ context.Context, data []byte) ([]byte, error) {
	e.renders.Add(1)
	if e.err != nil {
		return nil, e.err
	}
	return []byte(e.src + "<p>" + string(data) + "</p>"), nil
}

func componentsFixture(t *testing.T, renderErr error) (*atomic.Int32, func(compose.Fetcher) compose.Fetcher, *bytes.Buffer) {
	renders, wrap, logs, _, _ := componentsFixtureAll(t, renderErr, nil)
	return renders, wrap, logs
}

// componentsFixtureAll also returns the registry and where the engines
// say they were closed.
func componentsFixtureAll(t *testing.T, renderErr error, drift func(context.Context, *layout.Slot, *compose.Request, []component.Difference, error)) (*atomic.Int32, func(compose.Fetcher) compose.Fetcher, *bytes.Buffer, *registry.Registry, chan string) {
	t.Helper()
	blobs := registry.NewMemBlobs()
	put := func(s string) string {
		key, err := blobs.Put(context.Background(), strings.NewReader(s), build.Integrity([]byte(s)))
		if err != nil {
			t.Fatal(err)
		}
		return key
	}
	rel := func(label, server string) *registry.Release {
		r := &registry.Release{Frontend: "shop", Label: label, Manifest: &build.Manifest{Name: "shop", Version: label, Entry: "e.js"}, Blobs: map[string]string{}}
		if server != "" {
			r.Manifest.Server = "server.js"
			r.Blobs["server.js"] = put(server)
		}
		return r
	}
	reg := registry.New(&registry.Snapshot{
		Versions: map[string]string{"shop": "v1"},
		Served:   map[string]map[string]*registry.Release{"shop": {"v1": rel("v1", "one:"), "v2": rel("v2", "two:"), "v3": rel("v3", "")}},
	})
	renders := new(atomic.Int32)
	closed := make(chan string, 8)
	var logs bytes.Buffer
	wrap := func(next compose.Fetcher) compose.Fetcher {
		return shell.NewComponents(next, shell.ComponentOptions{Registry: reg, Blobs: blobs,
			Log: slog.New(slog.NewTextHandler(&logs, nil)), Drift: drift,
			Engine: func(frontend string, source, _ []byte) (component.Renderer, error) {
				return bundleEngine{src: string(source), renders: renders, err: renderErr, closed: closed}, nil
			}})
	}
	return renders, wrap, &logs, reg, closed
}

func dataAnswer(body string, header ...string) answer {
	h := http.Header{"Content-Type": {component.MediaType}}
	for i := 0; i < len(header); i += 2 {
		h.Set(header[i], header[i+1])
	}
	return answer{Status: 200, Header: h, Body: []byte(body), Outcome: compose.OK}
}

func TestComponentsRenderWithThePagesVersion(t *testing.T) {
	t.Parallel()
	renders, wrap, _ := componentsFixture(t, nil)
	slot := &layout.Slot{Frontend: "shop"}
	for _, tt := range []struct{ version, want string }{
		{"", `<script type="application/json" data-collage-data>{"n":1}</script>one:<p>{"n":1}</p>`},
		{"v2", `<script type="application/json" data-collage-data>{"n":1}</script>two:<p>{"n":1}</p>`},
	} {
		res := wrap(dataAnswer(`{"n":1}`)).Fetch(context.Background(), slot, &compose.Request{Versions: map[string]string{"shop": tt.version}})
		if res.Err != nil || string(res.Body) != tt.want || res.Header.Get("Content-Type") != "text/html; charset=utf-8" {
			t.Errorf("version %q: %q %v %v", tt.version, res.Body, res.Err, res.Header)
		}
	}
	if renders.Load() != 2 {
		t.Errorf("%d renders, want 2", renders.Load())
	}
}

func TestComponentsCacheSharedDataOnly(t *testing.T) {
	t.Parallel()
	renders, wrap, _ := componentsFixture(t, nil)
	slot := &layout.Slot{Frontend: "shop"}
	req := &compose.Request{}
	shared, perUser := wrap(dataAnswer(`{"n":1}`)), wrap(dataAnswer(`{"n":2}`, bff.HeaderPerUser, "1"))
	for range 3 {
		shared.Fetch(context.Background(), slot, req)
		perUser.Fetch(context.Background(), slot, req)
	}
	if got := renders.Load(); got != 4 {
		t.Errorf("%d renders, want 4: one of the shared data, three of the per-user", got)
	}
}

func TestComponentsLeaveOtherAnswers(t *testing.T) {
	t.Parallel()
	renders, wrap, _ := componentsFixture(t, nil)
	html := answer{Status: 200, Header: http.Header{"Content-Type": {"text/html; charset=utf-8"}}, Body: []byte("<p>hi</p>"), Outcome: compose.OK}
	res := wrap(html).Fetch(context.Background(), &layout.Slot{Frontend: "shop"}, &compose.Request{})
	if string(res.Body) != "<p>hi</p>" || renders.Load() != 0 {
		t.Errorf("an HTML answer became %q after %d renders", res.Body, renders.Load())
	}
}

func TestComponentsFailTheSlot(t *testing.T) {
	t.Parallel()
	thrown := &component.Error{Frontend: "shop", Message: "TypeError: x", Stack: "    at View (frontends/shop/src/View.tsx:3:9)"}
	_, wrap, logs := componentsFixture(t, thrown)
	res := wrap(dataAnswer(`{}`)).Fetch(context.Background(), &layout.Slot{Frontend: "shop"}, &compose.Request{})
	if !errors.Is(res.Err, thrown) || res.Body != nil || res.Outcome != compose.Failed {
		t.Errorf("result %+v, want the component's error, a failure and no body", res)
	}
	if !strings.Contains(logs.String(), shell.ComponentFailed) || !strings.Contains(logs.String(), "View.tsx:3:9") {
		t.Errorf("log %q has no line with the stack", logs.String())
	}

	_, wrap, _ = componentsFixture(t, nil)
	res = wrap(dataAnswer(`{}`)).Fetch(context.Background(), &layout.Slot{Frontend: "shop"}, &compose.Request{Versions: map[string]string{"shop": "v3"}})
	if !errors.Is(res.Err, component.ErrNoServerBundle) {
		t.Errorf("a version without a server bundle: %v", res.Err)
	}
}

func TestComponentsCloseTheEnginesOfVersionsGone(t *testing.T) {
	t.Parallel()
	_, wrap, _, reg, closed := componentsFixtureAll(t, nil, nil)
	f := wrap(dataAnswer(`{}`))
	slot := &layout.Slot{Frontend: "shop"}
	f.Fetch(context.Background(), slot, &compose.Request{Versions: map[string]string{"shop": "v1"}})
	// v1 is rolled out: the next version to load closes its engine.
	snap := reg.Current()
	reg.Set(&registry.Snapshot{Versions: map[string]string{"shop": "v2"},
		Served: map[string]map[string]*registry.Release{"shop": {"v2": snap.Served["shop"]["v2"]}}})
	if res := f.Fetch(context.Background(), slot, &compose.Request{Versions: map[string]string{"shop": "v2"}}); res.Err != nil {
		t.Fatal(res.Err)
	}
	select {
	case src := <-closed:
		if src != "one:" {
			t.Errorf("closed the engine of %q, want v1's", src)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("v1's engine was not closed")
	}
}

func TestComponentsDriftCheck(t *testing.T) {
	t.Parallel()
	// The template answers its HTML with its data when asked, as
	// bff.Fragment does.
	tmpl := func(html string) compose.Fetcher {
		return fetchFunc(func(_ context.Context, _ *layout.Slot, req *compose.Request) compose.Result {
			h := http.Header{"Content-Type": {"text/html; charset=utf-8"}}
			body := []byte(html)
			if req.Header.Get(bff.HeaderDrift) != "" {
				var b bytes.Buffer
				component.Fragment(&b, body, []byte(`{"n":1}`))
				body = b.Bytes()
				h.Set(bff.HeaderDrift, "1")
			}
			return compose.Result{Status: 200, Header: h, Body: body, Outcome: compose.OK}
		})
	}
	type told struct {
		diffs []component.Difference
		err   error
	}
	for _, tt := range []struct {
		name, html string
		version    string
		want       int // differences; -1: not checked
	}{
		{"agrees", `one:<p>{"n":1}</p>`, "v1", 0},
		{"differs", `one:<p>{"n":2}</p>`, "v1", 1},
		{"no server bundle", `<p>x</p>`, "v3", -1},
	} {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			checked := make(chan told, 1)
			_, wrap, _, _, _ := componentsFixtureAll(t, nil, func(_ context.Context, _ *layout.Slot, _ *compose.Request, d []component.Difference, err error) {
				checked <- told{d, err}
			})
			res := wrap(tmpl(tt.html)).Fetch(context.Background(), &layout.Slot{Frontend: "shop"}, &compose.Request{Versions: map[string]string{"shop": tt.version}})
			if res.Err != nil || string(res.Body) != tt.html || res.Header.Get(bff.HeaderDrift) != "" {
				t.Errorf("the page gets %q (%v, %v), want the template's HTML alone", res.Body, res.Err, res.Header)
			}
			if tt.want < 0 {
				select {
				case got := <-checked:
					t.Errorf("checked: %+v", got)
				case <-time.After(50 * time.Millisecond):
				}
				return
			}
			select {
			case got := <-checked:
				if got.err != nil || len(got.diffs) != tt.want {
					t.Errorf("told %+v, want %d differences", got, tt.want)
				}
			case <-time.After(5 * time.Second):
				t.Error("no check")
			}
		})
	}
}

// fetchFunc is a compose.Fetcher.
type fetchFunc func(context.Context, *layout.Slot, *compose.Request) compose.Result

func (f fetchFunc) Fetch(ctx context.Context, s *layout.Slot, r *compose.Request) compose.Result {
	return f(ctx, s, r)
}

func TestComponentsWarmOnInstall(t *testing.T) {
	t.Parallel()
	blobs := registry.NewMemBlobs()
	src := "one:"
	key, err := blobs.Put(context.Background(), strings.NewReader(src), build.Integrity([]byte(src)))
	if err != nil {
		t.Fatal(err)
	}
	snap := &registry.Snapshot{Versions: map[string]string{"shop": "v1"}, Served: map[string]map[string]*registry.Release{"shop": {"v1": {
		Frontend: "shop", Label: "v1", Manifest: &build.Manifest{Name: "shop", Version: "v1", Server: "server.js"},
		Blobs: map[string]string{"server.js": key}}}}}
	reg := registry.New(&registry.Snapshot{})
	loads := make(chan string, 4)
	c := shell.NewComponents(dataAnswer(`{}`), shell.ComponentOptions{Registry: reg, Blobs: blobs, Log: slog.New(slog.DiscardHandler),
		Engine: func(frontend string, source, _ []byte) (component.Renderer, error) {
			loads <- frontend + " " + string(source)
			return bundleEngine{src: string(source), renders: new(atomic.Int32)}, nil
		}})
	releases := shell.NewReleases(map[string]shell.Frontend{"shop": {}}, nil)
	releases.OnInstall(c.Warm)
	if err := releases.Install(snap); err != nil {
		t.Fatal(err)
	}
	select {
	case got := <-loads:
		if got != "shop one:" {
			t.Errorf("loaded %q", got)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("Install did not warm the active version's engine")
	}
	reg.Set(snap)
	if res := c.Fetch(context.Background(), &layout.Slot{Frontend: "shop"}, &compose.Request{}); res.Err != nil {
		t.Fatal(res.Err)
	}
	select {
	case got := <-loads:
		t.Errorf("the page loaded the engine again: %q", got)
	default:
	}
}
