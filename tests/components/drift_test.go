package components

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"

	"github.com/collage-dev/collage/adapters/quickjs"
	"github.com/collage-dev/collage/bff"
	"github.com/collage-dev/collage/component"
	cart "github.com/collage-dev/collage/frontends/cart/bff"
	header "github.com/collage-dev/collage/frontends/header/bff"
)

// TestTemplatesMatchTheirComponents is the drift check of the frontends
// that keep a Go template (header, cart): the template's HTML and the View
// their entry exports, rendered from the same data, must not differ where
// a person would see it. A difference is what the browser would change on
// the server's markup when it renders.
func TestTemplatesMatchTheirComponents(t *testing.T) {
	out, res := built(t)
	pool := func(frontend string) *quickjs.Pool {
		src, smap := serverBundle(t, out, res, frontend)
		p, err := quickjs.New(quickjs.Config{Frontend: frontend, Source: src, SourceMap: smap, VMs: 1})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { p.Close() })
		return p
	}
	check := func(t *testing.T, r component.Renderer, tmplHTML, data []byte) {
		t.Helper()
		html, err := r.Render(context.Background(), data)
		if err != nil {
			t.Fatal(err)
		}
		for _, d := range component.Drift(tmplHTML, html) {
			t.Errorf("%s", d)
		}
	}

	t.Run("header", func(t *testing.T) {
		p := pool("header")
		h, err := header.New(nil)
		if err != nil {
			t.Fatal(err)
		}
		for _, page := range []string{"/", "/?category=desk", "/products/3"} {
			tmpl := do(h, fragmentRequest(page), nil)
			nav := do(h, httptest.NewRequest(http.MethodGet, "/nav?path="+url.QueryEscape(page), nil), nil)
			var data struct {
				header.Nav
				Count int `json:"count"`
			}
			if err := json.Unmarshal(nav.Body.Bytes(), &data.Nav); err != nil {
				t.Fatal(err)
			}
			d, _ := json.Marshal(data)
			check(t, p, tmpl.Body.Bytes(), d)
		}
	})

	t.Run("cart", func(t *testing.T) {
		p := pool("cart")
		h, err := cart.New(bff.Settings{"session_key": strings.Repeat("ab", 32)})
		if err != nil {
			t.Fatal(err)
		}
		var cookies []*http.Cookie
		for _, add := range []string{"", `{"productId":"3","qty":2}`, `{"productId":"5","qty":1}`} {
			if add != "" {
				r := httptest.NewRequest(http.MethodPost, "/items", strings.NewReader(add))
				r.Header.Set("Content-Type", "application/json")
				if w := do(h, r, &cookies); w.Code != 200 {
					t.Fatalf("POST /items: %d %s", w.Code, w.Body)
				}
			}
			tmpl := do(h, fragmentRequest("/"), &cookies)
			data := do(h, httptest.NewRequest(http.MethodGet, "/cart", nil), &cookies)
			if tmpl.Code != 200 || data.Code != 200 {
				t.Fatalf("fragment %d, GET /cart %d", tmpl.Code, data.Code)
			}
			check(t, p, tmpl.Body.Bytes(), bytes.TrimSpace(data.Body.Bytes()))
		}
	})
}

// fragmentRequest is the shell's request for the fragment of page.
func fragmentRequest(page string) *http.Request {
	r := httptest.NewRequest(http.MethodGet, bff.FragmentPath, nil)
	r.Header.Set(bff.HeaderPath, page)
	return r
}

// do sends r to h with the cookies, if any, and keeps those it sets.
func do(h http.Handler, r *http.Request, cookies *[]*http.Cookie) *httptest.ResponseRecorder {
	if cookies != nil {
		for _, c := range *cookies {
			r.AddCookie(c)
		}
	}
	w := httptest.NewRecorder()
	h.ServeHTTP(w, r)
	if cookies != nil {
		*cookies = append(*cookies, w.Result().Cookies()...)
	}
	return w
}
