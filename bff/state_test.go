package bff_test

import (
	"context"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/collage-dev/collage/bff"
)

// counter returns a BFF whose POST /hits counts its calls in its State,
// the State taken when the BFF is built, before any UseState.
func counter(name string) *bff.BFF {
	b := bff.New(name)
	st := b.State()
	bff.Handle(b, "POST /hits", func(ctx context.Context, _ struct{}) (string, error) {
		v, err := st.Update(ctx, "hits", 0, func(old []byte, _ bool) ([]byte, error) {
			return append(old, '|'), nil
		})
		return string(v), err
	})
	return b
}

func hit(t *testing.T, b *bff.BFF) string {
	t.Helper()
	w := httptest.NewRecorder()
	b.ServeHTTP(w, httptest.NewRequest(http.MethodPost, "/hits", nil))
	if w.Code != http.StatusOK {
		t.Fatalf("status %d: %s", w.Code, w.Body)
	}
	return w.Body.String()
}

func TestStateOfTheRuntime(t *testing.T) {
	t.Parallel()
	store := bff.NewMemState()
	a, a2, b := counter("a"), counter("a"), counter("b")
	for _, x := range []*bff.BFF{a, a2, b} {
		x.UseState(store)
	}
	hit(t, a)
	hit(t, a2)
	if got := hit(t, a); got != `"|||"` {
		t.Errorf("the third hit of two BFFs called a on one store = %s, want three", got)
	}
	if got := hit(t, b); got != `"|"` {
		t.Errorf("the first hit of b on a's store = %s, want one", got)
	}
}

// TestStateDefault: a BFF given no store keeps its state in memory of its
// own, which another BFF of the same name does not see.
func TestStateDefault(t *testing.T) {
	t.Parallel()
	a, a2 := counter("a"), counter("a")
	hit(t, a)
	if got := hit(t, a); got != `"||"` {
		t.Errorf("the second hit = %s, want two", got)
	}
	if got := hit(t, a2); got != `"|"` {
		t.Errorf("another BFF's first hit = %s, want one: a BFF's own memory is its own", got)
	}
}

func TestFactoryWithState(t *testing.T) {
	t.Parallel()
	store := bff.NewMemState()
	f := bff.Factory(func(bff.Settings) (*bff.BFF, error) { return counter("a"), nil }).WithState(store)
	for want := range 3 {
		b, err := f(nil)
		if err != nil {
			t.Fatal(err)
		}
		if got := hit(t, b); got != `"`+strings.Repeat("|", want+1)+`"` {
			t.Errorf("hit of BFF %d = %s", want+1, got)
		}
	}
	failing := bff.Factory(func(bff.Settings) (*bff.BFF, error) { return nil, context.Canceled }).WithState(store)
	if b, err := failing(nil); b != nil || err != context.Canceled {
		t.Errorf("a failing factory with state = %v, %v; want its error", b, err)
	}
}

// TestStateErrorIsInternal: a function whose state fails answers 500 and
// shows nothing of the cause.
func TestStateErrorIsInternal(t *testing.T) {
	t.Parallel()
	b := counter("not a name")
	b.Log = slog.New(slog.DiscardHandler)
	w := httptest.NewRecorder()
	b.ServeHTTP(w, httptest.NewRequest(http.MethodPost, "/hits", nil))
	if w.Code != http.StatusInternalServerError || strings.Contains(w.Body.String(), "name") {
		t.Errorf("status %d body %s, want a 500 that keeps the cause to the log", w.Code, w.Body)
	}
}
