package lambda_test

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-lambda-go/lambdacontext"

	"github.com/collage-dev/collage/adapters/lambda"
	"github.com/collage-dev/collage/bff"
	buildlambda "github.com/collage-dev/collage/build/lambda"
	"github.com/collage-dev/collage/tests/parity"
)

// seen is what the echo handler saw of a request.
type seen struct {
	Method, Path, RawQuery, Host, RemoteAddr string
	Header                                   http.Header
	Body                                     []byte
}

// echo records the request it gets and answers with resp.
func echo(got *seen, resp func(w http.ResponseWriter)) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		*got = seen{r.Method, r.URL.Path, r.URL.RawQuery, r.Host, r.RemoteAddr, r.Header, body}
		if resp != nil {
			resp(w)
		}
	})
}

func quiet() *slog.Logger { return slog.New(slog.NewTextHandler(io.Discard, nil)) }

func call(t *testing.T, h http.Handler, opts lambda.Options, event any) []byte {
	t.Helper()
	payload, err := json.Marshal(event)
	if err != nil {
		t.Fatal(err)
	}
	opts.Log = quiet()
	out, err := lambda.NewHandler(h, opts).Invoke(context.Background(), payload)
	if err != nil {
		t.Fatal(err)
	}
	return out
}

func TestDetect(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name, payload string
		want          lambda.Kind
	}{
		{"function url", `{"version":"2.0","rawPath":"/","requestContext":{"http":{"method":"GET"}}}`, lambda.KindHTTPV2},
		{"rest v1 with version", `{"version":"1.0","httpMethod":"GET","path":"/","requestContext":{"stage":"prod"}}`, lambda.KindRESTV1},
		{"rest v1 without version", `{"httpMethod":"POST","path":"/","multiValueHeaders":{}}`, lambda.KindRESTV1},
		{"alb", `{"httpMethod":"GET","path":"/","headers":{},"requestContext":{"elb":{"targetGroupArn":"arn"}}}`, lambda.KindALB},
		{"alb multi-value", `{"httpMethod":"GET","path":"/","multiValueHeaders":{},"requestContext":{"elb":{"targetGroupArn":"arn"}}}`, lambda.KindALBMulti},
	}
	for _, tt := range tests {
		got, err := lambda.Detect([]byte(tt.payload))
		if got != tt.want || err != nil {
			t.Errorf("%s: Detect = %v, %v; want %v", tt.name, got, err, tt.want)
		}
	}
	for _, bad := range []string{`{"Records":[{"eventSource":"aws:sqs"}]}`, `{"version":"2.0","routeKey":"$connect"}`, `[1,2]`, `not json`} {
		_, err := lambda.Detect([]byte(bad))
		var e *bff.Error
		if !errors.As(err, &e) || e.Code != bff.CodeUnknownEvent || !strings.Contains(e.Message, "expected an API Gateway HTTP API or Function URL event") {
			t.Errorf("Detect(%s) = %v; want an unknown_event error naming the shapes expected", bad, err)
		}
	}
	h := lambda.NewHandler(http.NotFoundHandler(), lambda.Options{Log: quiet()})
	if _, err := h.Invoke(context.Background(), []byte(`{"Records":[]}`)); err == nil || !strings.Contains(err.Error(), "keys Records") {
		t.Errorf("Invoke of an SQS event: %v; want an error that names its keys", err)
	}
}

