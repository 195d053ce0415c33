package cli

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestChildMain: a main package that lists its BFFs plainly gets a main
// package of the BFFs alone; any other form gets none, and dev builds the
// project's command.
func TestChildMain(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct {
		name, src string
		want      []string // lines the generated source has; nil: none made
	}{
		{"plain", `package main

import (
	"example.com/shop/frontends/cart/bff"
	recs "example.com/shop/frontends/recs/bff"
	"github.com/collage-dev/collage/cli"
)

func main() {
	cli.Run(cli.BFFs{
		"cart": bff.New, // the cart
		"recs": recs.New,
	})
}
`, []string{`bff "example.com/shop/frontends/cart/bff"`, `recs "example.com/shop/frontends/recs/bff"`, `"github.com/collage-dev/collage/cli/bffserve"`,
			`bffserve.Main(bffserve.BFFs{`, `"cart": bff.New,`, `"recs": recs.New,`}},
		{"renamed cli", `package main

import (
	collage "github.com/collage-dev/collage/cli"
	hello "example.com/hello/bff"
)

func main() { collage.Run(collage.BFFs{"hello": hello.New}) }
`, []string{`"hello": hello.New,`}},
		{"closure", `package main

import (
	"github.com/collage-dev/collage/bff"
	"github.com/collage-dev/collage/cli"
)

func main() {
	cli.Run(cli.BFFs{"x": func(bff.Settings) (*bff.BFF, error) { return bff.New("x"), nil }})
}
`, nil},
		{"variable", `package main

import "github.com/collage-dev/collage/cli"

var bffs = cli.BFFs{}

func main() { cli.Run(bffs) }
`, nil},
		{"a function of package main", `package main

import "github.com/collage-dev/collage/cli"

func main() { cli.Run(cli.BFFs{"x": newX}) }
`, nil},
	} {
		dir := t.TempDir()
		if err := os.WriteFile(filepath.Join(dir, "main.go"), []byte(tt.src), 0o644); err != nil {
			t.Fatal(err)
		}
		got, err := childMain(dir)
		if err != nil {
			t.Errorf("%s: %v", tt.name, err)
			continue
		}
		if tt.want == nil {
			if got != nil {
				t.Errorf("%s: made\n%s\nwant none", tt.name, got)
			}
			continue
		}
		for _, line := range tt.want {
			if !strings.Contains(string(got), line) {
				t.Errorf("%s: no %q in\n%s", tt.name, line, got)
			}
		}
	}
}
