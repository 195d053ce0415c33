package bff

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"html/template"
	"log/slog"
	"net/http"
	"net/url"
	"runtime/debug"
	"strings"
	"sync"

	"github.com/collage-dev/collage/component"
)

// Headers of the fragment request the shell sends to GET /_fragment.
const (
	HeaderPath   = "Collage-Path"   // the page's path and query
	HeaderParams = "Collage-Params" // route parameters, query-encoded
	HeaderSlot   = "Collage-Slot"   // the slot's name in the layout
)

// FragmentPath is where a BFF answers fragment requests.
const FragmentPath = "/_fragment"

// PanicMessage is the message of the log line of a function that
// panicked, whose attributes are bff (its name), method, path (its own,
// FragmentPath for the fragment), panic and stack.
const PanicMessage = "bff function panicked"

// FragmentRequest is what the shell tells a BFF about the slot it renders.
type FragmentRequest struct {
	Path   string     // the page's path, without the query
	Query  url.Values // the page's query
	Params url.Values // route parameters, such as id for /products/{id}
	Slot   string     // the slot's name, when the layout gives one
}

// Param returns a route parameter of the page.
func (f *FragmentRequest) Param(name string) string { return f.Params.Get(name) }

// Fragment registers the BFF's fragment renderer: fn produces the data and
// tmpl renders it into the slot's server-side HTML.
//
// An *Error from fn sets the fragment's status: a 3xx redirects (the page
// follows it when the slot is primary), a 4xx renders tmpl's "error"
// template, if it has one, with the *Error. Any other error is a 500 with no
// body, and the shell shows the slot's fallback.
func Fragment[D any](b *BFF, tmpl *template.Template, fn func(context.Context, *FragmentRequest) (D, error)) {
	b.fragment = func(ctx context.Context, ex *exchange, fr *FragmentRequest) {
		data, err := fn(ctx, fr)
		pb := getBuffer()
		buf := &pb.Buffer
		aw, direct := ex.w.(*answerWriter)
		if direct {
			// RenderFragment's answer takes the buffer; its Release brings
			// it back.
			aw.buf = pb
		} else {
			defer putBuffer(pb)
		}
		status := http.StatusOK
		if ex.status != 0 {
			status = ex.status
		}
		if err != nil {
			e := b.fragmentError(ctx, ex, fr, err)
			if e == nil {
				return
			}
			status = e.StatusCode()
			if e.Location != "" {
				ex.w.Header().Set("Location", e.Location)
			} else if err := renderError(buf, tmpl, e); err != nil {
				b.logger().Error("bff fragment error template failed", "bff", b.name, "err", err)
				buf.Reset() // no half-rendered HTML in the slot
			}
		} else if err := tmpl.Execute(buf, data); err != nil {
			b.logger().Error("bff fragment template failed", "bff", b.name, "path", fr.Path, "err", err)
			ex.writeHeader(http.StatusInternalServerError)
			return
		} else if ex.header.Get(HeaderDrift) != "" {
			withData(ex, buf, data)
		}
		if direct && aw.status == 0 && len(aw.header) == 0 {
			aw.header = htmlHeader
		} else {
			ex.w.Header().Set("Content-Type", htmlType)
		}
		ex.writeHeader(status)
		if direct {
			aw.body = buf.Bytes()
		} else {
			ex.w.Write(buf.Bytes())
		}
	}
	b.routeFragment()
}

// routeFragment answers GET /_fragment with b.fragment.
func (b *BFF) routeFragment() {
	b.mux.HandleFunc("GET "+FragmentPath, func(w http.ResponseWriter, r *http.Request) {
		ex := r.Context().Value(exchangeKey{}).(*exchange)
		h := r.Header
		b.fragment(r.Context(), ex, new(FragmentRequest).read(h.Get(HeaderPath), h.Get(HeaderParams), h.Get(HeaderSlot), b.logger()))
	})
}

// HeaderDrift asks a Fragment (a Go template) to answer its data too, in
// the slot's data script as a Component does, and marks the answer that
// does: the shell's drift check in collage dev renders the frontend's
// View with it and reports where the template's HTML differs.
const HeaderDrift = "Collage-Drift"

