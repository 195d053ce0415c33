package shell_test

import (
	"context"
	"html/template"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/collage-dev/collage/bff"
	"github.com/collage-dev/collage/build"
	"github.com/collage-dev/collage/shell"
	"github.com/collage-dev/collage/shell/cache"
	"github.com/collage-dev/collage/shell/invoke"
	"github.com/collage-dev/collage/shell/registry"
)

// versioned is a registry serving cart v1 and v2, v2 active, whose BFF
// targets answer their own label, on fragments and /bff calls alike, and
// the handler of a shell that catches up with catchUp (nil: none), at the
// edge edge.
func versioned(t *testing.T, edge shell.EdgeConfig, catchUp func(context.Context)) (*shell.Handler, *registry.Registry, *shell.Releases, map[string]*registry.Release) {
	t.Helper()
	rels := map[string]*registry.Release{}
	for _, label := range []string{"v1", "v2"} {
		m := &build.Manifest{Name: "cart", Version: "b-" + label, Entry: "cart.js", Files: map[string]build.File{"cart.js": file("x")}}
		rels[label] = &registry.Release{Frontend: "cart", Label: label, BFF: "https://cart.example/" + label, Manifest: m,
			Blobs: map[string]string{"cart.js": strings.Repeat("0", 64)}}
	}
	frontends := map[string]shell.Frontend{"cart": textBFF("cart", "default")}
	releases := shell.NewReleases(frontends, func(name string, r *registry.Release) (invoke.Invoker, error) {
		b := bff.New(name)
		text := "cart " + r.Label
		bff.Fragment(b, template.Must(template.New(name).Parse(`{{.}}`)), func(ctx context.Context, _ *bff.FragmentRequest) (string, error) {
			bff.SetHeader(ctx, "Cache-Control", "public, max-age=60")
			return text, nil
		})
		bff.Handle(b, "GET /items", func(context.Context, struct{}) (string, error) { return text, nil })
		return invoke.Local(b), nil
	})
	reg := registry.New(&registry.Snapshot{})
	swap := func(active string) {
		snap := &registry.Snapshot{Revision: 1, Frontends: map[string]*build.Manifest{"cart": rels[active].Manifest},
			Versions: map[string]string{"cart": active}, Served: map[string]map[string]*registry.Release{"cart": rels}}
		if err := releases.Install(snap); err != nil {
			t.Fatal(err)
		}
		reg.Set(snap)
	}
	swap("v2")
	// A cache that would keep v2's fragment for a minute: a promote must
	// show on the next page all the same.
	fetcher := cache.New(shell.NewFetcher(releases, 0), cache.Options{})
	sh, err := shell.New(shell.Options{
		Routes:    []shell.Route{{Pattern: "/", Layout: parse(t, "home.html", "<head></head><body><collage-slot frontend=cart>fb</collage-slot></body>")}},
		Frontends: frontends, Registry: reg, Releases: releases, Fetcher: fetcher,
		Log: slog.New(slog.DiscardHandler), CatchUp: catchUp,
	})
	if err != nil {
		t.Fatal(err)
	}
	return shell.NewHandler(sh, edge), reg, releases, rels
}

func serveGet(h *shell.Handler, path string) *exchange {
	x := newExchange("GET", path)
	h.Serve(x, x)
	return x
}

func TestPagesPinTheirVersions(t *testing.T) {
	h, reg, releases, rels := versioned(t, shell.EdgeConfig{}, nil)
	page := serveGet(h, "/").body.String()
	if !strings.Contains(page, `<meta name="collage-versions" content="cart=v2">`) || !strings.Contains(page, "cart v2") {
		t.Fatalf("the page does not name or show cart v2:\n%s", page)
	}
	for _, tt := range []struct{ path, want string }{
		{"/bff/cart@v1/items", "cart v1"}, // a page rendered before the promote
		{"/bff/cart@v2/items", "cart v2"},
		{"/bff/cart/items", "cart v2"},
		{"/bff/cart@v0/items", "cart v2"}, // a version no longer served
	} {
		if x := serveGet(h, tt.path); x.status != 200 || !strings.Contains(x.body.String(), tt.want) {
			t.Errorf("%s = %d %q, want %q", tt.path, x.status, x.body.String(), tt.want)
		}
	}
	if x := serveGet(h, "/bff/nobody@v1/items"); x.status != 404 {
		t.Errorf("an unknown frontend with a pin = %d, want 404", x.status)
	}

	// Roll back to v1: the next page shows it, though the cache holds v2's
	// fragment, and v2's pages still reach v2.
	snap := &registry.Snapshot{Revision: 2, Frontends: map[string]*build.Manifest{"cart": rels["v1"].Manifest},
		Versions: map[string]string{"cart": "v1"}, Served: map[string]map[string]*registry.Release{"cart": rels}}
	if err := releases.Install(snap); err != nil {
		t.Fatal(err)
	}
	reg.Set(snap)
	start := time.Now()
	page = serveGet(h, "/").body.String()
	if !strings.Contains(page, `content="cart=v1"`) || !strings.Contains(page, "cart v1") {
		t.Errorf("the page after the rollback (%s) does not show v1:\n%s", time.Since(start), page)
	}
	if x := serveGet(h, "/bff/cart@v2/items"); !strings.Contains(x.body.String(), "cart v2") {
		t.Errorf("a v2 page's call after the rollback = %q", x.body.String())
	}
}
