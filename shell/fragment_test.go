package shell_test

import (
	"context"
	"errors"
	"html/template"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/collage-dev/collage/bff"
	"github.com/collage-dev/collage/shell"
	"github.com/collage-dev/collage/shell/compose"
	"github.com/collage-dev/collage/shell/invoke"
	"github.com/collage-dev/collage/shell/layout"
)

// seen is what a BFF saw of a fragment request.
type seen struct {
	path, query, slot, params string
	param                     string
	header                    http.Header
}

func recordingBFF(got *seen) *bff.BFF {
	b := bff.New("catalog")
	tmpl := template.Must(template.New("").Parse(`<p>{{.}}</p>`))
	bff.Fragment(b, tmpl, func(ctx context.Context, f *bff.FragmentRequest) (string, error) {
		got.path, got.query, got.slot, got.params, got.param = f.Path, f.Query.Encode(), f.Slot, f.Params.Encode(), f.Param("id")
		got.header = http.Header{}
		for _, k := range []string{"Cookie", "Accept-Language", "User-Agent", "Traceparent", "X-Request-Id", bff.HeaderPath, bff.HeaderParams, bff.HeaderSlot} {
			if v := bff.Header(ctx, k); v != "" {
				got.header.Set(k, v)
			}
		}
		return "product " + f.Param("id"), nil
	})
	return b
}

func slot(t *testing.T, attrs string) *layout.Slot {
	t.Helper()
	l, err := layout.Parse("p.html", []byte("<collage-slot frontend=catalog "+attrs+"></collage-slot>"))
	if err != nil {
		t.Fatal(err)
	}
	return l.Slots[0]
}

func pageRequest() *compose.Request {
	return &compose.Request{
		Path:   "/products/7?ref=home&q=a+b",
		Params: "id=7",
		Header: http.Header{
			"Cookie":          {"session=abc; theme=dark"},
			"Accept-Language": {"de-CH"},
			"User-Agent":      {"test-agent"},
			"Traceparent":     {"00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01"},
			"X-Request-Id":    {"req-42"},
		},
		ID: "req-42",
	}
}

func TestFetcherHeadersReachLocalBFF(t *testing.T) {
	t.Parallel()
	var got seen
	f := shell.NewFetcher(shell.NewReleases(map[string]shell.Frontend{"catalog": {Invoker: invoke.Local(recordingBFF(&got))}}, nil), 0)
	res := f.Fetch(context.Background(), slot(t, "name=main"), pageRequest())
	if res.Outcome != compose.OK || res.Status != 200 || string(res.Body) != "<p>product 7</p>" || res.Err != nil {
		t.Fatalf("result = %+v (%s)", res, res.Body)
	}
	if got.path != "/products/7" || got.query != "q=a+b&ref=home" || got.slot != "main" || got.params != "id=7" || got.param != "7" {
		t.Errorf("the BFF saw path %q query %q slot %q params %q", got.path, got.query, got.slot, got.params)
	}
	want := http.Header{
		"Cookie":          {"session=abc; theme=dark"},
		"Accept-Language": {"de-CH"},
		"User-Agent":      {"test-agent"},
		"Traceparent":     {"00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01"},
		"X-Request-Id":    {"req-42"},
		"Collage-Path":    {"/products/7?ref=home&q=a+b"},
		"Collage-Params":  {"id=7"},
		"Collage-Slot":    {"main"},
	}
	for k := range want {
		if got.header.Get(k) != want.Get(k) {
			t.Errorf("%s = %q, want %q", k, got.header.Get(k), want.Get(k))
		}
	}
	if res.Took <= 0 {
		t.Errorf("Took = %v", res.Took)
	}
}

func TestFetcherWithoutSlotName(t *testing.T) {
	t.Parallel()
	var got seen
	f := shell.NewFetcher(shell.NewReleases(map[string]shell.Frontend{"catalog": {Invoker: invoke.Local(recordingBFF(&got))}}, nil), 0)
	res := f.Fetch(context.Background(), slot(t, ""), &compose.Request{Path: "/"})
	if res.Outcome != compose.OK {
		t.Fatalf("result = %+v", res)
	}
	if _, ok := got.header[bff.HeaderSlot]; ok || got.slot != "" {
		t.Errorf("a slot without a name sent %s: %q", bff.HeaderSlot, got.header.Get(bff.HeaderSlot))
	}
}

func TestFetcherOverHTTP(t *testing.T) {
	t.Parallel()
	var got seen
	var method, path string
	h := recordingBFF(&got)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		method, path = r.Method, r.URL.Path
		h.ServeHTTP(w, r)
	}))
	defer srv.Close()
	inv, err := invoke.HTTP(srv.URL+"/catalog", invoke.HTTPOptions{})
	if err != nil {
		t.Fatal(err)
	}
	f := shell.NewFetcher(shell.NewReleases(map[string]shell.Frontend{"catalog": {Invoker: inv}}, nil), 0)
	res := f.Fetch(context.Background(), slot(t, "name=main"), pageRequest())
	// The BFF is mounted at / in this server, so /catalog/_fragment is not
	// found: the mount point must not leak into the BFF's routes.
	if method != http.MethodGet || path != "/catalog/_fragment" {
		t.Errorf("request = %s %s, want GET /catalog/_fragment", method, path)
	}
	if res.Outcome != compose.OK || res.Status != 404 {
		t.Errorf("result = %+v", res)
	}

	inv, _ = invoke.HTTP(srv.URL, invoke.HTTPOptions{})
	f = shell.NewFetcher(shell.NewReleases(map[string]shell.Frontend{"catalog": {Invoker: inv}}, nil), 0)
	res = f.Fetch(context.Background(), slot(t, "name=main"), pageRequest())
	if res.Outcome != compose.OK || string(res.Body) != "<p>product 7</p>" {
		t.Fatalf("result = %+v", res)
	}
	if got.header.Get("Cookie") != "session=abc; theme=dark" || got.header.Get(bff.HeaderPath) != "/products/7?ref=home&q=a+b" || got.slot != "main" {
		t.Errorf("over HTTP the BFF saw %v", got.header)
	}
}

