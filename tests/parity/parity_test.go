package parity_test

import (
	"bufio"
	"context"
	"encoding/json"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"runtime"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/collage-dev/collage/adapters/awssdk"
	"github.com/collage-dev/collage/adapters/lambda"
	"github.com/collage-dev/collage/bff"
	buildlambda "github.com/collage-dev/collage/build/lambda"
	cart "github.com/collage-dev/collage/frontends/cart/bff"
	"github.com/collage-dev/collage/internal/emulator"
	"github.com/collage-dev/collage/shell/invoke"
	"github.com/collage-dev/collage/tests/parity"
)

// root is the module root, from this package's folder.
const root = "../.."

// transport is one way of reaching a BFF.
type transport struct {
	name string
	inv  invoke.Invoker
}

// bootstrap builds the main package pkg for this machine, the way collage
// build does for Lambda, and returns the binary's path.
func bootstrap(t testing.TB, pkg string) string {
	t.Helper()
	out := filepath.Join(t.TempDir(), "bootstrap")
	ctx, cancel := context.WithTimeout(context.Background(), 8*time.Minute)
	defer cancel()
	if err := buildlambda.BuildBootstrap(ctx, "go", root, pkg, "linux", runtime.GOARCH, out); err != nil {
		t.Fatal(err)
	}
	return out
}

// serveHTTP runs bin as a local HTTP server, as it runs outside Lambda,
// and returns its URL.
func serveHTTP(t testing.TB, bin string) string {
	t.Helper()
	cmd := exec.Command(bin)
	cmd.Env = []string{"PORT=0", "HOST=127.0.0.1"}
	stderr, err := cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		cmd.Process.Signal(syscall.SIGTERM)
		cmd.Wait()
	})
	lines := bufio.NewScanner(stderr)
	urlc := make(chan string, 1)
	go func() {
		for lines.Scan() {
			if _, url, ok := strings.Cut(lines.Text(), "listening on "); ok {
				urlc <- url
			}
		}
	}()
	select {
	case url := <-urlc:
		return url
	case <-time.After(20 * time.Second):
		t.Fatal("the bootstrap's HTTP mode did not say where it listens")
	}
	return ""
}

// viaEmulator runs bin under the Lambda emulator and returns an invoker
// that reaches it through the Lambda Invoke API.
func viaEmulator(t testing.TB, rie, bin string) (invoke.Invoker, *emulator.Emulator) {
	t.Helper()
	em := emulator.StartT(t, rie, bin)
	setDummyAWS(t)
	inv, err := awssdk.New(context.Background(), "lambda://function", lambda.InvokeCodec{}, awssdk.Options{Endpoint: em.URL})
	if err != nil {
		t.Fatal(err)
	}
	return inv, em
}

// setDummyAWS gives the AWS SDK a region and credentials; the emulator
// checks neither.
func setDummyAWS(t testing.TB) {
	for k, v := range map[string]string{"AWS_REGION": "us-east-1", "AWS_ACCESS_KEY_ID": "test",
		"AWS_SECRET_ACCESS_KEY": "test", "AWS_SESSION_TOKEN": "", "AWS_PROFILE": "", "AWS_CONFIG_FILE": os.DevNull,
		"AWS_SHARED_CREDENTIALS_FILE": os.DevNull} {
		if tt, ok := t.(*testing.T); ok {
			tt.Setenv(k, v)
		} else {
			os.Setenv(k, v)
		}
	}
}

// transports returns the ways to reach the BFF that f builds, whose main
// package is pkg: in-process, local HTTP and Lambda Invoke to the
// emulator, which only CI may not leave out.
func transports(t *testing.T, f bff.Factory, pkg string) []transport {
	t.Helper()
	b, err := f(nil)
	if err != nil {
		t.Fatal(err)
	}
	bin := bootstrap(t, pkg)
	httpInv, err := invoke.HTTP(serveHTTP(t, bin), invoke.HTTPOptions{})
	if err != nil {
		t.Fatal(err)
	}
	out := []transport{{"in-process", invoke.Local(b)}, {"local HTTP", httpInv}}
	rie, ok := emulator.Optional(t)
	if !ok {
		return out
	}
	lambdaInv, _ := viaEmulator(t, rie, bin)
	return append(out, transport{"Lambda Invoke to the emulator", lambdaInv})
}

