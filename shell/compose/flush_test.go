package compose

import (
	"testing"
	"time"
)

// TestCoalesce: zero is the default window, NoCoalesce is no window.
func TestCoalesce(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		r    *Render
		want time.Duration
	}{
		{"zero is the default", &Render{}, DefaultCoalesce},
		{"set", &Render{Coalesce: 5 * time.Millisecond}, 5 * time.Millisecond},
		{"at once", &Render{NoCoalesce: true}, 0},
		{"at once whatever Coalesce says", &Render{Coalesce: time.Hour, NoCoalesce: true}, 0},
	}
	for _, tt := range tests {
		if got := tt.r.coalesce(); got != tt.want {
			t.Errorf("%s: coalesce() = %s, want %s", tt.name, got, tt.want)
		}
	}
}
