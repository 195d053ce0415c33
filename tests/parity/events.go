package parity

import (
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"sort"
	"strconv"
	"strings"
	"testing"

	"github.com/collage-dev/collage/adapters/lambda"
)

// EventsDir is where the real AWS Lambda HTTP events are, relative to the
// module root: a folder beside the repository, which CI clones next to it.
const EventsDir = "../shared/aws-lambda-events"

// RealEvent is one real event and what a handler must see of it.
type RealEvent struct {
	// Name is the file's name, with "#N …" for an event made from the
	// Nth entry of a file that lists paths.
	Name    string
	Payload []byte
	Kind    lambda.Kind
	// Want is what SeenHandler must see. Its Header lists only the
	// headers worth checking; every other field is compared whole.
	Want Seen
	// HealthCheck is set for an ALB health check, which the codec answers
	// itself without running the handler.
	HealthCheck bool
}

// RealEvents reads every event in EventsDir. When the folder is missing it
// skips tb with a loud message, and fails it under CI=true. A file without
// an expectation below fails tb: every real event is a test case.
func RealEvents(tb testing.TB) []RealEvent {
	tb.Helper()
	dir, err := eventsDir()
	if err != nil {
		msg := "\n*** the real AWS Lambda events are missing: " + err.Error() +
			"\n*** clone them beside the repository (" + EventsDir + " from the module root)\n"
		if os.Getenv("CI") == "true" {
			tb.Fatal("FAILING (CI=true)" + msg)
		}
		tb.Skip("SKIPPING" + msg)
	}
	files, err := filepath.Glob(filepath.Join(dir, "*.json"))
	if err != nil || len(files) == 0 {
		tb.Fatalf("no event in %s: %v", dir, err)
	}
	var out []RealEvent
	for _, f := range files {
		name := filepath.Base(f)
		data, err := os.ReadFile(f)
		if err != nil {
			tb.Fatal(err)
		}
		if name == ingressPathsFile {
			evs, err := ingressEvents(dir, data)
			if err != nil {
				tb.Fatalf("%s: %v", name, err)
			}
			out = append(out, evs...)
			continue
		}
		w, ok := wants[name]
		if !ok {
			tb.Fatalf("%s has no expectation: add what a handler must see of it to wants in tests/parity/events.go", name)
		}
		out = append(out, RealEvent{Name: name, Payload: data, Kind: w.kind, Want: w.seen, HealthCheck: w.healthCheck})
	}
	return out
}

// eventsDir finds EventsDir from the working directory, by walking up to
// the module root.
func eventsDir() (string, error) {
	dir, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			break
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", errors.New("no go.mod above the working directory")
		}
		dir = parent
	}
	events := filepath.Join(dir, filepath.FromSlash(EventsDir))
	if info, err := os.Stat(events); err != nil || !info.IsDir() {
		return "", fmt.Errorf("%s is not a folder", events)
	}
	return events, nil
}

// AsHead returns the event with its method changed to HEAD.
func (e RealEvent) AsHead() (RealEvent, error) {
	var m map[string]any
	if err := json.Unmarshal(e.Payload, &m); err != nil {
		return RealEvent{}, err
	}
	if _, ok := m["httpMethod"]; ok {
		m["httpMethod"] = "HEAD"
	}
	if rc, ok := m["requestContext"].(map[string]any); ok {
		if _, ok := rc["httpMethod"]; ok {
			rc["httpMethod"] = "HEAD"
		}
		if h, ok := rc["http"].(map[string]any); ok {
			h["method"] = "HEAD"
		}
	}
	payload, err := json.Marshal(m)
	if err != nil {
		return RealEvent{}, err
	}
	e.Name += " as HEAD"
	e.Payload = payload
	e.Want.Method = "HEAD"
	return e, nil
}

// Seen is what SeenHandler saw of a request.
type Seen struct {
	Method      string              `json:"method"`
	Path        string              `json:"path"`
	EscapedPath string              `json:"escapedPath"`
	Query       map[string][]string `json:"query"`
	Host        string              `json:"host"`
	RemoteAddr  string              `json:"remoteAddr"`
	Header      map[string][]string `json:"header"`
	// Cookies are the request's cookies as net/http parses them, each
	// as name=value.
	Cookies []string `json:"cookies"`
	Body    string   `json:"body"`
}

