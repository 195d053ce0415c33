package cli

import (
	"flag"
	"io"
	"path/filepath"
	"testing"
)

// TestProjectFlags: --root and --config name the same project, whichever
// is given.
func TestProjectFlags(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct {
		args         []string
		root, config string
	}{
		{nil, ".", "collage.yaml"},
		{[]string{"--root", "shop"}, "shop", filepath.Join("shop", "collage.yaml")},
		{[]string{"--config", "shop/site.yaml"}, "shop", "shop/site.yaml"},
		{[]string{"--root", "shop", "--config", "conf/site.yaml"}, "shop", "conf/site.yaml"},
	} {
		fs := flag.NewFlagSet("x", flag.ContinueOnError)
		fs.SetOutput(io.Discard)
		var p projectFlags
		p.register(fs)
		if err := fs.Parse(tt.args); err != nil {
			t.Fatal(err)
		}
		if root, config := p.paths(); root != tt.root || config != tt.config {
			t.Errorf("%q: root %q, config %q; want %q, %q", tt.args, root, config, tt.root, tt.config)
		}
	}
}
