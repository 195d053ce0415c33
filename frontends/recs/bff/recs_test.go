package recs

import (
	"context"
	"github.com/collage-dev/collage/component"
	"net/http"
	"net/url"
	"slices"
	"testing"
	"time"

	"github.com/collage-dev/collage/bff"
	"github.com/collage-dev/collage/frontends/internal/shopdata"
	"github.com/collage-dev/collage/frontends/internal/shoptest"
)

func ids(ps []shopdata.Product) []string {
	var out []string
	for _, p := range ps {
		out = append(out, p.ID)
	}
	return out
}

func TestRecommend(t *testing.T) {
	t.Parallel()
	h := shoptest.New(t, New, nil)
	tests := []struct {
		exclude string
		title   string
		want    []string
	}{
		{"", "Popular right now", []string{"3", "6", "8", "2"}},
		{"99", "Popular right now", []string{"3", "6", "8", "2"}},
		{"1", "You may also like", []string{"2", "3", "4", "5"}},
		{"3", "You may also like", []string{"1", "2", "4", "5"}},
		{"5", "You may also like", []string{"6", "7", "11", "4"}},
		{"10", "You may also like", []string{"12", "8", "9", "11"}},
	}
	for _, tt := range tests {
		t.Run("exclude="+tt.exclude, func(t *testing.T) {
			t.Parallel()
			w := shoptest.Serve(h, shoptest.JSONRequest(http.MethodGet, "/recs?exclude="+tt.exclude, nil))
			if w.Code != http.StatusOK {
				t.Fatalf("status %d; body: %s", w.Code, w.Body)
			}
			r := shoptest.Decode[Recs](t, w)
			if got := ids(r.Products); r.Title != tt.title || !slices.Equal(got, tt.want) {
				t.Errorf("got %q %v, want %q %v", r.Title, got, tt.title, tt.want)
			}
		})
	}
	for _, p := range shopdata.Products() {
		r := recommend(p.ID)
		if len(r.Products) != Count || slices.Contains(ids(r.Products), p.ID) {
			t.Errorf("recommend(%q) = %v, want %d others", p.ID, ids(r.Products), Count)
		}
	}
}

func TestFragment(t *testing.T) {
	t.Parallel()
	h := shoptest.New(t, New, nil)
	tests := []struct {
		golden string
		path   string
		params url.Values
	}{
		{"home.golden.json", "/", nil},
		{"product.golden.json", "/products/4", url.Values{"id": {"4"}}},
	}
	for _, tt := range tests {
		t.Run(tt.golden, func(t *testing.T) {
			t.Parallel()
			w := shoptest.Serve(h, shoptest.FragmentRequest(tt.path, tt.params))
			if w.Code != http.StatusOK {
				t.Fatalf("status %d; body: %s", w.Code, w.Body)
			}
			if ct := w.Header().Get("Content-Type"); ct != component.MediaType {
				t.Errorf("Content-Type = %q", ct)
			}
			shoptest.Golden(t, tt.golden, w.Body.Bytes())
		})
	}
}

func TestBadDelaySetting(t *testing.T) {
	t.Parallel()
	if _, err := New(bff.Settings{"delay": "soon"}); err == nil {
		t.Error("New accepted delay: soon")
	}
}

func TestDelay(t *testing.T) {
	t.Parallel()
	const delay = 50 * time.Millisecond
	h := shoptest.New(t, New, bff.Settings{"delay": delay.String()})
	for _, r := range []*http.Request{
		shoptest.FragmentRequest("/", nil),
		shoptest.JSONRequest(http.MethodGet, "/recs", nil),
	} {
		start := time.Now()
		w := shoptest.Serve(h, r)
		if w.Code != http.StatusOK {
			t.Errorf("%s: status %d", r.URL, w.Code)
		}
		if took := time.Since(start); took < delay {
			t.Errorf("%s answered after %v, want at least %v", r.URL, took, delay)
		}
	}
}

// A request whose context ends, as when the shell's deadline for the slot
// passes, is given up at once rather than after the delay.
func TestDelayHonoursCancellation(t *testing.T) {
	t.Parallel()
	h := shoptest.New(t, New, bff.Settings{"delay": "1h"})
	for _, r := range []*http.Request{
		shoptest.FragmentRequest("/", nil),
		shoptest.JSONRequest(http.MethodGet, "/recs", nil),
	} {
		ctx, cancel := context.WithTimeout(context.Background(), 20*time.Millisecond)
		done := make(chan int)
		go func() { done <- shoptest.Serve(h, r.WithContext(ctx)).Code }()
		select {
		case code := <-done:
			if code != http.StatusInternalServerError {
				t.Errorf("%s: status %d after cancellation, want 500", r.URL, code)
			}
		case <-time.After(10 * time.Second):
			t.Errorf("%s still waiting 10s after its context ended", r.URL)
		}
		cancel()
	}
}