// The Set-Cookie values and the X-Seen header SeenHandler answers with.
var (
	SeenCookies = []string{"seen=1; Path=/; HttpOnly", "flavour=a,b; Path=/; Expires=Wed, 21 Oct 2037 07:28:00 GMT"}
	SeenHeader  = `keyId="k1",signature="YWJj,ZGVm=="`
)

// SeenHandler answers every request with what it saw of it, as JSON, with
// the SeenCookies and SeenHeader. It writes the body to HEAD requests too:
// dropping it is the transport's job.
func SeenHandler() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, err := io.ReadAll(r.Body)
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		s := Seen{Method: r.Method, Path: r.URL.Path, EscapedPath: r.URL.EscapedPath(), Query: r.URL.Query(),
			Host: r.Host, RemoteAddr: r.RemoteAddr, Header: r.Header, Body: string(body)}
		for _, c := range r.Cookies() {
			s.Cookies = append(s.Cookies, c.Name+"="+c.Value)
		}
		out, _ := json.Marshal(s)
		for _, c := range SeenCookies {
			w.Header().Add("Set-Cookie", c)
		}
		w.Header().Set("X-Seen", SeenHeader)
		w.Header().Set("Content-Type", "application/json")
		w.Write(out)
	})
}

// eventAnswer holds the fields of every shape of answer.
type eventAnswer struct {
	StatusCode        int                 `json:"statusCode"`
	StatusDescription string              `json:"statusDescription"`
	Headers           map[string]string   `json:"headers"`
	MultiValueHeaders map[string][]string `json:"multiValueHeaders"`
	Cookies           []string            `json:"cookies"`
	Body              string              `json:"body"`
	IsBase64Encoded   bool                `json:"isBase64Encoded"`
}

// ReadEventAnswer decodes an answer to an event of shape kind, and checks
// that it is in that shape: cookies in the cookies list for payload 2.0,
// every header in multiValueHeaders for REST and ALB with multi-value
// headers, one value per name and a status line for an ALB without.
func ReadEventAnswer(kind lambda.Kind, payload []byte) (status int, h http.Header, body []byte, err error) {
	var a eventAnswer
	if err := json.Unmarshal(payload, &a); err != nil {
		return 0, nil, nil, fmt.Errorf("the answer is not JSON: %v: %s", err, payload)
	}
	h = http.Header{}
	switch kind {
	case lambda.KindHTTPV2:
		if a.MultiValueHeaders != nil || a.StatusDescription != "" {
			return 0, nil, nil, fmt.Errorf("a payload 2.0 answer with fields of another shape: %s", payload)
		}
		for k, v := range a.Headers {
			if strings.EqualFold(k, "Set-Cookie") {
				return 0, nil, nil, fmt.Errorf("a payload 2.0 answer with Set-Cookie outside cookies: %s", payload)
			}
			h.Add(k, v)
		}
		for _, c := range a.Cookies {
			h.Add("Set-Cookie", c)
		}
	case lambda.KindRESTV1, lambda.KindALBMulti:
		if a.Headers != nil || a.Cookies != nil {
			return 0, nil, nil, fmt.Errorf("a %v answer with headers outside multiValueHeaders: %s", kind, payload)
		}
		for k, vs := range a.MultiValueHeaders {
			for _, v := range vs {
				h.Add(k, v)
			}
		}
	case lambda.KindALB:
		if a.MultiValueHeaders != nil || a.Cookies != nil {
			return 0, nil, nil, fmt.Errorf("an ALB answer with multi-value fields, for an ALB without them: %s", payload)
		}
		for k, v := range a.Headers {
			h.Add(k, v) // Set-Cookie spelt in several cases: Add canonicalises them together
		}
	default:
		return 0, nil, nil, fmt.Errorf("no answer shape for %v", kind)
	}
	if kind == lambda.KindALB || kind == lambda.KindALBMulti {
		if want := strconv.Itoa(a.StatusCode) + " " + http.StatusText(a.StatusCode); a.StatusDescription != want {
			return 0, nil, nil, fmt.Errorf("statusDescription %q, want %q", a.StatusDescription, want)
		}
	}
	body = []byte(a.Body)
	if a.IsBase64Encoded {
		if body, err = base64.StdEncoding.DecodeString(a.Body); err != nil {
			return 0, nil, nil, fmt.Errorf("the body is flagged base64 but is not: %v", err)
		}
	}
	return a.StatusCode, h, body, nil
}

