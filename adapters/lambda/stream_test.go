package lambda_test

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/collage-dev/collage/adapters/lambda"
	buildlambda "github.com/collage-dev/collage/build/lambda"
	"github.com/collage-dev/collage/internal/emulator"
)

// envTestFunction makes the test binary a Lambda function serving
// slowPage, in the mode COLLAGE_INVOKE_MODE names: a fake Runtime API, or
// the emulator, runs it as its bootstrap.
const envTestFunction = "COLLAGE_TEST_LAMBDA_FUNCTION"

// pause is how long slowPage waits between its head and the rest.
const pause = 500 * time.Millisecond

func TestMain(m *testing.M) {
	if os.Getenv(envTestFunction) == "1" {
		err := lambda.Serve(context.Background(), slowPage(), lambda.Options{Log: quiet()}, os.Environ())
		fmt.Fprintln(os.Stderr, "test function:", err)
		os.Exit(1)
	}
	os.Exit(m.Run())
}

// slowPage writes a page's head, flushes, waits, and writes the rest, as
// the shell does when a slot is slow. /panic-late fails after the head,
// /panic-early before anything.
func slowPage() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/panic-early" {
			panic("early")
		}
		h := w.Header()
		h.Set("Content-Type", "text/html; charset=utf-8")
		h.Add("Set-Cookie", "a=1; Path=/")
		h.Add("Set-Cookie", "b=2, still b; Path=/")
		h.Add("Vary", "Cookie")
		h.Add("Vary", "Accept")
		w.WriteHeader(http.StatusCreated)
		io.WriteString(w, "<head>"+r.URL.Path+"</head>")
		if err := http.NewResponseController(w).Flush(); err != nil {
			panic(err)
		}
		if r.URL.Path == "/panic-late" {
			panic("late")
		}
		time.Sleep(pause)
		io.WriteString(w, "<body>rest</body>")
	})
}

// startFunction runs the test binary as a function against api.
func startFunction(t *testing.T, api, mode string) {
	t.Helper()
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), envTestFunction+"=1", "AWS_LAMBDA_RUNTIME_API="+api,
		"COLLAGE_INVOKE_MODE="+mode)
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		cmd.Process.Kill()
		cmd.Wait()
		if t.Failed() {
			t.Logf("function output:\n%s", out.String())
		}
	})
}

func streamed(t *testing.T, api *emulator.RuntimeAPI, event string) *emulator.Answer {
	t.Helper()
	return api.Invoke(t, []byte(event), 30*time.Second)
}

func v2(path string) string {
	return `{"version":"2.0","rawPath":"` + path + `","headers":{"host":"abc.lambda-url.us-east-1.on.aws"},` +
		`"requestContext":{"http":{"method":"GET","sourceIp":"127.0.0.1"}}}`
}

