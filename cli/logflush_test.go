package cli

import (
	"context"
	"log"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/collage-dev/collage/internal/syncbuf"
)

// TestHoldLogLines: while serve holds them, slog's lines wait in memory;
// its end writes them out and gives the log package its output back. Not
// parallel: it sets the log package's output, which serve shares.
func TestHoldLogLines(t *testing.T) {
	var out syncbuf.Buffer
	prev := log.Writer()
	log.SetOutput(&out)
	defer log.SetOutput(prev)

	restore := holdLogLines(time.Hour)
	slog.Info("page", "request_id", "r1")
	slog.Info("page", "request_id", "r2")
	if s := out.String(); s != "" {
		t.Fatalf("written while held: %q", s)
	}
	restore()
	if s := out.String(); !strings.Contains(s, "INFO page request_id=r1\n") || !strings.Contains(s, "INFO page request_id=r2\n") {
		t.Fatalf("after serve's end: %q, want both lines", s)
	}
	if log.Writer() != &out {
		t.Fatalf("the log's output is %T after serve's end, want the one before", log.Writer())
	}
	slog.Info("after")
	if s := out.String(); !strings.Contains(s, "INFO after\n") {
		t.Fatalf("a line after serve's end waits: %q", s)
	}
}

func TestServeLogFlushFlag(t *testing.T) {
	t.Parallel()
	var out syncbuf.Buffer
	m := &Main{BFFs: shop, Stdout: &out, Stderr: &out}
	err := m.Run(context.Background(), []string{"serve", "--data", t.TempDir(), "--log-flush", "-1ms"})
	if want := "--log-flush -1ms: give 0 (each line at once) or a positive duration"; err == nil || err.Error() != want {
		t.Fatalf("serve --log-flush -1ms: %v, want %s", err, want)
	}
}
