package catalog

import (
	"github.com/collage-dev/collage/component"
	"net/http"
	"net/url"
	"testing"

	"github.com/collage-dev/collage/frontends/internal/shopdata"
	"github.com/collage-dev/collage/frontends/internal/shoptest"
)

func TestFragment(t *testing.T) {
	t.Parallel()
	h := shoptest.New(t, New, nil)
	tests := []struct {
		golden string
		path   string
		params url.Values
		status int
	}{
		{"home.golden.json", "/", nil, http.StatusOK},
		{"category.golden.json", "/?category=desk", nil, http.StatusOK},
		{"unknown-category.golden.json", "/?category=%3Cscript%3E", nil, http.StatusBadRequest},
		{"product.golden.json", "/products/3", url.Values{"id": {"3"}}, http.StatusOK},
		{"not-found.golden.json", "/products/99", url.Values{"id": {"99"}}, http.StatusNotFound},
		{"empty-id.golden.json", "/products/", url.Values{"id": {""}}, http.StatusNotFound},
	}
	for _, tt := range tests {
		t.Run(tt.golden, func(t *testing.T) {
			t.Parallel()
			w := shoptest.Serve(h, shoptest.FragmentRequest(tt.path, tt.params))
			if w.Code != tt.status {
				t.Fatalf("status %d, want %d; body: %s", w.Code, tt.status, w.Body)
			}
			if ct := w.Header().Get("Content-Type"); ct != component.MediaType {
				t.Errorf("Content-Type = %q", ct)
			}
			shoptest.Golden(t, tt.golden, w.Body.Bytes())
		})
	}
}

func TestListProducts(t *testing.T) {
	t.Parallel()
	h := shoptest.New(t, New, nil)
	tests := []struct {
		target string
		title  string
		count  int
	}{
		{"/products", "All products", len(shopdata.Products())},
		{"/products?category=", "All products", len(shopdata.Products())},
		{"/products?category=coffee", "Coffee", len(shopdata.InCategory("coffee"))},
		{"/products?category=desk", "Desk", len(shopdata.InCategory("desk"))},
	}
	for _, tt := range tests {
		t.Run(tt.target, func(t *testing.T) {
			t.Parallel()
			w := shoptest.Serve(h, shoptest.JSONRequest(http.MethodGet, tt.target, nil))
			if w.Code != http.StatusOK {
				t.Fatalf("status %d; body: %s", w.Code, w.Body)
			}
			l := shoptest.Decode[Listing](t, w)
			if l.Title != tt.title || len(l.Products) != tt.count {
				t.Errorf("got %q with %d products, want %q with %d", l.Title, len(l.Products), tt.title, tt.count)
			}
			for _, p := range l.Products {
				if p.ID == "" || p.Name == "" || p.PriceText == "" {
					t.Errorf("incomplete product %+v", p)
				}
			}
		})
	}
}

func TestGetProduct(t *testing.T) {
	t.Parallel()
	h := shoptest.New(t, New, nil)
	w := shoptest.Serve(h, shoptest.JSONRequest(http.MethodGet, "/products/2", nil))
	if w.Code != http.StatusOK {
		t.Fatalf("status %d; body: %s", w.Code, w.Body)
	}
	want, _ := shopdata.ProductByID("2")
	if got := shoptest.Decode[shopdata.Product](t, w); got != want {
		t.Errorf("got %+v, want %+v", got, want)
	}
}

func TestErrors(t *testing.T) {
	t.Parallel()
	h := shoptest.New(t, New, nil)
	tests := []struct {
		method, target string
		status         int
		code, field    string
		message        string
	}{
		{"GET", "/products/99", http.StatusNotFound, "not_found", "", `No product with id "99"`},
		{"GET", "/products?category=nope", http.StatusBadRequest, "bad_request", "category", `No category called "nope"`},
		{"POST", "/products", http.StatusMethodNotAllowed, "method_not_allowed", "", ""},
		{"GET", "/nothing", http.StatusNotFound, "not_found", "", ""},
	}
	for _, tt := range tests {
		t.Run(tt.method+" "+tt.target, func(t *testing.T) {
			t.Parallel()
			w := shoptest.Serve(h, shoptest.JSONRequest(tt.method, tt.target, nil))
			if w.Code != tt.status {
				t.Fatalf("status %d, want %d; body: %s", w.Code, tt.status, w.Body)
			}
			e := shoptest.Decode[shoptest.ErrorBody](t, w).Error
			if e.Code != tt.code || e.Field != tt.field {
				t.Errorf("code %q field %q, want %q %q", e.Code, e.Field, tt.code, tt.field)
			}
			if tt.message != "" && e.Message != tt.message {
				t.Errorf("message %q, want %q", e.Message, tt.message)
			}
		})
	}
}
