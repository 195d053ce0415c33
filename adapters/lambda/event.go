package lambda

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"sort"
	"strings"

	"github.com/aws/aws-lambda-go/events"

	"github.com/collage-dev/collage/bff"
)

// Kind is the shape of an event, which is also the shape of its answer.
type Kind int

// The event shapes a Handler understands.
const (
	KindUnknown  Kind = iota
	KindHTTPV2        // API Gateway HTTP API and Function URL, payload 2.0
	KindRESTV1        // API Gateway REST API, payload 1.0
	KindALB           // ALB target group, single-value headers
	KindALBMulti      // ALB target group with multi-value headers on
)

func (k Kind) String() string {
	switch k {
	case KindHTTPV2:
		return "API Gateway HTTP API / Function URL (payload 2.0)"
	case KindRESTV1:
		return "API Gateway REST API (payload 1.0)"
	case KindALB:
		return "ALB target group"
	case KindALBMulti:
		return "ALB target group (multi-value headers)"
	}
	return "unknown"
}

// probe holds the fields that tell the event shapes apart.
type probe struct {
	Version           string          `json:"version"`
	HTTPMethod        string          `json:"httpMethod"`
	MultiValueHeaders json.RawMessage `json:"multiValueHeaders"`
	RequestContext    struct {
		ELB  json.RawMessage `json:"elb"`
		HTTP struct {
			Method string `json:"method"`
		} `json:"http"`
	} `json:"requestContext"`
}

// Detect names the shape of payload, or returns a *bff.Error with code
// bff.CodeUnknownEvent that says what was expected.
func Detect(payload []byte) (Kind, error) {
	kind, _, err := detect(payload)
	return kind, err
}

// detect is Detect, and also returns the request's method.
func detect(payload []byte) (Kind, string, error) {
	var p probe
	if err := json.Unmarshal(payload, &p); err != nil {
		return KindUnknown, "", &bff.Error{Code: bff.CodeUnknownEvent, Message: "the event is not a JSON object: " + err.Error() + "; " + expected}
	}
	switch {
	case isSet(p.RequestContext.ELB):
		if isSet(p.MultiValueHeaders) {
			return KindALBMulti, p.HTTPMethod, nil
		}
		return KindALB, p.HTTPMethod, nil
	case p.Version == "2.0" && p.RequestContext.HTTP.Method != "":
		return KindHTTPV2, p.RequestContext.HTTP.Method, nil
	case p.HTTPMethod != "" && (p.Version == "" || p.Version == "1.0"):
		return KindRESTV1, p.HTTPMethod, nil
	}
	return KindUnknown, "", &bff.Error{Code: bff.CodeUnknownEvent, Message: fmt.Sprintf("unknown event shape (keys %s); %s", keysOf(payload), expected)}
}

const expected = `expected an API Gateway HTTP API or Function URL event (version "2.0" with requestContext.http), ` +
	`an API Gateway REST event (httpMethod, version "1.0" or none), or an ALB event (requestContext.elb)`

func isSet(raw json.RawMessage) bool { return len(raw) > 0 && string(raw) != "null" }

// keysOf lists the top-level keys of a JSON object, for error messages.
func keysOf(payload []byte) string {
	var m map[string]json.RawMessage
	if json.Unmarshal(payload, &m) != nil {
		return "none"
	}
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	if len(keys) == 0 {
		return "none"
	}
	return strings.Join(keys, ", ")
}