func TestV2Request(t *testing.T) {
	t.Parallel()
	var got seen
	ua := "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko)"
	e := events.APIGatewayV2HTTPRequest{Version: "2.0", RawPath: "/prod/items/a%2Fb", RawQueryString: "tag=a&tag=b%2Cc",
		Cookies: []string{"a=1", "b=x,y", "c=3"},
		Headers: map[string]string{"user-agent": ua, "x-signature": `sig="a,b"`, "content-type": "application/json", "host": "api.example"},
		RequestContext: events.APIGatewayV2HTTPRequestContext{Stage: "prod", DomainName: "abc.execute-api.eu-west-1.amazonaws.com",
			HTTP: events.APIGatewayV2HTTPRequestContextHTTPDescription{Method: "POST", SourceIP: "2001:db8::1", Protocol: "HTTP/1.1"}},
		Body: base64.StdEncoding.EncodeToString([]byte(`{"n":1}`)), IsBase64Encoded: true}
	call(t, echo(&got, nil), lambda.Options{}, e)
	if got.Method != "POST" || got.Path != "/items/a/b" || got.RawQuery != "tag=a&tag=b%2Cc" || got.Host != "api.example" {
		t.Errorf("request line: %+v", got)
	}
	if got.RemoteAddr != "[2001:db8::1]:0" {
		t.Errorf("RemoteAddr = %q, want [2001:db8::1]:0", got.RemoteAddr)
	}
	if ua2 := got.Header.Values("User-Agent"); len(ua2) != 1 || ua2[0] != ua {
		t.Errorf("User-Agent = %q, want it whole", ua2)
	}
	if s := got.Header.Values("X-Signature"); len(s) != 1 || s[0] != `sig="a,b"` {
		t.Errorf("X-Signature = %q, want it whole", s)
	}
	if c := got.Header.Get("Cookie"); c != "a=1; b=x,y; c=3" {
		t.Errorf("Cookie = %q", c)
	}
	if string(got.Body) != `{"n":1}` {
		t.Errorf("body = %q, want the base64 body decoded", got.Body)
	}

	// A custom domain has no stage in the path; BasePath is stripped.
	e.RequestContext.DomainName, e.RawPath = "api.example", "/api/prod/items"
	call(t, echo(&got, nil), lambda.Options{BasePath: "/api/"}, e)
	if got.Path != "/prod/items" {
		t.Errorf("custom domain: path = %q, want /prod/items", got.Path)
	}
}

func TestV1AndALBRequests(t *testing.T) {
	t.Parallel()
	var got seen
	v1 := events.APIGatewayProxyRequest{HTTPMethod: "GET", Path: "/items",
		Headers:                         map[string]string{"Accept": "b"},
		MultiValueHeaders:               map[string][]string{"Accept": {"a", "b"}, "User-Agent": {"x, y"}},
		QueryStringParameters:           map[string]string{"q": "a b"},
		MultiValueQueryStringParameters: map[string][]string{"q": {"a&b", "a b"}, "n": {"1"}},
		RequestContext:                  events.APIGatewayProxyRequestContext{Stage: "prod", Identity: events.APIGatewayRequestIdentity{SourceIP: "198.51.100.7"}}}
	call(t, echo(&got, nil), lambda.Options{}, v1)
	if got.Path != "/items" || got.RawQuery != "n=1&q=a%26b&q=a+b" || got.RemoteAddr != "198.51.100.7:0" {
		t.Errorf("v1: %+v", got)
	}
	if a := got.Header.Values("Accept"); len(a) != 2 || got.Header.Get("User-Agent") != "x, y" {
		t.Errorf("v1 headers: %v", got.Header)
	}

	alb := events.ALBTargetGroupRequest{HTTPMethod: "GET", Path: "/items",
		MultiValueHeaders:               map[string][]string{"x-forwarded-for": {"203.0.113.9, 2001:db8::9"}},
		MultiValueQueryStringParameters: map[string][]string{"q": {"a%26b", "c"}},
		RequestContext:                  events.ALBTargetGroupRequestContext{ELB: events.ELBContext{TargetGroupArn: "arn"}},
		Body:                            "%%%not base64", IsBase64Encoded: true}
	out := call(t, echo(&got, nil), lambda.Options{}, alb)
	var resp events.ALBTargetGroupResponse
	json.Unmarshal(out, &resp)
	if resp.StatusCode != 400 || !strings.HasPrefix(resp.Body, `{"error":{"code":"bad_request","message":"the body is flagged base64 but is not valid base64`) || resp.MultiValueHeaders["Content-Type"][0] != "application/json" {
		t.Errorf("malformed base64: %+v; want a 400 JSON error", resp)
	}
	alb.Body, alb.IsBase64Encoded = "", false
	call(t, echo(&got, nil), lambda.Options{}, alb)
	if got.RawQuery != "q=a%26b&q=c" || got.RemoteAddr != "[2001:db8::9]:0" {
		t.Errorf("alb: query %q, remote %q", got.RawQuery, got.RemoteAddr)
	}
}

