package cli

import (
	"strings"
	"testing"

	"github.com/collage-dev/collage/shell/registry"
)

func TestPromote(t *testing.T) {
	f := newFakeShell(t)
	f.seed()
	// Flags after the names, as the example has them.
	stdout, _, err := collage("promote", "cart", "v1", "--expect", "v2", "--shell", f.URL, "--token", adminSecret)
	if err != nil || stdout != "cart: v2 → v1 (revision 5)\n" {
		t.Errorf("promote: %q, %v", stdout, err)
	}
	req := f.lastRequest()
	if req.Method != "POST" || req.Target != "/_collage/api/frontends/cart/promote" || req.ContentType != "application/json" ||
		string(req.Body) != `{"version":"v1","expect":"v2"}` {
		t.Errorf("sent %s %s (%s) %s", req.Method, req.Target, req.ContentType, req.Body)
	}
	stdout, _, err = collage("promote", "--shell", f.URL, "--token", adminSecret, "cart", "v1")
	if err != nil || stdout != "cart: v1 was active already (revision 5)\n" || string(f.lastRequest().Body) != `{"version":"v1"}` {
		t.Errorf("promote the active version: %q, %v, sent %s", stdout, err, f.lastRequest().Body)
	}
	_, _, err = collage("promote", "cart", "v3", "--shell", f.URL, "--token", adminSecret)
	if err == nil || err.Error() != "promote cart v3: not_found (404): cart has no version v3" {
		t.Errorf("an unknown version: %v", err)
	}

	for _, args := range [][]string{{}, {"cart"}, {"cart", "v1", "v2"}} {
		_, _, err := collage(append([]string{"promote", "--shell", f.URL, "--token", adminSecret}, args...)...)
		if err == nil || !strings.HasPrefix(err.Error(), "promote: want a frontend and a version, such as cart v2;") {
			t.Errorf("promote %q: %v", args, err)
		}
	}
}

func TestPromoteChangeLine(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		c    registry.Change
		want string
	}{
		{registry.Change{Revision: 7, Kind: registry.KindPromote, Frontend: "cart", Label: "v2", From: "v1"}, "cart: v1 → v2 (revision 7)"},
		{registry.Change{Revision: 1, Kind: registry.KindPromote, Frontend: "cart", Label: "v1"}, "cart: none → v1 (revision 1)"},
		{registry.Change{Revision: 7, Kind: registry.KindRollback, Frontend: "cart", Label: "v2", From: "v2"}, "cart: v2 was active already (revision 7)"},
		{registry.Change{Revision: 8, Kind: registry.KindRollbackAll, Frontend: "recs", Label: "a", From: "b"}, "recs: b → a (revision 8)"},
		{registry.Change{Revision: 9, Kind: registry.KindYank, Frontend: "cart", Label: "v1"}, "cart: v1 yanked (revision 9)"},
		{registry.Change{Revision: 3, Kind: registry.KindPublish, Frontend: "cart", Label: "v1"}, "cart: v1 published (revision 3)"},
	} {
		if got := changeLine(tc.c); got != tc.want {
			t.Errorf("%+v: %s, want %s", tc.c, got, tc.want)
		}
	}
}
