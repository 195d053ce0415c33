package main

import (
	"flag"
	"io"
	"strings"
	"testing"
	"time"

	"github.com/collage-dev/collage/shell/compose"
)

// TestServeOptions: a flag's 0 means zero, which the shell's options spell
// with a bool of its own, since their zero is the default.
func TestServeOptions(t *testing.T) {
	t.Parallel()
	tests := []struct {
		args       string
		coalesce   time.Duration
		noCoalesce bool
		err        string
	}{
		{args: "", coalesce: compose.DefaultCoalesce},
		{args: "--coalesce 5ms", coalesce: 5 * time.Millisecond},
		{args: "--coalesce 0", noCoalesce: true},
		{args: "--coalesce -1ms", err: "--coalesce -1ms: give 0 (flush at once) or a positive duration"},
	}
	for _, tt := range tests {
		fs := flag.NewFlagSet("serve", flag.ContinueOnError)
		fs.SetOutput(io.Discard)
		var o serveOptions
		o.flags(fs)
		if err := fs.Parse(strings.Fields(tt.args)); err != nil {
			t.Fatalf("%q: %v", tt.args, err)
		}
		opts, err := o.shellOptions()
		if tt.err != "" {
			if err == nil || err.Error() != tt.err {
				t.Errorf("%q: err = %v, want %s", tt.args, err, tt.err)
			}
			continue
		}
		if err != nil || opts.Coalesce != tt.coalesce || opts.NoCoalesce != tt.noCoalesce || opts.PageTimeout != 10*time.Second {
			t.Errorf("%q: Coalesce %s NoCoalesce %v PageTimeout %s (err %v), want %s %v 10s",
				tt.args, opts.Coalesce, opts.NoCoalesce, opts.PageTimeout, err, tt.coalesce, tt.noCoalesce)
		}
	}
}
