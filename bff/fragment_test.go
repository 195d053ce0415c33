package bff_test

import (
	"context"
	"errors"
	"html/template"
	"net/http"
	"net/http/httptest"
	"net/url"
	"path/filepath"
	"reflect"
	"testing"
	"time"

	"github.com/collage-dev/collage/bff"
	"github.com/collage-dev/collage/internal/golden"
)

// product is the data of the test fragment.
type product struct {
	Name, Path, Color, ID, Tab, Slot string
}

// Boom fails, to make a template stop halfway.
func (product) Boom() (string, error) { return "", errors.New("price service down") }

var (
	// productTmpl has an "error" template for 4xx answers.
	productTmpl = template.Must(template.New("product").Parse(
		`<article data-slot="{{.Slot}}"><h1>{{.Name}}</h1>` +
			`<p>{{.Path}} color={{.Color}} id={{.ID}} tab={{.Tab}}</p></article>` +
			`{{define "error"}}<section class="product-error" data-status="{{.Status}}">{{.Message}}</section>{{end}}`))
	// plainTmpl has none, so 4xx answers use the default.
	plainTmpl = template.Must(template.New("plain").Parse(`<h1>{{.Name}}</h1>`))
	// boomTmpl fails after writing part of its output.
	boomTmpl = template.Must(template.New("boom").Parse(`<h1>{{.Name}}</h1><p>{{.Boom}}</p>`))
	// badErrorTmpl has an "error" template that cannot execute on an *Error.
	badErrorTmpl = template.Must(template.New("bad").Parse(
		`<h1>{{.Name}}</h1>{{define "error"}}<p>{{.Nope}}</p>{{end}}`))
)

// fromRequest is a fragment function that shows what it was told.
func fromRequest(_ context.Context, f *bff.FragmentRequest) (product, error) {
	return product{Name: "Red shoe", Path: f.Path, Color: f.Query.Get("color"),
		ID: f.Param("id"), Tab: f.Param("tab"), Slot: f.Slot}, nil
}

