package shell_test

import (
	"errors"
	"net/http"
	"strings"
	"testing"

	"github.com/collage-dev/collage/shell"
	"github.com/collage-dev/collage/shell/invoke"
	"github.com/collage-dev/collage/shell/registry"
)

// named is an invoker that says which target made it.
type named string

func (n named) RoundTrip(*http.Request) (*http.Response, error) { return nil, errors.New(string(n)) }

func nameOf(inv invoke.Invoker) string {
	if n, ok := inv.(named); ok {
		return string(n)
	}
	return "?"
}

func TestReleasesPinVersions(t *testing.T) {
	bound := 0
	bind := func(frontend string, r *registry.Release) (invoke.Invoker, error) {
		bound++
		if strings.Contains(r.BFF, "broken") {
			return nil, errors.New("no such host")
		}
		return named(frontend + " " + r.BFF), nil
	}
	rs := shell.NewReleases(map[string]shell.Frontend{
		"cart":   {Invoker: named("cart default")},
		"header": {Invoker: named("header default")},
	}, bind)
	rel := func(label, target string) *registry.Release {
		return &registry.Release{Frontend: "cart", Label: label, BFF: target}
	}
	snap := &registry.Snapshot{
		Versions: map[string]string{"cart": "v2"},
		Served: map[string]map[string]*registry.Release{"cart": {
			"v1": rel("v1", "https://cart/v1"),
			"v2": rel("v2", "https://cart/v2"),
			"v3": rel("v3", "https://broken/v3"),
		}},
	}
	err := rs.Install(snap)
	if err == nil || !strings.Contains(err.Error(), "cart v3") || !strings.Contains(err.Error(), "no such host") {
		t.Errorf("Install = %v, want the error of cart v3", err)
	}
	for _, tt := range []struct{ frontend, label, want string }{
		{"cart", "v1", "cart https://cart/v1"}, // a page rendered with v1
		{"cart", "v2", "cart https://cart/v2"},
		{"cart", "", "cart https://cart/v2"},   // no pin: the active version
		{"cart", "v0", "cart https://cart/v2"}, // no longer served
		{"cart", "v3", "cart https://cart/v2"}, // not bound
		{"header", "", "header default"},       // nothing published
	} {
		inv, ok := rs.Invoker(tt.frontend, tt.label)
		if !ok || nameOf(inv) != tt.want {
			t.Errorf("Invoker(%q, %q) = %s, %v; want %s", tt.frontend, tt.label, nameOf(inv), ok, tt.want)
		}
	}
	if _, ok := rs.Invoker("nobody", ""); ok {
		t.Error("Invoker of an unknown frontend: ok")
	}
	// The next snapshot no longer serves v1: a call pinned to it reaches
	// the active version.
	rs.Install(&registry.Snapshot{Versions: map[string]string{"cart": "v2"},
		Served: map[string]map[string]*registry.Release{"cart": {"v2": rel("v2", "https://cart/v2")}}})
	if inv, _ := rs.Invoker("cart", "v1"); nameOf(inv) != "cart https://cart/v2" {
		t.Errorf("after v1 left: Invoker(cart, v1) = %s", nameOf(inv))
	}
	if bound != 4 {
		t.Errorf("bind called %d times, want once per served version and snapshot (4)", bound)
	}
}

func TestReleasesWithoutBind(t *testing.T) {
	rs := shell.NewReleases(map[string]shell.Frontend{"cart": {Invoker: named("cart default")}}, nil)
	if err := rs.Install(&registry.Snapshot{Versions: map[string]string{"cart": "v2"},
		Served: map[string]map[string]*registry.Release{"cart": {"v2": {Frontend: "cart", Label: "v2", BFF: "local"}}}}); err != nil {
		t.Fatal(err)
	}
	if inv, _ := rs.Invoker("cart", "v2"); nameOf(inv) != "cart default" {
		t.Errorf("Invoker = %s, want the frontend's own", nameOf(inv))
	}
}