func TestResponses(t *testing.T) {
	t.Parallel()
	var got seen
	cookies := func(w http.ResponseWriter) {
		for _, c := range []string{"a=1; Path=/", "b=2; Expires=Wed, 21 Oct 2037 07:28:00 GMT", "c=3"} {
			w.Header().Add("Set-Cookie", c)
		}
		w.Header().Add("Vary", "Cookie")
		w.Header().Add("Vary", "Accept")
		w.Write([]byte("hello"))
	}
	v2 := events.APIGatewayV2HTTPRequest{Version: "2.0", RawPath: "/", RequestContext: events.APIGatewayV2HTTPRequestContext{
		HTTP: events.APIGatewayV2HTTPRequestContextHTTPDescription{Method: "GET"}}}
	var r2 events.APIGatewayV2HTTPResponse
	json.Unmarshal(call(t, echo(&got, cookies), lambda.Options{}, v2), &r2)
	if len(r2.Cookies) != 3 || r2.Cookies[1] != "b=2; Expires=Wed, 21 Oct 2037 07:28:00 GMT" || r2.Headers["Set-Cookie"] != "" ||
		r2.Headers["Vary"] != "Cookie, Accept" || r2.Headers["Content-Type"] != "text/plain; charset=utf-8" || r2.Body != "hello" || r2.IsBase64Encoded {
		t.Errorf("v2 answer: %+v", r2)
	}

	alb := events.ALBTargetGroupRequest{HTTPMethod: "GET", Path: "/", Headers: map[string]string{},
		RequestContext: events.ALBTargetGroupRequestContext{ELB: events.ELBContext{TargetGroupArn: "arn"}}}
	var ra events.ALBTargetGroupResponse
	json.Unmarshal(call(t, echo(&got, cookies), lambda.Options{}, alb), &ra)
	var setCookies []string
	for k, v := range ra.Headers {
		if strings.EqualFold(k, "Set-Cookie") {
			setCookies = append(setCookies, v)
		}
	}
	if len(setCookies) != 3 || ra.MultiValueHeaders != nil {
		t.Errorf("single-value ALB answer lost cookies: %+v", ra.Headers)
	}

	binary := func(w http.ResponseWriter) {
		w.Header().Set("Content-Type", "application/json")
		w.Header().Set("Content-Encoding", "gzip")
		w.Write([]byte{0x1f, 0x8b, 0, 1})
	}
	json.Unmarshal(call(t, echo(&got, binary), lambda.Options{}, v2), &r2)
	if !r2.IsBase64Encoded || r2.Body != base64.StdEncoding.EncodeToString([]byte{0x1f, 0x8b, 0, 1}) {
		t.Errorf("gzip answer: %+v; want base64", r2)
	}

	noContent := func(w http.ResponseWriter) {
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusNoContent)
		w.Write([]byte("{}"))
	}
	r2 = events.APIGatewayV2HTTPResponse{}
	json.Unmarshal(call(t, echo(&got, noContent), lambda.Options{}, v2), &r2)
	if r2.StatusCode != 204 || r2.Body != "" {
		t.Errorf("204 answer: %+v; want no body, as net/http sends", r2)
	}
}

func TestAnswerOverPayloadLimit(t *testing.T) {
	t.Parallel()
	var got seen
	big := func(w http.ResponseWriter) {
		w.Header().Set("Content-Type", "application/octet-stream")
		w.Write(make([]byte, 5<<20)) // 6.7 MB once in base64
	}
	v2 := events.APIGatewayV2HTTPRequest{Version: "2.0", RawPath: "/", RequestContext: events.APIGatewayV2HTTPRequestContext{
		HTTP: events.APIGatewayV2HTTPRequestContextHTTPDescription{Method: "GET"}}}
	out := call(t, echo(&got, big), lambda.Options{}, v2)
	var r events.APIGatewayV2HTTPResponse
	json.Unmarshal(out, &r)
	want := `{"error":{"code":"response_too_large","message":"internal error"}}`
	if len(out) > lambda.MaxPayloadBytes || r.StatusCode != 500 || r.Body != want || r.Headers["Content-Type"] != "application/json" {
		t.Errorf("answer of %d bytes, status %d, headers %v, body %.200s; want a 500 %s", len(out), r.StatusCode, r.Headers, r.Body, want)
	}
}

