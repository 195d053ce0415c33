package shell_test

import (
	"context"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/collage-dev/collage/shell"
	"github.com/collage-dev/collage/shell/registry"
	"github.com/collage-dev/collage/shell/registry/registrytest"
)

const nonce = "0123456789abcdef0123456789abcdef"

// previewed serves cart v1 to everyone, and v2 to the holders of its
// preview link, which lasts for lasts, from the snapshot a store makes.
func previewed(t *testing.T, lasts time.Duration) *shell.Handler {
	t.Helper()
	h, reg, releases, _ := versioned(t, shell.EdgeConfig{}, nil)
	snap := previewSnapshot(t, lasts)
	if err := releases.Install(snap); err != nil {
		t.Fatal(err)
	}
	reg.Set(snap)
	return h
}

// previewSnapshot is the snapshot of a store where cart v1 is active and
// v2 open to the holders of a link that lasts for lasts.
func previewSnapshot(t *testing.T, lasts time.Duration) *registry.Snapshot {
	t.Helper()
	st, blobs, ctx := registry.NewMemStore(), registry.NewMemBlobs(), t.Context()
	for _, l := range []string{"v1", "v2"} {
		m, files := registrytest.Bundle("cart", "b-"+l, 1, 50)
		r := &registry.Release{Frontend: "cart", Label: l, BFF: "https://cart.example/" + l, Manifest: m}
		if _, _, err := registry.Publish(ctx, st, blobs, r, files); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := st.Promote(ctx, registry.Move{Frontend: "cart", Label: "v1"}); err != nil {
		t.Fatal(err)
	}
	if _, err := st.Promote(ctx, registry.Move{Frontend: "cart", Label: "v2", Until: time.Now().Add(lasts), Nonce: nonce}); err != nil {
		t.Fatal(err)
	}
	state, err := st.Load(ctx)
	if err != nil {
		t.Fatal(err)
	}
	snap := registry.NewSnapshot(state, registry.Retention{}, time.Now())
	if !snap.PreviewOnly("cart", "v2") || snap.PreviewOnly("cart", "v1") {
		t.Fatalf("NewSnapshot: v2 preview only %v, v1 %v", snap.PreviewOnly("cart", "v2"), snap.PreviewOnly("cart", "v1"))
	}
	return snap
}

func get(h *shell.Handler, target, cookie string) *exchange {
	x := newExchange("GET", target)
	if cookie != "" {
		x.header.Set("Cookie", cookie)
	}
	h.Serve(x, x)
	return x
}

func TestPreview(t *testing.T) {
	h := previewed(t, time.Hour)
	link := "/?" + url.Values{shell.PreviewParam: {shell.PreviewToken("cart", "v2", nonce)}, "q": {"1"}}.Encode()
	x := get(h, link, "")
	c, err := http.ParseSetCookie(x.out.Get("Set-Cookie"))
	if x.status != http.StatusSeeOther || x.out.Get("Location") != "/?q=1" || err != nil || c.Name != shell.PreviewCookie || !c.HttpOnly ||
		c.MaxAge < 3500 || c.MaxAge > 3601 {
		t.Fatalf("the link = %d, Location %q, Set-Cookie %q", x.status, x.out.Get("Location"), x.out.Get("Set-Cookie"))
	}
	holder := shell.PreviewCookie + "=" + c.Value
	if page := get(h, "/", holder).body.String(); !strings.Contains(page, "cart v2") || !strings.Contains(page, `content="cart=v2"`) {
		t.Errorf("the holder's page is not v2:\n%s", page)
	}
	if page := get(h, "/", "").body.String(); !strings.Contains(page, "cart v1") || !strings.Contains(page, `content="cart=v1"`) {
		t.Errorf("everyone else's page is not v1:\n%s", page)
	}
	// A pin to the preview's version reaches it only with the link.
	for _, tt := range []struct{ cookie, want string }{
		{holder, "cart v2"},
		{"", "cart v1"},
		{shell.PreviewCookie + "=" + shell.PreviewToken("cart", "v2", strings.Repeat("f", 32)), "cart v1"},
	} {
		if x := get(h, "/bff/cart@v2/items", tt.cookie); !strings.Contains(x.body.String(), tt.want) {
			t.Errorf("/bff/cart@v2 with cookie %q = %q, want %s", tt.cookie, x.body.String(), tt.want)
		}
	}
	for _, bad := range []string{
		shell.PreviewToken("cart", "v2", strings.Repeat("f", 32)), // forged
		shell.PreviewToken("cart", "v1", nonce),                   // another version
		"cart:v2",
	} {
		if x := get(h, "/?"+url.Values{shell.PreviewParam: {bad}}.Encode(), ""); x.status != http.StatusForbidden || x.out.Get("Set-Cookie") != "" {
			t.Errorf("link %q = %d %s, want 403 and no cookie", bad, x.status, x.out.Get("Set-Cookie"))
		}
	}
}

func TestPreviewEnds(t *testing.T) {
	h := previewed(t, 500*time.Millisecond)
	time.Sleep(600 * time.Millisecond)
	holder := shell.PreviewCookie + "=" + shell.PreviewToken("cart", "v2", nonce)
	if page := get(h, "/", holder).body.String(); !strings.Contains(page, "cart v1") {
		t.Errorf("a page after the preview's end is not v1:\n%s", page)
	}
	if x := get(h, "/?"+shell.PreviewParam+"="+url.QueryEscape(shell.PreviewToken("cart", "v2", nonce)), ""); x.status != http.StatusForbidden {
		t.Errorf("an ended link = %d, want 403", x.status)
	}
}

// TestPreviewMadeElsewhere: a link, or a cookie, the snapshot does not
// know yet, of a preview made through another replica a moment ago, makes
// the shell catch up with its store before it answers, once.
func TestPreviewMadeElsewhere(t *testing.T) {
	token := shell.PreviewToken("cart", "v2", nonce)
	for _, first := range []string{"link", "cookie"} {
		t.Run(first, func(t *testing.T) {
			snap := previewSnapshot(t, time.Hour)
			var (
				catchUps int
				reg      *registry.Registry
				releases *shell.Releases
			)
			h, reg, releases, _ := versioned(t, shell.EdgeConfig{}, func(context.Context) {
				catchUps++
				if err := releases.Install(snap); err != nil {
					t.Error(err)
				}
				reg.Set(snap)
			})
			link := func() {
				t.Helper()
				x := get(h, "/?"+url.Values{shell.PreviewParam: {token}}.Encode(), "")
				if x.status != http.StatusSeeOther || !strings.Contains(x.out.Get("Set-Cookie"), shell.PreviewCookie) || catchUps != 1 {
					t.Errorf("the link = %d, Set-Cookie %q after %d catch-ups; want a redirect with the cookie after one",
						x.status, x.out.Get("Set-Cookie"), catchUps)
				}
			}
			page := func() {
				t.Helper()
				if page := get(h, "/", shell.PreviewCookie+"="+token).body.String(); !strings.Contains(page, "cart v2") || catchUps != 1 {
					t.Errorf("the holder's page after %d catch-ups is not v2 after one:\n%s", catchUps, page)
				}
			}
			if first == "link" {
				link()
				page()
			} else {
				page()
				link()
			}
			forged := shell.PreviewToken("cart", "v2", strings.Repeat("f", 32))
			if x := get(h, "/?"+url.Values{shell.PreviewParam: {forged}}.Encode(), ""); x.status != http.StatusForbidden || catchUps != 2 {
				t.Errorf("a forged link = %d after %d catch-ups, want 403 after a second", x.status, catchUps)
			}
			if page := get(h, "/", shell.PreviewCookie+"="+forged).body.String(); !strings.Contains(page, "cart v1") || catchUps != 3 {
				t.Errorf("a forged cookie's page after %d catch-ups is not v1 after a third:\n%s", catchUps, page)
			}
		})
	}
}