func call(t *testing.T, inv invoke.Invoker, r *http.Request) parity.Result {
	t.Helper()
	resp, err := inv.RoundTrip(r)
	if err != nil {
		t.Fatalf("%s %s: %v", r.Method, r.URL, err)
	}
	res, err := parity.Read(resp)
	if err != nil {
		t.Fatal(err)
	}
	return res
}

func show(r parity.Result) string {
	b, _ := json.MarshalIndent(r, "", "  ")
	return string(b)
}

// TestParity sends the table through every transport to the parity BFF;
// each answer must equal the in-process one.
func TestParity(t *testing.T) {
	ts := transports(t, parity.New, "./tests/parity/cmd/bootstrap")
	ctx := context.Background()
	for _, c := range parity.Cases() {
		want := call(t, ts[0].inv, c.Request(ctx))
		for _, tr := range ts[1:] {
			got := call(t, tr.inv, c.Request(ctx))
			if !reflect.DeepEqual(got, want) {
				t.Errorf("%s via %s differs from in-process:\ngot  %s\nwant %s", c.Name, tr.name, show(got), show(want))
			}
		}
	}
}

// cartSteps are a shopper's calls to the demo cart, in order.
func cartSteps() []parity.Case {
	h := func(kv ...string) http.Header {
		out := http.Header{"User-Agent": {parity.UserAgent}}
		for i := 0; i < len(kv); i += 2 {
			out.Set(kv[i], kv[i+1])
		}
		return out
	}
	return []parity.Case{
		{Name: "first call without a session", Method: "GET", Target: "/cart", Header: http.Header{"User-Agent": {parity.UserAgent}}},
		{Name: "empty cart", Method: "GET", Target: "/cart", Header: h()},
		{Name: "add", Method: "POST", Target: "/items", Header: h("Content-Type", "application/json"), Body: []byte(`{"productId":"1","qty":2}`)},
		{Name: "add another", Method: "POST", Target: "/items", Header: h("Content-Type", "application/json"), Body: []byte(`{"productId":"3","qty":1}`)},
		{Name: "add too many", Method: "POST", Target: "/items", Header: h("Content-Type", "application/json"), Body: []byte(`{"productId":"1","qty":99}`)},
		{Name: "unknown product", Method: "POST", Target: "/items", Header: h("Content-Type", "application/json"), Body: []byte(`{"productId":"nope","qty":1}`)},
		{Name: "qty of the wrong type", Method: "POST", Target: "/items", Header: h("Content-Type", "application/json"), Body: []byte(`{"productId":"1","qty":"2"}`)},
		{Name: "fragment", Method: "GET", Target: "/_fragment", Header: h("Collage-Path", "/", "Collage-Params", "")},
		{Name: "remove", Method: "DELETE", Target: "/items/1", Header: h()},
		{Name: "cart after remove", Method: "GET", Target: "/cart", Header: h()},
	}
}

// TestParityCart runs a shopper's session against the demo cart through
// every transport; each process starts with an empty store and signs
// sessions with a key of its own, so each transport is sent back the
// session cookie its first answer set, as a browser would.
func TestParityCart(t *testing.T) {
	ts := transports(t, cart.New, "./frontends/cart/bff/cmd/bootstrap")
	ctx := context.Background()
	sessions := make([]string, len(ts))
	send := func(i int, c parity.Case) parity.Result {
		t.Helper()
		r := c.Request(ctx)
		if sessions[i] != "" {
			r.Header.Set("Cookie", sessions[i])
		}
		res := call(t, ts[i].inv, r)
		for _, sc := range res.Header["Set-Cookie"] {
			if c, err := http.ParseSetCookie(sc); err == nil && c.Name == cart.CookieName {
				sessions[i] = c.Name + "=" + c.Value
			}
		}
		return res.MaskSessions()
	}
	for _, c := range cartSteps() {
		want := send(0, c)
		for i, tr := range ts[1:] {
			got := send(i+1, c)
			if !reflect.DeepEqual(got, want) {
				t.Errorf("cart %s via %s differs from in-process:\ngot  %s\nwant %s", c.Name, tr.name, show(got), show(want))
			}
		}
	}
}

