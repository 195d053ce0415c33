package shopdata

import (
	"fmt"
	"testing"
)

func TestFormatPrice(t *testing.T) {
	t.Parallel()
	tests := []struct {
		cents int
		want  string
	}{
		{0, "$0.00"},
		{5, "$0.05"},
		{1250, "$12.50"},
		{99999, "$999.99"},
		{100000, "$1,000.00"},
		{123456789, "$1,234,567.89"},
		{-500, "-$5.00"},
	}
	for _, tt := range tests {
		if got := FormatPrice(tt.cents); got != tt.want {
			t.Errorf("FormatPrice(%d) = %q, want %q", tt.cents, got, tt.want)
		}
	}
}

func TestCatalogue(t *testing.T) {
	t.Parallel()
	ps := Products()
	if len(ps) < 8 || len(ps) > 12 {
		t.Fatalf("%d products, want 8 to 12", len(ps))
	}
	counted := 0
	for i, p := range ps {
		if want := fmt.Sprint(i + 1); p.ID != want {
			t.Errorf("product %d has id %q, want %q", i, p.ID, want)
		}
		if p.Name == "" || p.Description == "" || p.Price <= 0 || p.PriceText == "" {
			t.Errorf("product %s is incomplete: %+v", p.ID, p)
		}
		if c, ok := CategoryBySlug(p.Category); !ok || c.Name != p.CategoryName {
			t.Errorf("product %s has unknown category %q", p.ID, p.Category)
		}
		if got, ok := ProductByID(p.ID); !ok || got != p {
			t.Errorf("ProductByID(%q) = %+v, %v", p.ID, got, ok)
		}
	}
	for _, c := range Categories {
		n := len(InCategory(c.Slug))
		if n == 0 {
			t.Errorf("category %s is empty", c.Slug)
		}
		counted += n
	}
	if counted != len(ps) {
		t.Errorf("categories hold %d products, want %d", counted, len(ps))
	}
	if _, ok := ProductByID("0"); ok {
		t.Error(`ProductByID("0") found a product`)
	}
}

func TestProductsIsACopy(t *testing.T) {
	t.Parallel()
	Products()[0].Name = "changed"
	if p, _ := ProductByID("1"); p.Name == "changed" {
		t.Error("changing the result of Products changed the catalogue")
	}
}