// withData puts data before the template's HTML in buf, as
// component.Fragment does, and marks the answer with HeaderDrift. Data
// that does not encode leaves the answer as it was: the check is skipped.
func withData(ex *exchange, buf *bytes.Buffer, data any) {
	j, err := json.Marshal(data)
	if err != nil {
		return
	}
	html := bytes.Clone(buf.Bytes())
	buf.Reset()
	if err := component.Fragment(buf, html, j); err != nil {
		buf.Reset()
		buf.Write(html)
		return
	}
	ex.w.Header().Set(HeaderDrift, "1")
}

// fragmentError is the *Error that err, a fragment function's, is when
// the page may show it (a 4xx). For any other error it logs err, answers
// 500 and returns nil.
func (b *BFF) fragmentError(ctx context.Context, ex *exchange, fr *FragmentRequest, err error) *Error {
	var e *Error
	if !errors.As(err, &e) || e.StatusCode() >= 500 {
		b.logFailure(ctx, "bff fragment failed", "path", fr.Path, "err", err)
		ex.writeHeader(http.StatusInternalServerError)
		return nil
	}
	return e
}

// FragmentCall is a fragment request made without HTTP, by a shell that
// has the BFF linked in: what GET /_fragment carries in its headers.
type FragmentCall struct {
	Path   string      // the page's path and query (Collage-Path)
	Params string      // route parameters, query-encoded (Collage-Params)
	Slot   string      // the slot's name, if any (Collage-Slot)
	Header http.Header // the forwarded request headers; not changed
}

// FragmentAnswer is a fragment response: what GET /_fragment answers.
type FragmentAnswer struct {
	Status int
	// Header is read only: answers may share it (those whose only header
	// is Content-Type: text/html; charset=utf-8 do). Clone it to change it.
	Header http.Header
	Body   []byte

	buf     *pooledBuffer // where Body was rendered, for Release
	release func()        // what else Release calls, if not nil
}

// Release hands the answer's body back to be rendered into again: call it
// once, when Body is no longer needed, and use Body no more. An answer that
// is never released is collected as garbage.
func (a FragmentAnswer) Release() {
	if a.buf != nil {
		putBuffer(a.buf)
	}
	if a.release != nil {
		a.release()
	}
}

// Releaser returns a func that releases the answer as Release does, made
// once: an answer whose only release is ReleaseWith's, or its pooled
// buffer's, gives that func.
func (a FragmentAnswer) Releaser() func() {
	switch {
	case a.buf == nil:
		return a.release
	case a.release == nil:
		return a.buf.put
	}
	return a.Release
}

// ReleaseWith returns a, whose Release also calls release: an invoker
// whose answers' bodies live in buffers it reuses gets each back that way.
func (a FragmentAnswer) ReleaseWith(release func()) FragmentAnswer {
	a.release = release
	return a
}

// RenderFragment answers call as GET /_fragment would, without building an
// HTTP request or routing one: the shell's path to a BFF linked into the
// binary. It reports false when the BFF has no fragment.
func (b *BFF) RenderFragment(ctx context.Context, call *FragmentCall) (ans FragmentAnswer, ok bool) {
	if b.fragment == nil {
		return FragmentAnswer{}, false
	}
	// One allocation for the exchange, the writer it answers through, the
	// context that carries it and the request the BFF's function is given.
	all := &struct {
		ex  exchange
		w   answerWriter
		ctx exchangeContext
		fr  FragmentRequest
	}{}
	ex, w := &all.ex, &all.w
	*ex = exchange{header: call.Header, call: call, w: w}
	all.ctx = exchangeContext{Context: ctx, ex: ex}
	defer func() {
		if v := recover(); v != nil {
			b.logger().Error(PanicMessage, "bff", b.name, "method", http.MethodGet, "path", FragmentPath,
				"panic", fmt.Sprint(v), "stack", string(debug.Stack()))
			if !ex.wrote {
				b.writeError(ex, &Error{Status: http.StatusInternalServerError, Message: "internal error"})
			}
			ans, ok = w.answer(), true
		}
	}()
	b.fragment(&all.ctx, ex, all.fr.read(call.Path, call.Params, call.Slot, b.logger()))
	return w.answer(), true
}

const htmlType = "text/html; charset=utf-8"

