package registry_test

import (
	"errors"
	"strings"
	"testing"

	"github.com/collage-dev/collage/bff"
	"github.com/collage-dev/collage/build"
	"github.com/collage-dev/collage/shell/registry"
)

// sharedOf is a shared manifest providing specs from the packages at the
// versions given.
func sharedOf(packages map[string]string, specs ...string) *build.Manifest {
	m := &build.Manifest{Name: build.SharedName, Version: "s1", Imports: map[string]string{}, Packages: packages}
	for _, s := range specs {
		m.Imports[s] = s + ".js"
	}
	return m
}

func TestCheckShared(t *testing.T) {
	t.Parallel()
	preact := []string{"preact", "preact/hooks", "preact/jsx-runtime"}
	cart := func(packages map[string]string, specs ...string) *build.Manifest {
		return &build.Manifest{Name: "cart", Version: "c1", Entry: "cart.js", Shared: specs, Packages: packages}
	}
	v := func(version string) map[string]string { return map[string]string{"preact": version} }
	for _, tc := range []struct {
		name   string
		shared *build.Manifest
		m      *build.Manifest
		code   string // "" when it passes
		msg    string
	}{
		{"no shared dependencies used", nil, cart(nil), "", ""},
		{"the same version", sharedOf(v("10.19.3"), preact...), cart(v("10.19.3"), "preact", "preact/hooks"), "", ""},
		{"a newer patch", sharedOf(v("10.19.4"), preact...), cart(v("10.19.3"), "preact"), "", ""},
		{"a newer minor", sharedOf(v("10.20.0"), preact...), cart(v("10.19.3"), "preact"), "", ""},
		{"an older patch", sharedOf(v("10.19.2"), preact...), cart(v("10.19.3"), "preact"), "conflict",
			`cart needs preact@^10.19.3 (preact); the shell's shared dependencies provide preact@10.19.2`},
		{"another major", sharedOf(v("11.0.1"), preact...), cart(v("10.19.0"), "preact", "preact/hooks"), "conflict",
			`cart needs preact@^10.19.0 (preact, preact/hooks); the shell's shared dependencies provide preact@11.0.1`},
		{"0.x: a newer patch", sharedOf(v("0.4.9"), "preact"), cart(v("0.4.1"), "preact"), "", ""},
		{"0.x: another minor", sharedOf(v("0.5.0"), "preact"), cart(v("0.4.1"), "preact"), "conflict", "provide preact@0.5.0"},
		{"0.0.x: the same patch", sharedOf(v("0.0.3"), "preact"), cart(v("0.0.3"), "preact"), "", ""},
		{"0.0.x: another patch", sharedOf(v("0.0.4"), "preact"), cart(v("0.0.3"), "preact"), "conflict", "provide preact@0.0.4"},
		{"a prerelease of the same version, later", sharedOf(v("11.0.0-rc.2"), "preact"), cart(v("11.0.0-rc.1"), "preact"), "", ""},
		{"the release of a prerelease", sharedOf(v("11.0.0"), "preact"), cart(v("11.0.0-rc.1"), "preact"), "", ""},
		{"a prerelease, earlier", sharedOf(v("11.0.0-rc.1"), "preact"), cart(v("11.0.0-rc.2"), "preact"), "conflict", "provide preact@11.0.0-rc.1"},
		{"numeric prerelease parts compare as numbers", sharedOf(v("11.0.0-rc.10"), "preact"), cart(v("11.0.0-rc.9"), "preact"), "", ""},
		{"a prerelease of a later version", sharedOf(v("10.20.0-beta.1"), "preact"), cart(v("10.19.3"), "preact"), "conflict", "provide preact@10.20.0-beta.1"},
		{"build metadata orders nothing", sharedOf(v("10.19.3+sha.5114f85"), "preact"), cart(v("10.19.3"), "preact"), "", ""},
		{"a scoped package", sharedOf(map[string]string{"@ui/kit": "2.1.0"}, "@ui/kit/button"),
			&build.Manifest{Name: "cart", Shared: []string{"@ui/kit/button"}, Packages: map[string]string{"@ui/kit": "2.2.0"}}, "conflict",
			`cart needs @ui/kit@^2.2.0 (@ui/kit/button); the shell's shared dependencies provide @ui/kit@2.1.0`},
		{"a specifier not provided", sharedOf(v("10.19.3"), preact...), cart(nil, "lodash", "preact"), "conflict",
			`cart needs "lodash", which the shell's shared dependencies do not provide`},
		{"everything missing at once", sharedOf(v("11.0.1"), "preact"), cart(map[string]string{"preact": "10.19.0", "dayjs": "1.0.0"}, "dayjs", "lodash", "preact", "preact/compat"), "conflict",
			`cart needs preact@^10.19.0 (preact, preact/compat); the shell's shared dependencies provide preact@11.0.1. ` +
				`cart needs "dayjs", "lodash", "preact/compat", which the shell's shared dependencies do not provide`},
		{"a frontend without versions: specifiers alone", sharedOf(v("11.0.1"), preact...), cart(nil, "preact"), "", ""},
		{"shared dependencies without versions: specifiers alone", sharedOf(nil, preact...), cart(v("10.19.0"), "preact"), "", ""},
		{"no shared dependencies published", nil, cart(v("10.19.0"), "preact", "preact/hooks"), "conflict",
			`cart needs "preact", "preact/hooks": the shell has no shared dependencies published`},
		{"shared dependencies of no version", sharedOf(v("latest"), "preact"), cart(v("10.19.0"), "preact"), "conflict",
			`the shell's shared dependencies name preact, which is not a version`},
	} {
		err := registry.CheckShared(tc.shared, tc.m)
		if tc.code == "" {
			if err != nil {
				t.Errorf("%s: %v", tc.name, err)
			}
			continue
		}
		var e *bff.Error
		if !errors.As(err, &e) || e.Code != tc.code || !strings.Contains(e.Message, tc.msg) {
			t.Errorf("%s: error %v, want %s: …%s…", tc.name, err, tc.code, tc.msg)
		}
	}
}

