package dev

import (
	"context"
	"errors"
	"html/template"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/collage-dev/collage/bff"
	"github.com/collage-dev/collage/component"
	"github.com/collage-dev/collage/shell"
	"github.com/collage-dev/collage/shell/compose"
	"github.com/collage-dev/collage/shell/invoke"
	"github.com/collage-dev/collage/shell/layout"
)

// TestPanics: a BFF's panic while its fragment renders is the fragment's
// problem, with its stack, on the page of its path; a panic in a /bff call
// is told to every page.
func TestPanics(t *testing.T) {
	t.Parallel()
	h := NewHub(HubOptions{})
	defer h.Close()
	b := bff.New("recs")
	b.Log = slog.New(h.LogHandler(slog.DiscardHandler))
	bff.Fragment(b, template.Must(template.New("").Parse("<p>{{.}}</p>")), func(ctx context.Context, f *bff.FragmentRequest) (string, error) {
		switch f.Path {
		case "/boom":
			panic("recs exploded")
		case "/fail":
			return "", errors.New("no recs today")
		}
		return "ok", nil
	})
	bff.Handle(b, "GET /recs", func(ctx context.Context, _ struct{}) (string, error) { panic("the call exploded") })
	frontends := map[string]shell.Frontend{"recs": {Invoker: invoke.Local(b)}}
	f := h.Fetcher(shell.NewFetcher(shell.NewReleases(frontends, nil), 0))
	slot := &layout.Slot{Frontend: "recs"}

	page := connect(t, h, "path=%2Fboom", "")
	home := connect(t, h, "path=%2F", "")
	if res := f.Fetch(context.Background(), slot, &compose.Request{Path: "/boom"}); res.Err == nil {
		t.Fatal("the fragment that panicked did not fail")
	}
	p := decode[Problem](t, page.next(t))
	if p.Source != SourceFragment || p.Frontend != "recs" || !strings.Contains(p.Message, "panic: recs exploded") ||
		!strings.Contains(p.Frame, "goroutine") || !strings.Contains(p.Frame, "panics_test.go") {
		t.Errorf("problem %+v, want the fragment's panic and its stack", p)
	}
	// A fragment that fails without a panic has no stack of an old one.
	fail := connect(t, h, "path=%2Ffail", "")
	f.Fetch(context.Background(), slot, &compose.Request{Path: "/fail"})
	if p := decode[Problem](t, fail.next(t)); p.Frame != "" || strings.Contains(p.Message, "panic") {
		t.Errorf("problem %+v, want no panic", p)
	}
	home.quiet(t, 10*time.Millisecond)

	rec := httptest.NewRecorder()
	b.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/recs", nil))
	for _, c := range []*client{page, home, fail} {
		p := decode[Problem](t, c.next(t))
		if p.Source != SourceBFF || p.Frontend != "recs" || p.Message != "GET /recs panicked: the call exploded" || p.Frame == "" {
			t.Errorf("problem %+v, want the call's panic", p)
		}
	}
	if len(h.problems) != 2 {
		t.Errorf("problems standing %+v: want the fragments' alone (a call's panic is told once)", h.problems)
	}
}

// failing is a fetcher whose slots fail with err.
type failing struct{ err error }

func (f failing) Fetch(context.Context, *layout.Slot, *compose.Request) compose.Result {
	return compose.Result{Err: f.err, Outcome: compose.Failed}
}

// TestComponentThrew: a component that throws is the fragment's problem,
// with its stack and the place in the frontend's own code where it threw.
func TestComponentThrew(t *testing.T) {
	t.Parallel()
	h := NewHub(HubOptions{})
	defer h.Close()
	thrown := &component.Error{Frontend: "recs", Message: "Error: no recs",
		Stack: "    at Ge (frontends/recs/src/View.tsx:4:23)\n    at j (node_modules/preact-render-to-string/src/index.js:453:23)"}
	f := h.Fetcher(failing{thrown})
	page := connect(t, h, "path=%2F", "")
	f.Fetch(context.Background(), &layout.Slot{Frontend: "recs"}, &compose.Request{Path: "/"})
	p := decode[Problem](t, page.next(t))
	if p.Frame != thrown.Stack || p.File != "frontends/recs/src/View.tsx" || p.Line != 4 || p.Column != 23 || !strings.Contains(p.Message, "no recs") {
		t.Errorf("problem %+v, want the component's stack and where it threw", p)
	}
}

// TestLatePanic: a panic told after its fragment failed, as a BFF in
// another process tells it, goes with that fragment's problem.
func TestLatePanic(t *testing.T) {
	t.Parallel()
	h := NewHub(HubOptions{})
	defer h.Close()
	b := bff.New("recs")
	bff.Fragment(b, template.Must(template.New("").Parse("<p>{{.}}</p>")), func(ctx context.Context, f *bff.FragmentRequest) (string, error) {
		return "", errors.New("answered 500")
	})
	frontends := map[string]shell.Frontend{"recs": {Invoker: invoke.Local(b)}}
	f := h.Fetcher(shell.NewFetcher(shell.NewReleases(frontends, nil), 0))
	page := connect(t, h, "path=%2F", "")
	f.Fetch(context.Background(), &layout.Slot{Frontend: "recs"}, &compose.Request{Path: "/"})
	if p := decode[Problem](t, page.next(t)); p.Frame != "" {
		t.Fatalf("problem %+v before the panic is told", p)
	}
	rec := slog.NewRecord(time.Now(), slog.LevelError, bff.PanicMessage, 0)
	rec.AddAttrs(slog.String("bff", "recs"), slog.String("method", "GET"), slog.String("path", bff.FragmentPath),
		slog.String("panic", "recs exploded"), slog.String("stack", "goroutine 7 [running]:\nrecs.go:12"))
	if err := h.LogHandler(slog.DiscardHandler).Handle(context.Background(), rec); err != nil {
		t.Fatal(err)
	}
	p := decode[Problem](t, page.next(t))
	if p.Source != SourceFragment || !strings.Contains(p.Message, "panic: recs exploded") || !strings.Contains(p.Frame, "recs.go:12") {
		t.Errorf("problem %+v, want the late panic and its stack", p)
	}
	if len(h.panics) != 0 {
		t.Errorf("panics kept %+v: the late one went with its problem", h.panics)
	}
}
