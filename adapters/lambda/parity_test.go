package lambda_test

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"reflect"
	"strconv"
	"strings"
	"testing"

	"github.com/aws/aws-lambda-go/events"

	"github.com/collage-dev/collage/adapters/lambda"
	"github.com/collage-dev/collage/shell/invoke"
	"github.com/collage-dev/collage/tests/parity"
)

// The helpers below play API Gateway and ALB: they turn a request into
// aws-lambda-go's own event types, the way each service fills them, and
// turn the answer's event type back into an HTTP response.

func caseBody(c parity.Case) (string, bool) {
	if len(c.Body) == 0 {
		return "", false
	}
	ct := c.Header.Get("Content-Type")
	if strings.HasPrefix(ct, "application/json") || strings.HasPrefix(ct, "text/") {
		return string(c.Body), false
	}
	return base64.StdEncoding.EncodeToString(c.Body), true
}

func splitTarget(t *testing.T, c parity.Case) *url.URL {
	u, err := url.ParseRequestURI(c.Target)
	if err != nil {
		t.Fatal(err)
	}
	return u
}

// v2Event is what a Function URL sends: cookies apart, repeated headers
// joined with commas, the raw query.
func v2Event(t *testing.T, c parity.Case) any {
	u := splitTarget(t, c)
	e := events.APIGatewayV2HTTPRequest{Version: "2.0", RouteKey: "$default", RawPath: u.EscapedPath(), RawQueryString: u.RawQuery,
		Headers: map[string]string{"host": "abc.lambda-url.eu-west-1.on.aws", "x-forwarded-for": "127.0.0.1"},
		RequestContext: events.APIGatewayV2HTTPRequestContext{Stage: "$default", DomainName: "abc.lambda-url.eu-west-1.on.aws",
			RequestID: "req-1", HTTP: events.APIGatewayV2HTTPRequestContextHTTPDescription{
				Method: c.Method, Path: u.Path, Protocol: "HTTP/1.1", SourceIP: "127.0.0.1", UserAgent: c.Header.Get("User-Agent")}}}
	for k, vs := range c.Header {
		if k == "Cookie" {
			for _, v := range vs {
				for _, p := range strings.Split(v, ";") {
					e.Cookies = append(e.Cookies, strings.TrimSpace(p))
				}
			}
			continue
		}
		e.Headers[strings.ToLower(k)] = strings.Join(vs, ",")
	}
	e.Body, e.IsBase64Encoded = caseBody(c)
	return e
}

// v1Event is what a REST API sends through the default endpoint's prod
// stage, with "*/*" as a binary media type: every body in base64.
func v1Event(t *testing.T, c parity.Case) any {
	u := splitTarget(t, c)
	e := events.APIGatewayProxyRequest{Resource: "/{proxy+}", Path: u.Path, HTTPMethod: c.Method,
		Headers: map[string]string{}, MultiValueHeaders: map[string][]string{},
		RequestContext: events.APIGatewayProxyRequestContext{Stage: "prod", Path: "/prod" + u.Path, HTTPMethod: c.Method,
			DomainName: "abc.execute-api.eu-west-1.amazonaws.com", Protocol: "HTTP/1.1",
			Identity: events.APIGatewayRequestIdentity{SourceIP: "127.0.0.1"}}}
	for k, vs := range c.Header {
		e.Headers[k] = vs[len(vs)-1]
		e.MultiValueHeaders[k] = vs
	}
	if q := u.Query(); len(q) > 0 {
		e.QueryStringParameters, e.MultiValueQueryStringParameters = map[string]string{}, map[string][]string(q)
		for k, vs := range q {
			e.QueryStringParameters[k] = vs[len(vs)-1]
		}
	}
	if len(c.Body) > 0 {
		e.Body, e.IsBase64Encoded = base64.StdEncoding.EncodeToString(c.Body), true
	}
	return e
}

// rawQuery splits a query without decoding it, as an ALB does.
func rawQuery(q string) map[string][]string {
	out := map[string][]string{}
	for _, kv := range strings.Split(q, "&") {
		if kv == "" {
			continue
		}
		k, v, _ := strings.Cut(kv, "=")
		out[k] = append(out[k], v)
	}
	return out
}

func albEvent(t *testing.T, c parity.Case, multi bool) any {
	u := splitTarget(t, c)
	e := events.ALBTargetGroupRequest{HTTPMethod: c.Method, Path: u.EscapedPath(),
		RequestContext: events.ALBTargetGroupRequestContext{ELB: events.ELBContext{TargetGroupArn: "arn:aws:elasticloadbalancing:eu-west-1:123:targetgroup/bff/1"}}}
	h := c.Header.Clone()
	h.Set("X-Forwarded-For", "127.0.0.1")
	q := rawQuery(u.RawQuery)
	if multi {
		e.MultiValueHeaders, e.MultiValueQueryStringParameters = map[string][]string{}, q
		for k, vs := range h {
			e.MultiValueHeaders[strings.ToLower(k)] = vs
		}
	} else {
		e.Headers, e.QueryStringParameters = map[string]string{}, map[string]string{}
		for k, vs := range h {
			e.Headers[strings.ToLower(k)] = vs[len(vs)-1]
		}
		for k, vs := range q {
			e.QueryStringParameters[k] = vs[len(vs)-1]
		}
	}
	e.Body, e.IsBase64Encoded = caseBody(c)
	return e
}

