package bff_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"slices"
	"testing"

	"github.com/collage-dev/collage/bff"
)

func TestCookie(t *testing.T) {
	t.Parallel()
	type seen struct {
		SID, Theme       string
		HasSID, HasTheme bool
	}
	tests := []struct {
		name   string
		cookie string
		want   seen
	}{
		{name: "none", want: seen{}},
		{name: "one of two", cookie: "sid=abc123", want: seen{SID: "abc123", HasSID: true}},
		{name: "both", cookie: "theme=dark; sid=abc123", want: seen{SID: "abc123", HasSID: true, Theme: "dark", HasTheme: true}},
		{name: "empty value is present", cookie: "sid=", want: seen{HasSID: true}},
		{name: "quoted value", cookie: `theme="light"`, want: seen{Theme: "light", HasTheme: true}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			b, _ := newBFF()
			var got seen
			bff.Handle(b, "GET /me", func(ctx context.Context, _ struct{}) (string, error) {
				got.SID, got.HasSID = bff.Cookie(ctx, "sid")
				got.Theme, got.HasTheme = bff.Cookie(ctx, "theme")
				return "", nil
			})
			r := httptest.NewRequest("GET", "/me", nil)
			if tt.cookie != "" {
				r.Header.Set("Cookie", tt.cookie)
			}
			if rec := serve(t, b, r); rec.Code != 200 {
				t.Fatalf("status = %d, want 200", rec.Code)
			}
			if got != tt.want {
				t.Errorf("Cookie saw %+v, want %+v", got, tt.want)
			}
		})
	}
}

func TestResponseHeaders(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name       string
		fn         func(ctx context.Context, _ struct{}) (string, error)
		wantStatus int
		want       http.Header // every key listed must match exactly
	}{
		{
			name: "SetCookie twice",
			fn: func(ctx context.Context, _ struct{}) (string, error) {
				bff.SetCookie(ctx, &http.Cookie{Name: "sid", Value: "new", Path: "/", HttpOnly: true, SameSite: http.SameSiteLaxMode})
				bff.SetCookie(ctx, &http.Cookie{Name: "theme", Value: "dark", MaxAge: 3600})
				return "ok", nil
			},
			wantStatus: 200,
			want: http.Header{"Set-Cookie": {
				"sid=new; Path=/; HttpOnly; SameSite=Lax",
				"theme=dark; Max-Age=3600",
			}},
		},
		{
			name: "SetHeader replaces",
			fn: func(ctx context.Context, _ struct{}) (string, error) {
				bff.SetHeader(ctx, "Cache-Control", "no-store")
				bff.SetHeader(ctx, "cache-control", "max-age=60")
				bff.SetHeader(ctx, "X-Request-Id", bff.Header(ctx, "X-Request-Id"))
				return "ok", nil
			},
			wantStatus: 200,
			want:       http.Header{"Cache-Control": {"max-age=60"}, "X-Request-Id": {"req-7"}},
		},
		{
			// A function may answer 429 with Retry-After, or clear a
			// session on a 401: headers survive an *Error.
			name: "headers kept on an *Error",
			fn: func(ctx context.Context, _ struct{}) (string, error) {
				bff.SetHeader(ctx, "Retry-After", "30")
				bff.SetCookie(ctx, &http.Cookie{Name: "sid", MaxAge: -1})
				return "", bff.Errorf(http.StatusTooManyRequests, "slow down")
			},
			wantStatus: 429,
			want: http.Header{
				"Retry-After":  {"30"},
				"Set-Cookie":   {"sid=; Max-Age=0"},
				"Content-Type": {"application/json"},
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			b, _ := newBFF()
			bff.Handle(b, "POST /session", tt.fn)
			r := httptest.NewRequest("POST", "/session", nil)
			r.Header.Set("X-Request-Id", "req-7")
			rec := serve(t, b, r)
			if rec.Code != tt.wantStatus {
				t.Errorf("status = %d, want %d", rec.Code, tt.wantStatus)
			}
			for k, want := range tt.want {
				if got := rec.Result().Header.Values(k); !slices.Equal(got, want) {
					t.Errorf("%s = %q, want %q", k, got, want)
				}
			}
		})
	}
}

func TestContextOutsideBFF(t *testing.T) {
	t.Parallel()
	calls := map[string]func(ctx context.Context){
		"Cookie":    func(ctx context.Context) { bff.Cookie(ctx, "sid") },
		"SetCookie": func(ctx context.Context) { bff.SetCookie(ctx, &http.Cookie{Name: "a", Value: "b"}) },
		"Header":    func(ctx context.Context) { bff.Header(ctx, "X-Foo") },
		"SetHeader": func(ctx context.Context) { bff.SetHeader(ctx, "X-Foo", "bar") },
		"SetStatus": func(ctx context.Context) { bff.SetStatus(ctx, 201) },
	}
	for name, call := range calls {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			defer func() {
				const want = "bff: context does not come from a BFF request"
				if got := recover(); got != want {
					t.Errorf("panic = %v, want %q", got, want)
				}
			}()
			call(context.Background())
		})
	}
}