func TestFromContext(t *testing.T) {
	t.Parallel()
	if _, ok := lambda.FromContext(context.Background()); ok {
		t.Error("FromContext outside Lambda is ok")
	}
	deadline := time.Now().Add(3 * time.Second)
	ctx, cancel := context.WithDeadline(context.Background(), deadline)
	defer cancel()
	ctx = lambdacontext.NewContext(ctx, &lambdacontext.LambdaContext{AwsRequestID: "r-1", InvokedFunctionArn: "arn:aws:lambda:eu-west-1:1:function:cart:live"})
	var inv lambda.Invocation
	h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { inv, _ = lambda.FromContext(r.Context()) })
	payload := []byte(`{"version":"2.0","rawPath":"/","requestContext":{"http":{"method":"GET"}}}`)
	if _, err := lambda.NewHandler(h, lambda.Options{}).Invoke(ctx, payload); err != nil {
		t.Fatal(err)
	}
	if inv.RequestID != "r-1" || inv.FunctionARN != "arn:aws:lambda:eu-west-1:1:function:cart:live" || !inv.Deadline.Equal(deadline) {
		t.Errorf("invocation in the function's ctx: %+v", inv)
	}
}

func TestNewEventAndReadResponse(t *testing.T) {
	t.Parallel()
	r := httptest.NewRequest("POST", "/items/a%2Fb%25?tag=a&tag=b", nil)
	r.Header.Set("Content-Type", "application/json")
	r.Header.Set("Cookie", "a=1; b=2")
	r.Header.Set("User-Agent", "a, b")
	r.RemoteAddr = "[::1]:5555"
	payload, err := lambda.NewEvent(r, []byte(`{"a":1}`))
	if err != nil {
		t.Fatal(err)
	}
	var e events.APIGatewayV2HTTPRequest
	json.Unmarshal(payload, &e)
	if e.RawPath != "/items/a%2Fb%25" || e.RequestContext.HTTP.Path != "/items/a/b%" || e.RawQueryString != "tag=a&tag=b" ||
		e.RequestContext.HTTP.SourceIP != "::1" || len(e.Cookies) != 2 || e.Headers["cookie"] != "" ||
		e.Headers["user-agent"] != "a, b" || e.Body != `{"a":1}` || e.IsBase64Encoded {
		t.Errorf("event: %+v", e)
	}
	// What the codec makes of its own event is the request it was made of.
	var got seen
	call(t, echo(&got, nil), lambda.Options{}, e)
	if got.Path != "/items/a/b%" || got.RawQuery != "tag=a&tag=b" || got.Header.Get("Cookie") != "a=1; b=2" || string(got.Body) != `{"a":1}` {
		t.Errorf("the event decoded: %+v", got)
	}
	r = httptest.NewRequest("POST", "/upload", nil)
	payload, _ = lambda.NewEvent(r, []byte{0xff, 0})
	json.Unmarshal(payload, &e)
	if !e.IsBase64Encoded {
		t.Error("a binary body is not base64 encoded")
	}
	var le *bff.Error

	resp, err := lambda.ReadResponse([]byte(`{"statusCode":201,"headers":{"X-Sig":"a,b"},"cookies":["a=1","b=2"],"body":"AAE=","isBase64Encoded":true}`), r)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != 201 || len(resp.Header.Values("Set-Cookie")) != 2 || resp.Header.Get("X-Sig") != "a,b" || !bytes.Equal(body, []byte{0, 1}) {
		t.Errorf("response: %d %v %v", resp.StatusCode, resp.Header, body)
	}
	head := httptest.NewRequest("HEAD", "/", nil)
	resp, err = lambda.ReadResponse([]byte(`{"statusCode":200,"headers":{"Content-Length":"12"},"body":"hello, world"}`), head)
	if err != nil {
		t.Fatal(err)
	}
	if body, _ := io.ReadAll(resp.Body); len(body) != 0 || resp.ContentLength != 12 {
		t.Errorf("answer to HEAD: body %q, ContentLength %d; want no body and 12", body, resp.ContentLength)
	}
	for payload, code := range map[string]string{
		`{"errorMessage":"boom","errorType":"Runtime.ExitError"}`: bff.CodeFunctionError,
		`{"hello":"world"}`: bff.CodeBadResponse,
		`"just a string"`:   bff.CodeBadResponse,
		`{"statusCode":0}`:  bff.CodeBadResponse,
		`{"statusCode":200,"body":"%%","isBase64Encoded":true}`: bff.CodeBadResponse,
	} {
		_, err := lambda.ReadResponse([]byte(payload), r)
		if !errors.As(err, &le) || le.Code != code {
			t.Errorf("ReadResponse(%s) = %v; want %s", payload, err, code)
		}
	}
}

