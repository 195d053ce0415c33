package cli

import (
	"os"
	"path/filepath"
	"runtime/debug"
	"strings"
	"testing"
)

func TestResolveCollage(t *testing.T) {
	t.Parallel()
	checkout, err := filepath.Abs(root)
	if err != nil {
		t.Fatal(err)
	}
	inCheckout := filepath.Join(checkout, "cli", "new.go")
	// A copy of collage in the module cache, which go install fetched.
	cache := filepath.Join(t.TempDir(), "github.com", "collage-dev", "collage@v1.2.3")
	if err := os.MkdirAll(filepath.Join(cache, "cli"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(cache, "go.mod"), []byte("module "+collagePath+"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	inCache := filepath.Join(cache, "cli", "new.go")
	devel := &debug.BuildInfo{Main: debug.Module{Path: collagePath, Version: "(devel)"}}
	released := &debug.BuildInfo{Main: debug.Module{Path: collagePath, Version: "v1.2.3"}}
	dirty := &debug.BuildInfo{Main: debug.Module{Path: collagePath, Version: "v0.0.0-20260101000000-abcdefabcdef+dirty"}}
	asDep := &debug.BuildInfo{Main: debug.Module{Path: "example.com/shop"}, Deps: []*debug.Module{{Path: collagePath, Version: "v1.4.0"}}}
	replaced := &debug.BuildInfo{Main: debug.Module{Path: "example.com/shop"},
		Deps: []*debug.Module{{Path: collagePath, Version: "v1.4.0", Replace: &debug.Module{Path: "../collage"}}}}

	tests := []struct {
		name   string
		flag   string
		bi     *debug.BuildInfo
		source string
		want   collageModule // Why is not compared
		err    string
	}{
		{"--collage", root, nil, "", collageModule{Version: unversioned, Replace: checkout}, ""},
		{"--collage elsewhere", t.TempDir(), released, inCache, collageModule{}, "not a checkout of collage"},
		{"built in a checkout", "", devel, inCheckout, collageModule{Version: unversioned, Replace: checkout}, ""},
		{"built in a checkout with a stamped version", "", dirty, inCheckout, collageModule{Version: unversioned, Replace: checkout}, ""},
		{"installed at a version", "", released, inCache, collageModule{Version: "v1.2.3"}, ""},
		{"a project's binary", "", asDep, inCache, collageModule{Version: "v1.4.0"}, ""},
		{"trimpath, released", "", released, "github.com/collage-dev/collage/cli/new.go", collageModule{Version: "v1.2.3"}, ""},
		{"trimpath, devel", "", devel, "github.com/collage-dev/collage/cli/new.go", collageModule{}, "--collage DIR"},
		{"trimpath, dirty", "", dirty, "github.com/collage-dev/collage/cli/new.go", collageModule{}, "--collage DIR"},
		{"trimpath, replaced", "", replaced, "github.com/collage-dev/collage/cli/new.go", collageModule{}, "--collage DIR"},
		{"no build info", "", nil, "", collageModule{}, "--collage DIR"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got, err := resolveCollage(tt.flag, tt.bi, tt.source)
			if tt.err != "" {
				if err == nil || !strings.Contains(err.Error(), tt.err) {
					t.Fatalf("%+v, %v; want an error with %q", got, err, tt.err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if got.Replace != "" && got.Why == "" {
				t.Error("a replace without a reason")
			}
			got.Why = ""
			if got != tt.want {
				t.Errorf("%+v, want %+v", got, tt.want)
			}
		})
	}
}
