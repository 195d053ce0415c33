package cli

import (
	"runtime"
	"slices"
	"testing"
)

// TestGoEnv: the Go side builds with this binary's toolchain at least,
// unless the environment chose one.
func TestGoEnv(t *testing.T) {
	t.Parallel()
	want := "GOTOOLCHAIN=" + runtime.Version() + "+auto"
	for _, tt := range []struct {
		env  []string
		want string // the GOTOOLCHAIN entry at the end
	}{
		{[]string{"PATH=/bin"}, want},
		{[]string{"GOTOOLCHAIN=local"}, want},
		{[]string{"GOTOOLCHAIN="}, want},
		{[]string{"GOTOOLCHAIN=go1.28.0"}, "GOTOOLCHAIN=go1.28.0"},
	} {
		got := goEnv(slices.Clone(tt.env))
		if got[len(got)-1] != tt.want {
			t.Errorf("goEnv(%q) = %q, want it to end with %q", tt.env, got, tt.want)
		}
	}
}
