package header

import (
	"net/http"
	"net/url"
	"testing"

	"github.com/collage-dev/collage/frontends/internal/shoptest"
)

func TestFragment(t *testing.T) {
	t.Parallel()
	h := shoptest.New(t, New, nil)
	tests := []struct {
		golden string
		path   string
		params url.Values
	}{
		{"home.golden.html", "/", nil},
		{"category.golden.html", "/?category=desk", nil},
		{"product.golden.html", "/products/3", url.Values{"id": {"3"}}},
	}
	for _, tt := range tests {
		t.Run(tt.golden, func(t *testing.T) {
			t.Parallel()
			w := shoptest.Serve(h, shoptest.FragmentRequest(tt.path, tt.params))
			if w.Code != http.StatusOK {
				t.Fatalf("status %d, want 200; body: %s", w.Code, w.Body)
			}
			if ct := w.Header().Get("Content-Type"); ct != "text/html; charset=utf-8" {
				t.Errorf("Content-Type = %q", ct)
			}
			shoptest.Golden(t, tt.golden, w.Body.Bytes())
		})
	}
}

func TestNav(t *testing.T) {
	t.Parallel()
	h := shoptest.New(t, New, nil)
	tests := []struct {
		path    string
		current string // the label of the current link, "" for none
	}{
		{"", ""},
		{"/", "All products"},
		{"/?category=coffee", "Coffee"},
		{"/?category=kitchen&sort=price", "Kitchen"},
		{"/?category=nope", ""},
		{"/products/1", ""},
		{"/products/1?category=desk", ""},
		{"not a path", ""},
	}
	for _, tt := range tests {
		t.Run(tt.path, func(t *testing.T) {
			t.Parallel()
			w := shoptest.Serve(h, shoptest.JSONRequest(http.MethodGet, "/nav?"+url.Values{"path": {tt.path}}.Encode(), nil))
			if w.Code != http.StatusOK {
				t.Fatalf("status %d; body: %s", w.Code, w.Body)
			}
			nav := shoptest.Decode[Nav](t, w)
			if len(nav.Links) != 4 {
				t.Fatalf("%d links, want 4: %+v", len(nav.Links), nav.Links)
			}
			current := ""
			for _, l := range nav.Links {
				if l.Current {
					if current != "" {
						t.Errorf("both %q and %q are current", current, l.Label)
					}
					current = l.Label
				}
			}
			if current != tt.current {
				t.Errorf("current link is %q, want %q", current, tt.current)
			}
		})
	}
}

func TestUnknownRoute(t *testing.T) {
	t.Parallel()
	w := shoptest.Serve(shoptest.New(t, New, nil), shoptest.JSONRequest(http.MethodPost, "/nav", nil))
	if w.Code != http.StatusMethodNotAllowed {
		t.Errorf("POST /nav: status %d, want 405", w.Code)
	}
}
