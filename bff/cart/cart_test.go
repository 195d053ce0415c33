package cart

import (
	"encoding/hex"
	"net/http"
	"sync"
	"testing"

	"github.com/collage-dev/collage/bff/internal/shoptest"
)

// do sends r through browser b and fails the test unless the answer has status.
func do(t *testing.T, b *shoptest.Browser, r *http.Request, status int) Cart {
	t.Helper()
	w := b.Do(r)
	if w.Code != status {
		t.Fatalf("%s %s: status %d, want %d; body: %s", r.Method, r.URL, w.Code, status, w.Body)
	}
	return shoptest.Decode[Cart](t, w)
}

func add(productID string, qty int) *http.Request {
	return shoptest.JSONRequest(http.MethodPost, "/items", AddItem{ProductID: productID, Qty: qty})
}

func TestAddItemErrors(t *testing.T) {
	t.Parallel()
	h := shoptest.New(t, New, nil)
	tests := []struct {
		name        string
		body        string
		contentType string
		status      int
		field       string
	}{
		{"unknown product", `{"productId":"99","qty":1}`, "application/json", 400, "productId"},
		{"no product", `{"qty":1}`, "application/json", 400, "productId"},
		{"product id a number", `{"productId":1,"qty":1}`, "application/json", 400, "productId"},
		{"no qty", `{"productId":"1"}`, "application/json", 400, "qty"},
		{"zero qty", `{"productId":"1","qty":0}`, "application/json", 400, "qty"},
		{"negative qty", `{"productId":"1","qty":-2}`, "application/json", 400, "qty"},
		{"qty too large", `{"productId":"1","qty":100}`, "application/json", 400, "qty"},
		{"qty a string", `{"productId":"1","qty":"2"}`, "application/json", 400, "qty"},
		{"unknown field", `{"productId":"1","qty":1,"colour":"red"}`, "application/json", 400, "colour"},
		{"not JSON", `productId=1`, "application/json", 400, ""},
		{"empty body", ``, "application/json", 400, "productId"},
		{"form post", `productId=1&qty=1`, "application/x-www-form-urlencoded", 415, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			r := shoptest.JSONRequest(http.MethodPost, "/items", tt.body)
			r.Header.Set("Content-Type", tt.contentType)
			w := shoptest.Serve(h, r)
			if w.Code != tt.status {
				t.Fatalf("status %d, want %d; body: %s", w.Code, tt.status, w.Body)
			}
			e := shoptest.Decode[shoptest.ErrorBody](t, w).Error
			if e.Field != tt.field || e.Message == "" {
				t.Errorf("field %q message %q, want field %q and a message", e.Field, e.Message, tt.field)
			}
		})
	}
}

func TestRoutes(t *testing.T) {
	t.Parallel()
	h := shoptest.New(t, New, nil)
	tests := []struct {
		method, target string
		status         int
	}{
		{"GET", "/items", http.StatusMethodNotAllowed},
		{"PUT", "/cart", http.StatusMethodNotAllowed},
		{"GET", "/carts", http.StatusNotFound},
	}
	for _, tt := range tests {
		w := shoptest.Serve(h, shoptest.JSONRequest(tt.method, tt.target, nil))
		if w.Code != tt.status {
			t.Errorf("%s %s: status %d, want %d", tt.method, tt.target, w.Code, tt.status)
		}
	}
}

func TestSessionCookie(t *testing.T) {
	t.Parallel()
	h := shoptest.New(t, New, nil)
	w := shoptest.Serve(h, shoptest.JSONRequest(http.MethodGet, "/cart", nil))
	cookies := w.Result().Cookies()
	if len(cookies) != 1 {
		t.Fatalf("got %d cookies, want 1: %v", len(cookies), w.Header()["Set-Cookie"])
	}
	c := cookies[0]
	if c.Name != CookieName || !c.HttpOnly || c.SameSite != http.SameSiteLaxMode || c.Path != "/" {
		t.Errorf("cookie %s, want %s with HttpOnly, SameSite=Lax, Path=/", c, CookieName)
	}
	if b, err := hex.DecodeString(c.Value); err != nil || len(b) != 16 {
		t.Errorf("session id %q is not 128 bits of hex", c.Value)
	}
	if cc := w.Header().Get("Cache-Control"); cc != "private, no-store" {
		t.Errorf("Cache-Control = %q, want private, no-store", cc)
	}

	// A session that is not one of ours is replaced.
	r := shoptest.JSONRequest(http.MethodGet, "/cart", nil)
	r.AddCookie(&http.Cookie{Name: CookieName, Value: "../../etc/passwd"})
	w = shoptest.Serve(h, r)
	if cookies := w.Result().Cookies(); len(cookies) != 1 || cookies[0].Value == c.Value {
		t.Errorf("a malformed session got cookies %v, want one new session", w.Header()["Set-Cookie"])
	}
}