func TestSettings(t *testing.T) {
	t.Parallel()
	if lambda.SettingPrefix != buildlambda.SettingPrefix {
		t.Fatalf("adapters/lambda reads settings as %s…, build/lambda writes them as %s…", lambda.SettingPrefix, buildlambda.SettingPrefix)
	}
	got := lambda.Settings([]string{"PATH=/bin", "COLLAGE_SETTING_delay=300ms", "COLLAGE_SETTING_url=http://x/?a=b", "COLLAGE_SETTING_="})
	if len(got) != 2 || got["delay"] != "300ms" || got["url"] != "http://x/?a=b" {
		t.Errorf("Settings = %v", got)
	}
}

func TestMainFactoryError(t *testing.T) {
	t.Parallel()
	var stderr bytes.Buffer
	failing := func(bff.Settings) (*bff.BFF, error) { return nil, errors.New("setting delay: bad") }
	if code := lambda.RunForTest(failing, nil, &stderr); code != 1 || !strings.Contains(stderr.String(), "setting delay: bad") {
		t.Errorf("exit %d, stderr %q", code, stderr.String())
	}
}

// TestV2Paths: a Function URL's rawPath is escaped, an HTTP API's is
// decoded already; the handler sees the same path either way.
func TestV2Paths(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name, rawPath, httpPath string
		path, escaped           string
		domain                  string
	}{
		{"function url keeps %2F", "/a/b%2Fc", "/a/b/c", "/a/b/c", "/a/b%2Fc", ""},
		{"function url, escaped literal percent", "/a%2541", "/a%41", "/a%41", "/a%2541", ""},
		{"http api, bare percent", "/a%b", "/a%b", "/a%b", "/a%25b", ""},
		{"http api, an escape that was a literal", "/a%41", "/a%41", "/a%41", "/a%2541", ""},
		{"http api, question mark", "/a?b", "/a?b", "/a?b", "/a%3Fb", ""},
		{"http api, hash", "/a#b", "/a#b", "/a#b", "/a%23b", ""},
		{"http api, space and unicode", "/a b/λ", "/a b/λ", "/a b/λ", "/a%20b/%CE%BB", ""},
		{"no rawPath", "", "/a b", "/a b", "/a%20b", ""},
		{"hand-written, no http.path", "/a%20b", "", "/a b", "/a%20b", ""},
		{"hand-written, no http.path, bare percent", "/100%", "", "/100%", "/100%25", ""},
		{"function url domain: rawPath is escaped whatever http.path says", "/a%2Fb", "/a%2Fb", "/a/b", "/a%2Fb", "abc.lambda-url.us-west-2.on.aws"},
		{"http api domain", "/a%2Fb", "/a%2Fb", "/a%2Fb", "/a%252Fb", "abc.execute-api.us-west-2.amazonaws.com"},
	}
	for _, tt := range tests {
		var got *http.Request
		h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { got = r })
		e := events.APIGatewayV2HTTPRequest{Version: "2.0", RawPath: tt.rawPath, RequestContext: events.APIGatewayV2HTTPRequestContext{
			DomainName: tt.domain, HTTP: events.APIGatewayV2HTTPRequestContextHTTPDescription{Method: "GET", Path: tt.httpPath}}}
		out := call(t, h, lambda.Options{}, e)
		if got == nil {
			t.Errorf("%s: the handler was not called: %s", tt.name, out)
			continue
		}
		if got.URL.Path != tt.path || got.URL.EscapedPath() != tt.escaped || got.URL.RawQuery != "" || got.RequestURI != tt.escaped {
			t.Errorf("%s: Path %q, EscapedPath %q, RawQuery %q, RequestURI %q; want %q, %q", tt.name,
				got.URL.Path, got.URL.EscapedPath(), got.URL.RawQuery, got.RequestURI, tt.path, tt.escaped)
		}
	}
}