// local makes the frontends of a plain handler called catalog.
func local(h http.HandlerFunc) map[string]shell.Frontend {
	return map[string]shell.Frontend{"catalog": {Invoker: invoke.Local(h)}}
}

type failing struct{}

func (failing) RoundTrip(*http.Request) (*http.Response, error) {
	return nil, errors.New("dial tcp: connection refused")
}

func TestFetcherFailures(t *testing.T) {
	t.Parallel()
	body := func(n int) http.HandlerFunc {
		return func(w http.ResponseWriter, r *http.Request) { w.Write([]byte(strings.Repeat("x", n))) }
	}
	tests := []struct {
		name      string
		frontends map[string]shell.Frontend
		max       int64
		ctx       func() (context.Context, context.CancelFunc)
		outcome   compose.Outcome
		status    int
		err       string
	}{
		{name: "at the bound", frontends: local(body(10)), max: 10, outcome: compose.OK, status: 200},
		{name: "over the bound", frontends: local(body(11)), max: 10, outcome: compose.Failed, err: "larger than 10 bytes"},
		{name: "over the default bound", frontends: local(body(shell.DefaultMaxFragmentBytes + 1)), outcome: compose.Failed, err: "larger than 1048576 bytes"},
		{name: "at the default bound", frontends: local(body(shell.DefaultMaxFragmentBytes)), outcome: compose.OK, status: 200},
		{
			name:      "5xx",
			frontends: local(func(w http.ResponseWriter, r *http.Request) { http.Error(w, "oops", 503) }),
			outcome:   compose.Failed, status: 503, err: "fragment answered 503",
		},
		{
			name:      "4xx is left to the composer",
			frontends: local(func(w http.ResponseWriter, r *http.Request) { http.Error(w, "gone", 404) }),
			outcome:   compose.OK, status: 404,
		},
		{
			name:      "invoker error",
			frontends: map[string]shell.Frontend{"catalog": {Invoker: failing{}}},
			outcome:   compose.Failed, err: "connection refused",
		},
		{
			name:      "deadline over HTTP",
			frontends: nil, // set below: needs a server
			ctx:       func() (context.Context, context.CancelFunc) { return context.WithTimeout(context.Background(), 0) },
			outcome:   compose.Timeout, err: "deadline exceeded",
		},
	}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { <-r.Context().Done() }))
	defer srv.Close()
	inv, err := invoke.HTTP(srv.URL, invoke.HTTPOptions{})
	if err != nil {
		t.Fatal(err)
	}
	tests[len(tests)-1].frontends = map[string]shell.Frontend{"catalog": {Invoker: inv}}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			ctx, cancel := context.Background(), context.CancelFunc(func() {})
			if tt.ctx != nil {
				ctx, cancel = tt.ctx()
			}
			defer cancel()
			res := shell.NewFetcher(shell.NewReleases(tt.frontends, nil), tt.max).Fetch(ctx, slot(t, ""), &compose.Request{Path: "/"})
			if res.Outcome != tt.outcome || res.Status != tt.status {
				t.Errorf("outcome %q status %d, want %q %d (err %v)", res.Outcome, res.Status, tt.outcome, tt.status, res.Err)
			}
			switch {
			case tt.err == "" && res.Err != nil:
				t.Errorf("err = %v", res.Err)
			case tt.err != "" && (res.Err == nil || !strings.Contains(res.Err.Error(), tt.err)):
				t.Errorf("err = %v, want it to mention %q", res.Err, tt.err)
			}
			if res.Outcome != compose.OK && len(res.Body) > 0 {
				t.Errorf("a failed fetch kept its body %q", res.Body)
			}
		})
	}
}

// TestFallbackThroughShell checks the whole chain: a 5xx and an oversized
// fragment each show the slot's fallback, the others their fragment.
func TestFallbackThroughShell(t *testing.T) {
	t.Parallel()
	l, err := layout.Parse("p.html", []byte(`<collage-slot frontend=a>fa</collage-slot><collage-slot frontend=b>fb</collage-slot><collage-slot frontend=c>fc</collage-slot>`))
	if err != nil {
		t.Fatal(err)
	}
	frontends := map[string]shell.Frontend{
		"a": {Invoker: invoke.Local(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { http.Error(w, "x", 500) }))},
		"b": {Invoker: invoke.Local(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { w.Write(make([]byte, 65)) }))},
		"c": {Invoker: invoke.Local(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { w.Write([]byte("C")) }))},
	}
	sh := newShell(t, shell.Options{
		Routes:    []shell.Route{{Pattern: "/", Layout: l}},
		Frontends: frontends,
		Fetcher:   shell.NewFetcher(shell.NewReleases(frontends, nil), 64),
		Log:       slog.New(slog.DiscardHandler),
	})
	_, page := render(t, sh, 0, &compose.Request{Path: "/"})
	want := `<collage-slot frontend="a" data-collage-fallback="error">fa</collage-slot>` +
		`<collage-slot frontend="b" data-collage-fallback="error">fb</collage-slot>` +
		`<collage-slot frontend="c">C</collage-slot>`
	if page != want {
		t.Errorf("page:\n got %s\nwant %s", page, want)
	}
}
