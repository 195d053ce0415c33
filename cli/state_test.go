package cli

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/collage-dev/collage/bff"
	"github.com/collage-dev/collage/shell/registry"
)

// TestLocalState: two versions of a linked BFF with other settings, each
// its own BFF, keep one state: a cart added to through one is the cart of
// the other.
func TestLocalState(t *testing.T) {
	t.Parallel()
	key := strings.Repeat("5e", 32)
	b := newBinder(bff.NewMemState(), shop)
	v1, err := b.bind("cart", &registry.Release{BFF: "local", Settings: bff.Settings{"session_key": key}})
	if err != nil {
		t.Fatal(err)
	}
	v2, err := b.bind("cart", &registry.Release{BFF: "local", Settings: bff.Settings{"session_key": key, "v": "2"}})
	if err != nil {
		t.Fatal(err)
	}
	if v1 == v2 {
		t.Fatal("two versions with other settings got one invoker")
	}
	add := httptest.NewRequest(http.MethodPost, "/items", strings.NewReader(`{"productId":"1","qty":2}`))
	add.Header.Set("Content-Type", "application/json")
	resp, err := v1.RoundTrip(add)
	if err != nil || resp.StatusCode != http.StatusOK || len(resp.Cookies()) != 1 {
		t.Fatalf("an add through version 1: %v, %v", resp, err)
	}
	resp.Body.Close()
	get := httptest.NewRequest(http.MethodGet, "/cart", nil)
	get.AddCookie(resp.Cookies()[0])
	resp, err = v2.RoundTrip(get)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var c struct{ Count int }
	if err := json.NewDecoder(resp.Body).Decode(&c); err != nil || c.Count != 2 {
		t.Errorf("version 2 shows a cart of %d (%v), want the 2 added through version 1", c.Count, err)
	}
}
