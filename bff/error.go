package bff

import (
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
)

// Codes of the errors collage itself answers with. A code is snake_case;
// a BFF may use codes of its own in Error.Code. Every HTTP edge answers a
// code with StatusOf(code).
const (
	CodeBadRequest           = "bad_request"            // 400: the request is malformed
	CodeForbidden            = "forbidden"              // 403: the request is refused, such as a cross-origin mutation
	CodeNotFound             = "not_found"              // 404: nothing answers at the path
	CodeMethodNotAllowed     = "method_not_allowed"     // 405: something answers at the path, not to the method
	CodePayloadTooLarge      = "payload_too_large"      // 413: the request body is over a limit
	CodeUnsupportedMediaType = "unsupported_media_type" // 415: the body's type or encoding is not taken
	CodeInternal             = "internal_server_error"  // 500: a failure whose detail is in the log
	CodeBadGateway           = "bad_gateway"            // 502: a BFF failed or did not answer
	CodeServiceUnavailable   = "service_unavailable"    // 503: try again later
	CodeGatewayTimeout       = "gateway_timeout"        // 504: a BFF answered too late

	// CodeThrottled (503): Lambda refused to run the BFF for now.
	CodeThrottled = "throttled"
	// CodeResponseTooLarge (500): an answer is over what its channel
	// carries, such as Lambda's payload limit.
	CodeResponseTooLarge = "response_too_large"
	// CodeUnknownEvent (400): a Lambda payload is not an event shape the
	// runtime knows.
	CodeUnknownEvent = "unknown_event"
	// CodeBadResponse (502): a function answered something that is not an
	// HTTP response.
	CodeBadResponse = "bad_response"
	// CodeFunctionError (502): a function failed instead of answering.
	CodeFunctionError = "function_error"
)

// statuses maps each code to the status an HTTP edge answers it with: the
// snake_case text of every HTTP status ("not_found"), and collage's own
// codes.
var statuses = func() map[string]int {
	m := make(map[string]int)
	for status := 100; status < 600; status++ {
		if text := http.StatusText(status); text != "" {
			m[snakeCase(text)] = status
		}
	}
	for code, status := range map[string]int{
		CodePayloadTooLarge:  http.StatusRequestEntityTooLarge,
		CodeThrottled:        http.StatusServiceUnavailable,
		CodeResponseTooLarge: http.StatusInternalServerError,
		CodeUnknownEvent:     http.StatusBadRequest,
		CodeBadResponse:      http.StatusBadGateway,
		CodeFunctionError:    http.StatusBadGateway,
	} {
		m[code] = status
	}
	return m
}()

// StatusOf is the HTTP status an error with code is answered with, and 0
// for a code it does not know: an *Error with such a code must give its
// Status.
func StatusOf(code string) int {
	return statuses[code]
}

// codeFor is the code of an error that gives only a status: its status
// text in snake_case (404 → "not_found"), but payload_too_large for 413,
// whose text in net/http is an old name; "error" for a status without text.
func codeFor(status int) string {
	if status == http.StatusRequestEntityTooLarge {
		return CodePayloadTooLarge
	}
	if text := http.StatusText(status); text != "" {
		return snakeCase(text)
	}
	return "error"
}

func snakeCase(text string) string {
	return strings.ReplaceAll(strings.ToLower(text), " ", "_")
}

// Error is an error with a code, the one coded error type of collage. A BFF
// function returns one to choose its answer; the shell and the Lambda
// runtime return them for their own refusals. Its Message is shown to the
// caller; wrap internal detail in a plain error instead, which becomes a
// 500 with a generic message and a log line.
type Error struct {
	Status   int    // HTTP status, 400–599, or 3xx with Location; StatusOf(Code) when zero
	Code     string // machine-readable snake_case code; derived from Status when empty
	Message  string // for people
	Field    string // the input field at fault, if any
	Location string // redirect target for a 3xx
}

func (e *Error) Error() string {
	detail := e.Message
	if e.Field != "" {
		detail = e.Field + ": " + e.Message
	}
	if e.Status == 0 {
		return e.code() + ": " + detail
	}
	return fmt.Sprintf("%d %s: %s", e.Status, e.code(), detail)
}

// StatusCode is the HTTP status e is answered with: Status when set, else
// StatusOf(Code), which is 0, no status, when collage does not know Code.
func (e *Error) StatusCode() int {
	if e.Status != 0 {
		return e.Status
	}
	return StatusOf(e.Code)
}

func (e *Error) code() string {
	if e.Code != "" {
		return e.Code
	}
	return codeFor(e.Status)
}

// JSON is the body of e's answer, the one shape of every JSON error:
// {"error":{"code":…,"message":…,"field":…}}, with field only when set.
func (e *Error) JSON() []byte {
	body, _ := json.Marshal(errorBody{errorDetail{Code: e.code(), Message: e.Message, Field: e.Field}})
	return body
}

// WriteError answers w with e: its status, its Location if it has one, and
// its JSON with Content-Type application/json.
func WriteError(w http.ResponseWriter, e *Error) {
	h := w.Header()
	if e.Location != "" {
		h.Set("Location", e.Location)
	}
	h.Set("Content-Type", "application/json")
	w.WriteHeader(e.StatusCode())
	w.Write(e.JSON())
}

// Errorf returns an *Error with the given status and a formatted message.
func Errorf(status int, format string, args ...any) *Error {
	return &Error{Status: status, Message: fmt.Sprintf(format, args...)}
}

// NotFound returns a 404 *Error.
func NotFound(format string, args ...any) *Error {
	return Errorf(http.StatusNotFound, format, args...)
}

// BadRequest returns a 400 *Error that names the input field at fault.
func BadRequest(field, format string, args ...any) *Error {
	e := Errorf(http.StatusBadRequest, format, args...)
	e.Field = field
	return e
}

// Redirect returns an *Error that makes the response a redirect to location.
func Redirect(status int, location string) *Error {
	return &Error{Status: status, Message: "redirect", Location: location}
}

type errorBody struct {
	Error errorDetail `json:"error"`
}

type errorDetail struct {
	Code    string `json:"code"`
	Message string `json:"message"`
	Field   string `json:"field,omitempty"`
}
