package registry

import (
	"context"
	"errors"
	"reflect"
	"testing"

	"github.com/collage-dev/collage/bff"
)

// TestMemStoreRefusedRuleChangesNothing runs a rule that writes everything
// a transaction can and then fails, and checks the store is as before.
func TestMemStoreRefusedRuleChangesNothing(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s := NewMemStore()
	if _, _, err := s.Publish(ctx, &Release{Frontend: "cart", Label: "v1", BFF: "local"}); err != nil {
		t.Fatal(err)
	}
	before, err := s.Load(ctx)
	if err != nil {
		t.Fatal(err)
	}
	refused := errors.New("refused")
	err = s.update(ctx, func(tx Tx) error {
		f, err := tx.Frontend("cart")
		if err != nil {
			return err
		}
		r, err := tx.Release("cart", "v1")
		if err != nil {
			return err
		}
		f.Active, r.Yanked = "v1", true
		f.History = append(f.History, Change{Revision: 2, Kind: KindPromote, Frontend: "cart", Label: "v1"})
		for _, err := range []error{
			tx.SetRevision(2),
			tx.PutFrontend(f),
			tx.PutFrontend(&FrontendState{Name: "header"}),
			tx.PutRelease(r),
			tx.PutRelease(&Release{Frontend: "header", Label: "v1", BFF: "local"}),
			tx.Log(f.History[len(f.History)-1]),
		} {
			if err != nil {
				return err
			}
		}
		// The transaction reads its own writes.
		if got, _ := tx.Frontend("header"); got == nil {
			t.Error("a frontend put in the transaction is not read back in it")
		}
		if names, _ := tx.Frontends(); len(names) != 2 {
			t.Errorf("frontends in the transaction: %q, want cart and header", names)
		}
		if got, _ := tx.Release("cart", "v1"); got == nil || !got.Yanked {
			t.Errorf("release in the transaction: %+v, want the yanked one put", got)
		}
		return refused
	})
	if !errors.Is(err, refused) {
		t.Fatalf("update: %v, want the rule's error", err)
	}
	after, err := s.Load(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(before, after) {
		t.Errorf("a refused rule changed the store:\nbefore %+v\nafter  %+v", before, after)
	}
	if h, _ := s.History(ctx, 0); len(h) != 1 {
		t.Errorf("history after a refused rule: %+v, want the publish only", h)
	}
}

// TestMemStoreValuesDoNotAlias changes every value the store took or gave
// and checks the store still holds what it was given.
func TestMemStoreValuesDoNotAlias(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s := NewMemStore()
	in := &Release{Frontend: "cart", Label: "v1", BFF: "local", Settings: bff.Settings{"k": "v"}}
	out, _, err := s.Publish(ctx, in)
	if err != nil {
		t.Fatal(err)
	}
	want, err := s.Load(ctx)
	if err != nil {
		t.Fatal(err)
	}
	in.BFF, in.Settings["k"] = "changed", "changed"
	out.BFF, out.Settings["k"] = "changed", "changed"
	f, rs, err := s.List(ctx, "cart")
	if err != nil {
		t.Fatal(err)
	}
	f.Versions[0], f.History[0].Label, rs[0].Label = "changed", "changed", "changed"
	st, err := s.Load(ctx)
	if err != nil {
		t.Fatal(err)
	}
	st.Frontends["cart"].Active = "changed"
	st.Releases["cart"]["v1"].Yanked = true
	h, _ := s.History(ctx, 0)
	h[0].Label = "changed"
	got, err := s.Load(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("the store changed with values it gave or took:\ngot  %+v\nwant %+v", got, want)
	}
	if h, _ := s.History(ctx, 0); h[0].Label != "v1" {
		t.Errorf("history changed with a value it gave: %+v", h[0])
	}
}
