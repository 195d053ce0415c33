package lambda

import (
	"context"
	"errors"
	"log/slog"
	"net/http"
	"strings"
	"time"

	"github.com/aws/aws-lambda-go/lambda"
	"github.com/aws/aws-lambda-go/lambdacontext"

	"github.com/collage-dev/collage/bff"
)

// MaxPayloadBytes is Lambda's limit on a synchronous invocation's request
// and response payloads.
const MaxPayloadBytes = 6 << 20

// Options tune a Handler.
type Options struct {
	// BasePath is stripped from the front of every request path, for a
	// custom domain that maps the API under a path such as /api.
	// Optional. Default: none.
	BasePath string
	// Log receives a line for every event that is not a well-formed request.
	// Optional. Default: slog.Default().
	Log *slog.Logger
}

// Handler answers Lambda events with an http.Handler. It implements
// aws-lambda-go's lambda.Handler.
type Handler struct {
	h    http.Handler
	opts Options
}

// NewHandler returns a Handler that serves h.
func NewHandler(h http.Handler, opts Options) *Handler {
	if opts.Log == nil {
		opts.Log = slog.Default()
	}
	return &Handler{h: h, opts: opts}
}

// Invoke answers one event. An event of an unknown shape is an error (the
// invocation fails, naming the shapes expected); a malformed request is a
// 400 answer in the event's shape.
func (h *Handler) Invoke(ctx context.Context, payload []byte) ([]byte, error) {
	kind, method, err := detect(payload)
	if err != nil {
		h.opts.Log.Error("lambda: cannot answer the event", "err", err, "request_id", requestID(ctx))
		return nil, err
	}
	w := newRecorder(method)
	r, err := request(ctx, kind, payload, h.opts.BasePath)
	var e *bff.Error
	switch {
	case errors.As(err, &e) && e.Code == bff.CodeBadRequest:
		h.opts.Log.Warn("lambda: malformed request", "err", err, "request_id", requestID(ctx))
		bff.WriteError(w, e)
	case err != nil:
		h.opts.Log.Error("lambda: cannot answer the event", "err", err, "request_id", requestID(ctx))
		return nil, err
	case isHealthCheck(kind, r):
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		w.Write([]byte("ok\n"))
	default:
		if err := serve(h.h, w, r); err != nil {
			h.opts.Log.Warn("lambda: the answer was cut short", "err", err, "request_id", requestID(ctx))
			return nil, err
		}
	}
	w.finish()
	out, err := response(kind, w)
	if err == nil && len(out) > MaxPayloadBytes {
		// Lambda would drop the answer with an error that names no request;
		// say which one, and answer what Lambda can carry.
		h.opts.Log.Error("lambda: the answer is over Lambda's payload limit", "bytes", len(out),
			"limit", MaxPayloadBytes, "request_id", requestID(ctx))
		w = newRecorder(method)
		bff.WriteError(w, &bff.Error{Code: bff.CodeResponseTooLarge, Message: "internal error"})
		out, err = response(kind, w)
	}
	return out, err
}

// isHealthCheck says whether r is an ALB's health check. Its answer is
// 200 without running the BFF: a Lambda target is healthy when it can be
// invoked and answer, and the BFF may have no function at the path the
// health check asks for (by default /).
func isHealthCheck(kind Kind, r *http.Request) bool {
	return (kind == KindALB || kind == KindALBMulti) && strings.HasPrefix(r.Header.Get("User-Agent"), "ELB-HealthChecker/")
}

// Invocation is what Lambda tells a function about the call it answers.
type Invocation struct {
	RequestID   string    // the Lambda request id
	FunctionARN string    // the ARN the caller invoked, with any qualifier
	Deadline    time.Time // when Lambda stops the function
}

// FromContext returns the invocation a BFF function's ctx comes from, and
// false when the function does not run inside Lambda.
func FromContext(ctx context.Context) (Invocation, bool) {
	lc, ok := lambdacontext.FromContext(ctx)
	if !ok {
		return Invocation{}, false
	}
	inv := Invocation{RequestID: lc.AwsRequestID, FunctionARN: lc.InvokedFunctionArn}
	inv.Deadline, _ = ctx.Deadline()
	return inv, true
}

func requestID(ctx context.Context) string {
	inv, _ := FromContext(ctx)
	return inv.RequestID
}

// Start serves h inside Lambda through the Runtime API; it never returns.
// aws-lambda-go reads AWS_LAMBDA_RUNTIME_API and the other variables Lambda
// sets.
func Start(h http.Handler, opts Options) {
	lambda.StartWithOptions(NewHandler(h, opts))
}

var _ lambda.Handler = (*Handler)(nil)

// errAborted is the invocation's error when the handler aborts its answer.
var errAborted = errors.New("the handler aborted its answer (http.ErrAbortHandler), as a server closes the connection mid-body")

// serve runs h. A handler that aborts its answer the net/http way, by
// panicking with http.ErrAbortHandler (an answer cut at a bound), fails the
// invocation instead of ending the process; any other panic goes on to
// the runtime, as a crash.
func serve(h http.Handler, w http.ResponseWriter, r *http.Request) (err error) {
	defer func() {
		if p := recover(); p != nil {
			if p != http.ErrAbortHandler {
				panic(p)
			}
			err = errAborted
		}
	}()
	h.ServeHTTP(w, r)
	return nil
}
