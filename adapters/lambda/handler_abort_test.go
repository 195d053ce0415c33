package lambda

import (
	"context"
	"errors"
	"net/http"
	"testing"
)

// TestAbortedAnswer: a handler that aborts its answer the net/http way
// fails the invocation, and the process goes on.
func TestAbortedAnswer(t *testing.T) {
	h := NewHandler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Write([]byte("part of an answer"))
		panic(http.ErrAbortHandler)
	}), Options{})
	event := []byte(`{"version":"2.0","rawPath":"/","requestContext":{"http":{"method":"GET","path":"/"}}}`)
	out, err := h.Invoke(context.Background(), event)
	if !errors.Is(err, errAborted) || out != nil {
		t.Fatalf("Invoke = %q, %v; want no answer and errAborted", out, err)
	}
}
