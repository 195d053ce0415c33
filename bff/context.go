package bff

import (
	"context"
	"net/http"
)

type exchangeKey struct{}

// exchange is the request being answered, reachable from a function's ctx.
type exchange struct {
	r      *http.Request // nil for a fragment rendered by RenderFragment
	header http.Header   // the request's headers
	call   *FragmentCall // the fragment call of RenderFragment, if any
	w      http.ResponseWriter
	status int // set by SetStatus for a successful response
	wrote  bool
}

// writeHeader marks the response written only once WriteHeader returns: an
// invalid status (an *Error without one) panics there, and the recovery in
// ServeHTTP must still answer 500.
func (ex *exchange) writeHeader(status int) {
	ex.w.WriteHeader(status)
	ex.wrote = true
}

// exchangeContext is a context carrying ex, as context.WithValue makes
// one, for RenderFragment to allocate together with its exchange.
type exchangeContext struct {
	context.Context
	ex *exchange
}

func (c *exchangeContext) Value(key any) any {
	if _, ok := key.(exchangeKey); ok {
		return c.ex
	}
	return c.Context.Value(key)
}

func exchangeFrom(ctx context.Context) *exchange {
	ex, _ := ctx.Value(exchangeKey{}).(*exchange)
	if ex == nil {
		panic("bff: context does not come from a BFF request")
	}
	return ex
}

// Cookie returns the value of the request cookie called name.
func Cookie(ctx context.Context, name string) (string, bool) {
	r := &http.Request{Header: exchangeFrom(ctx).header} // the cookie parsing of net/http
	c, err := r.Cookie(name)
	if err != nil {
		return "", false
	}
	return c.Value, true
}

// SetCookie adds a Set-Cookie header to the response.
func SetCookie(ctx context.Context, c *http.Cookie) {
	http.SetCookie(exchangeFrom(ctx).w, c)
}

// Header returns a request header.
func Header(ctx context.Context, key string) string {
	ex := exchangeFrom(ctx)
	if ex.call != nil { // the headers GET /_fragment would carry
		switch http.CanonicalHeaderKey(key) {
		case HeaderPath:
			return ex.call.Path
		case HeaderParams:
			return ex.call.Params
		case HeaderSlot:
			return ex.call.Slot
		}
	}
	return ex.header.Get(key)
}

// SetHeader sets a response header, such as Cache-Control on a fragment.
func SetHeader(ctx context.Context, key, value string) {
	exchangeFrom(ctx).w.Header().Set(key, value)
}

// SetStatus overrides the status of a successful response (201, 202, …).
func SetStatus(ctx context.Context, status int) {
	exchangeFrom(ctx).status = status
}