// TestCheckSharedVersions checks that a version a frontend says it was
// built from is refused, naming what is wrong, unless it is a semver.
func TestCheckSharedVersions(t *testing.T) {
	t.Parallel()
	for version, want := range map[string]string{
		"10.19.3":                  "",
		"0.0.0-fixture":            "",
		"1.0.0-alpha-1.0.x-y":      "",
		"1.0.0+build.01":           "",
		"1.0.0-0A.is.legal+meta":   "",
		"":                         "", // no version: the specifiers alone
		"10.19":                    `version "10.19": want MAJOR.MINOR.PATCH`,
		"1.2.3.4":                  `version "1.2.3.4": want MAJOR.MINOR.PATCH`,
		"v1.2.3":                   `"v1" is not a number`,
		"1.x.0":                    `"x" is not a number`,
		"1..0":                     `"" is not a number`,
		"01.2.3":                   `"01": a number with a leading zero`,
		"1.2.3-01":                 `prerelease: "01": a number with a leading zero`,
		"1.2.3-":                   `prerelease: an empty identifier`,
		"1.2.3-a..b":               `prerelease: an empty identifier`,
		"1.2.3-ß":                  `prerelease: "ß": use letters, digits and dashes`,
		"1.2.3+":                   `build: an empty identifier`,
		"99999999999999999999.0.0": `too large`,
		"^10.19.0":                 `"^10" is not a number`,
	} {
		m := &build.Manifest{Name: "cart", Shared: []string{"preact"}, Packages: map[string]string{"preact": version}}
		err := registry.CheckShared(sharedOf(map[string]string{"preact": "1.0.0"}, "preact"), m)
		var e *bff.Error
		switch {
		case want == "" && errors.As(err, &e) && e.Code == bff.CodeBadRequest:
			t.Errorf("%q: refused: %v", version, err)
		case want != "" && (!errors.As(err, &e) || e.Code != bff.CodeBadRequest || !strings.HasPrefix(e.Message, "cart: packages: preact: ") || !strings.Contains(e.Message, want)):
			t.Errorf("%q: error %v, want bad_request: …%s…", version, err, want)
		}
	}
}
