package cli

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/collage-dev/collage/internal/emulator"
	"github.com/collage-dev/collage/internal/syncbuf"
	"github.com/collage-dev/collage/shell"
)

// TestDemoOnLambda serves the demo from the shell's package, as collage
// build writes it, behind a stand-in Function URL: buffered under
// aws-lambda-rie, and streamed through a Runtime API that relays the
// answer as it comes. Each runs the demo's end-to-end checks: every page and its
// slots, the 404 pages, every asset with its integrity, health, the cart
// through /bff/cart and its cookie; then the client runtime, the CSRF
// refusal, bodies the shell refuses, and the JSON error shape. The
// emulator fails on overlapping invocations: the stand-in serialises them
// (emulator.Emulator.Invoke does), as the Runtime API does by handing out
// one event at a time.
func TestDemoOnLambda(t *testing.T) {
	rie := emulator.Require(t)
	task, _ := packageShell(t)
	em := emulator.StartT(t, rie, filepath.Join(task, "bootstrap"))
	srv := httptest.NewServer(functionURL{func(ctx context.Context, event []byte) ([]byte, error) {
		status, out, err := em.Invoke(ctx, event)
		if err == nil && status != http.StatusOK {
			err = fmt.Errorf("the emulator answered %d: %s", status, out)
		}
		return out, err
	}})
	t.Cleanup(srv.Close)

	t.Run("buffered under the emulator", func(t *testing.T) { checkDemoAll(t, srv.URL) })

	t.Run("streamed", func(t *testing.T) {
		u := newStreamURL()
		api := httptest.NewServer(u.runtimeAPI())
		t.Cleanup(api.Close)
		front := httptest.NewServer(u)
		t.Cleanup(front.Close)
		// Lambda runs the bootstrap with no arguments, from its folder.
		cmd := exec.Command(filepath.Join(task, "bootstrap"))
		cmd.Dir = task
		cmd.Env = append(os.Environ(), "AWS_LAMBDA_RUNTIME_API="+strings.TrimPrefix(api.URL, "http://"), "COLLAGE_INVOKE_MODE=RESPONSE_STREAM")
		var out syncbuf.Buffer
		cmd.Stdout, cmd.Stderr = &out, &out
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		// Registered last, so it runs first: the servers wait for the
		// bootstrap's connections to end.
		t.Cleanup(func() {
			cmd.Process.Kill()
			cmd.Wait()
			if t.Failed() {
				t.Logf("bootstrap output:\n%s", out.String())
			}
		})
		checkDemoAll(t, front.URL)
	})
}

// checkDemoAll runs the demo's end-to-end checks against url.
func checkDemoAll(t *testing.T, url string) {
	t.Helper()
	t.Run("demo", func(t *testing.T) { checkDemo(t, url) })
	t.Run("cart", func(t *testing.T) { checkCart(t, url) })
	t.Run("edge", func(t *testing.T) { checkDemoEdge(t, url) })
}

// checkDemoEdge checks what the shell itself answers at url beyond the
// demo's pages: the client runtime, and the refusals of /bff, each in the
// JSON error shape.
func checkDemoEdge(t *testing.T, url string) {
	t.Helper()
	c := &http.Client{Timeout: 10 * time.Second}
	resp, js := get(t, c, url+shell.RuntimePath)
	if resp.StatusCode != 200 || !strings.HasPrefix(resp.Header.Get("Content-Type"), "text/javascript") || !strings.Contains(js, "collage-slot") {
		t.Errorf("GET %s = %d %s, %d bytes; want the client runtime", shell.RuntimePath, resp.StatusCode, resp.Header.Get("Content-Type"), len(js))
	}
	for _, tt := range []struct {
		name   string
		method string
		target string
		header map[string]string
		body   string
		status int
		code   string
	}{
		{"cross-site POST", "POST", "/bff/cart/items", map[string]string{"Sec-Fetch-Site": "cross-site"}, `{"productId":"2","qty":1}`, 403, "forbidden"},
		{"foreign origin", "POST", "/bff/cart/items", map[string]string{"Origin": "https://evil.example"}, `{"productId":"2","qty":1}`, 403, "forbidden"},
		{"brotli body", "POST", "/bff/cart/items", map[string]string{"Content-Encoding": "br"}, "x", 415, "unsupported_media_type"},
		{"body over the bound", "POST", "/bff/cart/items", nil, strings.Repeat("z", shell.DefaultMaxBody+1), 413, "payload_too_large"},
		{"no such frontend", "GET", "/bff/nope/x", nil, "", 404, "not_found"},
	} {
		req, err := http.NewRequest(tt.method, url+tt.target, strings.NewReader(tt.body))
		if err != nil {
			t.Fatal(err)
		}
		req.Header.Set("Content-Type", "application/json")
		for k, v := range tt.header {
			req.Header.Set(k, v)
		}
		resp, err := c.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		var e struct {
			Error struct{ Code, Message string }
		}
		err = json.NewDecoder(resp.Body).Decode(&e)
		resp.Body.Close()
		if resp.StatusCode != tt.status || err != nil || e.Error.Code != tt.code || e.Error.Message == "" ||
			!strings.HasPrefix(resp.Header.Get("Content-Type"), "application/json") {
			t.Errorf("%s: %d %s %+v (%v); want %d with a JSON error %s and a message", tt.name, resp.StatusCode,
				resp.Header.Get("Content-Type"), e, err, tt.status, tt.code)
		}
	}
}
