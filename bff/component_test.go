package bff_test

import (
	"bytes"
	"context"
	"errors"
	"html/template"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/collage-dev/collage/bff"
	"github.com/collage-dev/collage/component"
)

// card is the data of the test component.
type card struct {
	Name string `json:"name"`
}

// echo renders the data it gets inside a <p>, or fails with err.
type echo struct{ err error }

func (e echo) Render(_ context.Context, data []byte) ([]byte, error) {
	if e.err != nil {
		return nil, e.err
	}
	return []byte("<p>" + string(data) + "</p>"), nil
}

func TestComponent(t *testing.T) {
	t.Parallel()
	ok := func(context.Context, *bff.FragmentRequest) (card, error) { return card{Name: "Mug </script>"}, nil }
	tests := []struct {
		name       string
		fn         func(context.Context, *bff.FragmentRequest) (card, error)
		renderer   component.Renderer
		opts       bff.ComponentOptions
		wantStatus int
		wantType   string
		wantBody   string
		wantHeader string // "NAME: VALUE" the answer must carry
		wantLog    string
	}{
		{
			name: "data for the shell", fn: ok,
			wantStatus: 200, wantType: component.MediaType, wantBody: `{"name":"Mug \u003c/script\u003e"}`,
		},
		{
			name: "rendered where the BFF runs", fn: ok, renderer: echo{},
			wantStatus: 200, wantType: "text/html; charset=utf-8",
			wantBody: `<script type="application/json" data-collage-data>{"name":"Mug \u003c/script\u003e"}</script>` +
				`<p>{"name":"Mug \u003c/script\u003e"}</p>`,
		},
		{
			name: "per user", fn: ok, opts: bff.ComponentOptions{PerUser: true},
			wantStatus: 200, wantType: component.MediaType, wantHeader: bff.HeaderPerUser + ": 1",
		},
		{
			name: "a 4xx is View's error prop",
			fn: func(context.Context, *bff.FragmentRequest) (card, error) {
				return card{}, bff.NotFound("No card %q", "x")
			},
			wantStatus: 404, wantType: component.MediaType,
			wantBody: `{"error":{"status":404,"code":"not_found","message":"No card \"x\""}}`,
		},
		{
			name: "a redirect has no body",
			fn: func(context.Context, *bff.FragmentRequest) (card, error) {
				return card{}, &bff.Error{Status: http.StatusFound, Location: "/elsewhere"}
			},
			wantStatus: 302, wantHeader: "Location: /elsewhere",
		},
		{
			name: "a failure is a 500",
			fn: func(context.Context, *bff.FragmentRequest) (card, error) {
				return card{}, errors.New("database down")
			},
			wantStatus: 500, wantLog: "bff fragment failed",
		},
		{
			name: "a render that fails is a 500 with its stack logged", fn: ok,
			renderer:   echo{err: &component.Error{Frontend: "shop", Message: "TypeError: x", Stack: "    at View (src/View.tsx:3:9)"}},
			wantStatus: 500, wantLog: bff.ComponentFailed,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			var logs bytes.Buffer
			b := bff.New("shop")
			b.Log = slog.New(slog.NewTextHandler(&logs, nil))
			b.Renderer = tt.renderer
			bff.Component(b, tt.fn, tt.opts)
			for _, via := range []string{"http", "in-process"} {
				status, header, body := fragmentVia(t, b, via)
				if status != tt.wantStatus {
					t.Errorf("%s: status %d, want %d", via, status, tt.wantStatus)
				}
				if tt.wantType != "" && header.Get("Content-Type") != tt.wantType {
					t.Errorf("%s: Content-Type %q, want %q", via, header.Get("Content-Type"), tt.wantType)
				}
				if tt.wantBody != "" && body != tt.wantBody {
					t.Errorf("%s: body\n%s\nwant\n%s", via, body, tt.wantBody)
				}
				if k, v, _ := strings.Cut(tt.wantHeader, ": "); k != "" && header.Get(k) != v {
					t.Errorf("%s: %s = %q, want %q", via, k, header.Get(k), v)
				}
			}
			if tt.wantLog == "" && logs.Len() > 0 {
				t.Errorf("logged: %s", logs.String())
			}
			if tt.wantLog != "" && !strings.Contains(logs.String(), "msg=\""+tt.wantLog+"\"") {
				t.Errorf("log %q, want %q", logs.String(), tt.wantLog)
			}
			if tt.wantLog == bff.ComponentFailed && !strings.Contains(logs.String(), "src/View.tsx:3:9") {
				t.Errorf("log has no stack: %s", logs.String())
			}
		})
	}
}

// fragmentVia asks b for its fragment over HTTP or as the shell does in
// process.
func fragmentVia(t *testing.T, b *bff.BFF, via string) (int, http.Header, string) {
	t.Helper()
	if via == "in-process" {
		ans, ok := b.RenderFragment(context.Background(), &bff.FragmentCall{Path: "/"})
		if !ok {
			t.Fatal("no fragment")
		}
		defer ans.Release()
		return ans.Status, ans.Header, string(ans.Body)
	}
	w := serve(t, b, httptest.NewRequest("GET", bff.FragmentPath, nil))
	return w.Code, w.Header(), w.Body.String()
}

func TestFragmentAnswersItsDataForTheDriftCheck(t *testing.T) {
	t.Parallel()
	b := bff.New("shop")
	bff.Fragment(b, template.Must(template.New("t").Parse(`<p>{{.Name}}</p>`)), func(context.Context, *bff.FragmentRequest) (card, error) {
		return card{Name: "Mug"}, nil
	})
	ans, _ := b.RenderFragment(context.Background(), &bff.FragmentCall{Path: "/", Header: http.Header{bff.HeaderDrift: {"1"}}})
	if string(ans.Body) != `<script type="application/json" data-collage-data>{"name":"Mug"}</script><p>Mug</p>` || ans.Header.Get(bff.HeaderDrift) != "1" {
		t.Errorf("with %s: %q %v", bff.HeaderDrift, ans.Body, ans.Header)
	}
	ans, _ = b.RenderFragment(context.Background(), &bff.FragmentCall{Path: "/"})
	if string(ans.Body) != `<p>Mug</p>` || ans.Header.Get(bff.HeaderDrift) != "" {
		t.Errorf("without: %q %v", ans.Body, ans.Header)
	}
}
