package bff

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"github.com/collage-dev/collage/component"
	"log/slog"
	"net/http"
	"runtime/debug"
	"sync/atomic"
)

// DefaultMaxBodyBytes is the default of BFF.MaxBodyBytes: 1 MiB.
const DefaultMaxBodyBytes = 1 << 20

// BFF is one frontend's backend-for-frontend. The zero value is not usable;
// call New.
type BFF struct {
	name     string
	mux      *http.ServeMux
	fragment func(context.Context, *exchange, *FragmentRequest) // set by Fragment
	state    atomic.Pointer[bound]                              // set by UseState, or on first use

	// Log receives a line for every panic (PanicMessage) and internal
	// error. Optional. Default: slog.Default().
	Log *slog.Logger

	// Renderer renders the frontend's View with the data of a Component
	// fragment, where the BFF runs: a BFF's Lambda bootstrap sets it from
	// the server bundle it carries, so that the BFF pays for its own
	// renders. Optional. Default: nil, the fragment answers its data
	// (component.MediaType) and the shell renders it.
	Renderer component.Renderer

	// MaxBodyBytes bounds the request body a function's In is decoded
	// from: a longer body is answered 413 once MaxBodyBytes+1 bytes have
	// been read, and no more of it is read or held. A BFF reached over
	// HTTP or Lambda is reached without the shell's bound, so this one
	// holds wherever the BFF runs.
	// Optional. Default: DefaultMaxBodyBytes (1 MiB); zero or less means the default.
	MaxBodyBytes int64
}

// New returns an empty BFF for the frontend called name.
func New(name string) *BFF {
	return &BFF{name: name, mux: http.NewServeMux()}
}

// Name is the name of the frontend the BFF serves.
func (b *BFF) Name() string { return b.name }

func (b *BFF) maxBodyBytes() int64 {
	if b.MaxBodyBytes > 0 {
		return b.MaxBodyBytes
	}
	return DefaultMaxBodyBytes
}

func (b *BFF) logger() *slog.Logger {
	if b.Log != nil {
		return b.Log
	}
	return slog.Default()
}

// ServeHTTP routes r to the function registered for its method and path.
// A panic in a function becomes a 500 JSON error and a log line.
func (b *BFF) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	ex := &exchange{r: r, header: r.Header, w: w}
	defer func() {
		if v := recover(); v != nil {
			b.logger().Error(PanicMessage,
				"bff", b.name, "method", r.Method, "path", r.URL.Path,
				"panic", fmt.Sprint(v), "stack", string(debug.Stack()))
			if !ex.wrote {
				// An *Error, so writeError does not log the panic a second time.
				b.writeError(ex, &Error{Code: CodeInternal, Message: "internal error"})
			}
		}
	}()
	h, pattern := b.mux.Handler(r)
	if pattern == "" {
		// Let the mux answer 404, 405 (with Allow) and the redirect of an
		// unclean path that matches nothing (with Location) in our JSON shape.
		rec := &statusOnly{header: http.Header{}}
		h.ServeHTTP(rec, r)
		for _, v := range rec.header.Values("Allow") {
			w.Header().Add("Allow", v)
		}
		b.writeError(ex, &Error{Status: rec.status, Location: rec.header.Get("Location"),
			Message: fmt.Sprintf("no function for %s %s", r.Method, r.URL.Path)})
		return
	}
	b.mux.ServeHTTP(w, r.WithContext(context.WithValue(r.Context(), exchangeKey{}, ex)))
}

// Handle registers fn to answer requests matching pattern, which has the
// form of net/http.ServeMux patterns: "GET /items/{id}", "POST /items".
//
// In is decoded from the request: a non-empty body as JSON, which must come
// with Content-Type application/json (else 415) and hold at most
// MaxBodyBytes (else 413), then fields tagged `path:"name"`, `query:"name"`,
// `header:"Name"` and `cookie:"name"`. If In has a Validate() error method it is called; its
// error is a 400. Out is encoded as JSON, or written as is when it is a Blob.
func Handle[In, Out any](b *BFF, pattern string, fn func(context.Context, In) (Out, error)) {
	b.mux.HandleFunc(pattern, func(w http.ResponseWriter, r *http.Request) {
		ex := r.Context().Value(exchangeKey{}).(*exchange)
		in, err := decode[In](r, b.maxBodyBytes())
		if err != nil {
			b.writeError(ex, err)
			return
		}
		out, err := fn(r.Context(), in)
		if err != nil {
			b.writeError(ex, err)
			return
		}
		b.writeOut(ex, out)
	})
}

// Blob is an Out that is written as raw bytes with its content type,
// for binary or non-JSON responses.
type Blob struct {
	ContentType string
	Data        []byte
}

func (b *BFF) writeOut(ex *exchange, out any) {
	status := http.StatusOK
	if ex.status != 0 {
		status = ex.status
	}
	if status == http.StatusNoContent || status == http.StatusNotModified {
		ex.writeHeader(status) // no body, as net/http would drop it
		return
	}
	if blob, ok := out.(Blob); ok {
		ex.w.Header().Set("Content-Type", blob.ContentType)
		ex.writeHeader(status)
		ex.w.Write(blob.Data)
		return
	}
	body, err := json.Marshal(out)
	if err != nil {
		b.writeError(ex, fmt.Errorf("encode response: %w", err))
		return
	}
	ex.w.Header().Set("Content-Type", "application/json")
	ex.writeHeader(status)
	ex.w.Write(body)
}

// writeError answers with err's status and JSON shape. Errors that are not
// an *Error are internal: logged in full, answered with a generic 500.
func (b *BFF) writeError(ex *exchange, err error) {
	var e *Error
	if !errors.As(err, &e) {
		b.logFailure(ex.r.Context(), "bff function failed", "method", ex.r.Method, "path", ex.r.URL.Path, "err", err)
		e = &Error{Code: CodeInternal, Message: "internal error"}
	}
	WriteError(exchangeWriter{ex}, e)
}

// exchangeWriter writes ex's response through ex, so that ex knows once
// the header is out.
type exchangeWriter struct{ ex *exchange }

func (w exchangeWriter) Header() http.Header         { return w.ex.w.Header() }
func (w exchangeWriter) Write(p []byte) (int, error) { return w.ex.w.Write(p) }
func (w exchangeWriter) WriteHeader(status int)      { w.ex.writeHeader(status) }

// logFailure logs an internal error, as an error unless the caller has gone
// or its deadline passed: then the failure is most likely the cancellation.
func (b *BFF) logFailure(ctx context.Context, msg string, args ...any) {
	level := slog.LevelError
	if ctx.Err() != nil {
		level = slog.LevelInfo
		args = append(args, "cancelled", ctx.Err().Error())
	}
	b.logger().Log(ctx, level, msg, append([]any{"bff", b.name}, args...)...)
}

// statusOnly records what the mux would answer for an unmatched request.
type statusOnly struct {
	header http.Header
	status int
}

func (s *statusOnly) Header() http.Header         { return s.header }
func (s *statusOnly) Write(p []byte) (int, error) { return len(p), nil }
func (s *statusOnly) WriteHeader(code int)        { s.status = code }
