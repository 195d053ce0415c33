package cart

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/collage-dev/collage/bff"
	"github.com/collage-dev/collage/frontends/internal/shoptest"
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
	h := shoptest.New(t, New, keyed)
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
	h := shoptest.New(t, New, keyed)
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
	h := shoptest.New(t, New, keyed)
	w := shoptest.Serve(h, shoptest.JSONRequest(http.MethodGet, "/cart", nil))
	c := onlyCookie(t, w)
	if c.Name != CookieName || !c.HttpOnly || c.SameSite != http.SameSiteLaxMode || c.Path != "/" {
		t.Errorf("cookie %s, want %s with HttpOnly, SameSite=Lax, Path=/", c, CookieName)
	}
	// The value is the id in hex, a dot and its HMAC-SHA256 under the key.
	id, sig, _ := strings.Cut(c.Value, ".")
	raw, err := hex.DecodeString(id)
	if err != nil || len(raw) != 16 || id != strings.ToLower(id) {
		t.Fatalf("session id %q is not 128 bits of lower-case hex", id)
	}
	if want := base64.RawURLEncoding.EncodeToString(macOf(raw)); sig != want {
		t.Errorf("signature %q, want HMAC-SHA256(key, %q + NUL + id) = %q", sig, CookieName, want)
	}
	if cc := w.Header().Get("Cache-Control"); cc != "private, no-store" {
		t.Errorf("Cache-Control = %q, want private, no-store", cc)
	}

	// The cookie comes back: the same session, no new cookie.
	r := shoptest.JSONRequest(http.MethodGet, "/cart", nil)
	r.AddCookie(c)
	if w := shoptest.Serve(h, r); w.Code != 200 || len(w.Result().Cookies()) != 0 {
		t.Errorf("a signed session got status %d and cookies %v, want 200 and none", w.Code, w.Header()["Set-Cookie"])
	}
}

// keyed are settings with a session key known to the tests.
var keyed = bff.Settings{"session_key": strings.Repeat("5e", 32)}

// macOf signs id as a cart built with keyed does.
func macOf(id []byte) []byte {
	return macWith(keyed["session_key"], id)
}

// macWith signs id as a cart with session key hexKey does.
func macWith(hexKey string, id []byte) []byte {
	key, _ := hex.DecodeString(hexKey)
	m := hmac.New(sha256.New, key)
	m.Write([]byte(CookieName + "\x00"))
	m.Write(id)
	return m.Sum(nil)
}

// onlyCookie returns the one cookie w sets, failing unless there is one.
func onlyCookie(t *testing.T, w *httptest.ResponseRecorder) *http.Cookie {
	t.Helper()
	cookies := w.Result().Cookies()
	if len(cookies) != 1 {
		t.Fatalf("got %d cookies, want 1: %v", len(cookies), w.Header()["Set-Cookie"])
	}
	return cookies[0]
}

// TestForgedSessions: a cookie the cart did not sign never reaches a cart,
// even one that names the id of a real session; the request gets a new
// session instead.
func TestForgedSessions(t *testing.T) {
	t.Parallel()
	h := shoptest.New(t, New, keyed)
	w := shoptest.Serve(h, add("1", 3))
	victim := onlyCookie(t, w).Value
	id, sig, _ := strings.Cut(victim, ".")
	other := onlyCookie(t, shoptest.Serve(h, shoptest.JSONRequest(http.MethodGet, "/cart", nil))).Value
	_, otherSig, _ := strings.Cut(other, ".")
	otherKey := strings.Repeat("77", 32)
	foreign, err := New(bff.Settings{"session_key": otherKey})
	if err != nil {
		t.Fatal(err)
	}
	foreignCookie := onlyCookie(t, shoptest.Serve(foreign, shoptest.JSONRequest(http.MethodGet, "/cart", nil))).Value
	raw, _ := hex.DecodeString(id)

	// flip changes the character at i into another of the same alphabet.
	flip := func(s string, i int) string {
		b := []byte(s)
		if b[i] == 'a' {
			b[i] = 'b'
		} else {
			b[i] = 'a'
		}
		return string(b)
	}
	tests := []struct{ name, value string }{
		{"the bare id, as a client may choose it", id},
		{"the id of another session's signature", id + "." + otherSig},
		{"a signature changed in one character", id + "." + flip(sig, 5)},
		{"the id changed in one digit", flip(id, 0) + "." + sig},
		{"the id in capitals", strings.ToUpper(id) + "." + sig},
		{"the id signed with another key", id + "." + base64.RawURLEncoding.EncodeToString(macWith(otherKey, raw))},
		{"a cookie of a process with another key", foreignCookie},
		{"a signature with padding", id + "." + sig + "="},
		{"no signature", id + "."},
		{"a path", "../../etc/passwd"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			for _, r := range []*http.Request{shoptest.JSONRequest(http.MethodGet, "/cart", nil), add("2", 1)} {
				r.AddCookie(&http.Cookie{Name: CookieName, Value: tt.value})
				w := shoptest.Serve(h, r)
				c := shoptest.Decode[Cart](t, w)
				if slices.ContainsFunc(c.Items, func(it Item) bool { return it.ProductID == "1" }) {
					t.Fatalf("%s %s reached the victim's cart: %+v", r.Method, r.URL, c)
				}
				fresh := onlyCookie(t, w).Value
				if strings.HasPrefix(fresh, id) || fresh == tt.value {
					t.Errorf("%s %s: new cookie %q reuses the forged id", r.Method, r.URL, fresh)
				}
			}
			frag := shoptest.FragmentRequest("/", nil)
			frag.AddCookie(&http.Cookie{Name: CookieName, Value: tt.value})
			if w := shoptest.Serve(h, frag); strings.Contains(w.Body.String(), "House Blend") {
				t.Errorf("the fragment showed the victim's cart: %s", w.Body)
			}
		})
	}

	r := shoptest.JSONRequest(http.MethodGet, "/cart", nil)
	r.AddCookie(&http.Cookie{Name: CookieName, Value: victim})
	if c := do(t, shoptest.NewBrowser(h), r, 200); c.Count != 3 {
		t.Errorf("the victim's own cookie shows %+v, want 3 of product 1", c)
	}
}

