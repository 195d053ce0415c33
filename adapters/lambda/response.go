package lambda

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"mime"
	"net/http"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/aws/aws-lambda-go/events"

	"github.com/collage-dev/collage/bff"
)

// recorder is the ResponseWriter a BFF writes to inside Lambda. Like a
// net/http server it snapshots the headers at WriteHeader, sniffs the
// Content-Type of a body that has none and drops the body of an answer to
// HEAD, so a BFF answers the same bytes here as from its local HTTP
// server.
type recorder struct {
	header  http.Header // what the handler changes
	sent    http.Header // header as it was at WriteHeader
	status  int
	body    bytes.Buffer
	head    bool  // the request is a HEAD: the body is counted, not kept
	written int64 // bytes of body the handler wrote
}

func newRecorder(method string) *recorder {
	return &recorder{header: http.Header{}, head: method == http.MethodHead}
}

func (w *recorder) Header() http.Header { return w.header }

func (w *recorder) WriteHeader(status int) {
	if w.status != 0 {
		return
	}
	if status < 100 || status > 999 {
		panic("invalid WriteHeader code " + strconv.Itoa(status))
	}
	w.status = status
	w.sent = w.header.Clone()
}

func (w *recorder) Write(p []byte) (int, error) {
	if w.status == 0 {
		if _, ok := w.header["Content-Type"]; !ok && len(p) > 0 && w.header.Get("Transfer-Encoding") == "" {
			w.header.Set("Content-Type", http.DetectContentType(p))
		}
		w.WriteHeader(http.StatusOK)
	}
	if !bodyAllowed(w.status) {
		return 0, http.ErrBodyNotAllowed
	}
	w.written += int64(len(p))
	if w.head {
		return len(p), nil
	}
	return w.body.Write(p)
}

// Flush commits the status, as net/http does; the answer itself leaves
// whole when the handler returns, since a buffered invocation has one
// payload. A handler that streams (the shell's pages) so runs unchanged in
// both modes.
func (w *recorder) Flush() {
	if w.status == 0 {
		w.WriteHeader(http.StatusOK)
	}
}

// bodyAllowed is false for the statuses that have no body in HTTP.
func bodyAllowed(status int) bool {
	return status >= 200 && status != http.StatusNoContent && status != http.StatusNotModified
}

// finish fills in what the handler left unset: the status of a handler
// that wrote nothing and, as net/http does, the Content-Length of an
// answer to HEAD whose handler wrote the body a GET gets without one.
func (w *recorder) finish() {
	if w.status == 0 {
		w.WriteHeader(http.StatusOK)
	}
	if w.head && w.written > 0 && bodyAllowed(w.status) && w.sent.Get("Content-Length") == "" && w.sent.Get("Transfer-Encoding") == "" {
		w.sent.Set("Content-Length", strconv.FormatInt(w.written, 10))
	}
}

// encodeBody returns the body as a string for the event answer, base64
// encoded unless it is text.
func encodeBody(h http.Header, body []byte) (string, bool) {
	if len(body) == 0 {
		return "", false
	}
	if isText(h) && utf8.Valid(body) {
		return string(body), false
	}
	return base64.StdEncoding.EncodeToString(body), true
}

// isText says whether a response with header h has a textual body that
// Lambda can carry as a JSON string.
func isText(h http.Header) bool {
	if ce := h.Get("Content-Encoding"); ce != "" && ce != "identity" {
		return false
	}
	ct := h.Get("Content-Type")
	if ct == "" {
		return true
	}
	mt, _, err := mime.ParseMediaType(ct)
	if err != nil {
		return false
	}
	switch {
	case strings.HasPrefix(mt, "text/"),
		strings.HasSuffix(mt, "+json"), strings.HasSuffix(mt, "+xml"),
		mt == "application/json", mt == "application/xml", mt == "application/javascript",
		mt == "application/x-www-form-urlencoded", mt == "application/graphql":
		return true
	}
	return false
}

// response encodes w's answer in the shape of kind.
func response(kind Kind, w *recorder) ([]byte, error) {
	body, b64 := encodeBody(w.sent, w.body.Bytes())
	switch kind {
	case KindHTTPV2:
		out := events.APIGatewayV2HTTPResponse{StatusCode: w.status, Headers: map[string]string{}, Body: body, IsBase64Encoded: b64}
		for k, vs := range w.sent {
			if k == "Set-Cookie" {
				out.Cookies = append(out.Cookies, vs...)
				continue
			}
			// Payload 2.0 has one value per header: repeated values are
			// joined as HTTP allows, and a value with commas stays whole.
			out.Headers[k] = strings.Join(vs, ", ")
		}
		return json.Marshal(out)
	case KindRESTV1:
		out := events.APIGatewayProxyResponse{StatusCode: w.status, MultiValueHeaders: map[string][]string(w.sent), Body: body, IsBase64Encoded: b64}
		return json.Marshal(out)
	case KindALBMulti:
		out := events.ALBTargetGroupResponse{StatusCode: w.status, StatusDescription: statusLine(w.status),
			MultiValueHeaders: map[string][]string(w.sent), Body: body, IsBase64Encoded: b64}
		return json.Marshal(out)
	case KindALB:
		out := events.ALBTargetGroupResponse{StatusCode: w.status, StatusDescription: statusLine(w.status),
			Headers: map[string]string{}, Body: body, IsBase64Encoded: b64}
		for k, vs := range w.sent {
			if k == "Set-Cookie" {
				// Without multi-value headers an ALB takes one value per
				// name, and names are case-insensitive: each cookie gets
				// its own spelling of Set-Cookie so none is lost.
				for i, v := range vs {
					out.Headers[caseVariant(k, i)] = v
				}
				continue
			}
			out.Headers[k] = strings.Join(vs, ", ")
		}
		return json.Marshal(out)
	}
	return nil, &bff.Error{Code: bff.CodeUnknownEvent, Message: expected}
}

func statusLine(status int) string {
	return strconv.Itoa(status) + " " + http.StatusText(status)
}

// caseVariant returns the i-th spelling of name that differs only in the
// case of its letters; the 0th is name itself.
func caseVariant(name string, i int) string {
	b := []byte(name)
	letter := 0
	for j, c := range b {
		if c|0x20 >= 'a' && c|0x20 <= 'z' {
			if i&(1<<letter) != 0 {
				b[j] = c ^ 0x20
			}
			letter++
		}
	}
	return string(b)
}