// Check checks the answer out, of a Handler serving SeenHandler, to e: in
// e's shape, with what the handler must have seen, its cookies apart and
// its header whole; to HEAD, without a body but with the GET's
// Content-Length; to a health check, 200. It returns every difference.
func (e RealEvent) Check(out []byte) error {
	status, h, body, err := ReadEventAnswer(e.Kind, out)
	if err != nil {
		return err
	}
	var errs []error
	fail := func(format string, args ...any) { errs = append(errs, fmt.Errorf(format, args...)) }
	if status != http.StatusOK {
		fail("status %d, want 200 (body %.300s)", status, body)
	}
	if e.HealthCheck {
		if c := h.Values("Set-Cookie"); len(c) > 0 {
			fail("Set-Cookie %q: the handler answered the health check", c)
		}
		if head := e.Want.Method == "HEAD"; head != (len(body) == 0) {
			fail("body %q to %s", body, e.Want.Method)
		}
		return errors.Join(errs...)
	}
	cookies := h.Values("Set-Cookie")
	if e.Kind == lambda.KindALB {
		cookies = slices.Clone(cookies)
		sort.Strings(cookies)
		want := slices.Clone(SeenCookies)
		sort.Strings(want)
		if !slices.Equal(cookies, want) {
			fail("Set-Cookie %q, want %q", cookies, want)
		}
	} else if !slices.Equal(cookies, SeenCookies) {
		fail("Set-Cookie %q, want %q in order", cookies, SeenCookies)
	}
	if got := h.Values("X-Seen"); len(got) != 1 || got[0] != SeenHeader {
		fail("X-Seen %q, want it whole: %q", got, SeenHeader)
	}
	if e.Want.Method == "HEAD" {
		if len(body) != 0 {
			fail("a body to HEAD: %.300q", body)
		}
		if n, err := strconv.Atoi(h.Get("Content-Length")); err != nil || n <= 0 {
			fail("Content-Length %q to HEAD, want the length of the body a GET gets", h.Get("Content-Length"))
		}
		return errors.Join(errs...)
	}
	var got Seen
	if err := json.Unmarshal(body, &got); err != nil {
		fail("the body is not what SeenHandler writes: %v: %.300s", err, body)
		return errors.Join(errs...)
	}
	want := e.Want
	if len(got.Header["Cookie"]) > 1 {
		fail("%d Cookie headers, want at most one: %q", len(got.Header["Cookie"]), got.Header["Cookie"])
	}
	for k, vs := range want.Header {
		if !slices.Equal(got.Header[k], vs) {
			fail("header %s = %q, want %q", k, got.Header[k], vs)
		}
	}
	if _, ok := got.Header["Host"]; ok {
		fail("a Host header %q, which net/http moves to Request.Host", got.Header["Host"])
	}
	got.Header, want.Header = nil, nil
	if len(got.Query) == 0 {
		got.Query = nil
	}
	if len(want.Query) == 0 {
		want.Query = nil
	}
	if !reflect.DeepEqual(got, want) {
		g, _ := json.MarshalIndent(got, "", "  ")
		w, _ := json.MarshalIndent(want, "", "  ")
		fail("the handler saw\n%s\nwant\n%s", g, w)
	}
	return errors.Join(errs...)
}

type eventWant struct {
	kind        lambda.Kind
	seen        Seen
	healthCheck bool
}

// The voker captures are of one request: an encoded path, a repeated and
// encoded query, a repeated header, two cookies and a JSON body.
var (
	vokerQuery = map[string][]string{"empty": {""}, "encodedPlus": {"a+b"}, "literalPlus": {"a b"},
		"redirect": {"https://example.com/a/b"}, "repeat": {"one", "two"}}
	vokerCookies = []string{"session=abc123", "theme=dark"}
	vokerBody    = `{"message":"hello from the public internet","unicode":"lambda-λ"}`
)

// voker is what a handler sees of the voker request sent to host with kind;
// probe is the repeated header as that kind passes it.
func voker(kind lambda.Kind, host string, probe ...string) eventWant {
	return eventWant{kind: kind, seen: Seen{Method: "POST", Path: "/capture/space value", EscapedPath: "/capture/space%20value",
		Query: vokerQuery, Host: host, RemoteAddr: "68.8.83.18:0", Cookies: vokerCookies, Body: vokerBody,
		Header: map[string][]string{"Cookie": {"session=abc123; theme=dark"}, "X-Voker-Probe": probe,
			"Content-Type": {"application/json"}, "User-Agent": {"curl/8.7.1"}}}}
}