func TestFragment(t *testing.T) {
	t.Parallel()
	pageHeaders := map[string]string{
		bff.HeaderPath:   "/products/42?color=red&size=m",
		bff.HeaderParams: "id=42&tab=reviews",
		bff.HeaderSlot:   "main",
	}
	tests := []struct {
		name         string
		tmpl         *template.Template
		fn           func(context.Context, *bff.FragmentRequest) (product, error)
		wantStatus   int
		golden       string // the body's golden file, or "" for an empty body
		wantType     string
		wantLocation string
		wantHeader   http.Header
		wantLog      string // msg of the one line logged, or "" for none
		wantLogErr   string
	}{
		{
			name: "render", tmpl: productTmpl, fn: fromRequest,
			wantStatus: 200, golden: "product", wantType: "text/html; charset=utf-8",
		},
		{
			name: "data is escaped", tmpl: productTmpl,
			fn: func(context.Context, *bff.FragmentRequest) (product, error) {
				return product{Name: `<script>alert("x")</script>`, Slot: `" onload="x`}, nil
			},
			wantStatus: 200, golden: "escaped", wantType: "text/html; charset=utf-8",
		},
		{
			name: "SetStatus and SetHeader", tmpl: plainTmpl,
			fn: func(ctx context.Context, _ *bff.FragmentRequest) (product, error) {
				bff.SetStatus(ctx, http.StatusNonAuthoritativeInfo)
				bff.SetHeader(ctx, "Cache-Control", "max-age=60")
				return product{Name: "cached"}, nil
			},
			wantStatus: 203, golden: "plain", wantType: "text/html; charset=utf-8",
			wantHeader: http.Header{"Cache-Control": {"max-age=60"}},
		},
		{
			name: "NotFound renders the error template", tmpl: productTmpl,
			fn: func(context.Context, *bff.FragmentRequest) (product, error) {
				return product{}, bff.NotFound("no product <%s>", "42")
			},
			wantStatus: 404, golden: "not-found-custom", wantType: "text/html; charset=utf-8",
		},
		{
			name: "NotFound without an error template", tmpl: plainTmpl,
			fn: func(context.Context, *bff.FragmentRequest) (product, error) {
				return product{}, bff.NotFound(`no product "<b>42</b>"`)
			},
			wantStatus: 404, golden: "not-found-default", wantType: "text/html; charset=utf-8",
		},
		{
			name: "wrapped BadRequest", tmpl: plainTmpl,
			fn: func(context.Context, *bff.FragmentRequest) (product, error) {
				return product{}, errors.Join(errors.New("lookup"), bff.BadRequest("id", "must be a number"))
			},
			wantStatus: 400, golden: "bad-request-default", wantType: "text/html; charset=utf-8",
		},
		{
			name: "redirect", tmpl: productTmpl,
			fn: func(context.Context, *bff.FragmentRequest) (product, error) {
				return product{}, bff.Redirect(http.StatusFound, "/login?next=%2Fproducts%2F42")
			},
			wantStatus: 302, wantType: "text/html; charset=utf-8", wantLocation: "/login?next=%2Fproducts%2F42",
		},
		{
			name: "plain error", tmpl: productTmpl,
			fn: func(context.Context, *bff.FragmentRequest) (product, error) {
				return product{}, errors.New("catalog timeout")
			},
			wantStatus: 500,
			wantLog:    "bff fragment failed", wantLogErr: "catalog timeout",
		},
		{
			name: "5xx *Error", tmpl: productTmpl,
			fn: func(context.Context, *bff.FragmentRequest) (product, error) {
				return product{}, bff.Errorf(http.StatusServiceUnavailable, "down for maintenance")
			},
			wantStatus: 500,
			wantLog:    "bff fragment failed", wantLogErr: "503 service_unavailable: down for maintenance",
		},
		{
			name: "template fails halfway", tmpl: boomTmpl,
			fn: func(context.Context, *bff.FragmentRequest) (product, error) {
				return product{Name: "half"}, nil
			},
			wantStatus: 500,
			wantLog:    "bff fragment template failed",
			wantLogErr: `template: boom:1:23: executing "boom" at <.Boom>: error calling Boom: price service down`,
		},
		{
			name: "error template fails", tmpl: badErrorTmpl,
			fn: func(context.Context, *bff.FragmentRequest) (product, error) {
				return product{}, bff.NotFound("gone")
			},
			wantStatus: 404, wantType: "text/html; charset=utf-8",
			wantLog: "bff fragment error template failed",
			wantLogErr: `template: bad:1:41: executing "error" at <.Nope>: ` +
				`can't evaluate field Nope in type *bff.Error`,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			b, logs := newBFF()
			bff.Fragment(b, tt.tmpl, tt.fn)
			r := httptest.NewRequest("GET", bff.FragmentPath, nil)
			for k, v := range pageHeaders {
				r.Header.Set(k, v)
			}
			rec := serve(t, b, r)
			if rec.Code != tt.wantStatus {
				t.Errorf("status = %d, want %d", rec.Code, tt.wantStatus)
			}
			if got := rec.Header().Get("Content-Type"); got != tt.wantType {
				t.Errorf("Content-Type = %q, want %q", got, tt.wantType)
			}
			if got := rec.Header().Get("Location"); got != tt.wantLocation {
				t.Errorf("Location = %q, want %q", got, tt.wantLocation)
			}
			for k, want := range tt.wantHeader {
				if got := rec.Header().Values(k); !reflect.DeepEqual(got, want) {
					t.Errorf("%s = %q, want %q", k, got, want)
				}
			}
			if tt.golden != "" {
				golden.Check(t, filepath.Join("testdata", "fragment", tt.golden+".html"), rec.Body.Bytes())
			} else if rec.Body.Len() != 0 {
				t.Errorf("body = %q, want none", rec.Body)
			}
			if tt.wantLog == "" {
				if lines := logs.lines(t); len(lines) != 0 {
					t.Errorf("logged %v, want nothing", lines)
				}
				return
			}
			line := logs.only(t)
			for k, v := range map[string]any{"level": "ERROR", "msg": tt.wantLog, "bff": "cart", "err": tt.wantLogErr} {
				if line[k] != v {
					t.Errorf("log %s = %v, want %v", k, line[k], v)
				}
			}
		})
	}
}

