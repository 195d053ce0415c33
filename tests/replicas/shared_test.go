package replicas

import (
	"bytes"
	"encoding/json"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/collage-dev/collage/internal/testbin"
	"github.com/collage-dev/collage/shell"
)

// TestPreviewAcrossReplicas: a preview link made with the command line
// through A opens on B: B sets the preview cookie and sends the browser
// to the page without the link's parameter, where it shows the previewed
// version, as A does with the cookie; a browser without it gets the
// active version on both.
func TestPreviewAcrossReplicas(t *testing.T) {
	r := startRedis(t, false)
	a, b := start(t, "A", r.url()), start(t, "B", r.url())
	active := a.recs(t, "")
	a.publish(t, demo.NewRelease(t, "pv", 1, 64))
	link, err := url.Parse(strings.TrimSpace(a.must(t, "preview", "recs", "pv", "--for", "10m", "--path", "/products/3")))
	if err != nil || !strings.HasPrefix(link.String(), a.URL+"/products/3?") || link.Query().Get(shell.PreviewParam) == "" {
		t.Fatalf("collage preview through A printed %q (%v), want a link to /products/3 on A", link, err)
	}
	resp, body := b.get(t, link.RequestURI(), "")
	var cookie string
	for _, c := range resp.Cookies() {
		if c.Name == shell.PreviewCookie {
			cookie = c.Name + "=" + c.Value
		}
	}
	if resp.StatusCode/100 != 3 || resp.Header.Get("Location") != "/products/3" || cookie == "" {
		t.Fatalf("replica B, the link of A: %d, Location %q, cookie %q; want a redirect to /products/3 that sets %s\n%s",
			resp.StatusCode, resp.Header.Get("Location"), cookie, shell.PreviewCookie, body)
	}
	for _, s := range []*server{a, b} {
		if got := s.page(t, "/products/3", cookie).versions.Get("recs"); got != "pv" {
			t.Errorf("replica %s with the preview cookie: recs %s, want pv", s.name, got)
		}
		if got := s.page(t, "/products/3", "").versions.Get("recs"); got != active {
			t.Errorf("replica %s without the preview cookie: recs %s, want the active %s", s.name, got, active)
		}
	}
}

// cartKey is the key that signs the cart's sessions on every replica.
const cartKey = "cart.session_key=5f1c0a7e9b2d4c6e8f0a1b3c5d7e9f1a2b4c6d8e0f1a3b5c7d9e1f2a4b6c8d0e"

// TestCartShared: the demo cart on two replicas with one session key:
// an item added through A is in the cart B shows, in its API and in its
// page's fragment, and an item added through B is in A's.
func TestCartShared(t *testing.T) {
	r := startRedis(t, false)
	a, b := start(t, "A", r.url(), "--set", cartKey), start(t, "B", r.url(), "--set", cartKey)

	add := func(s *server, cookie, product string, qty int) string {
		t.Helper()
		body, _ := json.Marshal(map[string]any{"productId": product, "qty": qty})
		req, err := http.NewRequest(http.MethodPost, s.URL+"/bff/cart/items", bytes.NewReader(body))
		if err != nil {
			t.Fatal(err)
		}
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("Origin", s.URL)
		if cookie != "" {
			req.Header.Set("Cookie", cookie)
		}
		resp, answer := testbin.Send(t, client, req)
		if resp.StatusCode != http.StatusOK {
			t.Fatalf("replica %s: POST /bff/cart/items %s: %d %s", s.name, body, resp.StatusCode, answer)
		}
		for _, c := range resp.Cookies() {
			if c.Name == "collage_cart" {
				cookie = c.Name + "=" + c.Value
			}
		}
		if cookie == "" {
			t.Fatalf("replica %s: the first add set no collage_cart cookie", s.name)
		}
		return cookie
	}
	type cart struct {
		Items []struct {
			ProductID string `json:"productId"`
			Qty       int    `json:"qty"`
		} `json:"items"`
		Count int `json:"count"`
	}
	read := func(s *server, cookie string) cart {
		t.Helper()
		resp, body := s.get(t, "/bff/cart/cart", cookie)
		var c cart
		if resp.StatusCode != http.StatusOK || json.Unmarshal(body, &c) != nil {
			t.Fatalf("replica %s: GET /bff/cart/cart: %d %s", s.name, resp.StatusCode, body)
		}
		return c
	}

	cookie := add(a, "", "1", 2)
	if c := read(b, cookie); c.Count != 2 || len(c.Items) != 1 || c.Items[0].ProductID != "1" {
		t.Fatalf("replica B, the cart of a session of A after adding 2 of product 1 through A: %+v", c)
	}
	if p := b.page(t, "/", cookie); !strings.Contains(p.body, `class="cart-item-name" href="/products/1">House Blend Beans`) {
		t.Errorf("replica B's page does not show, in its cart, product 1 added through A:\n%s", p.body)
	}
	add(b, cookie, "3", 1)
	if c := read(a, cookie); c.Count != 3 || len(c.Items) != 2 || c.Items[1].ProductID != "3" {
		t.Errorf("replica A, after adding 1 of product 3 through B: %+v, want products 1 and 3, 3 items", c)
	}
}
