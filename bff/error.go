package bff

import (
	"fmt"
	"net/http"
	"strings"
)

// Error is an error a BFF function returns to choose the response status.
// Its Message is shown to the caller; wrap internal detail in a plain error
// instead, which becomes a 500 with a generic message and a log line.
type Error struct {
	Status   int    // HTTP status, 400–599, or 3xx with Location
	Code     string // machine-readable code; derived from Status when empty
	Message  string // for people
	Field    string // the input field at fault, if any
	Location string // redirect target for a 3xx
}

func (e *Error) Error() string {
	if e.Field != "" {
		return fmt.Sprintf("%d %s: %s: %s", e.Status, e.code(), e.Field, e.Message)
	}
	return fmt.Sprintf("%d %s: %s", e.Status, e.code(), e.Message)
}

func (e *Error) code() string {
	if e.Code != "" {
		return e.Code
	}
	return codeFor(e.Status)
}

// codeFor turns a status into a snake_case code: 404 → "not_found".
func codeFor(status int) string {
	text := http.StatusText(status)
	if text == "" {
		return "error"
	}
	return strings.ReplaceAll(strings.ToLower(text), " ", "_")
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

// errorBody is the JSON shape of every error a BFF answers with.
type errorBody struct {
	Error errorDetail `json:"error"`
}

type errorDetail struct {
	Code    string `json:"code"`
	Message string `json:"message"`
	Field   string `json:"field,omitempty"`
}
