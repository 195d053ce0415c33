package cli

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/collage-dev/collage/internal/golden"
)

// TestAddSlot adds banner's slot to each layout of testdata/addslot and
// compares the result with NAME.golden (UPDATE_GOLDEN=1 rewrites them).
func TestAddSlot(t *testing.T) {
	t.Parallel()
	inputs, err := filepath.Glob(filepath.Join("testdata", "addslot", "*.html"))
	if err != nil {
		t.Fatal(err)
	}
	if len(inputs) == 0 {
		t.Fatal("no layouts in testdata/addslot")
	}
	for _, path := range inputs {
		t.Run(filepath.Base(path), func(t *testing.T) {
			t.Parallel()
			src, err := os.ReadFile(path)
			if err != nil {
				t.Fatal(err)
			}
			got, err := addSlot(path, src, "banner", slotHTML("banner"))
			if err != nil {
				t.Fatal(err)
			}
			golden.Check(t, strings.TrimSuffix(path, ".html")+".golden", got)
		})
	}
}

func TestAddSlotRefuses(t *testing.T) {
	t.Parallel()
	tests := []struct{ name, src, err string }{
		{"already there", `<main><collage-slot frontend="banner"></collage-slot></main>`, "l.html: already has a slot of banner"},
		{"inside a fallback", `<collage-slot frontend="a"><main>x</main></collage-slot>`, "would break the layout: l.html:1: <collage-slot> cannot be nested"},
		{"broken layout", `<collage-slot frontend="a">`, "l.html:1:"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got, err := addSlot("l.html", []byte(tt.src), "banner", slotHTML("banner"))
			if err == nil || !strings.Contains(err.Error(), tt.err) {
				t.Errorf("error %v, want one with %q; got:\n%s", err, tt.err, got)
			}
		})
	}
}
