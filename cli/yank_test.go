package cli

import (
	"strings"
	"testing"
)

func TestYank(t *testing.T) {
	f := newFakeShell(t)
	f.seed()
	stdout, _, err := collage("yank", "--shell", f.URL, "cart", "--token", adminSecret, "v1")
	if err != nil || stdout != "cart: v1 yanked (revision 5)\n" {
		t.Errorf("yank: %q, %v", stdout, err)
	}
	if req := f.lastRequest(); req.Method != "POST" || req.Target != "/_collage/api/frontends/cart/versions/v1/yank" || len(req.Body) != 0 {
		t.Errorf("sent %s %s %q", req.Method, req.Target, req.Body)
	}
	_, _, err = collage("promote", "cart", "v1", "--shell", f.URL, "--token", adminSecret)
	if want := "promote cart v1: conflict (409): cart v1 is yanked: it is never served again"; err == nil || err.Error() != want {
		t.Errorf("promote a yanked version: %v\nwant %s", err, want)
	}
	for _, args := range [][]string{{"cart"}, {"cart", "v1", "v2"}} {
		_, _, err := collage(append([]string{"yank", "--shell", f.URL, "--token", adminSecret}, args...)...)
		if err == nil || !strings.HasPrefix(err.Error(), "yank: want a frontend and a version, such as cart v2;") {
			t.Errorf("yank %q: %v", args, err)
		}
	}
}
