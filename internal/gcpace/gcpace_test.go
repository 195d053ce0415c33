package gcpace

import (
	"os"
	"runtime"
	"runtime/debug"
	"runtime/metrics"
	"testing"
	"time"
)

// TestSetLeavesGOGC: a pace set in the environment is the deployment's.
func TestSetLeavesGOGC(t *testing.T) {
	before := debug.SetGCPercent(150)
	defer debug.SetGCPercent(before)
	t.Setenv("GOGC", "150")
	wasPacing := pacing.Load()
	Set()
	if got := pace(t); got != 150 {
		t.Errorf("with GOGC set, the collector's pace was changed to %d", got)
	}
	if !wasPacing && pacing.Load() {
		t.Error("with GOGC set, Set started a pacer")
	}
}

// TestSetPaces: without GOGC, every cycle sets the pace from what it
// found live: a heap of at least Floor while little is live, Default
// once the live heap alone would take it past Floor.
func TestSetPaces(t *testing.T) {
	before := debug.SetGCPercent(100)
	defer debug.SetGCPercent(before)
	t.Setenv("GOGC", "")
	os.Unsetenv("GOGC") // t.Setenv restores it
	Set()
	if got := pace(t); got != Default {
		t.Fatalf("Set: the pace is %d, want %d before a cycle", got, Default)
	}
	small := waitPace(t, func(p int) bool { return p > Default })
	if small != Floor*100/runtimeMinimum {
		// The test's heap is far below Floor/2.5.
		t.Errorf("with %d bytes live the pace is %d, want the cap %d", read(t, liveHeap), small, Floor*100/runtimeMinimum)
	}
	held := make([]byte, Floor) // live past the floor
	if got := waitPace(t, func(p int) bool { return p == Default }); got != Default {
		t.Errorf("with %d bytes live the pace is %d, want %d", read(t, liveHeap), got, Default)
	}
	runtime.KeepAlive(held)
	if got := waitPace(t, func(p int) bool { return p > Default }); got != small {
		t.Errorf("once the big heap is let go, the pace is %d, want %d again", got, small)
	}
}

// waitPace runs cycles until the pace is as ok wants, for up to 5 s, and
// returns it.
func waitPace(t *testing.T, ok func(int) bool) int {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for {
		runtime.GC()
		time.Sleep(10 * time.Millisecond) // the pacer runs after the cycle, on a goroutine of its own
		if p := pace(t); ok(p) || time.Now().After(deadline) {
			return p
		}
	}
}

func pace(t *testing.T) int { return int(read(t, "/gc/gogc:percent")) }

func read(t *testing.T, name string) uint64 {
	t.Helper()
	s := []metrics.Sample{{Name: name}}
	metrics.Read(s)
	if s[0].Value.Kind() != metrics.KindUint64 {
		t.Fatalf("no runtime metric %s", name)
	}
	return s[0].Value.Uint64()
}

// TestPercent: the pace that takes the heap to Floor, within Default and
// the runtime minimum's cap.
func TestPercent(t *testing.T) {
	const mb = 1 << 20
	for _, c := range []struct {
		live, roots uint64
		want        int
	}{
		{0, 0, 250},               // the runtime minimum at 250 % is Floor
		{1 * mb, mb / 4, 250},     // 720 %, capped
		{3 * mb, mb / 2, 200},     // 3 + 3.5 × 2 = 10 MB
		{4 * mb, mb / 2, 133},     // 4 + 4.5 × 1.33 ≈ 10 MB
		{5 * mb, mb / 2, 90},      // 5 + 5.5 × 0.9 ≈ 10 MB
		{6 * mb, mb / 2, Default}, // 61 % would shrink the heap below Default's
		{Floor, 0, Default},
		{64 * mb, mb, Default},
	} {
		if got := percent(c.live, c.roots); got != c.want {
			t.Errorf("percent(%d MB live, %d KB roots) = %d, want %d", c.live/mb, c.roots>>10, got, c.want)
		}
	}
}
