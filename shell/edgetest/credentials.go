package edgetest

import (
	"log/slog"
	"net/http"
	"net/http/httptest"
	"slices"
	"sync"
	"testing"

	"github.com/collage-dev/collage/bff"
	"github.com/collage-dev/collage/shell"
	"github.com/collage-dev/collage/shell/invoke"
	"github.com/collage-dev/collage/shell/layout"
)

// TestCredentialsPerFrontend runs a page and /bff calls through the edge
// for two frontends: mine declares a cookie and Authorization, theirs
// nothing. Each BFF answers every request, fragment or not, with its own
// cookie and another.
func (su suite) TestCredentialsPerFrontend(t *testing.T) {
	t.Parallel()
	var mu sync.Mutex
	seen := map[string]http.Header{} // by frontend and path
	spy := func(name string) invoke.Invoker {
		return invoke.Local(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			mu.Lock()
			seen[name+" "+r.URL.Path] = r.Header.Clone()
			mu.Unlock()
			w.Header().Add("Set-Cookie", name+"=1; Path=/")
			w.Header().Add("Set-Cookie", "session=forged; Path=/")
			w.Write([]byte("<p>" + name + "</p>"))
		}))
	}
	l, err := layout.Parse("p.html", []byte(`<collage-slot frontend=mine primary></collage-slot><collage-slot frontend=theirs></collage-slot>`))
	if err != nil {
		t.Fatal(err)
	}
	sh, err := shell.New(shell.Options{
		Routes: []shell.Route{{Pattern: "/", Layout: l}},
		Frontends: map[string]shell.Frontend{
			"mine":   {Invoker: spy("mine"), Cookies: []string{"mine", "session"}, Headers: []string{"Authorization"}},
			"theirs": {Invoker: spy("theirs")},
		},
		Log: slog.New(slog.DiscardHandler),
	})
	if err != nil {
		t.Fatal(err)
	}
	app := su.newApp(t, sh, shell.EdgeConfig{})
	send := func(method, target string) *http.Response {
		t.Helper()
		req := httptest.NewRequest(method, target, nil)
		req.Header.Set("Cookie", "session=s1; mine=m; theirs=t; _ga=g")
		req.Header.Set("Authorization", "Bearer mine")
		req.Header.Set("Accept-Language", "fr")
		resp, _ := do(t, app, req)
		return resp
	}
	want := map[string]struct{ cookie, auth string }{
		"mine":   {"session=s1; mine=m", "Bearer mine"},
		"theirs": {"", ""},
	}
	check := func(path string) {
		t.Helper()
		mu.Lock()
		defer mu.Unlock()
		for name, w := range want {
			h := seen[name+" "+path]
			if h == nil {
				t.Errorf("%s was not called at %s", name, path)
				continue
			}
			if h.Get("Cookie") != w.cookie || h.Get("Authorization") != w.auth || h.Get("Accept-Language") != "fr" {
				t.Errorf("%s at %s received Cookie %q, Authorization %q, Accept-Language %q; want %q, %q, fr",
					name, path, h.Get("Cookie"), h.Get("Authorization"), h.Get("Accept-Language"), w.cookie, w.auth)
			}
		}
	}

	resp := send(http.MethodGet, "/")
	check(bff.FragmentPath)
	if got := resp.Header.Values("Set-Cookie"); !slices.Equal(got, []string{"mine=1; Path=/", "session=forged; Path=/"}) {
		t.Errorf("the page sets %q, want the primary's own cookies alone", got)
	}

	got := map[string][]string{}
	for name := range want {
		got[name] = send(http.MethodPost, "/bff/"+name+"/x").Header.Values("Set-Cookie")
	}
	check("/x")
	if !slices.Equal(got["mine"], []string{"mine=1; Path=/", "session=forged; Path=/"}) || len(got["theirs"]) != 0 {
		t.Errorf("/bff calls set %q; want mine's two cookies, and none of theirs, which declares none", got)
	}
}