func TestFragmentRequest(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		headers map[string]string
		want    bff.FragmentRequest
		wantLog map[string]any // the one line logged, or nil for none
	}{
		{
			name: "all headers",
			headers: map[string]string{
				bff.HeaderPath:   "/products/42?color=red&size=m&size=l",
				bff.HeaderParams: "id=42&tab=reviews",
				bff.HeaderSlot:   "main",
			},
			want: bff.FragmentRequest{
				Path:   "/products/42",
				Query:  url.Values{"color": {"red"}, "size": {"m", "l"}},
				Params: url.Values{"id": {"42"}, "tab": {"reviews"}},
				Slot:   "main",
			},
		},
		{
			name: "no headers",
			want: bff.FragmentRequest{Path: "/", Query: url.Values{}, Params: url.Values{}},
		},
		{
			name: "escaped path and query",
			headers: map[string]string{
				bff.HeaderPath:   "/caf%C3%A9/a%20b?q=red+shoes&x=%26",
				bff.HeaderParams: "name=caf%C3%A9&q=a%2Bb",
			},
			want: bff.FragmentRequest{
				Path:   "/café/a b",
				Query:  url.Values{"q": {"red shoes"}, "x": {"&"}},
				Params: url.Values{"name": {"café"}, "q": {"a+b"}},
			},
		},
		{
			name:    "relative path is ignored",
			headers: map[string]string{bff.HeaderPath: "products/42?color=red"},
			want:    bff.FragmentRequest{Path: "/", Query: url.Values{}, Params: url.Values{}},
		},
		{
			name:    "malformed params keep the good ones and are logged",
			headers: map[string]string{bff.HeaderParams: "id=%zz&tab=reviews"},
			want:    bff.FragmentRequest{Path: "/", Query: url.Values{}, Params: url.Values{"tab": {"reviews"}}},
			wantLog: map[string]any{"level": "WARN", "msg": "bff: malformed Collage-Params header", "value": "id=%zz&tab=reviews"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			b, logs := newBFF()
			var got *bff.FragmentRequest
			bff.Fragment(b, plainTmpl, func(_ context.Context, f *bff.FragmentRequest) (product, error) {
				got = f
				return product{Name: f.Param("id")}, nil
			})
			r := httptest.NewRequest("GET", bff.FragmentPath, nil)
			for k, v := range tt.headers {
				r.Header.Set(k, v)
			}
			rec := serve(t, b, r)
			if rec.Code != 200 {
				t.Fatalf("status = %d, want 200", rec.Code)
			}
			if got == nil || !reflect.DeepEqual(*got, tt.want) {
				t.Fatalf("FragmentRequest = %+v, want %+v", got, tt.want)
			}
			if want := "<h1>" + template.HTMLEscapeString(tt.want.Params.Get("id")) + "</h1>"; rec.Body.String() != want {
				t.Errorf("body = %q, want %q", rec.Body, want)
			}
			if tt.wantLog == nil {
				if lines := logs.lines(t); len(lines) != 0 {
					t.Errorf("logged %v, want nothing", lines)
				}
				return
			}
			line := logs.only(t)
			for k, v := range tt.wantLog {
				if line[k] != v {
					t.Errorf("log %s = %v, want %v", k, line[k], v)
				}
			}
		})
	}
}

func TestFragmentRouting(t *testing.T) {
	t.Parallel()
	b, logs := newBFF()
	bff.Fragment(b, plainTmpl, func(ctx context.Context, f *bff.FragmentRequest) (product, error) {
		if f.Slot == "panic" {
			panic("slot exploded")
		}
		return product{Name: "ok"}, nil
	})

	rec := serve(t, b, httptest.NewRequest("POST", bff.FragmentPath, nil))
	if rec.Code != 405 || rec.Header().Get("Allow") != "GET, HEAD" {
		t.Errorf("POST %s = %d Allow %q, want 405 Allow \"GET, HEAD\"", bff.FragmentPath, rec.Code, rec.Header().Get("Allow"))
	}
	want := errorDetail{Code: "method_not_allowed", Message: "no function for POST /_fragment"}
	if got := errorOf(t, rec); got != want {
		t.Errorf("error = %+v, want %+v", got, want)
	}

	r := httptest.NewRequest("GET", bff.FragmentPath, nil)
	r.Header.Set(bff.HeaderSlot, "panic")
	if rec := serve(t, b, r); rec.Code != 500 {
		t.Errorf("panicking fragment: status = %d, want 500", rec.Code)
	}
	if line := logs.only(t); line["msg"] != "bff function panicked" || line["panic"] != "slot exploded" {
		t.Errorf("logged %v, want the panic", line)
	}

	rec = serve(t, b, httptest.NewRequest("GET", bff.FragmentPath, nil))
	if rec.Code != 200 || rec.Body.String() != "<h1>ok</h1>" {
		t.Errorf("after a panic: %d %q, want 200 <h1>ok</h1>", rec.Code, rec.Body)
	}
}

