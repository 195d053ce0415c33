package lambda

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/aws/aws-lambda-go/events"

	"github.com/collage-dev/collage/bff"
)

// InvokeCodec is NewEvent and ReadResponse as the two methods of one
// value, for an invoker that takes its event codec as an interface (the
// shell's Lambda invoker does, so that it imports no other adapter).
type InvokeCodec struct{}

// Encode is NewEvent.
func (InvokeCodec) Encode(req *http.Request, body []byte) ([]byte, error) { return NewEvent(req, body) }

// Decode is ReadResponse.
func (InvokeCodec) Decode(payload []byte, req *http.Request) (*http.Response, error) {
	return ReadResponse(payload, req)
}

// NewEvent encodes req, whose body the caller has read into body, as the
// payload-2.0 event a Function URL would send for it, for a caller that
// reaches a BFF through the Lambda Invoke API. The body is base64 encoded
// unless it is text. Keeping the payload under MaxPayloadBytes is the
// caller's job.
func NewEvent(req *http.Request, body []byte) ([]byte, error) {
	now := time.Now()
	e := events.APIGatewayV2HTTPRequest{
		Version:        "2.0",
		RouteKey:       "$default",
		RawPath:        req.URL.EscapedPath(),
		RawQueryString: req.URL.RawQuery,
		Headers:        make(map[string]string, len(req.Header)),
		RequestContext: events.APIGatewayV2HTTPRequestContext{
			RouteKey:   "$default",
			Stage:      "$default",
			RequestID:  req.Header.Get("X-Request-Id"),
			DomainName: req.Host,
			Time:       now.UTC().Format("02/Jan/2006:15:04:05 -0700"),
			TimeEpoch:  now.UnixMilli(),
			HTTP: events.APIGatewayV2HTTPRequestContextHTTPDescription{
				Method:    req.Method,
				Path:      req.URL.Path,
				Protocol:  "HTTP/1.1",
				SourceIP:  hostOf(req.RemoteAddr),
				UserAgent: req.Header.Get("User-Agent"),
			},
		},
	}
	if e.RawPath == "" {
		e.RawPath = "/"
	}
	for k, vs := range req.Header {
		if k == "Cookie" {
			for _, v := range vs {
				for _, c := range strings.Split(v, ";") {
					if c = strings.TrimSpace(c); c != "" {
						e.Cookies = append(e.Cookies, c)
					}
				}
			}
			continue
		}
		e.Headers[strings.ToLower(k)] = strings.Join(vs, ",")
	}
	if req.Host != "" {
		e.Headers["host"] = req.Host
	}
	h := http.Header{"Content-Type": {req.Header.Get("Content-Type")}}
	if req.Header.Get("Content-Type") == "" {
		h = http.Header{"Content-Type": {"application/octet-stream"}}
	}
	e.Body, e.IsBase64Encoded = encodeBody(h, body)
	return json.Marshal(e)
}

func hostOf(remoteAddr string) string {
	if host, _, err := net.SplitHostPort(remoteAddr); err == nil {
		return host
	}
	return remoteAddr
}

// invocationError is the payload Lambda returns when a function fails.
type invocationError struct {
	Message string `json:"errorMessage"`
	Type    string `json:"errorType"`
}

// v2Response is a payload-2.0 answer, with StatusCode a pointer so that
// an answer without one is told apart.
type v2Response struct {
	StatusCode        *int                `json:"statusCode"`
	Headers           map[string]string   `json:"headers"`
	MultiValueHeaders map[string][]string `json:"multiValueHeaders"`
	Cookies           []string            `json:"cookies"`
	Body              string              `json:"body"`
	IsBase64Encoded   bool                `json:"isBase64Encoded"`
}

// ReadResponse decodes a function's payload-2.0 answer to req; an answer
// to HEAD has no body, as net/http's client gives it. An error payload
// (what Lambda or its emulator answers when the function failed) is an
// *bff.Error with code bff.CodeFunctionError; anything else that is not a
// payload-2.0 answer has code bff.CodeBadResponse.
func ReadResponse(payload []byte, req *http.Request) (*http.Response, error) {
	var out v2Response
	if err := json.Unmarshal(payload, &out); err != nil {
		return nil, &bff.Error{Code: bff.CodeBadResponse, Message: "the answer is not a JSON object: " + err.Error()}
	}
	if out.StatusCode == nil {
		var fe invocationError
		if json.Unmarshal(payload, &fe) == nil && (fe.Type != "" || fe.Message != "") {
			return nil, &bff.Error{Code: bff.CodeFunctionError, Message: fe.Type + ": " + fe.Message}
		}
		return nil, &bff.Error{Code: bff.CodeBadResponse, Message: "the answer has no statusCode"}
	}
	status := *out.StatusCode
	if status < 100 || status > 999 {
		return nil, &bff.Error{Code: bff.CodeBadResponse, Message: fmt.Sprintf("statusCode %d is not an HTTP status", status)}
	}
	h := make(http.Header, len(out.Headers)+1)
	for k, v := range out.Headers {
		h.Add(k, v)
	}
	for k, vs := range out.MultiValueHeaders {
		for _, v := range vs {
			h.Add(k, v)
		}
	}
	for _, c := range out.Cookies {
		h.Add("Set-Cookie", c)
	}
	body := []byte(out.Body)
	if out.IsBase64Encoded {
		var err error
		if body, err = base64.StdEncoding.DecodeString(out.Body); err != nil {
			return nil, &bff.Error{Code: bff.CodeBadResponse, Message: "the body is flagged base64 but is not valid base64"}
		}
	}
	length := int64(len(body))
	if req != nil && req.Method == http.MethodHead {
		body, length = nil, -1
		if n, err := strconv.ParseInt(h.Get("Content-Length"), 10, 64); err == nil && n >= 0 {
			length = n
		}
	}
	return &http.Response{
		Status:        strconv.Itoa(status) + " " + http.StatusText(status),
		StatusCode:    status,
		Proto:         "HTTP/1.1",
		ProtoMajor:    1,
		ProtoMinor:    1,
		Header:        h,
		Body:          io.NopCloser(bytes.NewReader(body)),
		ContentLength: length,
		Request:       req,
	}, nil
}
