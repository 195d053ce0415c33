package shell

import (
	"errors"
	"io"
	"testing"
)

func TestWellFormedID(t *testing.T) {
	t.Parallel()
	tests := []struct {
		id   string
		want bool
	}{
		{"req-7", true},
		{"0af7651916cd43dd8448eb211c80319c", true},
		{"a.b_c-D9", true},
		{"", false},
		{"has space", false},
		{"new\nline", false},
		{"quote\"", false},
		{"ünïcode", false},
		{string(make([]byte, 65)), false},
		{"x123456789012345678901234567890123456789012345678901234567890123", true}, // 64
		{"x1234567890123456789012345678901234567890123456789012345678901234", false},
	}
	for _, tt := range tests {
		if got := wellFormedID(tt.id); got != tt.want {
			t.Errorf("wellFormedID(%q) = %v, want %v", tt.id, got, tt.want)
		}
	}
}

func TestCapped(t *testing.T) {
	t.Parallel()
	tests := []struct {
		n, max int
		over   bool
	}{
		{0, 10, false},
		{10, 10, false},
		{11, 10, true},
		{1 << 20, 1000, true},
	}
	for _, tt := range tests {
		c := &capped{r: io.LimitReader(zeros{}, int64(tt.n)), left: int64(tt.max)}
		got, err := io.Copy(io.Discard, c)
		if tt.over != errors.Is(err, errTooLarge) || c.over != tt.over || got > int64(tt.max) {
			t.Errorf("%d bytes capped at %d: read %d, err %v, over %v", tt.n, tt.max, got, err, c.over)
		}
	}
}

type zeros struct{}

func (zeros) Read(p []byte) (int, error) { clear(p); return len(p), nil }