// htmlHeader is the Header of every answer RenderFragment renders with
// no header but its Content-Type: shared, never changed.
var htmlHeader = http.Header{"Content-Type": {htmlType}}

// answerWriter is the in-memory ResponseWriter of RenderFragment. Headers
// changed after WriteHeader are ignored, as on a connection.
type answerWriter struct {
	header http.Header // made when first asked for; nil once sent
	sent   http.Header
	status int
	body   []byte
	buf    *pooledBuffer // a pooled buffer body may be in
}

func (w *answerWriter) Header() http.Header {
	if w.header == nil {
		w.header = http.Header{} // after WriteHeader: changes go nowhere
	}
	return w.header
}

func (w *answerWriter) WriteHeader(status int) {
	if w.status != 0 {
		return
	}
	if status < 100 || status > 999 {
		panic(fmt.Sprintf("invalid WriteHeader code %v", status)) // as net/http
	}
	w.status = status
	w.sent, w.header = w.header, nil
}

func (w *answerWriter) Write(p []byte) (int, error) {
	if w.status == 0 {
		w.WriteHeader(http.StatusOK)
	}
	w.body = append(w.body, p...)
	return len(p), nil
}

func (w *answerWriter) answer() FragmentAnswer {
	if w.status == 0 {
		w.WriteHeader(http.StatusOK)
	}
	return FragmentAnswer{Status: w.status, Header: w.sent, Body: w.body, buf: w.buf}
}

// buffers hold fragments being rendered; the response takes a copy.
var buffers sync.Pool

// pooledBuffer is a buffer of the pool, with the func that puts it back,
// made once: the Releaser of an answer rendered into it.
type pooledBuffer struct {
	bytes.Buffer
	put func()
}

func getBuffer() *pooledBuffer {
	if b, ok := buffers.Get().(*pooledBuffer); ok {
		return b
	}
	b := new(pooledBuffer)
	b.put = func() { putBuffer(b) }
	return b
}

func putBuffer(b *pooledBuffer) {
	if b.Cap() > 1<<20 {
		return // let an outsized one go
	}
	b.Reset()
	buffers.Put(b)
}

var defaultErrorTemplate = template.Must(template.New("error").Parse(
	`<p class="collage-error" role="alert">{{.Message}}</p>`))

func renderError(buf *bytes.Buffer, tmpl *template.Template, e *Error) error {
	if t := tmpl.Lookup("error"); t != nil {
		return t.Execute(buf, e)
	}
	return defaultErrorTemplate.Execute(buf, e)
}

// read fills fr in from a fragment call's path, route parameters and
// slot, and returns it.
func (fr *FragmentRequest) read(path, params, slot string, log *slog.Logger) *FragmentRequest {
	*fr = FragmentRequest{Slot: slot}
	fr.Path, fr.Query = splitPath(path)
	if params == "" {
		fr.Params = url.Values{}
		return fr
	}
	p, err := url.ParseQuery(params)
	if err != nil {
		log.Warn("bff: malformed "+HeaderParams+" header", "value", params)
	}
	fr.Params = p
	return fr
}

// splitPath returns the path and query of a page's path and query, as
// url.ParseRequestURI reads them; "/" and no query if it cannot. A path of
// plain characters, as most are, is taken as it is, not parsed.
func splitPath(uri string) (string, url.Values) {
	p, q, _ := strings.Cut(uri, "?")
	if plainPath(p) && !strings.ContainsFunc(q, func(r rune) bool { return r < 0x20 || r == 0x7f }) {
		if q == "" {
			return p, url.Values{}
		}
		query, _ := url.ParseQuery(q) // what url.URL.Query keeps of a malformed query
		return p, query
	}
	if u, err := url.ParseRequestURI(uri); err == nil {
		return u.Path, u.Query()
	}
	return "/", url.Values{}
}

// plainPath reports whether p is an absolute path of unreserved
// characters and slashes, which parsing leaves as they are.
func plainPath(p string) bool {
	if p == "" || p[0] != '/' {
		return false
	}
	for i := 0; i < len(p); i++ {
		switch c := p[i]; {
		case 'a' <= c && c <= 'z', 'A' <= c && c <= 'Z', '0' <= c && c <= '9', c == '/', c == '-', c == '.', c == '_', c == '~':
		default:
			return false
		}
	}
	return true
}
