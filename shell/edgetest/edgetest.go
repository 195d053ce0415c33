// Package edgetest is the end-to-end suite of the shell's HTTP edge, run
// over each binding: pages, assets, /bff calls, credentials, redirects and
// failed slots, early HEAD and redirect answers, CSRF, body bounds,
// request ids, health, metrics and errors, all through a real socket on
// 127.0.0.1. A binding's tests call Run with its Serve; only tests import
// this package.
package edgetest

import (
	"context"
	"net"
	"net/http"
	"net/url"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/collage-dev/collage/shell"
)

// Serve serves sh with cfg on ln until ctx is done, as
// fiber.Serve and nethttp.Serve (adapters/fiber, adapters/nethttp) do.
type Serve func(ctx context.Context, ln net.Listener, sh *shell.Shell, cfg shell.EdgeConfig) error

// suite holds the binding under test; each of its Test methods is a test.
type suite struct {
	serve Serve
}

// Run runs the whole suite over serve, each test as a subtest.
func Run(t *testing.T, serve Serve) { RunSkipping(t, serve, nil) }

// RunSkipping is Run for a binding that cannot pass some tests by nature:
// skip maps each such test's name (without its Test prefix) to the reason,
// which the skip prints. A name that is no test of the suite fails t, so
// the list cannot outlive the tests it names.
func RunSkipping(t *testing.T, serve Serve, skip map[string]string) {
	su := suite{serve: serve}
	v := reflect.ValueOf(su)
	seen := map[string]bool{}
	for i := range v.NumMethod() {
		name := v.Type().Method(i).Name
		test, ok := v.Method(i).Interface().(func(*testing.T))
		if !ok || !strings.HasPrefix(name, "Test") {
			continue
		}
		name = strings.TrimPrefix(name, "Test")
		seen[name] = true
		if why, ok := skip[name]; ok {
			t.Run(name, func(t *testing.T) { t.Skip(why) })
			continue
		}
		t.Run(name, test)
	}
	for name := range skip {
		if !seen[name] {
			t.Errorf("the suite has no test %s to skip", name)
		}
	}
}

// app is a server running the binding, with the Test method of a fiber
// app: it sends a request made by httptest.NewRequest, Host header and
// all, to the server and returns the answer as sent, with no
// decompression and no redirect followed.
type app struct {
	url    string
	client *http.Client
}

func (su suite) newApp(t *testing.T, sh *shell.Shell, cfg shell.EdgeConfig) *app {
	t.Helper()
	return &app{url: su.start(t, sh, cfg), client: &http.Client{
		Transport:     &http.Transport{DisableCompression: true},
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
		Timeout:       30 * time.Second,
	}}
}

// Test sends req; timeoutMS is ignored: the client has its own.
func (a *app) Test(req *http.Request, timeoutMS int) (*http.Response, error) {
	u, err := url.Parse(a.url + req.URL.RequestURI())
	if err != nil {
		return nil, err
	}
	out := req.Clone(context.Background())
	out.RequestURI, out.URL, out.Host = "", u, req.Host
	return a.client.Do(out)
}
