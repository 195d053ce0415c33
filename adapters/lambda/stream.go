package lambda

import (
	"bufio"
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/aws/aws-lambda-go/lambdacontext"

	"github.com/collage-dev/collage/bff"
)

// StreamContentType is the Content-Type of a streamed answer to a Function
// URL: a JSON prelude (status, headers, cookies), eight NUL bytes, then the
// body as it is written.
const StreamContentType = "application/vnd.awslambda.http-integration-response"

// The Runtime API's names, as AWS documents them for custom runtimes.
const (
	runtimeAPIPath      = "/2018-06-01/runtime/invocation/"
	headerRequestID     = "Lambda-Runtime-Aws-Request-Id"
	headerDeadlineMS    = "Lambda-Runtime-Deadline-Ms"
	headerFunctionARN   = "Lambda-Runtime-Invoked-Function-Arn"
	headerResponseMode  = "Lambda-Runtime-Function-Response-Mode"
	trailerErrorType    = "Lambda-Runtime-Function-Error-Type"
	trailerErrorBody    = "Lambda-Runtime-Function-Error-Body"
	streamBufferBytes   = 16 << 10
	errorTypeHandler    = "Runtime.HandlerError"
	errorTypeEventShape = "Runtime.UnknownEventShape"
)

// preludeEnd ends the prelude of a streamed answer.
var preludeEnd = make([]byte, 8)

// Stream serves h inside Lambda through the Runtime API at api (the
// host:port Lambda sets in AWS_LAMBDA_RUNTIME_API), for a Function URL
// whose InvokeMode is RESPONSE_STREAM: what h writes leaves each time it
// flushes (http.Flusher, http.ResponseController), so the head of a page
// reaches the client before a slow part of it is written. It answers
// Function URL events (payload 2.0) only, and returns when ctx is done or
// the Runtime API fails.
//
// aws-lambda-go streams a handler's io.Reader, but without the
// Lambda-Runtime-Function-Response-Mode header the Runtime API documents,
// and only from a reader: Stream speaks that part of the Runtime API
// itself, as documented, with chunked transfer and the error trailers.
func Stream(ctx context.Context, api string, h http.Handler, opts Options) error {
	if opts.Log == nil {
		opts.Log = slog.Default()
	}
	s := &streamer{
		base:   "http://" + api + runtimeAPIPath,
		h:      h,
		opts:   opts,
		client: &http.Client{Transport: &http.Transport{Proxy: nil, DisableCompression: true}},
	}
	for {
		inv, err := s.next(ctx)
		if err != nil {
			return err
		}
		if err := s.serve(ctx, inv); err != nil {
			return err
		}
	}
}

type streamer struct {
	base   string
	h      http.Handler
	opts   Options
	client *http.Client
}

// invocation is one event from the Runtime API.
type invocation struct {
	id       string
	arn      string
	deadline time.Time
	payload  []byte
}

// next waits for the next event.
func (s *streamer) next(ctx context.Context) (*invocation, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, s.base+"next", nil)
	if err != nil {
		return nil, err
	}
	resp, err := s.client.Do(req)
	if err != nil {
		return nil, fmt.Errorf("lambda: waiting for the next event: %w", err)
	}
	defer resp.Body.Close()
	payload, err := io.ReadAll(resp.Body)
	if err != nil {
		return nil, fmt.Errorf("lambda: reading the next event: %w", err)
	}
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("lambda: GET %snext: status %d: %s", s.base, resp.StatusCode, bytes.TrimSpace(payload))
	}
	inv := &invocation{id: resp.Header.Get(headerRequestID), arn: resp.Header.Get(headerFunctionARN), payload: payload}
	if inv.id == "" {
		return nil, fmt.Errorf("lambda: GET %snext: the event has no %s", s.base, headerRequestID)
	}
	ms, err := strconv.ParseInt(resp.Header.Get(headerDeadlineMS), 10, 64)
	if err != nil {
		return nil, fmt.Errorf("lambda: GET %snext: %s %q is not a time in milliseconds", s.base, headerDeadlineMS, resp.Header.Get(headerDeadlineMS))
	}
	inv.deadline = time.UnixMilli(ms)
	return inv, nil
}

