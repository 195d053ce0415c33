package yaml_test

import (
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/collage-dev/collage/adapters/yaml"
	"github.com/collage-dev/collage/internal/golden"
)

// TestAddFrontend adds banner to each config of testdata/add and compares
// the text with NAME.golden.yaml (UPDATE_GOLDEN=1 rewrites them): the new
// entry must load as { bff: local }, and the rest as it did.
func TestAddFrontend(t *testing.T) {
	t.Parallel()
	inputs, err := filepath.Glob(filepath.Join("testdata", "add", "*.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	for _, path := range inputs {
		if strings.HasSuffix(path, ".golden.yaml") {
			continue
		}
		t.Run(filepath.Base(path), func(t *testing.T) {
			t.Parallel()
			src, err := os.ReadFile(path)
			if err != nil {
				t.Fatal(err)
			}
			got, err := yaml.AddFrontend(path, src, "banner")
			if err != nil {
				t.Fatal(err)
			}
			golden.Check(t, strings.TrimSuffix(path, ".yaml")+".golden.yaml", got)
			before, err := yaml.Parse(path, src)
			if err != nil {
				t.Fatal(err)
			}
			after, err := yaml.Parse(path, got)
			if err != nil {
				t.Fatalf("the edited config does not load: %v\n%s", err, got)
			}
			if f := after.Frontends["banner"]; f.BFF != "local" || len(f.Settings) != 0 {
				t.Errorf("banner is %+v, want bff: local alone", f)
			}
			delete(after.Frontends, "banner")
			for name, f := range before.Frontends {
				g := after.Frontends[name]
				f.Line, g.Line = 0, 0
				if !reflect.DeepEqual(f, g) {
					t.Errorf("frontend %s changed: %+v, was %+v", name, g, f)
				}
			}
			if len(after.Frontends) != len(before.Frontends) {
				t.Errorf("%d frontends besides banner, want %d", len(after.Frontends), len(before.Frontends))
			}
		})
	}
}

func TestAddFrontendRefuses(t *testing.T) {
	t.Parallel()
	tests := []struct{ name, src, err string }{
		{"listed", "frontends:\n  header: { bff: local }\n  banner: { bff: local }\n", "collage.yaml:3: frontend \"banner\" is already listed"},
		{"inline", "frontends: { header: { bff: local } }\n", "collage.yaml:1: frontends is written inline"},
		{"none", "layouts: layouts\n", "collage.yaml: no frontends: to add banner to"},
		{"empty", "frontends:\n", "collage.yaml:1: frontends must map at least one frontend"},
		{"not yaml", "frontends: [\n", "collage.yaml:"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got, err := yaml.AddFrontend("collage.yaml", []byte(tt.src), "banner")
			if err == nil || !strings.HasPrefix(err.Error(), tt.err) {
				t.Errorf("error %v, want one that begins %q; got:\n%s", err, tt.err, got)
			}
		})
	}
}
