package main

import (
	"context"
	"encoding/json"
	"net/http"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/collage-dev/collage/adapters/lambda"
	"github.com/collage-dev/collage/bff"
	buildlambda "github.com/collage-dev/collage/build/lambda"
	cart "github.com/collage-dev/collage/frontends/cart/bff"
	"github.com/collage-dev/collage/frontends/internal/shoptest"
	"github.com/collage-dev/collage/internal/emulator"
)

func TestStateInMemory(t *testing.T) {
	t.Parallel()
	var stderr strings.Builder
	st, closeStates, err := stateStore([]string{"PORT=9001", envRedisURL + "="}, &stderr)
	if err != nil {
		t.Fatal(err)
	}
	defer closeStates()
	if _, ok := st.(*bff.MemState); !ok {
		t.Errorf("without %s the store is a %T, want a *bff.MemState", envRedisURL, st)
	}
	if !strings.Contains(stderr.String(), envRedisURL+" is not set") || !strings.Contains(stderr.String(), "not shared") {
		t.Errorf("stderr %q, want a warning that carts are not shared", stderr.String())
	}
}

func TestBadRedisURL(t *testing.T) {
	t.Parallel()
	var stderr strings.Builder
	if code := run([]string{envRedisURL + "=http://127.0.0.1:6379"}, &stderr); code != 1 {
		t.Errorf("exit code %d, want 1", code)
	}
	if !strings.HasPrefix(stderr.String(), "bff cart: "+envRedisURL+": ") {
		t.Errorf("stderr %q, want the variable at fault", stderr.String())
	}
}

// instance builds the cart as a bootstrap with environ does.
func instance(t *testing.T, environ []string) *bff.BFF {
	t.Helper()
	st, closeStates, err := stateStore(environ, os.Stderr)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(closeStates)
	b, err := bff.Factory(cart.New).WithState(st)(lambda.Settings(environ))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// needRedis skips t with a loud message when b's state does not answer,
// and fails it under CI, which always has Redis.
func needRedis(t *testing.T, b *bff.BFF) {
	t.Helper()
	if _, _, err := b.State().Get(context.Background(), "probe"); err != nil {
		if os.Getenv("CI") != "" {
			t.Fatalf("no Redis at 127.0.0.1:6379, which CI must have: %v", err)
		}
		t.Skipf("SKIPPED: no Redis at 127.0.0.1:6379 (%v): start one (redis-server) to run this test", err)
	}
}

// alternate sends each request to the next of two instances.
type alternate struct {
	hs [2]http.Handler
	n  int
}

func (a *alternate) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	a.n++
	a.hs[a.n%2].ServeHTTP(w, r)
}

// TestInstancesShareCarts: two instances of the bootstrap given one
// COLLAGE_REDIS_URL, as two Lambda instances, keep one cart for a
// shopper whose requests go to each in turn.
func TestInstancesShareCarts(t *testing.T) {
	t.Parallel()
	environ := []string{
		envRedisURL + "=redis://127.0.0.1:6379/0",
		lambda.SettingPrefix + "session_key=" + strings.Repeat("5e", 32),
	}
	a, b := instance(t, environ), instance(t, environ)
	needRedis(t, a)
	shopper := shoptest.NewBrowser(&alternate{hs: [2]http.Handler{a, b}})
	count := func(r *http.Request) int {
		t.Helper()
		w := shopper.Do(r)
		if w.Code != http.StatusOK {
			t.Fatalf("%s %s: status %d; body: %s", r.Method, r.URL, w.Code, w.Body)
		}
		return shoptest.Decode[cart.Cart](t, w).Count
	}
	get := func() *http.Request { return shoptest.JSONRequest(http.MethodGet, "/cart", nil) }
	count(get())
	for range 3 {
		count(shoptest.JSONRequest(http.MethodPost, "/items", cart.AddItem{ProductID: "1", Qty: 1}))
	}
	if n, m := count(get()), count(get()); n != 3 || m != 3 {
		t.Fatalf("the two instances show %d and %d of the 3 products added through both", n, m)
	}
	// Removing the last product deletes the cart from Redis.
	if n := count(shoptest.JSONRequest(http.MethodDelete, "/items/1", nil)); n != 0 {
		t.Errorf("after removing product 1 the cart holds %d", n)
	}
	if n := count(get()); n != 0 {
		t.Errorf("the other instance shows %d after the remove", n)
	}
}

// TestLambdaInstancesShareCarts runs the bootstrap under two Lambda
// emulators, as two instances of the function, with the environment the
// template gives: a cart added to through one is the cart of the other.
func TestLambdaInstancesShareCarts(t *testing.T) {
	t.Parallel()
	env := []string{
		envRedisURL + "=redis://127.0.0.1:6379/0",
		lambda.SettingPrefix + "session_key=" + strings.Repeat("5e", 32),
	}
	needRedis(t, instance(t, env))
	rie := emulator.Require(t)
	ctx, cancel := context.WithTimeout(context.Background(), 8*time.Minute)
	defer cancel()
	bin := filepath.Join(t.TempDir(), "bootstrap")
	if err := buildlambda.BuildBootstrap(ctx, "go", ".", ".", "linux", runtime.GOARCH, bin); err != nil {
		t.Fatal(err)
	}
	instances := []*emulator.Emulator{emulator.StartT(t, rie, bin, env...), emulator.StartT(t, rie, bin, env...)}

	// call invokes instance i with a Function URL's event and returns the
	// cart's count and the cookies it sets.
	call := func(i int, method, path, body string, cookies ...string) (int, []string) {
		t.Helper()
		event, _ := json.Marshal(map[string]any{
			"version": "2.0", "rawPath": path, "cookies": cookies, "body": body,
			"headers":        map[string]string{"content-type": "application/json"},
			"requestContext": map[string]any{"http": map[string]string{"method": method, "path": path}},
		})
		status, payload, err := instances[i].Invoke(ctx, event)
		if err != nil || status != http.StatusOK {
			t.Fatalf("%s %s on instance %d: %d, %v", method, path, i, status, err)
		}
		var resp struct {
			StatusCode int      `json:"statusCode"`
			Body       string   `json:"body"`
			Cookies    []string `json:"cookies"`
		}
		var c cart.Cart
		if err := json.Unmarshal(payload, &resp); err != nil || resp.StatusCode != http.StatusOK || json.Unmarshal([]byte(resp.Body), &c) != nil {
			t.Fatalf("%s %s on instance %d answered %s", method, path, i, payload)
		}
		return c.Count, resp.Cookies
	}
	_, set := call(0, http.MethodGet, "/cart", "")
	if len(set) != 1 {
		t.Fatalf("GET /cart set cookies %q, want the session's", set)
	}
	cookie, _, _ := strings.Cut(set[0], ";")
	for i := range 4 {
		call(i%2, http.MethodPost, "/items", `{"productId":"1","qty":1}`, cookie)
	}
	for i := range 2 {
		if n, _ := call(i, http.MethodGet, "/cart", "", cookie); n != 4 {
			t.Errorf("instance %d shows %d of the 4 products added through both", i, n)
		}
	}
	if n, _ := call(1, http.MethodDelete, "/items/1", "", cookie); n != 0 {
		t.Errorf("after the remove the cart holds %d", n)
	}
	if n, _ := call(0, http.MethodGet, "/cart", "", cookie); n != 0 {
		t.Errorf("the other instance shows %d after the remove", n)
	}
	for _, em := range instances {
		if out := em.Output(); strings.Contains(out, "not set") {
			t.Errorf("an instance warned that %s is not set: %s", envRedisURL, out)
		}
	}
}