// request decodes payload, of shape kind, into the request a BFF sees.
// A malformed body or path is a *bff.Error with code bff.CodeBadRequest.
func request(ctx context.Context, kind Kind, payload []byte, basePath string) (*http.Request, error) {
	var (
		method, path, rawQuery, proto, host, ip, body string
		base64Body                                    bool
		header                                        = http.Header{}
	)
	switch kind {
	case KindHTTPV2:
		var e events.APIGatewayV2HTTPRequest
		if err := json.Unmarshal(payload, &e); err != nil {
			return nil, &bff.Error{Code: bff.CodeUnknownEvent, Message: "malformed " + kind.String() + " event: " + err.Error()}
		}
		rc := e.RequestContext
		method, rawQuery, proto, ip = rc.HTTP.Method, e.RawQueryString, rc.HTTP.Protocol, rc.HTTP.SourceIP
		path = v2Path(e.RawPath, rc.HTTP.Path, strings.Contains(rc.DomainName, ".lambda-url."))
		if rawQuery == "" && len(e.QueryStringParameters) > 0 {
			// Only a hand-written event has parameters without the raw
			// query; each value is kept whole, commas and all.
			rawQuery = encodeQuery(e.QueryStringParameters, nil, url.QueryEscape)
		}
		// The default execute-api endpoint puts a named stage in front of
		// the path; a custom domain does not (that is Options.BasePath).
		if rc.Stage != "" && rc.Stage != "$default" && strings.Contains(rc.DomainName, ".execute-api.") {
			path = stripPrefix(path, "/"+rc.Stage)
		}
		for k, v := range e.Headers {
			if len(e.Cookies) > 0 && strings.EqualFold(k, "Cookie") {
				continue // a Function URL sends the cookies twice: keep the list
			}
			header.Add(k, v) // API Gateway joined repeated headers with commas: keep them whole
		}
		if len(e.Cookies) > 0 {
			header.Add("Cookie", strings.Join(e.Cookies, "; "))
		}
		host = rc.DomainName
		body, base64Body = e.Body, e.IsBase64Encoded
	case KindRESTV1:
		var e events.APIGatewayProxyRequest
		if err := json.Unmarshal(payload, &e); err != nil {
			return nil, &bff.Error{Code: bff.CodeUnknownEvent, Message: "malformed " + kind.String() + " event: " + err.Error()}
		}
		method, path, proto, ip = e.HTTPMethod, e.Path, e.RequestContext.Protocol, e.RequestContext.Identity.SourceIP
		addHeaders(header, e.Headers, e.MultiValueHeaders)
		rawQuery = encodeQuery(e.QueryStringParameters, e.MultiValueQueryStringParameters, url.QueryEscape)
		host = e.RequestContext.DomainName
		body, base64Body = e.Body, e.IsBase64Encoded
	case KindALB, KindALBMulti:
		var e events.ALBTargetGroupRequest
		if err := json.Unmarshal(payload, &e); err != nil {
			return nil, &bff.Error{Code: bff.CodeUnknownEvent, Message: "malformed " + kind.String() + " event: " + err.Error()}
		}
		method, path = e.HTTPMethod, e.Path
		addHeaders(header, e.Headers, e.MultiValueHeaders)
		// An ALB passes the query as the client sent it, still encoded.
		rawQuery = encodeQuery(e.QueryStringParameters, e.MultiValueQueryStringParameters, func(s string) string { return s })
		ip = clientIP(header.Values("X-Forwarded-For"))
		body, base64Body = e.Body, e.IsBase64Encoded
	default:
		return nil, &bff.Error{Code: bff.CodeUnknownEvent, Message: expected}
	}
	path = stripPrefix(path, basePath)
	if path == "" || path[0] != '/' {
		path = "/" + path
	}
	u, err := url.ParseRequestURI(path)
	if err != nil || u.RawQuery != "" {
		return nil, &bff.Error{Code: bff.CodeBadRequest, Message: fmt.Sprintf("malformed path %q", path)}
	}
	u.RawQuery = rawQuery

	var data []byte
	if base64Body {
		if data, err = base64.StdEncoding.DecodeString(body); err != nil {
			return nil, &bff.Error{Code: bff.CodeBadRequest, Message: "the body is flagged base64 but is not valid base64: " + err.Error()}
		}
	} else {
		data = []byte(body)
	}

	r, err := http.NewRequestWithContext(ctx, method, u.RequestURI(), nil)
	if err != nil {
		return nil, &bff.Error{Code: bff.CodeBadRequest, Message: err.Error()}
	}
	r.URL = u
	r.RequestURI = u.RequestURI()
	r.Header = header
	if h := header.Get("Host"); h != "" {
		host = h
	}
	header.Del("Host") // as net/http does, the host is in r.Host only
	r.Host = host
	if proto != "" {
		if major, minor, ok := http.ParseHTTPVersion(proto); ok {
			r.Proto, r.ProtoMajor, r.ProtoMinor = proto, major, minor
		}
	}
	if net.ParseIP(ip) != nil { // the documentation's examples say "IP"
		r.RemoteAddr = net.JoinHostPort(ip, "0")
	}
	r.ContentLength = int64(len(data))
	if len(data) > 0 {
		r.Body = io.NopCloser(bytes.NewReader(data))
	} else {
		r.Body = http.NoBody
	}
	return r, nil
}

