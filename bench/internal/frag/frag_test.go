package frag

import (
	"bytes"
	"context"
	"testing"
	"time"
)

func TestBody(t *testing.T) {
	t.Parallel()
	for _, n := range Names {
		b := Body(n)
		if len(b) < Size || len(b) > Size+200 {
			t.Errorf("Body(%q) is %d bytes, want about %d", n, len(b), Size)
		}
		if !bytes.Contains(b, []byte(`data-fragment="`+n+`"`)) {
			t.Errorf("Body(%q) does not name its fragment", n)
		}
	}
	if Body("nope") != nil {
		t.Error("Body of an unknown fragment is not nil")
	}
}

func TestParseDelays(t *testing.T) {
	t.Parallel()
	ms := time.Millisecond
	tests := []struct {
		in   string
		want []time.Duration
		err  bool
	}{
		{in: "0,0,0,0", want: []time.Duration{0, 0, 0, 0}},
		{in: "5, 20,10,2", want: []time.Duration{5 * ms, 20 * ms, 10 * ms, 2 * ms}},
		{in: "1.5ms,0,0,1s", want: []time.Duration{1500 * time.Microsecond, 0, 0, time.Second}},
		{in: "0,0,0", err: true},
		{in: "0,0,0,x", err: true},
		{in: "0,0,0,-1", err: true},
	}
	for _, tt := range tests {
		got, err := ParseDelays(tt.in)
		if (err != nil) != tt.err {
			t.Errorf("ParseDelays(%q) error = %v, want error %v", tt.in, err, tt.err)
			continue
		}
		for i := range tt.want {
			if got[i] != tt.want[i] {
				t.Errorf("ParseDelays(%q)[%d] = %v, want %v", tt.in, i, got[i], tt.want[i])
			}
		}
	}
}

func TestSleepHonoursContext(t *testing.T) {
	t.Parallel()
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if err := Sleep(ctx, time.Hour); err == nil {
		t.Error("Sleep on a cancelled context returned nil")
	}
	if err := Sleep(context.Background(), time.Millisecond); err != nil {
		t.Errorf("Sleep = %v", err)
	}
}
