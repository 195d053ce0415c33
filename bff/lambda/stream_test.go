package lambda_test

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/collage-dev/collage/bff/lambda"
	"github.com/collage-dev/collage/bff/lambda/emulator"
	buildlambda "github.com/collage-dev/collage/build/lambda"
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

// chunk is what the fake Runtime API read of a streamed answer, and when.
type chunk struct {
	at   time.Time
	data []byte
}

// posted is one POST the function made to the fake Runtime API.
type posted struct {
	path    string
	header  http.Header
	chunked bool
	chunks  []chunk
	trailer http.Header
}

func (p *posted) body() []byte {
	var b []byte
	for _, c := range p.chunks {
		b = append(b, c.data...)
	}
	return b
}

// fakeRuntimeAPI serves the Runtime API's invocation endpoints: each GET
// next hands out the next event (then waits until the test ends), and every
// POST is recorded as it arrives.
type fakeRuntimeAPI struct {
	*httptest.Server
	events chan []byte
	posts  chan *posted
	n      int
}

func newFakeRuntimeAPI(t *testing.T) *fakeRuntimeAPI {
	t.Helper()
	f := &fakeRuntimeAPI{events: make(chan []byte, 10), posts: make(chan *posted, 10)}
	var mu sync.Mutex
	mux := http.NewServeMux()
	mux.HandleFunc("GET /2018-06-01/runtime/invocation/next", func(w http.ResponseWriter, r *http.Request) {
		select {
		case e := <-f.events:
			mu.Lock()
			f.n++
			id := "req-" + strconv.Itoa(f.n)
			mu.Unlock()
			w.Header().Set("Lambda-Runtime-Aws-Request-Id", id)
			w.Header().Set("Lambda-Runtime-Deadline-Ms", strconv.FormatInt(time.Now().Add(time.Minute).UnixMilli(), 10))
			w.Header().Set("Lambda-Runtime-Invoked-Function-Arn", "arn:aws:lambda:us-east-1:123456789012:function:shell")
			w.Write(e)
		case <-r.Context().Done():
		}
	})
	mux.HandleFunc("POST /2018-06-01/runtime/invocation/{id}/{what}", func(w http.ResponseWriter, r *http.Request) {
		p := &posted{path: r.PathValue("id") + "/" + r.PathValue("what"), header: r.Header.Clone(),
			chunked: len(r.TransferEncoding) == 1 && r.TransferEncoding[0] == "chunked"}
		buf := make([]byte, 64<<10)
		for {
			n, err := r.Body.Read(buf)
			if n > 0 {
				p.chunks = append(p.chunks, chunk{time.Now(), bytes.Clone(buf[:n])})
			}
			if err != nil {
				break
			}
		}
		p.trailer = r.Trailer.Clone()
		w.WriteHeader(http.StatusAccepted)
		f.posts <- p
	})
	f.Server = httptest.NewServer(mux)
	t.Cleanup(f.Close)
	return f
}

// startFunction runs the test binary as a function against api.
func startFunction(t *testing.T, api, mode string) {
	t.Helper()
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), envTestFunction+"=1", "AWS_LAMBDA_RUNTIME_API="+strings.TrimPrefix(api, "http://"),
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

func (f *fakeRuntimeAPI) invoke(t *testing.T, event string) *posted {
	t.Helper()
	f.events <- []byte(event)
	select {
	case p := <-f.posts:
		return p
	case <-time.After(30 * time.Second):
		t.Fatal("the function posted no answer in 30s")
		return nil
	}
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
	api := newFakeRuntimeAPI(t)
	startFunction(t, api.URL, lambda.InvokeModeStream)

	t.Run("head first", func(t *testing.T) {
		p := api.invoke(t, v2("/slow"))
		if p.path != "req-1/response" {
			t.Fatalf("posted to %s; want req-1/response", p.path)
		}
		if got := p.header.Get("Lambda-Runtime-Function-Response-Mode"); got != "streaming" {
			t.Errorf("Lambda-Runtime-Function-Response-Mode = %q; want streaming", got)
		}
		if got := p.header.Get("Content-Type"); got != lambda.StreamContentType {
			t.Errorf("Content-Type = %q; want %s", got, lambda.StreamContentType)
		}
		if !p.chunked {
			t.Error("the answer is not sent with chunked transfer encoding")
		}
		prelude, body, ok := bytes.Cut(p.body(), make([]byte, 8))
		if !ok {
			t.Fatalf("no 8-NUL delimiter after the prelude in %q", p.body())
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
		var head, rest time.Time
		for _, c := range p.chunks {
			if bytes.Contains(c.data, []byte("<head>")) {
				head = c.at
			}
			if bytes.Contains(c.data, []byte("rest")) {
				rest = c.at
			}
		}
		if head.IsZero() || rest.IsZero() || rest.Sub(head) < pause/2 {
			t.Errorf("the head arrived %s before the rest; want it before the %s pause ends (chunks: %d)", rest.Sub(head), pause, len(p.chunks))
		}
		t.Logf("head %s before the rest, %d chunks", rest.Sub(head).Round(time.Millisecond), len(p.chunks))
	})

	t.Run("panic after the head", func(t *testing.T) {
		p := api.invoke(t, v2("/panic-late"))
		if !bytes.Contains(p.body(), []byte("<head>/panic-late</head>")) {
			t.Errorf("body = %q; want the head sent before the panic", p.body())
		}
		if got := p.trailer.Get("Lambda-Runtime-Function-Error-Type"); got != "Runtime.HandlerError" {
			t.Errorf("error type trailer = %q; want Runtime.HandlerError (trailer %v)", got, p.trailer)
		}
		b, err := base64.StdEncoding.DecodeString(p.trailer.Get("Lambda-Runtime-Function-Error-Body"))
		if err != nil || !bytes.Contains(b, []byte("panic: late")) {
			t.Errorf("error body trailer = %q, %v; want the panic", b, err)
		}
	})

	for _, c := range []struct{ name, event, want string }{
		{"panic before anything", v2("/panic-early"), "panic: early"},
		{"not a Function URL event", `{"httpMethod":"GET","path":"/"}`, "payload 2.0"},
	} {
		t.Run(c.name, func(t *testing.T) {
			p := api.invoke(t, c.event)
			if !strings.HasSuffix(p.path, "/error") || !bytes.Contains(p.body(), []byte(c.want)) {
				t.Errorf("POST %s %s; want the error endpoint, with %q", p.path, p.body(), c.want)
			}
		})
	}

	t.Run("the next event after errors", func(t *testing.T) {
		p := api.invoke(t, v2("/again"))
		if !bytes.HasSuffix(p.body(), []byte("<head>/again</head><body>rest</body>")) {
			t.Errorf("body = %q", p.body())
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
		t.Errorf("bff/lambda reads %s=%s, build/lambda writes %s=%s", lambda.EnvInvokeMode, lambda.InvokeModeStream,
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