func TestCartAcrossRequests(t *testing.T) {
	t.Parallel()
	h := shoptest.New(t, New, nil)
	alice, bob := shoptest.NewBrowser(h), shoptest.NewBrowser(h)

	if c := do(t, alice, shoptest.JSONRequest(http.MethodGet, "/cart", nil), 200); len(c.Items) != 0 || c.Count != 0 || c.TotalText != "$0.00" {
		t.Fatalf("a new cart is %+v, want empty", c)
	}
	do(t, alice, add("1", 2), 200)
	do(t, alice, add("5", 1), 200)
	c := do(t, alice, add("1", 1), 200)

	want := []Item{
		{ProductID: "1", Name: "House Blend Beans", Price: 1450, PriceText: "$14.50", Qty: 3, LineTotal: 4350, LineTotalText: "$43.50", Color: "#c8a27a", Emoji: "☕\ufe0f"},
		{ProductID: "5", Name: "Ceramic Mug", Price: 1250, PriceText: "$12.50", Qty: 1, LineTotal: 1250, LineTotalText: "$12.50", Color: "#f4a261", Emoji: "🍵"},
	}
	check := func(c Cart) {
		t.Helper()
		if len(c.Items) != len(want) {
			t.Fatalf("items %+v, want %+v", c.Items, want)
		}
		for i := range want {
			if c.Items[i] != want[i] {
				t.Errorf("item %d is %+v, want %+v", i, c.Items[i], want[i])
			}
		}
		if c.Count != 4 || c.Total != 5600 || c.TotalText != "$56.00" {
			t.Errorf("count %d total %d %q, want 4 5600 $56.00", c.Count, c.Total, c.TotalText)
		}
	}
	check(c)
	check(do(t, alice, shoptest.JSONRequest(http.MethodGet, "/cart", nil), 200))

	if c := do(t, bob, shoptest.JSONRequest(http.MethodGet, "/cart", nil), 200); c.Count != 0 {
		t.Errorf("another session sees %+v, want an empty cart", c)
	}

	w := alice.Do(add("1", 97))
	if e := shoptest.Decode[shoptest.ErrorBody](t, w).Error; w.Code != 400 || e.Field != "qty" {
		t.Errorf("adding past %d: status %d field %q, want 400 qty", MaxQty, w.Code, e.Field)
	}
	check(do(t, alice, shoptest.JSONRequest(http.MethodGet, "/cart", nil), 200))

	c = do(t, alice, shoptest.JSONRequest(http.MethodDelete, "/items/1", nil), 200)
	if len(c.Items) != 1 || c.Items[0].ProductID != "5" || c.Count != 1 || c.TotalText != "$12.50" {
		t.Errorf("after removing product 1: %+v", c)
	}
	c = do(t, alice, shoptest.JSONRequest(http.MethodDelete, "/items/1", nil), 200)
	if c.Count != 1 {
		t.Errorf("removing a product twice: %+v", c)
	}
	c = do(t, alice, shoptest.JSONRequest(http.MethodDelete, "/items/5", nil), 200)
	if len(c.Items) != 0 || c.Count != 0 {
		t.Errorf("after removing everything: %+v", c)
	}
}

func TestFragment(t *testing.T) {
	t.Parallel()
	h := shoptest.New(t, New, nil)
	shopper := shoptest.NewBrowser(h)
	fragment := func(golden string) {
		t.Helper()
		w := shopper.Do(shoptest.FragmentRequest("/", nil))
		if w.Code != http.StatusOK {
			t.Fatalf("status %d; body: %s", w.Code, w.Body)
		}
		if cc := w.Header().Get("Cache-Control"); cc != "private, no-store" {
			t.Errorf("Cache-Control = %q, want private, no-store", cc)
		}
		if sc := w.Header().Values("Set-Cookie"); len(sc) != 0 {
			t.Errorf("the fragment set cookies %v; only the API starts sessions", sc)
		}
		shoptest.Golden(t, golden, w.Body.Bytes())
	}
	fragment("empty.golden.html")
	do(t, shopper, add("3", 2), 200)
	do(t, shopper, add("10", 1), 200)
	fragment("items.golden.html")
}

func TestStoreEvictsLeastRecentlyTouched(t *testing.T) {
	t.Parallel()
	s := newStore(2)
	mustAdd := func(id string) {
		t.Helper()
		if _, err := s.add(id, "1", 1); err != nil {
			t.Fatal(err)
		}
	}
	mustAdd("a")
	mustAdd("b")
	mustAdd("a")
	mustAdd("c")
	if s.get("b").Count != 0 || s.get("a").Count != 2 || s.get("c").Count != 1 {
		t.Errorf("carts a=%d b=%d c=%d, want a=2 b=0 (evicted) c=1", s.get("a").Count, s.get("b").Count, s.get("c").Count)
	}
}

func TestConcurrentAdds(t *testing.T) {
	t.Parallel()
	h := shoptest.New(t, New, nil)
	shopper := shoptest.NewBrowser(h)
	do(t, shopper, shoptest.JSONRequest(http.MethodGet, "/cart", nil), 200)
	var wg sync.WaitGroup
	for range 8 {
		wg.Go(func() {
			for range 5 {
				shopper.Do(add("2", 1))
			}
		})
	}
	wg.Wait()
	if c := do(t, shopper, shoptest.JSONRequest(http.MethodGet, "/cart", nil), 200); c.Count != 40 {
		t.Errorf("count %d after 40 concurrent adds, want 40", c.Count)
	}
}