// v2Path returns the escaped path of a payload-2.0 event from its rawPath
// and requestContext.http.path. A Function URL passes rawPath as the
// client sent it, escaped, beside the decoded path. An HTTP API puts the
// path already decoded in both, so its rawPath may hold a bare '%', '?' or
// '#' (a client's %2525 arrives as %): rawPath is the escaped form only
// when it has no '?' or '#' and decodes to the decoded path, or comes from
// a Function URL's own domain.
func v2Path(rawPath, decoded string, functionURL bool) string {
	switch {
	case rawPath == "":
		return escapePath(decoded)
	case strings.ContainsAny(rawPath, "?#"):
		return escapePath(rawPath)
	}
	p, err := url.PathUnescape(rawPath)
	switch {
	case err != nil, decoded != "" && p != decoded && !functionURL:
		return escapePath(rawPath) // decoded already: a bare '%', or an HTTP API's "%41"
	case isEscaped(rawPath):
		return rawPath // the client's own escaping, such as %2F, is kept
	}
	return escapePath(p)
}

// isEscaped says whether every byte of s is one net/url leaves as it is
// in an escaped path.
func isEscaped(s string) bool {
	for i := 0; i < len(s); i++ {
		c := s[i]
		if 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || strings.IndexByte("-._~!$&'()*+,;=:@[]/%", c) >= 0 {
			continue
		}
		return false
	}
	return true
}

// escapePath escapes a decoded path as net/url does.
func escapePath(path string) string {
	return (&url.URL{Path: path}).EscapedPath()
}

// addHeaders copies an event's headers, preferring the multi-value form,
// which holds every value when both are present.
func addHeaders(h http.Header, single map[string]string, multi map[string][]string) {
	if multi != nil {
		for k, vs := range multi {
			for _, v := range vs {
				h.Add(k, v)
			}
		}
		return
	}
	for k, v := range single {
		h.Add(k, v)
	}
}

// encodeQuery rebuilds a query string from the parameters of a v1 or ALB
// event, in key order, each key's values in the order given.
func encodeQuery(single map[string]string, multi map[string][]string, escape func(string) string) string {
	if multi == nil && len(single) > 0 {
		multi = make(map[string][]string, len(single))
		for k, v := range single {
			multi[k] = []string{v}
		}
	}
	keys := make([]string, 0, len(multi))
	for k := range multi {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	var b strings.Builder
	for _, k := range keys {
		for _, v := range multi[k] {
			if b.Len() > 0 {
				b.WriteByte('&')
			}
			b.WriteString(escape(k))
			b.WriteByte('=')
			b.WriteString(escape(v))
		}
	}
	return b.String()
}

// clientIP is the address an ALB appended to X-Forwarded-For: the last one.
func clientIP(xff []string) string {
	if len(xff) == 0 {
		return ""
	}
	last := xff[len(xff)-1]
	if i := strings.LastIndexByte(last, ','); i >= 0 {
		last = last[i+1:]
	}
	ip := strings.TrimSpace(last)
	if net.ParseIP(ip) == nil {
		return ""
	}
	return ip
}

// stripPrefix removes prefix from path when path is prefix or starts with
// prefix + "/".
func stripPrefix(path, prefix string) string {
	prefix = strings.TrimSuffix(prefix, "/")
	if prefix == "" || !strings.HasPrefix(path, prefix) {
		return path
	}
	rest := path[len(prefix):]
	if rest == "" {
		return "/"
	}
	if rest[0] != '/' {
		return path
	}
	return rest
}
