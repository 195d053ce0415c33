package cli

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestLinkBFF(t *testing.T) {
	t.Parallel()
	const pkg = "example.com/shop/frontends/banner/bff"
	tests := []struct {
		name      string
		src, want string
		err       string // a part of the error, when one is wanted
	}{
		{
			name: "plain",
			src: `package main

import (
	hello "example.com/shop/frontends/hello/bff"
	"github.com/collage-dev/collage/cli"
)

func main() {
	cli.Run(cli.BFFs{
		"hello": hello.New,
	})
}
`,
			want: `package main

import (
	banner "example.com/shop/frontends/banner/bff"
	hello "example.com/shop/frontends/hello/bff"
	"github.com/collage-dev/collage/cli"
)

func main() {
	cli.Run(cli.BFFs{
		"hello":  hello.New,
		"banner": banner.New,
	})
}
`,
		},
		{
			name: "comments kept",
			src: `// Command shop serves the shop.
package main

import (
	hello "example.com/shop/frontends/hello/bff" // the greeting
	// the command
	"github.com/collage-dev/collage/cli"
)

// main links the BFFs.
func main() {
	cli.Run(cli.BFFs{
		// first
		"hello": hello.New, // says hello
		// more to come
	}) // runs until a signal
}
`,
			want: `// Command shop serves the shop.
package main

import (
	banner "example.com/shop/frontends/banner/bff"
	hello "example.com/shop/frontends/hello/bff" // the greeting
	// the command
	"github.com/collage-dev/collage/cli"
)

// main links the BFFs.
func main() {
	cli.Run(cli.BFFs{
		// first
		"hello": hello.New, // says hello
		// more to come
		"banner": banner.New,
	}) // runs until a signal
}
`,
		},
		{
			name: "aliased imports, a literal in a variable",
			src: `package main

import (
	"os"

	h "example.com/shop/frontends/hello/bff"
	collage "github.com/collage-dev/collage/cli"
)

var bffs = collage.BFFs{"hello": h.New}

func main() {
	if len(os.Args) > 5 {
		return
	}
	collage.Run(bffs)
}
`,
			want: `package main

import (
	"os"

	banner "example.com/shop/frontends/banner/bff"
	h "example.com/shop/frontends/hello/bff"
	collage "github.com/collage-dev/collage/cli"
)

var bffs = collage.BFFs{"hello": h.New, "banner": banner.New}

func main() {
	if len(os.Args) > 5 {
		return
	}
	collage.Run(bffs)
}
`,
		},
		{
			name: "one import without parentheses, cli.Run(nil)",
			src: `package main

import "github.com/collage-dev/collage/cli"

func main() { cli.Run(nil) }
`,
			want: `package main

import (
	banner "example.com/shop/frontends/banner/bff"
	"github.com/collage-dev/collage/cli"
)

func main() {
	cli.Run(cli.BFFs{
		"banner": banner.New,
	})
}
`,
		},
		{
			name: "empty literal, the name taken by a variable",
			src: `package main

import (
	"github.com/collage-dev/collage/cli"
)

func main() {
	banner := cli.BFFs{}
	cli.Run(banner)
}
`,
			want: `package main

import (
	bannerbff "example.com/shop/frontends/banner/bff"
	"github.com/collage-dev/collage/cli"
)

func main() {
	banner := cli.BFFs{
		"banner": bannerbff.New,
	}
	cli.Run(banner)
}
`,
		},
		{
			name: "groups, the last one not the command's",
			src: `package main

import (
	zed "example.com/zz/bff" // last
	"github.com/collage-dev/collage/cli"

	"os"
)

func main() { cli.Run(cli.BFFs{"zed": zed.New}); os.Exit(0) }
`,
			want: `package main

import (
	banner "example.com/shop/frontends/banner/bff"
	zed "example.com/zz/bff" // last
	"github.com/collage-dev/collage/cli"

	"os"
)

func main() { cli.Run(cli.BFFs{"zed": zed.New, "banner": banner.New}); os.Exit(0) }
`,
		},
		{
			name: "imports on one line",
			src: `package main

import ("os"; "github.com/collage-dev/collage/cli")

func main() { cli.Run(cli.BFFs{}); os.Exit(0) }
`,
			want: `package main

import (
	banner "example.com/shop/frontends/banner/bff"
	"github.com/collage-dev/collage/cli"
	"os"
)

func main() {
	cli.Run(cli.BFFs{
		"banner": banner.New,
	})
	os.Exit(0)
}
`,
		},
		{
			name: "already linked",
			src: `package main

import (
	b "example.com/other/banner"
	"github.com/collage-dev/collage/cli"
)

func main() {
	cli.Run(cli.BFFs{
		"banner": b.New,
	})
}
`,
			err: `main.go:10:3: cli.BFFs already links a BFF called "banner"`,
		},
		{
			name: "already imported",
			src: `package main

import (
	x "example.com/shop/frontends/banner/bff"
	"github.com/collage-dev/collage/cli"
)

func main() { cli.Run(cli.BFFs{"x": x.New}) }
`,
			err: "main.go:4:2: already imports example.com/shop/frontends/banner/bff",
		},
		{
			name: "two literals",
			src: `package main

import "github.com/collage-dev/collage/cli"

func main() {
	a, b := cli.BFFs{}, cli.BFFs{}
	_ = b
	cli.Run(a)
}
`,
			err: "want one cli.BFFs{…} literal (or cli.Run(nil)) to add \"banner\" to, found 2",
		},
		{
			name: "no cli",
			src:  "package main\n\nfunc main() {}\n",
			err:  "main.go does not import github.com/collage-dev/collage/cli",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got, err := linkBFF("main.go", []byte(tt.src), "banner", pkg, "banner")
			if tt.err != "" {
				if err == nil || !strings.Contains(err.Error(), tt.err) {
					t.Fatalf("error %v, want one with %q; got:\n%s", err, tt.err, got)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if string(got) != tt.want {
				t.Errorf("got:\n%s\nwant:\n%s", got, tt.want)
			}
		})
	}
}

// TestLinkBFFDemo links a BFF into the demo shop's main package, which
// collage add edits in this repository.
func TestLinkBFFDemo(t *testing.T) {
	t.Parallel()
	file, src, err := findRunFile(filepath.Join(root, "cmd", "shop"))
	if err != nil {
		t.Fatal(err)
	}
	if filepath.Base(file) != "main.go" {
		t.Errorf("found %s, want cmd/shop/main.go", file)
	}
	got, err := linkBFF(file, src, "banner", collagePath+"/frontends/banner/bff", "banner")
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"\tbanner \"github.com/collage-dev/collage/frontends/banner/bff\"\n", "\t\t\"banner\":  banner.New,\n\t})"} {
		if !strings.Contains(string(got), want) {
			t.Errorf("no %q in:\n%s", want, got)
		}
	}
	if _, err := linkBFF(file, src, "cart", collagePath+"/frontends/cart2/bff", "cart"); err == nil || !strings.Contains(err.Error(), `already links a BFF called "cart"`) {
		t.Errorf("linking cart again: %v, want it refused", err)
	}
}

func TestFindRunFile(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	write := func(name, src string) {
		t.Helper()
		if err := os.WriteFile(filepath.Join(dir, name), []byte(src), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	if _, _, err := findRunFile(dir); err == nil || !strings.Contains(err.Error(), "no Go file imports") {
		t.Errorf("empty folder: %v", err)
	}
	write("other.go", "package main\n\nfunc helper() {}\n")
	write("main_test.go", "package main\n\nimport \"github.com/collage-dev/collage/cli\"\n\nfunc init() { cli.Run(nil) }\n")
	write("main.go", "package main\n\nimport \"github.com/collage-dev/collage/cli\"\n\nfunc main() { cli.Run(nil) }\n")
	if file, _, err := findRunFile(dir); err != nil || filepath.Base(file) != "main.go" {
		t.Errorf("found %s, %v; want main.go", file, err)
	}
	write("second.go", "package main\n\nimport c \"github.com/collage-dev/collage/cli\"\n\nfunc init() { c.Run(nil) }\n")
	if _, _, err := findRunFile(dir); err == nil || !strings.Contains(err.Error(), "keep one") {
		t.Errorf("two files: %v", err)
	}
}
