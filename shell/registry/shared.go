package registry

import (
	"cmp"
	"fmt"
	"slices"
	"strconv"
	"strings"

	"github.com/collage-dev/collage/build"
)

// CheckShared reports whether the shared dependencies shared (nil when none
// are published) provide what the frontend manifest m was built against:
// every specifier m imports, each from a version of its package compatible
// with the one m was built from, as npm's caret range ^VERSION means (the
// same major version, the same minor one below 1.0.0, at least as new). A
// package either manifest has no version of is checked by its specifiers
// alone. It returns nil, or a conflict that names everything missing; a
// version in m that is not one is bad_request.
func CheckShared(shared, m *build.Manifest) error {
	if len(m.Shared) == 0 {
		return nil
	}
	if shared == nil {
		return conflict("%s needs %s: the shell has no shared dependencies published", m.Name, quoteAll(m.Shared))
	}
	var problems, missing []string
	var pkgs []string
	specs := map[string][]string{} // by package
	for _, spec := range m.Shared {
		if _, ok := shared.Imports[spec]; !ok {
			missing = append(missing, spec)
		}
		pkg := build.PackageOf(spec)
		if specs[pkg] == nil {
			pkgs = append(pkgs, pkg)
		}
		specs[pkg] = append(specs[pkg], spec)
	}
	for _, pkg := range pkgs {
		want, have := m.Packages[pkg], shared.Packages[pkg]
		if want == "" || have == "" {
			continue
		}
		required, err := parseSemver(want)
		if err != nil {
			return badRequest("%s: packages: %s: %v", m.Name, pkg, err)
		}
		provided, err := parseSemver(have)
		if err != nil {
			problems = append(problems, fmt.Sprintf("%s needs %s@^%s (%s); the shell's shared dependencies name %s, which is not a version (%v)",
				m.Name, pkg, want, strings.Join(specs[pkg], ", "), pkg, err))
			continue
		}
		if !provided.caretOf(required) {
			problems = append(problems, fmt.Sprintf("%s needs %s@^%s (%s); the shell's shared dependencies provide %s@%s",
				m.Name, pkg, want, strings.Join(specs[pkg], ", "), pkg, have))
		}
	}
	if len(missing) > 0 {
		problems = append(problems, fmt.Sprintf("%s needs %s, which the shell's shared dependencies do not provide", m.Name, quoteAll(missing)))
	}
	if len(problems) > 0 {
		return conflict("%s", strings.Join(problems, ". "))
	}
	return nil
}

func quoteAll(specs []string) string {
	q := make([]string, len(specs))
	for i, s := range specs {
		q[i] = strconv.Quote(s)
	}
	return strings.Join(q, ", ")
}

// semver is a version as npm packages name theirs: MAJOR.MINOR.PATCH, an
// optional -PRERELEASE and an optional +BUILD, which orders nothing.
type semver struct {
	major, minor, patch uint64
	pre                 []string
}

// parseSemver parses s as Semantic Versioning 2.0.0 spells a version.
func parseSemver(s string) (semver, error) {
	var v semver
	core, meta, hasMeta := strings.Cut(s, "+")
	core, pre, hasPre := strings.Cut(core, "-")
	nums := strings.Split(core, ".")
	if len(nums) != 3 {
		return v, fmt.Errorf("version %q: want MAJOR.MINOR.PATCH, such as 10.19.3", s)
	}
	for i, p := range []*uint64{&v.major, &v.minor, &v.patch} {
		n, err := number(nums[i])
		if err != nil {
			return v, fmt.Errorf("version %q: %v", s, err)
		}
		*p = n
	}
	if hasPre {
		v.pre = strings.Split(pre, ".")
		for _, id := range v.pre {
			if err := identifier(id); err != nil {
				return v, fmt.Errorf("version %q: prerelease: %v", s, err)
			}
			if isNumeric(id) {
				if _, err := number(id); err != nil {
					return v, fmt.Errorf("version %q: prerelease: %v", s, err)
				}
			}
		}
	}
	if hasMeta {
		for _, id := range strings.Split(meta, ".") {
			if err := identifier(id); err != nil {
				return v, fmt.Errorf("version %q: build: %v", s, err)
			}
		}
	}
	return v, nil
}

// number parses a numeric part of a version: digits, no leading zero.
func number(s string) (uint64, error) {
	if s == "" || !isNumeric(s) {
		return 0, fmt.Errorf("%q is not a number", s)
	}
	if len(s) > 1 && s[0] == '0' {
		return 0, fmt.Errorf("%q: a number with a leading zero", s)
	}
	n, err := strconv.ParseUint(s, 10, 64)
	if err != nil {
		return 0, fmt.Errorf("%q: too large", s)
	}
	return n, nil
}

// identifier checks a dot-separated part of a prerelease or build.
func identifier(s string) error {
	if s == "" {
		return fmt.Errorf("an empty identifier")
	}
	for _, c := range s {
		if !('0' <= c && c <= '9' || 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || c == '-') {
			return fmt.Errorf("%q: use letters, digits and dashes", s)
		}
	}
	return nil
}

func isNumeric(s string) bool {
	return strings.Trim(s, "0123456789") == ""
}

// compare orders v and w by precedence: -1, 0 or +1.
func (v semver) compare(w semver) int {
	if c := cmp.Compare(v.major, w.major); c != 0 {
		return c
	}
	if c := cmp.Compare(v.minor, w.minor); c != 0 {
		return c
	}
	if c := cmp.Compare(v.patch, w.patch); c != 0 {
		return c
	}
	switch {
	case len(v.pre) == 0 && len(w.pre) == 0:
		return 0
	case len(v.pre) == 0:
		return 1 // a release follows its prereleases
	case len(w.pre) == 0:
		return -1
	}
	return slices.CompareFunc(v.pre, w.pre, func(a, b string) int {
		an, bn := isNumeric(a), isNumeric(b)
		switch {
		case an && bn:
			x, _ := strconv.ParseUint(a, 10, 64)
			y, _ := strconv.ParseUint(b, 10, 64)
			return cmp.Compare(x, y)
		case an:
			return -1 // numeric identifiers come first
		case bn:
			return 1
		}
		return strings.Compare(a, b)
	})
}

// caretOf reports whether v is in npm's range ^r: at least r, below the
// next change of r's first non-zero part, and a prerelease only of r's own
// MAJOR.MINOR.PATCH when r is one (npm keeps other prereleases out of a
// range).
func (v semver) caretOf(r semver) bool {
	switch {
	case v.compare(r) < 0:
		return false
	case len(v.pre) > 0 && (len(r.pre) == 0 || v.major != r.major || v.minor != r.minor || v.patch != r.patch):
		return false
	case r.major > 0:
		return v.major == r.major
	case r.minor > 0:
		return v.major == 0 && v.minor == r.minor
	}
	return v.major == 0 && v.minor == 0 && v.patch == r.patch
}