// TestRenderFragmentRelease: an answer's body stays as rendered until it
// is released, and a released buffer renders the next answer afresh.
func TestRenderFragmentRelease(t *testing.T) {
	t.Parallel()
	b := bff.New("t")
	bff.Fragment(b, template.Must(template.New("").Parse(`<p>{{.}}</p>`)), func(_ context.Context, r *bff.FragmentRequest) (string, error) {
		return r.Param("n"), nil
	})
	render := func(n string) bff.FragmentAnswer {
		ans, ok := b.RenderFragment(context.Background(), &bff.FragmentCall{Path: "/", Params: "n=" + n})
		if !ok {
			t.Fatal("no fragment")
		}
		return ans
	}
	first, second := render("1"), render("22")
	if string(first.Body) != "<p>1</p>" || string(second.Body) != "<p>22</p>" {
		t.Fatalf("bodies %q and %q, each rendered into a buffer of its own", first.Body, second.Body)
	}
	first.Release()
	second.Release()
	for _, n := range []string{"333", "4"} {
		ans := render(n)
		if want := "<p>" + n + "</p>"; string(ans.Body) != want {
			t.Errorf("after a release: body %q, want %q", ans.Body, want)
		}
		ans.Release()
	}
}

func TestFragmentAnswerReleaseWith(t *testing.T) {
	t.Parallel()
	released := 0
	a := bff.FragmentAnswer{Status: 200, Body: []byte("<p>x</p>")}.ReleaseWith(func() { released++ })
	if a.Status != 200 || string(a.Body) != "<p>x</p>" {
		t.Errorf("ReleaseWith changed the answer: %+v", a)
	}
	a.Release()
	if released != 1 {
		t.Errorf("Release called the invoker's release %d times, want 1", released)
	}
}

// TestRenderFragmentHeaders: an answer with no header but its Content-Type
// shares one Header with every other such answer, and one that sets a
// header of its own gets its own, leaving the shared one as it was.
func TestRenderFragmentHeaders(t *testing.T) {
	t.Parallel()
	b := bff.New("t")
	bff.Fragment(b, template.Must(template.New("").Parse(`<p>{{.}}</p>`)), func(ctx context.Context, r *bff.FragmentRequest) (string, error) {
		if r.Param("cache") != "" {
			bff.SetHeader(ctx, "Cache-Control", "max-age=60")
		}
		return "x", nil
	})
	render := func(params string) http.Header {
		ans, ok := b.RenderFragment(context.Background(), &bff.FragmentCall{Path: "/", Params: params})
		if !ok {
			t.Fatal("no fragment")
		}
		ans.Release()
		return ans.Header
	}
	html := http.Header{"Content-Type": {"text/html; charset=utf-8"}}
	first, cached, last := render(""), render("cache=1"), render("")
	if want := (http.Header{"Content-Type": {"text/html; charset=utf-8"}, "Cache-Control": {"max-age=60"}}); !reflect.DeepEqual(cached, want) {
		t.Errorf("header %v, want %v", cached, want)
	}
	if !reflect.DeepEqual(first, html) || !reflect.DeepEqual(last, html) {
		t.Errorf("headers %v and %v, want %v", first, last, html)
	}
	if reflect.ValueOf(first).UnsafePointer() != reflect.ValueOf(last).UnsafePointer() {
		t.Error("two answers with only an HTML Content-Type have a Header each, want one shared")
	}
}

