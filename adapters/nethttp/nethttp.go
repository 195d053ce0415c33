package nethttp

import (
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/collage-dev/collage/shell"
)

// Config is the HTTP edge's options: the shell handler's, and the limits
// Serve applies.
type Config = shell.EdgeConfig

// handler is the shell's Handler as an http.Handler.
type handler struct {
	h       *shell.Handler
	metrics http.Handler
	write   time.Duration // EdgeConfig.WriteTimeout
}

// New returns an http.Handler serving sh with cfg.
func New(sh *shell.Shell, cfg Config) http.Handler {
	return NewHandler(shell.NewHandler(sh, cfg))
}

// NewHandler returns an http.Handler serving h, whose shell may be swapped
// while it serves.
func NewHandler(h *shell.Handler) http.Handler {
	cfg := h.Config()
	return &handler{h: h, metrics: cfg.Metrics, write: cfg.WriteTimeout}
}

func (s *handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if s.metrics != nil && r.URL.Path == shell.MetricsPath && (r.Method == http.MethodGet || r.Method == http.MethodHead) {
		s.metrics.ServeHTTP(w, r)
		return
	}
	x := &exchange{r: r, w: w, rc: http.NewResponseController(w), write: s.write}
	defer func() {
		// A failure of the shell's is a 500 in the JSON error shape, as
		// fiber's recover middleware makes it, while nothing is written yet.
		if v := recover(); v != nil {
			if v == http.ErrAbortHandler || x.began {
				panic(http.ErrAbortHandler)
			}
			s.h.WriteError(x, w.Header().Get("X-Request-Id"), r.URL.Path, fmt.Errorf("panic: %v", v))
		}
	}()
	s.h.Serve(x, x)
}

// exchange is one request and its response as the shell's Request and
// Response.
type exchange struct {
	r     *http.Request
	w     http.ResponseWriter
	rc    *http.ResponseController
	write time.Duration
	began bool // whether the status is written
}

func (x *exchange) Method() string { return x.r.Method }

// Path is the path as the client sent it, still percent-encoded.
func (x *exchange) Path() string {
	if p, _, _ := strings.Cut(x.r.RequestURI, "?"); strings.HasPrefix(p, "/") {
		return p
	}
	return x.r.URL.EscapedPath()
}

func (x *exchange) RawQuery() string { return x.r.URL.RawQuery }
func (x *exchange) Host() string     { return x.r.Host }

func (x *exchange) Scheme() string {
	if x.r.TLS != nil {
		return "https"
	}
	return "http"
}

func (x *exchange) Header(name string) string { return x.r.Header.Get(name) }
func (x *exchange) RemoteAddr() string        { return x.r.RemoteAddr }

func (x *exchange) Body() (io.Reader, int64) {
	if x.r.Body == nil || x.r.Body == http.NoBody || x.r.ContentLength == 0 {
		return nil, 0
	}
	return x.r.Body, x.r.ContentLength
}

// SetBodyDeadline sets the connection's read deadline; a writer that has
// none (a handler wrapped by something other than an http.Server) keeps
// its own.
func (x *exchange) SetBodyDeadline(t time.Time) { x.rc.SetReadDeadline(t) }

func (x *exchange) SetHeader(name, value string) { x.w.Header().Set(name, value) }
func (x *exchange) AddHeader(name, value string) { x.w.Header().Add(name, value) }
func (x *exchange) DelHeader(name string)        { x.w.Header().Del(name) }
func (x *exchange) CloseConnection()             { x.w.Header().Set("Connection", "close") }

// begin starts the response's write deadline, as fiber's runs from the end
// of the handler, and writes its status.
func (x *exchange) begin(status int, length int64) {
	x.began = true
	x.rc.SetWriteDeadline(time.Now().Add(x.write))
	if length >= 0 {
		x.w.Header().Set("Content-Length", strconv.FormatInt(length, 10))
	}
	x.w.WriteHeader(status)
}

func (x *exchange) Send(status int, body []byte) {
	x.begin(status, int64(len(body)))
	x.w.Write(body)
}

// Stream writes body as it comes, flushing each chunk. A body that ends in
// an error aborts the response.
func (x *exchange) Stream(status int, body io.ReadCloser, length int64) {
	x.begin(status, length)
	fw := &flusher{w: x.w, rc: x.rc}
	var err error
	if wt, ok := body.(io.WriterTo); ok {
		_, err = wt.WriteTo(fw)
	} else {
		buf := make([]byte, 32<<10)
		_, err = io.CopyBuffer(fw, onlyReader{body}, buf)
	}
	body.Close()
	if err != nil {
		panic(http.ErrAbortHandler)
	}
}

// flusher sends each Write at once.
type flusher struct {
	w  io.Writer
	rc *http.ResponseController
}

func (f *flusher) Write(p []byte) (int, error) {
	n, err := f.w.Write(p)
	if err != nil {
		return n, err
	}
	if err := f.rc.Flush(); err != nil && err != http.ErrNotSupported {
		return n, err
	}
	return n, nil
}

// WriteLast writes a body's last chunk without flushing it: net/http sends
// what is buffered with the end of the body when the handler returns.
func (f *flusher) WriteLast(p []byte) (int, error) { return f.w.Write(p) }

// onlyReader hides a body's other methods from io.CopyBuffer.
type onlyReader struct{ io.Reader }

var (
	_ shell.Request    = (*exchange)(nil)
	_ shell.Response   = (*exchange)(nil)
	_ shell.LastWriter = (*flusher)(nil)
)