// TestStreamWireFormat runs the streaming mode in its own process against
// a fake Runtime API that speaks the documented wire format, and checks
// what reaches it: the response mode header, chunked transfer, a prelude
// with the status, headers and cookies before eight NUL bytes, the head of
// the page well before the rest, and the error paths.
func TestStreamWireFormat(t *testing.T) {
	api := emulator.NewRuntimeAPI(t)
	startFunction(t, api.Addr(), lambda.InvokeModeStream)

	t.Run("head first", func(t *testing.T) {
		p := streamed(t, api, v2("/slow"))
		if p.Path != "req-1/response" {
			t.Fatalf("posted to %s; want req-1/response", p.Path)
		}
		if got := p.Header.Get("Lambda-Runtime-Function-Response-Mode"); got != "streaming" {
			t.Errorf("Lambda-Runtime-Function-Response-Mode = %q; want streaming", got)
		}
		if got := p.Header.Get("Content-Type"); got != lambda.StreamContentType {
			t.Errorf("Content-Type = %q; want %s", got, lambda.StreamContentType)
		}
		if !p.Chunked {
			t.Error("the answer is not sent with chunked transfer encoding")
		}
		prelude, body, ok := bytes.Cut(p.Body(), make([]byte, 8))
		if !ok {
			t.Fatalf("no 8-NUL delimiter after the prelude in %q", p.Body())
		}
		var got struct {
			StatusCode int
			Headers    map[string]string
			Cookies    []string
		}
		if err := json.Unmarshal(prelude, &got); err != nil {
			t.Fatalf("prelude %s: %v", prelude, err)
		}
		if got.StatusCode != 201 || got.Headers["Content-Type"] != "text/html; charset=utf-8" || got.Headers["Vary"] != "Cookie, Accept" ||
			strings.Join(got.Cookies, "|") != "a=1; Path=/|b=2, still b; Path=/" {
			t.Errorf("prelude = %+v", got)
		}
		if string(body) != "<head>/slow</head><body>rest</body>" {
			t.Errorf("body = %q", body)
		}
		// The head left before the pause: the first chunk holding it came
		// at least half the pause before the one with the rest.
		head, ok1 := p.Arrived("<head>")
		rest, ok2 := p.Arrived("rest")
		if !ok1 || !ok2 || rest.Sub(head) < pause/2 {
			t.Errorf("the head arrived %s before the rest; want it before the %s pause ends (chunks: %d)", rest.Sub(head), pause, len(p.Chunks))
		}
		t.Logf("head %s before the rest, %d chunks", rest.Sub(head).Round(time.Millisecond), len(p.Chunks))
	})

	t.Run("panic after the head", func(t *testing.T) {
		p := streamed(t, api, v2("/panic-late"))
		if !bytes.Contains(p.Body(), []byte("<head>/panic-late</head>")) {
			t.Errorf("body = %q; want the head sent before the panic", p.Body())
		}
		if got := p.Trailer.Get("Lambda-Runtime-Function-Error-Type"); got != "Runtime.HandlerError" {
			t.Errorf("error type trailer = %q; want Runtime.HandlerError (trailer %v)", got, p.Trailer)
		}
		b, err := base64.StdEncoding.DecodeString(p.Trailer.Get("Lambda-Runtime-Function-Error-Body"))
		if err != nil || !bytes.Contains(b, []byte("panic: late")) {
			t.Errorf("error body trailer = %q, %v; want the panic", b, err)
		}
	})

	for _, c := range []struct{ name, event, want string }{
		{"panic before anything", v2("/panic-early"), "panic: early"},
		{"not a Function URL event", `{"httpMethod":"GET","path":"/"}`, "payload 2.0"},
	} {
		t.Run(c.name, func(t *testing.T) {
			p := streamed(t, api, c.event)
			if !strings.HasSuffix(p.Path, "/error") || !bytes.Contains(p.Body(), []byte(c.want)) {
				t.Errorf("POST %s %s; want the error endpoint, with %q", p.Path, p.Body(), c.want)
			}
		})
	}

	t.Run("the next event after errors", func(t *testing.T) {
		p := streamed(t, api, v2("/again"))
		if !bytes.HasSuffix(p.Body(), []byte("<head>/again</head><body>rest</body>")) {
			t.Errorf("body = %q", p.Body())
		}
	})
}

// TestBufferedUnderEmulator runs the same handler in the buffered mode
// under aws-lambda-rie: the whole answer in the event's shape.
func TestBufferedUnderEmulator(t *testing.T) {
	rie := emulator.Require(t)
	em := emulator.StartT(t, rie, os.Args[0], envTestFunction+"=1", "COLLAGE_INVOKE_MODE="+lambda.InvokeModeBuffered)
	status, out, err := em.Invoke(context.Background(), []byte(v2("/slow")))
	if err != nil || status != 200 {
		t.Fatalf("invoke: %d %s %v", status, out, err)
	}
	var got struct {
		StatusCode int
		Headers    map[string]string
		Cookies    []string
		Body       string
	}
	if err := json.Unmarshal(out, &got); err != nil {
		t.Fatalf("%s: %v", out, err)
	}
	if got.StatusCode != 201 || got.Body != "<head>/slow</head><body>rest</body>" || got.Headers["Vary"] != "Cookie, Accept" ||
		strings.Join(got.Cookies, "|") != "a=1; Path=/|b=2, still b; Path=/" {
		t.Errorf("answer = %+v", got)
	}
}

// TestInvokeModeNames checks the template collage build writes names the
// streaming mode as Serve reads it.
func TestInvokeModeNames(t *testing.T) {
	if lambda.EnvInvokeMode != buildlambda.EnvInvokeMode || lambda.InvokeModeStream != buildlambda.InvokeModeStream {
		t.Errorf("adapters/lambda reads %s=%s, build/lambda writes %s=%s", lambda.EnvInvokeMode, lambda.InvokeModeStream,
			buildlambda.EnvInvokeMode, buildlambda.InvokeModeStream)
	}
}

func TestServeRefuses(t *testing.T) {
	for _, c := range []struct {
		name    string
		environ []string
		want    string
	}{
		{"outside Lambda", nil, "AWS_LAMBDA_RUNTIME_API is not set"},
		{"unknown mode", []string{"AWS_LAMBDA_RUNTIME_API=127.0.0.1:1", "COLLAGE_INVOKE_MODE=STREAM"}, `COLLAGE_INVOKE_MODE="STREAM": want RESPONSE_STREAM or BUFFERED`},
	} {
		t.Run(c.name, func(t *testing.T) {
			err := lambda.Serve(context.Background(), slowPage(), lambda.Options{}, c.environ)
			if err == nil || !strings.Contains(err.Error(), c.want) {
				t.Errorf("Serve = %v; want an error with %q", err, c.want)
			}
		})
	}
}
