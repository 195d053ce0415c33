package cli

import (
	"context"
	"io"
	"net/http"
	"strings"
	"testing"
)

func TestListenPprofLoopbackOnly(t *testing.T) {
	t.Parallel()
	for _, addr := range []string{"0.0.0.0:0", ":0", "192.0.2.1:0", "example.com:0", "127.0.0.1"} {
		if ln, err := listenPprof(addr); err == nil {
			ln.Close()
			t.Errorf("listenPprof(%q) listened, want an error", addr)
		} else if !strings.HasPrefix(err.Error(), "--pprof") {
			t.Errorf("listenPprof(%q) error %q does not name the flag", addr, err)
		}
	}
}

func TestServePprof(t *testing.T) {
	t.Parallel()
	ln, err := listenPprof("127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- servePprof(ctx, ln) }()
	resp, err := http.Get("http://" + ln.Addr().String() + "/debug/pprof/goroutine?debug=1")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK || !strings.Contains(string(body), "goroutine profile") {
		t.Errorf("goroutine profile: %d %.80q", resp.StatusCode, body)
	}
	cancel()
	if err := <-done; err != nil {
		t.Errorf("servePprof after its context ended: %v", err)
	}
}