// TestHead: an answer to HEAD has no body in every shape, and the
// Content-Length of the body a GET gets, as net/http sends it.
func TestHead(t *testing.T) {
	t.Parallel()
	events := map[lambda.Kind]string{
		lambda.KindHTTPV2:   `{"version":"2.0","rawPath":"/","requestContext":{"http":{"method":"HEAD"}}}`,
		lambda.KindRESTV1:   `{"httpMethod":"HEAD","path":"/"}`,
		lambda.KindALB:      `{"httpMethod":"HEAD","path":"/","headers":{},"requestContext":{"elb":{"targetGroupArn":"arn"}}}`,
		lambda.KindALBMulti: `{"httpMethod":"HEAD","path":"/","multiValueHeaders":{},"requestContext":{"elb":{"targetGroupArn":"arn"}}}`,
	}
	tests := []struct {
		name          string
		handler       func(w http.ResponseWriter)
		status        int
		contentLength string
	}{
		{"body written", func(w http.ResponseWriter) { w.Write([]byte("hello, world")) }, 200, "12"},
		{"Content-Length set by the handler", func(w http.ResponseWriter) {
			w.Header().Set("Content-Length", "99")
			w.Write([]byte("hello"))
		}, 200, "99"},
		{"nothing written", func(w http.ResponseWriter) {}, 200, ""},
		{"404 with a body", func(w http.ResponseWriter) { http.Error(w, "not here", 404) }, 404, "9"},
		{"204", func(w http.ResponseWriter) { w.WriteHeader(204); w.Write([]byte("x")) }, 204, ""},
	}
	for kind, event := range events {
		for _, tt := range tests {
			h := lambda.NewHandler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { tt.handler(w) }), lambda.Options{Log: quiet()})
			out, err := h.Invoke(context.Background(), []byte(event))
			if err != nil {
				t.Fatal(err)
			}
			status, header, body, err := parity.ReadEventAnswer(kind, out)
			if err != nil {
				t.Errorf("%v, %s: %v", kind, tt.name, err)
				continue
			}
			if status != tt.status || len(body) != 0 || header.Get("Content-Length") != tt.contentLength {
				t.Errorf("%v, %s: %d, Content-Length %q, body %q; want %d, %q and no body", kind, tt.name,
					status, header.Get("Content-Length"), body, tt.status, tt.contentLength)
			}
		}
	}
}

// TestHealthCheck: an ALB's health check is answered 200 without running
// the BFF, which has no function at / (or anywhere); any other request
// with that path reaches the BFF.
func TestHealthCheck(t *testing.T) {
	t.Parallel()
	called := 0
	h := lambda.NewHandler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { called++; http.NotFound(w, r) }), lambda.Options{Log: quiet()})
	for _, tt := range []struct {
		event  string
		status int
		calls  int
	}{
		{`{"httpMethod":"GET","path":"/","headers":{"user-agent":"ELB-HealthChecker/2.0"},"requestContext":{"elb":{"targetGroupArn":"arn"}}}`, 200, 0},
		{`{"httpMethod":"GET","path":"/","multiValueHeaders":{"user-agent":["ELB-HealthChecker/2.0"]},"requestContext":{"elb":{"targetGroupArn":"arn"}}}`, 200, 0},
		{`{"httpMethod":"GET","path":"/","headers":{"user-agent":"curl/8.7.1"},"requestContext":{"elb":{"targetGroupArn":"arn"}}}`, 404, 1},
		{`{"version":"2.0","rawPath":"/","headers":{"user-agent":"ELB-HealthChecker/2.0"},"requestContext":{"http":{"method":"GET"}}}`, 404, 1},
	} {
		called = 0
		out, err := h.Invoke(context.Background(), []byte(tt.event))
		var r struct{ StatusCode int }
		if err != nil || json.Unmarshal(out, &r) != nil || r.StatusCode != tt.status || called != tt.calls {
			t.Errorf("%s: %s %v after %d calls; want %d after %d", tt.event, out, err, called, tt.status, tt.calls)
		}
	}
}