func httpResponse(t *testing.T, status int, h http.Header, body string, b64 bool) *http.Response {
	t.Helper()
	data := []byte(body)
	if b64 {
		var err error
		if data, err = base64.StdEncoding.DecodeString(body); err != nil {
			t.Fatal(err)
		}
	}
	return &http.Response{StatusCode: status, Header: h, Body: io.NopCloser(bytes.NewReader(data))}
}

// answer decodes the Handler's answer in the event type of kind.
func answer(t *testing.T, kind lambda.Kind, payload []byte) *http.Response {
	t.Helper()
	h := http.Header{}
	switch kind {
	case lambda.KindHTTPV2:
		var r events.APIGatewayV2HTTPResponse
		if err := json.Unmarshal(payload, &r); err != nil {
			t.Fatal(err)
		}
		for k, v := range r.Headers {
			h.Add(k, v)
		}
		for _, c := range r.Cookies {
			h.Add("Set-Cookie", c)
		}
		return httpResponse(t, r.StatusCode, h, r.Body, r.IsBase64Encoded)
	case lambda.KindRESTV1:
		var r events.APIGatewayProxyResponse
		if err := json.Unmarshal(payload, &r); err != nil {
			t.Fatal(err)
		}
		for k, vs := range r.MultiValueHeaders {
			for _, v := range vs {
				h.Add(k, v)
			}
		}
		return httpResponse(t, r.StatusCode, h, r.Body, r.IsBase64Encoded)
	default:
		var r events.ALBTargetGroupResponse
		if err := json.Unmarshal(payload, &r); err != nil {
			t.Fatal(err)
		}
		if want := strconv.Itoa(r.StatusCode) + " " + http.StatusText(r.StatusCode); r.StatusDescription != want {
			t.Errorf("statusDescription %q, want %q", r.StatusDescription, want)
		}
		for k, v := range r.Headers {
			h.Add(k, v)
		}
		for k, vs := range r.MultiValueHeaders {
			for _, v := range vs {
				h.Add(k, v)
			}
		}
		return httpResponse(t, r.StatusCode, h, r.Body, r.IsBase64Encoded)
	}
}

// TestParityEvents feeds the parity table to the codec as each kind of
// event aws-lambda-go defines; every answer must equal the in-process one.
func TestParityEvents(t *testing.T) {
	t.Parallel()
	b, err := parity.New(nil)
	if err != nil {
		t.Fatal(err)
	}
	local := invoke.Local(b)
	h := lambda.NewHandler(b, lambda.Options{})
	shapes := []struct {
		kind  lambda.Kind
		event func(*testing.T, parity.Case) any
	}{
		{lambda.KindHTTPV2, v2Event},
		{lambda.KindRESTV1, v1Event},
		{lambda.KindALBMulti, func(t *testing.T, c parity.Case) any { return albEvent(t, c, true) }},
		{lambda.KindALB, func(t *testing.T, c parity.Case) any { return albEvent(t, c, false) }},
	}
	ctx := context.Background()
	for _, c := range parity.Cases() {
		resp, err := local.RoundTrip(c.Request(ctx))
		if err != nil {
			t.Fatal(err)
		}
		want, err := parity.Read(resp)
		if err != nil {
			t.Fatal(err)
		}
		for _, s := range shapes {
			if s.kind == lambda.KindALB && c.RepeatsValues {
				continue // an ALB without multi-value headers keeps one value per name
			}
			payload, err := json.Marshal(s.event(t, c))
			if err != nil {
				t.Fatal(err)
			}
			if kind, err := lambda.Detect(payload); kind != s.kind || err != nil {
				t.Fatalf("%s: Detect = %v, %v; want %v", c.Name, kind, err, s.kind)
			}
			out, err := h.Invoke(ctx, payload)
			if err != nil {
				t.Fatalf("%s as %v: %v", c.Name, s.kind, err)
			}
			got, err := parity.Read(answer(t, s.kind, out))
			if err != nil {
				t.Fatal(err)
			}
			w := want
			if s.kind == lambda.KindALB {
				got, w = got.SortCookies(), want.SortCookies()
			}
			if !reflect.DeepEqual(got, w) {
				g, _ := json.MarshalIndent(got, "", "  ")
				e, _ := json.MarshalIndent(w, "", "  ")
				t.Errorf("%s as %v differs from in-process:\ngot  %s\nwant %s", c.Name, s.kind, g, e)
			}
		}
	}
}