// FuzzFragmentRequestPath: the page's path and query reach the fragment
// function as url.ParseRequestURI reads them ("/" and no query when it
// cannot), whether or not they need parsing.
func FuzzFragmentRequestPath(f *testing.F) {
	for _, s := range []string{"/", "/products/42", "/products/42?color=red&size=m", "/a?", "/a?b=1?c=2", "//x/y",
		"/caf%C3%A9?q=%20", "/a b", "/a?b=\x01", "/a\x7f", "relative", "", "/a;b?c=1;d=2", "/a?b=1#frag", "/%zz", "/a/../b~_.-"} {
		f.Add(s)
	}
	b := bff.New("t")
	type seen struct {
		path  string
		query url.Values
	}
	var got seen
	bff.Fragment(b, template.Must(template.New("").Parse(``)), func(_ context.Context, r *bff.FragmentRequest) (string, error) {
		got = seen{r.Path, r.Query}
		return "", nil
	})
	f.Fuzz(func(t *testing.T, uri string) {
		want := seen{"/", url.Values{}}
		if u, err := url.ParseRequestURI(uri); err == nil {
			want = seen{u.Path, u.Query()}
		}
		ans, _ := b.RenderFragment(context.Background(), &bff.FragmentCall{Path: uri})
		ans.Release()
		if !reflect.DeepEqual(got, want) {
			t.Errorf("%q: path %q, query %v; want %q, %v", uri, got.path, got.query, want.path, want.query)
		}
	})
}

// BenchmarkRenderFragment is the shell's call of a linked-in BFF's
// fragment, for a page with and without a query.
func BenchmarkRenderFragment(bm *testing.B) {
	b := bff.New("t")
	bff.Fragment(b, template.Must(template.New("").Parse(`<p>{{.}}</p>`)), func(_ context.Context, r *bff.FragmentRequest) (string, error) {
		return r.Param("id"), nil
	})
	for _, path := range []string{"/", "/products/42?color=red"} {
		bm.Run(path, func(bm *testing.B) {
			call := &bff.FragmentCall{Path: path, Params: "id=42"}
			bm.ReportAllocs()
			for bm.Loop() {
				ans, _ := b.RenderFragment(context.Background(), call)
				ans.Release()
			}
		})
	}
}

// TestRenderFragmentContext checks that the context a linked-in BFF's
// fragment gets is the caller's: its values, its deadline and its end,
// also through a context derived from it, besides the exchange that
// SetStatus reaches.
func TestRenderFragmentContext(t *testing.T) {
	t.Parallel()
	type key struct{}
	deadline := time.Now().Add(time.Hour)
	parent, cancel := context.WithDeadline(context.WithValue(context.Background(), key{}, "v"), deadline)
	b := bff.New("t")
	bff.Fragment(b, template.Must(template.New("").Parse(`<p>{{.}}</p>`)), func(ctx context.Context, _ *bff.FragmentRequest) (string, error) {
		if v, _ := ctx.Value(key{}).(string); v != "v" {
			t.Errorf("value %q, want the caller's", v)
		}
		if d, ok := ctx.Deadline(); !ok || !d.Equal(deadline) {
			t.Errorf("deadline %v, %v; want the caller's, %v", d, ok, deadline)
		}
		child, stop := context.WithTimeout(ctx, time.Hour)
		defer stop()
		cancel()
		select {
		case <-child.Done():
		case <-time.After(5 * time.Second):
			t.Error("a context derived from the BFF's did not end with the caller's")
		}
		if !errors.Is(ctx.Err(), context.Canceled) {
			t.Errorf("err %v, want context.Canceled", ctx.Err())
		}
		bff.SetStatus(ctx, http.StatusCreated)
		return "x", nil
	})
	ans, ok := b.RenderFragment(parent, &bff.FragmentCall{Path: "/"})
	if !ok {
		t.Fatal("no fragment")
	}
	if ans.Status != http.StatusCreated || string(ans.Body) != "<p>x</p>" {
		t.Errorf("status %d, body %q; want 201, <p>x</p>", ans.Status, ans.Body)
	}
	ans.Releaser()() // the buffer's own release, made once
}
