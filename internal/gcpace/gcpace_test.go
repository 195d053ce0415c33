package gcpace

import (
	"os"
	"runtime/debug"
	"testing"
)

// TestSet: the collector runs at Default, unless the environment sets
// GOGC.
func TestSet(t *testing.T) {
	before := debug.SetGCPercent(100)
	defer debug.SetGCPercent(before)
	t.Setenv("GOGC", "150")
	Set()
	if got := debug.SetGCPercent(100); got != 100 {
		t.Errorf("with GOGC set, the collector's pace was changed to %d", got)
	}
	os.Unsetenv("GOGC") // t.Setenv restores it
	Set()
	if got := debug.SetGCPercent(100); got != Default {
		t.Errorf("without GOGC, the collector's pace is %d, want %d", got, Default)
	}
}