// serve answers one event. It returns an error only when the Runtime API
// fails; the handler's failures are reported to it.
func (s *streamer) serve(ctx context.Context, inv *invocation) error {
	ctx, cancel := context.WithDeadline(ctx, inv.deadline)
	defer cancel()
	ctx = lambdacontext.NewContext(ctx, &lambdacontext.LambdaContext{AwsRequestID: inv.id, InvokedFunctionArn: inv.arn})
	log := s.opts.Log.With("request_id", inv.id)

	kind, method, err := detect(inv.payload)
	if err == nil && kind != KindHTTPV2 {
		err = &bff.Error{Code: bff.CodeUnknownEvent, Message: "a streamed answer goes to a Function URL, whose events are payload 2.0; got an event of shape " + kind.String()}
	}
	if err != nil {
		log.Error("lambda: cannot answer the event", "err", err)
		return s.fail(inv, errorTypeEventShape, err)
	}
	w := &streamWriter{s: s, inv: inv, header: http.Header{}, head: method == http.MethodHead}
	r, err := request(ctx, kind, inv.payload, s.opts.BasePath)
	var e *bff.Error
	switch {
	case errors.As(err, &e) && e.Code == bff.CodeBadRequest:
		log.Warn("lambda: malformed request", "err", err)
		bff.WriteError(w, e)
	case err != nil:
		log.Error("lambda: cannot answer the event", "err", err)
		return s.fail(inv, errorTypeHandler, err)
	default:
		if err := w.run(r); err != nil {
			log.Error("lambda: the handler failed", "err", err)
			if w.post == nil {
				return s.fail(inv, errorTypeHandler, err)
			}
			return w.abort(err)
		}
	}
	return w.finish()
}

// fail reports an invocation that has no answer to the Runtime API's error
// endpoint.
func (s *streamer) fail(inv *invocation, errorType string, cause error) error {
	body, _ := json.Marshal(errorPayload(errorType, cause))
	resp, err := s.client.Post(s.base+inv.id+"/error", "application/json", bytes.NewReader(body))
	if err != nil {
		return fmt.Errorf("lambda: reporting the error of invocation %s: %w", inv.id, err)
	}
	defer resp.Body.Close()
	io.Copy(io.Discard, resp.Body)
	if resp.StatusCode != http.StatusAccepted {
		return fmt.Errorf("lambda: reporting the error of invocation %s: status %d", inv.id, resp.StatusCode)
	}
	return nil
}

type errorJSON struct {
	Message string `json:"errorMessage"`
	Type    string `json:"errorType"`
}

func errorPayload(errorType string, cause error) errorJSON {
	return errorJSON{Message: cause.Error(), Type: errorType}
}

// streamWriter is the ResponseWriter a handler writes to in the streaming
// mode. Like a net/http server, it snapshots the headers at WriteHeader,
// sniffs the Content-Type of a body that has none, drops the body of an
// answer to HEAD, and sends nothing until the handler flushes or returns.
// The response to the Runtime API starts at WriteHeader; each Flush sends
// what is buffered as one chunk.
type streamWriter struct {
	s      *streamer
	inv    *invocation
	header http.Header
	status int
	head   bool

	post *streamPost // the response under way, once the status is known
	buf  *bufio.Writer
}

// streamPost is the POST that carries a streamed answer.
type streamPost struct {
	pw      *io.PipeWriter
	trailer http.Header
	done    chan error
}

func (w *streamWriter) Header() http.Header { return w.header }

func (w *streamWriter) WriteHeader(status int) {
	if w.status != 0 {
		return
	}
	if status < 100 || status > 999 {
		panic("invalid WriteHeader code " + strconv.Itoa(status))
	}
	w.status = status
	w.start(prelude(status, w.header))
}

func (w *streamWriter) Write(p []byte) (int, error) {
	if w.status == 0 {
		if _, ok := w.header["Content-Type"]; !ok && len(p) > 0 {
			w.header.Set("Content-Type", http.DetectContentType(p))
		}
		w.WriteHeader(http.StatusOK)
	}
	if !bodyAllowed(w.status) {
		return 0, http.ErrBodyNotAllowed
	}
	if w.head {
		return len(p), nil
	}
	return w.buf.Write(p)
}