var pq = map[string][]string{"parameter1": {"value1", "value2"}, "parameter2": {"value"}}

// wants is what a handler must see of each real event. An address that
// is not an IP (the documentation's "IP") leaves RemoteAddr empty.
var wants = map[string]eventWant{
	"awsdocs-alb-health-check.json": {kind: lambda.KindALB, healthCheck: true, seen: Seen{Method: "GET"}},
	"awsdocs-http-api-payload-1.0-example.json": {kind: lambda.KindRESTV1, seen: Seen{Method: "GET", Path: "/my/path",
		EscapedPath: "/my/path", Query: pq, Host: "id.execute-api.us-east-1.amazonaws.com", Body: "Hello from Lambda!",
		Header: map[string][]string{"Header1": {"value1"}, "Header2": {"value1", "value2"}}}},
	"awslg-alb-lambda-target-request-headers-only.json": {kind: lambda.KindALB, seen: Seen{Method: "GET", Path: "/", EscapedPath: "/",
		Query: map[string][]string{"key": {"hello"}}, Host: "lambda-test-alb-1334523864.us-east-1.elb.amazonaws.com",
		RemoteAddr: "25.12.198.67:0", Header: map[string][]string{"User-Agent": {"curl/7.54.0"}, "X-Myheader": {"123"}}}},
	"awslg-alb-lambda-target-request-multivalue-headers.json": {kind: lambda.KindALBMulti, seen: Seen{Method: "GET", Path: "/",
		EscapedPath: "/", Query: map[string][]string{"key": {"hello"}}, Host: "lambda-test-alb-1234567.us-east-1.elb.amazonaws.com",
		RemoteAddr: "72.21.198.67:0", Header: map[string][]string{"User-Agent": {"curl/7.54.0"}, "X-Myheader": {"123"}}}},
	"awslg-apigw-request.json": {kind: lambda.KindRESTV1, seen: Seen{Method: "POST", Path: "/hello/world", EscapedPath: "/hello/world",
		Query: map[string][]string{"name": {"me"}}, Host: "gy415nuibc.execute-api.us-east-1.amazonaws.com",
		RemoteAddr: "192.168.196.186:0", Body: "{\r\n\t\"a\": 1\r\n}",
		Header: map[string][]string{"Content-Type": {"application/json"}, "Accept-Encoding": {"gzip, deflate"},
			"X-Forwarded-For": {"54.240.196.186, 54.182.214.83"}}}},
	"awslg-apigw-v2-request-iam.json": {kind: lambda.KindHTTPV2, seen: Seen{Method: "GET", Path: "/my/path", EscapedPath: "/my/path",
		Query: pq, Host: "id.execute-api.us-east-1.amazonaws.com", Cookies: []string{"cookie1=", "cookie2="},
		Body: "{\r\n\t\"a\": 1\r\n}", Header: map[string][]string{"Header1": {"value1"}, "Header2": {"value2"}, "Cookie": {"cookie1; cookie2"}}}},
	"awslg-apigw-v2-request-no-authorizer.json": {kind: lambda.KindHTTPV2, seen: Seen{Method: "GET", Path: "/", EscapedPath: "/",
		Host: "aaaaaaaaaa.execute-api.us-west-2.amazonaws.com", RemoteAddr: "1.2.3.4:0",
		Header: map[string][]string{"User-Agent": {"curl/7.58.0"}, "X-Forwarded-For": {"1.2.3.4"}}}},
	"awslg-lambda-urls-request.json": {kind: lambda.KindHTTPV2, seen: Seen{Method: "POST", Path: "/my/path", EscapedPath: "/my/path",
		Query: pq, Host: "<url-id>.lambda-url.us-west-2.on.aws", RemoteAddr: "123.123.123.123:0", Cookies: []string{"cookie1=", "cookie2="},
		Body: "Hello from client!", Header: map[string][]string{"Header2": {"value1,value2"}, "Cookie": {"cookie1; cookie2"}}}},
	"powertools-albMultiValueQueryStringEvent.json": {kind: lambda.KindALBMulti, seen: Seen{Method: "GET", Path: "/todos",
		EscapedPath: "/todos", Query: pq, Host: "alb-c-LoadB-14POFKYCLBNSF-1815800096.eu-central-1.elb.amazonaws.com",
		RemoteAddr: "123.123.123.123:0", Header: map[string][]string{"User-Agent": {"curl/7.79.1"}}}},
	// A hand-written event: rawQueryString is empty but
	// queryStringParameters is not, so they are the query, each value
	// whole (payload 2.0 joins repeated values with commas).
	"powertools-lambdaFunctionUrlEventWithHeaders.json": {kind: lambda.KindHTTPV2, seen: Seen{Method: "GET", Path: "/", EscapedPath: "/",
		Query: map[string][]string{"parameter1": {"value1,value2"}, "parameter2": {"value"}},
		Host:  "<url-id>.lambda-url.us-east-1.on.aws", RemoteAddr: "123.123.123.123:0",
		Header: map[string][]string{"Header2": {"value1,value2"},
			"User-Agent": {"Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/102.0.0.0 Safari/537.36"},
			"Sec-Ch-Ua":  {`" Not A;Brand";v="99", "Chromium";v="102", "Google Chrome";v="102"`}}}},
	"voker-alb-request.json":         voker(lambda.KindALBMulti, "vokerhtt-ALB-4XF8jCVDRJg4-1316758055.us-west-2.elb.amazonaws.com", "first", "second"),
	"voker-apigwv1-request.json":     voker(lambda.KindRESTV1, "5h7pqvr9u4.execute-api.us-west-2.amazonaws.com", "first", "second"),
	"voker-apigwv2-request.json":     voker(lambda.KindHTTPV2, "sjzepsqsu5.execute-api.us-west-2.amazonaws.com", "first,second"),
	"voker-functionurl-request.json": voker(lambda.KindHTTPV2, "2cxn22odiwguak4feg4jtt7cwm0ziblr.lambda-url.us-west-2.on.aws", "first,second"),
}

