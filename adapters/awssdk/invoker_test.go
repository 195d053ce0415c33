package awssdk_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"sync"
	"testing"

	"github.com/collage-dev/collage/adapters/awssdk"
	"github.com/collage-dev/collage/shell/invoke"
)

// jsonCodec is an event format for unit tests of the invoker: the
// request's method, target and body, and an answer of a status, cookies
// and a body. The BFFs' own codec is tested with the real emulator, in
// tests/parity and cmd/collage.
type jsonCodec struct{}

type testEvent struct{ Method, Target, Body string }

type testAnswer struct {
	Status  int
	Cookies []string
	Body    string
}

func (jsonCodec) Encode(req *http.Request, body []byte) ([]byte, error) {
	return json.Marshal(testEvent{req.Method, req.URL.RequestURI(), string(body)})
}

func (jsonCodec) Decode(payload []byte, req *http.Request) (*http.Response, error) {
	var a testAnswer
	if err := json.Unmarshal(payload, &a); err != nil || a.Status == 0 {
		return nil, fmt.Errorf("not an answer: %s", payload)
	}
	h := http.Header{}
	for _, c := range a.Cookies {
		h.Add("Set-Cookie", c)
	}
	return invoke.NewResponse(req, a.Status, h, []byte(a.Body)), nil
}

// fakeLambda plays the Lambda Invoke API for unit tests of the mapping of
// its answers; the integration tests use the real emulator.
type fakeLambda struct {
	mu     sync.Mutex
	calls  []*http.Request
	bodies [][]byte
	answer func(w http.ResponseWriter)
}

func (f *fakeLambda) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(r.Body)
	f.mu.Lock()
	f.calls, f.bodies = append(f.calls, r), append(f.bodies, body)
	f.mu.Unlock()
	f.answer(w)
}

type logBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (l *logBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.buf.Write(p)
}

func (l *logBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.buf.String()
}

// setDummyAWS gives the SDK a region and credentials and keeps it away
// from the machine's own AWS files.
func setDummyAWS(t *testing.T) {
	for k, v := range map[string]string{"AWS_REGION": "eu-west-1", "AWS_ACCESS_KEY_ID": "test", "AWS_SECRET_ACCESS_KEY": "test",
		"AWS_SESSION_TOKEN": "", "AWS_PROFILE": "", "AWS_CONFIG_FILE": os.DevNull, "AWS_SHARED_CREDENTIALS_FILE": os.DevNull,
		"AWS_ENDPOINT_URL": "", "AWS_ENDPOINT_URL_LAMBDA": ""} {
		t.Setenv(k, v)
	}
}

func newInvoker(t *testing.T, target string, f *fakeLambda, log *logBuffer) *awssdk.Invoker {
	t.Helper()
	srv := httptest.NewServer(f)
	t.Cleanup(srv.Close)
	t.Setenv("AWS_ENDPOINT_URL_LAMBDA", srv.URL)
	inv, err := awssdk.New(context.Background(), target, jsonCodec{}, awssdk.Options{Log: slog.New(slog.NewTextHandler(log, nil))})
	if err != nil {
		t.Fatal(err)
	}
	return inv
}

func get(t *testing.T, inv *awssdk.Invoker, body []byte) (*http.Response, string) {
	t.Helper()
	r := httptest.NewRequest("POST", "/items?x=1", bytes.NewReader(body))
	r.Header.Set("X-Request-Id", "shell-req-1")
	r.Header.Set("Content-Type", "application/json")
	resp, err := inv.RoundTrip(r)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	return resp, string(b)
}

func TestParseTarget(t *testing.T) {
	tests := []struct{ in, fn, q string }{
		{"lambda://cart", "cart", ""},
		{"lambda://cart:live", "cart", "live"},
		{"lambda://arn:aws:lambda:eu-west-1:123456789012:function:cart", "arn:aws:lambda:eu-west-1:123456789012:function:cart", ""},
		{"lambda://arn:aws:lambda:eu-west-1:123456789012:function:cart:7", "arn:aws:lambda:eu-west-1:123456789012:function:cart", "7"},
	}
	for _, tt := range tests {
		fn, q, err := awssdk.ParseTarget(tt.in)
		if fn != tt.fn || q != tt.q || err != nil {
			t.Errorf("ParseTarget(%q) = %q, %q, %v", tt.in, fn, q, err)
		}
	}
	for _, bad := range []string{"lambda://", "http://cart", "lambda://a:b:c", "lambda://arn:aws:lambda:x"} {
		if _, _, err := awssdk.ParseTarget(bad); err == nil {
			t.Errorf("ParseTarget(%q) is not an error", bad)
		}
	}
}