// Flush sends what the handler wrote so far.
func (w *streamWriter) Flush() { w.FlushError() }

// FlushError is Flush, for http.ResponseController, which returns its error.
func (w *streamWriter) FlushError() error {
	if w.status == 0 {
		w.WriteHeader(http.StatusOK)
	}
	return w.buf.Flush()
}

// start begins the POST that carries the answer, with the prelude first.
func (w *streamWriter) start(prelude []byte) {
	pr, pw := io.Pipe()
	p := &streamPost{pw: pw, done: make(chan error, 1),
		trailer: http.Header{trailerErrorType: nil, trailerErrorBody: nil}}
	req, err := http.NewRequest(http.MethodPost, w.s.base+w.inv.id+"/response", pr)
	if err != nil {
		panic(err) // the base URL parsed for the GET before
	}
	req.ContentLength = -1
	req.TransferEncoding = []string{"chunked"}
	req.Trailer = p.trailer
	req.Header.Set("Content-Type", StreamContentType)
	req.Header.Set(headerResponseMode, "streaming")
	// The Runtime API wants the connection closed after a streamed answer.
	req.Close = true
	go func() {
		resp, err := w.s.client.Do(req)
		if err == nil {
			io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
			if resp.StatusCode != http.StatusAccepted {
				err = fmt.Errorf("status %d", resp.StatusCode)
			}
		}
		pr.CloseWithError(errStreamEnded)
		p.done <- err
	}()
	w.post = p
	w.buf = bufio.NewWriterSize(pw, streamBufferBytes)
	w.buf.Write(prelude)
	w.buf.Write(preludeEnd)
}

var errStreamEnded = errors.New("the streamed answer ended")

// run runs the handler, turning a panic into an error.
func (w *streamWriter) run(r *http.Request) (err error) {
	defer func() {
		if p := recover(); p != nil {
			err = fmt.Errorf("panic: %v", p)
		}
	}()
	w.s.h.ServeHTTP(w, r)
	return nil
}

// finish ends a complete answer and waits for the Runtime API to take it.
func (w *streamWriter) finish() error {
	if w.status == 0 {
		w.WriteHeader(http.StatusOK)
	}
	w.buf.Flush()
	w.post.pw.Close()
	return w.wait()
}

// abort ends an answer cut short by err: what was sent stays sent, and the
// error trailers tell Lambda the invocation failed.
func (w *streamWriter) abort(cause error) error {
	// Flushing first means the request's headers are out, so the trailer
	// is not read while it changes.
	if w.buf.Flush() == nil {
		body, _ := json.Marshal(errorPayload(errorTypeHandler, cause))
		w.post.trailer.Set(trailerErrorType, errorTypeHandler)
		w.post.trailer.Set(trailerErrorBody, base64.StdEncoding.EncodeToString(body))
	}
	w.post.pw.Close()
	return w.wait()
}

func (w *streamWriter) wait() error {
	if err := <-w.post.done; err != nil {
		return fmt.Errorf("lambda: POST %s%s/response: %w", w.s.base, w.inv.id, err)
	}
	return nil
}

// prelude is the JSON that starts a streamed answer: a Function URL's
// status, headers (repeated values joined as HTTP allows) and cookies (one
// per Set-Cookie, never merged).
func prelude(status int, header http.Header) []byte {
	p := struct {
		StatusCode int               `json:"statusCode"`
		Headers    map[string]string `json:"headers,omitempty"`
		Cookies    []string          `json:"cookies,omitempty"`
	}{StatusCode: status, Headers: make(map[string]string, len(header))}
	for k, vs := range header {
		if k == "Set-Cookie" {
			p.Cookies = append(p.Cookies, vs...)
			continue
		}
		p.Headers[k] = strings.Join(vs, ", ")
	}
	b, _ := json.Marshal(p)
	return b
}

var (
	_ http.Flusher                    = (*streamWriter)(nil)
	_ interface{ FlushError() error } = (*streamWriter)(nil)
)
