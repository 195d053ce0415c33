package dev

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestGoProblem reads the go command's output into the overlay's problem:
// the first error's place, its line of source, and the whole output.
func TestGoProblem(t *testing.T) {
	t.Parallel()
	root := t.TempDir()
	dir := filepath.Join(root, "frontends", "cart", "bff")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	src := "package cart\n\nfunc New() {\n\treturn nope\n}\n"
	if err := os.WriteFile(filepath.Join(dir, "cart.go"), []byte(src), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, tt := range []struct {
		name, output string
		want         Problem
	}{
		{"relative", "# example.com/shop/frontends/cart/bff\nfrontends/cart/bff/cart.go:4:9: undefined: nope\nfrontends/cart/bff/cart.go:4:9: too many return values\n",
			Problem{Source: SourceGo, File: "frontends/cart/bff/cart.go", Line: 4, Column: 9, Message: "undefined: nope"}},
		{"dot", "# example.com/shop/frontends/cart/bff\n./frontends/cart/bff/cart.go:4:9: undefined: nope\n",
			Problem{Source: SourceGo, File: "frontends/cart/bff/cart.go", Line: 4, Column: 9, Message: "undefined: nope"}},
		{"absolute", "# example.com/shop/frontends/cart/bff\n" + filepath.Join(dir, "cart.go") + ":4: syntax error\n",
			Problem{Source: SourceGo, File: "frontends/cart/bff/cart.go", Line: 4, Message: "syntax error"}},
		{"no place", "go: updates to go.mod needed; to update it:\n\tgo mod tidy\n",
			Problem{Source: SourceGo, Message: "go: updates to go.mod needed; to update it:\n\tgo mod tidy"}},
	} {
		got := GoProblem(root, tt.output)
		frame := got.Frame
		got.Frame = ""
		if got != tt.want {
			t.Errorf("%s: %+v, want %+v", tt.name, got, tt.want)
		}
		if tt.want.Line == 0 {
			if frame != "" {
				t.Errorf("%s: frame %q, want none", tt.name, frame)
			}
			continue
		}
		if !strings.Contains(frame, "> 4 |     return nope") || !strings.Contains(frame, strings.TrimSpace(tt.output)) {
			t.Errorf("%s: frame does not show the line and the output:\n%s", tt.name, frame)
		}
	}
}