// ingressPathsFile lists, for paths a client sent, what an HTTP API put in
// rawPath: already decoded.
const ingressPathsFile = "voker-ingress-paths.json"

// ingressEvents makes two events of each entry of ingressPathsFile: the
// HTTP API capture with the entry's rawPath (unless the HTTP API refused
// the path), and the Function URL capture with the path as sent, which a
// Function URL passes on still encoded.
func ingressEvents(dir string, data []byte) ([]RealEvent, error) {
	var entries []struct {
		SentPath        string `json:"sentPath"`
		HTTPAPIPath     string `json:"httpAPIPath"`
		HTTPAPIRejected bool   `json:"httpAPIRejected"`
	}
	if err := json.Unmarshal(data, &entries); err != nil {
		return nil, err
	}
	load := func(name string) (map[string]any, error) {
		data, err := os.ReadFile(filepath.Join(dir, name))
		if err != nil {
			return nil, err
		}
		var m map[string]any
		return m, json.Unmarshal(data, &m)
	}
	withPath := func(m map[string]any, rawPath, path string) ([]byte, error) {
		m["rawPath"] = rawPath
		m["requestContext"].(map[string]any)["http"].(map[string]any)["path"] = path
		return json.Marshal(m)
	}
	var out []RealEvent
	for i, en := range entries {
		if !en.HTTPAPIRejected {
			m, err := load("voker-apigwv2-request.json")
			if err != nil {
				return nil, err
			}
			payload, err := withPath(m, en.HTTPAPIPath, en.HTTPAPIPath)
			if err != nil {
				return nil, err
			}
			w := wants["voker-apigwv2-request.json"]
			w.seen.Path, w.seen.EscapedPath = en.HTTPAPIPath, (&url.URL{Path: en.HTTPAPIPath}).EscapedPath()
			out = append(out, RealEvent{Name: fmt.Sprintf("%s#%d HTTP API rawPath %q", ingressPathsFile, i, en.HTTPAPIPath),
				Payload: payload, Kind: w.kind, Want: w.seen})
		}
		decoded, err := url.PathUnescape(en.SentPath)
		if err != nil {
			return nil, fmt.Errorf("sentPath %q: %v", en.SentPath, err)
		}
		m, err := load("voker-functionurl-request.json")
		if err != nil {
			return nil, err
		}
		payload, err := withPath(m, en.SentPath, decoded)
		if err != nil {
			return nil, err
		}
		w := wants["voker-functionurl-request.json"]
		w.seen.Path, w.seen.EscapedPath = decoded, en.SentPath
		out = append(out, RealEvent{Name: fmt.Sprintf("%s#%d Function URL rawPath %q", ingressPathsFile, i, en.SentPath),
			Payload: payload, Kind: w.kind, Want: w.seen})
	}
	return out, nil
}
