package invoke

import (
	"bytes"
	"context"
	"io"
	"net/http"
	"strconv"

	"github.com/collage-dev/collage/bff"
)

// Local calls a BFF linked into the binary: no socket, no serialisation.
// When h is a *bff.BFF with a fragment, fragments are rendered without an
// *http.Request (bff.BFF.RenderFragment).
func Local(h http.Handler) Invoker { return local{h} }

type local struct{ h http.Handler }

// A FragmentFetcher is an invoker that gets fragments without an
// *http.Request: a BFF linked into the binary, or a client that writes the
// fragment request itself. It reports false when it has no such path, and
// the caller goes through RoundTrip; an error is the fetch's failure.
type FragmentFetcher interface {
	FetchFragment(context.Context, *bff.FragmentCall) (ans bff.FragmentAnswer, ok bool, err error)
}

// renderer is a BFF linked into the binary.
type renderer interface {
	RenderFragment(context.Context, *bff.FragmentCall) (bff.FragmentAnswer, bool)
}

func (l local) FetchFragment(ctx context.Context, call *bff.FragmentCall) (bff.FragmentAnswer, bool, error) {
	if r, ok := l.h.(renderer); ok {
		ans, ok := r.RenderFragment(ctx, call)
		return ans, ok, nil
	}
	return bff.FragmentAnswer{}, false, nil
}

func (l local) RoundTrip(req *http.Request) (*http.Response, error) {
	if req.Body == nil {
		req.Body = http.NoBody
	}
	if req.RequestURI == "" {
		req.RequestURI = req.URL.RequestURI()
	}
	w := &recorder{header: http.Header{}}
	l.h.ServeHTTP(w, req)
	if w.status == 0 {
		w.WriteHeader(http.StatusOK)
	}
	return NewResponse(req, w.status, w.sent, w.body.Bytes()), nil
}

// NewResponse is an in-memory HTTP/1.1 response to req, for invokers that
// answer without a connection.
func NewResponse(req *http.Request, status int, header http.Header, body []byte) *http.Response {
	return &http.Response{
		Status:        strconv.Itoa(status) + " " + http.StatusText(status),
		StatusCode:    status,
		Proto:         "HTTP/1.1",
		ProtoMajor:    1,
		ProtoMinor:    1,
		Header:        header,
		Body:          io.NopCloser(bytes.NewReader(body)),
		ContentLength: int64(len(body)),
		Request:       req,
	}
}

// recorder is the in-memory ResponseWriter of a local call. Headers written
// after WriteHeader are ignored, as on a real connection.
type recorder struct {
	header http.Header // what the handler changes
	sent   http.Header // header as it was at WriteHeader
	status int
	body   bytes.Buffer
}

func (w *recorder) Header() http.Header { return w.header }

func (w *recorder) WriteHeader(status int) {
	if w.status != 0 {
		return
	}
	w.status = status
	w.sent = w.header.Clone()
}

func (w *recorder) Write(p []byte) (int, error) {
	if w.status == 0 {
		w.WriteHeader(http.StatusOK)
	}
	return w.body.Write(p)
}