// TestEmulatorInvocation checks what only Lambda has: the invocation in
// the function's ctx, and a function error for an event of no known shape.
func TestEmulatorInvocation(t *testing.T) {
	rie := emulator.Require(t)
	em := emulator.StartT(t, rie, bootstrap(t, "./tests/parity/cmd/bootstrap"))
	ctx := context.Background()

	status, body, err := em.Invoke(ctx, []byte(`{"hello":"world"}`))
	if err != nil {
		t.Fatal(err)
	}
	var fe struct{ ErrorMessage, ErrorType string }
	if err := json.Unmarshal(body, &fe); err != nil || !strings.Contains(fe.ErrorMessage, "expected an API Gateway HTTP API") {
		t.Errorf("unknown event: status %d, body %s; want an error naming the shapes expected", status, body)
	}

	status, body, err = em.Invoke(ctx, []byte(`{"version":"2.0","rawPath":"/invocation","requestContext":{"http":{"method":"GET","sourceIp":"2001:db8::7"}}}`))
	if err != nil {
		t.Fatal(err)
	}
	var resp struct {
		StatusCode int
		Body       string
	}
	if err := json.Unmarshal(body, &resp); err != nil || resp.StatusCode != 200 {
		t.Fatalf("GET /invocation: status %d, body %s", status, body)
	}
	var inv parity.InvocationInfo
	if err := json.Unmarshal([]byte(resp.Body), &inv); err != nil {
		t.Fatal(err)
	}
	if !inv.InLambda || inv.RequestID == "" || !strings.HasPrefix(inv.FunctionARN, "arn:aws:lambda:") ||
		inv.DeadlineInMs <= 0 {
		t.Errorf("invocation seen by the function: %+v", inv)
	}
}

// TestFetchFragmentOverHTTP: each fragment case, served by the parity BFF
// on a real socket, answers the same through the HTTP invoker's own
// fragment client as through net/http.
func TestFetchFragmentOverHTTP(t *testing.T) {
	t.Parallel()
	b, err := parity.New(nil)
	if err != nil {
		t.Fatal(err)
	}
	b.Log = slog.New(slog.DiscardHandler)
	srv := httptest.NewServer(b)
	t.Cleanup(srv.Close)
	inv, err := invoke.HTTP(srv.URL, invoke.HTTPOptions{})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	cases := parity.FragmentCases()
	for _, c := range cases {
		want := call(t, inv, c.Request(ctx))
		ans, ok, err := inv.(invoke.FragmentFetcher).FetchFragment(ctx, c.FragmentCall())
		if !ok || err != nil {
			t.Fatalf("%s: FetchFragment: %v (ok %v)", c.Name, err, ok)
		}
		got, err := parity.ReadAnswer(ans)
		if err != nil {
			t.Fatal(err)
		}
		if !reflect.DeepEqual(got, want) {
			t.Errorf("%s: FetchFragment differs from net/http:\ngot  %s\nwant %s", c.Name, show(got), show(want))
		}
	}
	if len(cases) < 5 {
		t.Errorf("the table has %d fragment cases", len(cases))
	}
}

// TestRenderFragment: a shell with the BFF linked in renders fragments
// through RenderFragment, without HTTP; each answer must equal the one to
// GET /_fragment in-process.
func TestRenderFragment(t *testing.T) {
	t.Parallel()
	b, err := parity.New(nil)
	if err != nil {
		t.Fatal(err)
	}
	b.Log = slog.New(slog.DiscardHandler)
	ctx := context.Background()
	cases := parity.FragmentCases()
	for _, c := range cases {
		want := call(t, invoke.Local(b), c.Request(ctx))
		ans, ok := b.RenderFragment(ctx, c.FragmentCall())
		if !ok {
			t.Fatal("RenderFragment: the parity BFF has no fragment")
		}
		got, err := parity.ReadAnswer(ans)
		if err != nil {
			t.Fatal(err)
		}
		if !reflect.DeepEqual(got, want) {
			t.Errorf("%s: RenderFragment differs from GET %s:\ngot  %s\nwant %s", c.Name, bff.FragmentPath, show(got), show(want))
		}
	}
	if len(cases) < 5 {
		t.Errorf("the table has %d fragment cases", len(cases))
	}
	if _, ok := bff.New("api-only").RenderFragment(ctx, &bff.FragmentCall{}); ok {
		t.Error("RenderFragment of a BFF without a fragment reports ok")
	}
}