func TestInvoke(t *testing.T) {
	setDummyAWS(t)
	f := &fakeLambda{answer: func(w http.ResponseWriter) {
		w.Header().Set("X-Amzn-Requestid", "lambda-req-1")
		w.Write([]byte(`{"status":201,"cookies":["a=1","b=2"],"body":"{\"ok\":true}"}`))
	}}
	var log logBuffer
	inv := newInvoker(t, "lambda://cart:live", f, &log)
	resp, body := get(t, inv, []byte(`{"qty":1}`))
	if resp.StatusCode != 201 || body != `{"ok":true}` || len(resp.Header.Values("Set-Cookie")) != 2 {
		t.Errorf("answer: %d %v %s", resp.StatusCode, resp.Header, body)
	}
	call := f.calls[0]
	if call.URL.Path != "/2015-03-31/functions/cart/invocations" || call.URL.Query().Get("Qualifier") != "live" {
		t.Errorf("invoked %s", call.URL)
	}
	var event testEvent
	if err := json.Unmarshal(f.bodies[0], &event); err != nil || event != (testEvent{"POST", "/items?x=1", `{"qty":1}`}) {
		t.Errorf("event sent: %s; want the codec's encoding of the request", f.bodies[0])
	}
}

func TestFunctionErrorIs502(t *testing.T) {
	setDummyAWS(t)
	for name, answer := range map[string]func(w http.ResponseWriter){
		"unhandled": func(w http.ResponseWriter) {
			w.Header().Set("X-Amzn-Requestid", "lambda-req-2")
			w.Header().Set("X-Amz-Function-Error", "Unhandled")
			w.Write([]byte(`{"errorMessage":"nil pointer","errorType":"Runtime.ExitError"}`))
		},
		"emulator error payload": func(w http.ResponseWriter) {
			w.Header().Set("X-Amzn-Requestid", "lambda-req-2")
			w.Write([]byte(`{"errorMessage":"unknown event","errorType":"Error"}`))
		},
	} {
		t.Run(name, func(t *testing.T) {
			var log logBuffer
			inv := newInvoker(t, "lambda://cart", &fakeLambda{answer: answer}, &log)
			resp, body := get(t, inv, nil)
			if resp.StatusCode != http.StatusBadGateway || resp.Header.Get("Content-Type") != "application/json" ||
				body != `{"error":{"code":"bad_gateway","message":"the BFF failed"}}` {
				t.Errorf("answer %d %v %s; want a 502 JSON error without the function's detail", resp.StatusCode, resp.Header, body)
			}
			if l := log.String(); !strings.Contains(l, "lambda_request_id=lambda-req-2") || !strings.Contains(l, "request_id=shell-req-1") {
				t.Errorf("log %q; want both request ids", l)
			}
		})
	}
}

func TestThrottleIs503(t *testing.T) {
	setDummyAWS(t)
	f := &fakeLambda{answer: func(w http.ResponseWriter) {
		w.Header().Set("X-Amzn-Requestid", "lambda-req-3")
		w.Header().Set("X-Amzn-Errortype", "TooManyRequestsException")
		w.Header().Set("Retry-After", "7")
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusTooManyRequests)
		w.Write([]byte(`{"Type":"User","message":"Rate Exceeded.","Reason":"ReservedFunctionConcurrentInvocationLimitExceeded"}`))
	}}
	var log logBuffer
	inv := newInvoker(t, "lambda://cart", f, &log)
	resp, body := get(t, inv, nil)
	if resp.StatusCode != http.StatusServiceUnavailable || resp.Header.Get("Retry-After") != "7" ||
		body != `{"error":{"code":"throttled","message":"the BFF is busy; try again shortly"}}` {
		t.Errorf("answer %d, Retry-After %q, %s; want 503, 7 and a throttled JSON error", resp.StatusCode, resp.Header.Get("Retry-After"), body)
	}
	if len(f.calls) != 1 {
		t.Errorf("%d calls; a throttled call must not be retried inside the slot's deadline", len(f.calls))
	}
	if !strings.Contains(log.String(), "lambda-req-3") {
		t.Errorf("log %q; want the Lambda request id", log.String())
	}
}

func TestTooLargeIs413WithoutInvoking(t *testing.T) {
	setDummyAWS(t)
	f := &fakeLambda{answer: func(w http.ResponseWriter) {}}
	var log logBuffer
	inv := newInvoker(t, "lambda://cart", f, &log)
	for name, body := range map[string][]byte{
		"a body over 6 MB":                bytes.Repeat([]byte("a"), awssdk.MaxPayloadBytes+1),
		"a body whose event is over 6 MB": bytes.Repeat([]byte{0}, 2<<20), // \u0000 in JSON
	} {
		resp, answer := get(t, inv, body)
		want := `{"error":{"code":"payload_too_large","message":"the request is over Lambda's 6 MB limit"}}`
		if resp.StatusCode != http.StatusRequestEntityTooLarge || answer != want || len(f.calls) != 0 {
			t.Errorf("%s: answer %d %s after %d calls; want 413 %s and none", name, resp.StatusCode, answer, len(f.calls), want)
		}
	}
}