func TestSessionKeySetting(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		value   string // "" leaves the setting out
		wantErr string // "" when the BFF starts
		wantLog bool
	}{
		{"absent", "", "", true},
		{"32 bytes", strings.Repeat("0f", 32), "", false},
		{"64 bytes in capitals", strings.Repeat("AB", 64), "", false},
		{"not hex", strings.Repeat("zz", 32), "setting session_key is not hex (64 characters, want 64 or more hex digits)", false},
		{"odd length", strings.Repeat("a", 65), "setting session_key is not hex", false},
		{"too short", strings.Repeat("ab", 31), "setting session_key holds 31 bytes, want at least 32 (64 hex digits)", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			var logs strings.Builder
			s := bff.Settings{}
			if tt.value != "" {
				s["session_key"] = tt.value
			}
			_, err := newCart(s, slog.New(slog.NewTextHandler(&logs, nil)))
			switch {
			case tt.wantErr == "" && err != nil:
				t.Fatalf("error %v, want none", err)
			case tt.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tt.wantErr)):
				t.Fatalf("error %v, want one containing %q", err, tt.wantErr)
			case err != nil && strings.Contains(err.Error(), tt.value):
				t.Errorf("error %q shows the secret", err)
			}
			if got := strings.Contains(logs.String(), "carts will not survive a restart or be shared"); got != tt.wantLog {
				t.Errorf("logged %q, want the warning about a drawn key: %v", logs.String(), tt.wantLog)
			}
		})
	}
}

// TestSessionKeyShared: processes with one key accept each other's
// cookies; processes that drew their own keys do not.
func TestSessionKeyShared(t *testing.T) {
	t.Parallel()
	quiet := slog.New(slog.DiscardHandler)
	build := func(s bff.Settings) *bff.BFF {
		t.Helper()
		b, err := newCart(s, quiet)
		if err != nil {
			t.Fatal(err)
		}
		return b
	}
	tests := []struct {
		name     string
		settings bff.Settings
		accepted bool
	}{
		{"same key", keyed, true},
		{"keys drawn at start", nil, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			first, second := build(tt.settings), build(tt.settings)
			c := onlyCookie(t, shoptest.Serve(first, shoptest.JSONRequest(http.MethodGet, "/cart", nil)))
			r := shoptest.JSONRequest(http.MethodGet, "/cart", nil)
			r.AddCookie(c)
			w := shoptest.Serve(second, r)
			if accepted := len(w.Result().Cookies()) == 0; accepted != tt.accepted {
				t.Errorf("the other process accepted the cookie: %v, want %v (Set-Cookie %v)", accepted, tt.accepted, w.Header()["Set-Cookie"])
			}
		})
	}
}

func TestCartAcrossRequests(t *testing.T) {
	t.Parallel()
	h := shoptest.New(t, New, keyed)
	alice, bob := shoptest.NewBrowser(h), shoptest.NewBrowser(h)

	if c := do(t, alice, shoptest.JSONRequest(http.MethodGet, "/cart", nil), 200); len(c.Items) != 0 || c.Count != 0 || c.TotalText != "$0.00" {
		t.Fatalf("a new cart is %+v, want empty", c)
	}
	do(t, alice, add("1", 2), 200)
	do(t, alice, add("5", 1), 200)
	c := do(t, alice, add("1", 1), 200)

	want := []Item{
		{ProductID: "1", Name: "House Blend Beans", Price: 1450, PriceText: "$14.50", Qty: 3, LineTotal: 4350, LineTotalText: "$43.50"},
		{ProductID: "5", Name: "Ceramic Mug", Price: 1250, PriceText: "$12.50", Qty: 1, LineTotal: 1250, LineTotalText: "$12.50"},
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
	h := shoptest.New(t, New, keyed)
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

func TestConcurrentAdds(t *testing.T) {
	t.Parallel()
	h := shoptest.New(t, New, keyed)
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
