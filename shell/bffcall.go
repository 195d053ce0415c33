package shell

import (
	"compress/gzip"
	"compress/zlib"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"path"
	"strings"
	"sync"
	"time"

	"github.com/collage-dev/collage/bff"
)

// bffTimeout bounds one /bff call.
const bffTimeout = 30 * time.Second

// bffCSP is the Content-Security-Policy of a /bff answer that sets none: it
// is data, never a document to run.
const bffCSP = "default-src 'none'; frame-ancestors 'none'"

// callBFF sends /bff/NAME/REST (rest is NAME/REST, as sent) to NAME's BFF
// as REST, with NAME's credentials alone and the body as a stream, and
// streams its answer back, unchanged but for the cookies NAME may not set.
// NAME@LABEL pins the call to the BFF of version LABEL, the one the page was
// rendered with, for as long as the registry serves it; then, and without
// a label, the call reaches the active version's.
func (h *Handler) callBFF(sh *Shell, req Request, resp Response, id, rest string) error {
	resp.SetHeader("X-Content-Type-Options", "nosniff")
	resp.SetHeader("Content-Security-Policy", bffCSP)
	name, raw, _ := strings.Cut(rest, "/")
	name, label, _ := strings.Cut(strings.Clone(name), "@")
	snap := sh.Registry().Current()
	if label != "" && snap.Release(name, label) == nil && sh.catchUp() {
		// Pinned to a version another replica has just made?
		snap = sh.Registry().Current()
	}
	if label != "" && snap.PreviewOnly(name, label) {
		// A version not yet served to everyone: only its preview's holders
		// reach its BFF.
		if f, l, ok := previewOf(snap, cookie(req, PreviewCookie), time.Now()); !ok || f != name || l != label {
			label = ""
		}
	}
	inv, ok := sh.Invoker(name, label)
	if !ok {
		return &bff.Error{Code: bff.CodeNotFound, Message: "no frontend called " + name}
	}
	// The path is as sent, still percent-encoded; the BFF gets it decoded,
	// with the encoded form kept (a%2Fb is one segment).
	raw = "/" + raw
	p, err := url.PathUnescape(raw)
	if err != nil {
		return &bff.Error{Code: bff.CodeBadRequest, Message: "malformed path"}
	}
	if path.Clean(p) != p && path.Clean(p)+"/" != p {
		// No dot segments: a call stays inside its BFF's namespace.
		return &bff.Error{Code: bff.CodeBadRequest, Message: "the path may not hold . or .. segments"}
	}
	if !h.cfg.ExposeFragments && (p == bff.FragmentPath || strings.HasPrefix(p, bff.FragmentPath+"/")) {
		return &bff.Error{Code: bff.CodeNotFound, Message: "no such path: fragments are fetched by the shell"}
	}
	method := strings.Clone(req.Method())
	if err := h.csrf.Check(originOf(req, method)); err != nil {
		return &bff.Error{Code: bff.CodeForbidden,
			Message: "cross-origin " + method + " refused: a /bff call that changes state must come from this site's pages"}
	}
	body, err := requestBody(req, resp, h.cfg)
	if err != nil {
		return err
	}
	defer body.finish()
	u := &url.URL{Path: p, RawQuery: strings.Clone(req.RawQuery())}
	if u.EscapedPath() != raw {
		u.RawPath = raw
	}
	ctx, cancel := context.WithTimeout(context.Background(), bffTimeout)
	streaming := false
	defer func() {
		if !streaming {
			cancel()
		}
	}()
	r, err := http.NewRequestWithContext(ctx, method, u.String(), body.reader())
	if err != nil {
		return &bff.Error{Code: bff.CodeBadRequest, Message: "malformed path"}
	}
	r.URL = u
	r.ContentLength = body.length
	r.Header = sh.copyCredentials(req, forwarded(req, id))
	for _, k := range BFFForwarded {
		if v := req.Header(k); v != "" {
			r.Header.Set(k, strings.Clone(v))
		}
	}
	sh.ScopeCall(name, r.Header)
	r.RemoteAddr = strings.Clone(req.RemoteAddr())
	answer, err := inv.RoundTrip(r)
	if obs := sh.opts.Canary; obs != nil {
		snap := sh.Registry().Current()
		if _, ok := snap.Canaries[name]; ok {
			if snap.Release(name, label) == nil {
				label = snap.Versions[name] // the version that answered
			}
			obs.ObserveVersion(name, label, err != nil || answer.StatusCode >= 500)
		}
	}
	// The BFF may stop reading before the end: nothing reads the
	// connection once the handler has returned.
	body.finish()
	if body.over() {
		if err == nil {
			answer.Body.Close()
		}
		// The rest of the body is still on its way: the connection
		// cannot carry another request.
		resp.CloseConnection()
		return &bff.Error{Code: bff.CodePayloadTooLarge,
			Message: fmt.Sprintf("the body is larger than %d bytes (counted decoded)", h.cfg.MaxBody)}
	}
	if err != nil {
		// WriteError logs the cause once; the browser sees the message.
		return fmt.Errorf("bff %s %s: %v: %w", name, p, err,
			&bff.Error{Code: bff.CodeBadGateway, Message: "the " + name + " BFF did not answer"})
	}
	if answer.ContentLength > h.cfg.MaxBFFResponse {
		answer.Body.Close()
		return fmt.Errorf("bff %s %s: an answer of %d bytes is over --max-bff-response %d: %w", name, p,
			answer.ContentLength, h.cfg.MaxBFFResponse,
			&bff.Error{Code: bff.CodeBadGateway, Message: "the " + name + " BFF's answer is too large"})
	}
	for k, vs := range answer.Header {
		switch {
		case hopByHopAnswer[k], k == "X-Content-Type-Options":
			continue
		case k == "Content-Security-Policy":
			resp.DelHeader(k)
		}
		if k == "Set-Cookie" {
			vs = sh.SetCookies(name, id, vs)
		}
		for _, v := range vs {
			resp.AddHeader(k, v)
		}
	}
	streaming = true
	resp.Stream(answer.StatusCode, &bffAnswer{capped: capped{r: answer.Body, left: h.cfg.MaxBFFResponse},
		max: h.cfg.MaxBFFResponse, body: answer.Body, cancel: cancel, log: sh.Log(), id: id, bff: name},
		answer.ContentLength)
	return nil
}

// hopByHopAnswer are the headers of a BFF's answer that the shell does not
// pass on: those of one connection, and the length, which the binding sets.
var hopByHopAnswer = map[string]bool{
	"Connection": true, "Keep-Alive": true, "Proxy-Authenticate": true, "Proxy-Authorization": true,
	"Te": true, "Trailer": true, "Transfer-Encoding": true, "Upgrade": true, "Content-Length": true,
}

// originOf is what CrossOriginProtection reads of the request.
func originOf(req Request, method string) *http.Request {
	r := &http.Request{Method: method, Host: strings.Clone(req.Host()), Header: http.Header{}}
	for _, k := range []string{"Sec-Fetch-Site", "Origin"} {
		if v := req.Header(k); v != "" {
			r.Header.Set(k, strings.Clone(v))
		}
	}
	return r
}

// errTooLarge ends the read of a body over its bound.
var errTooLarge = errors.New("body over its bound")

// errBodyGone is what a read of the body gets once the handler is done.
var errBodyGone = errors.New("the request is over: its body can no longer be read")

// body is a /bff request's body as the BFF reads it: straight from the
// connection, decoded, bounded by EdgeConfig.MaxBody as sent and as
// decoded, and closed to readers once the handler returns.
type body struct {
	req    Request
	resp   Response
	mu     sync.Mutex
	r      io.Reader // nil when there is none
	sent   *capped
	length int64 // as the BFF sees it: -1 when unknown
	done   bool
	big    bool
}

// requestBody opens req's body, or answers 413 (declared too long), 415
// (an encoding other than gzip or deflate) or 400 (a malformed gzip or
// deflate header).
func requestBody(req Request, resp Response, cfg EdgeConfig) (*body, error) {
	b := &body{req: req, resp: resp, length: 0}
	stream, n := req.Body()
	if stream == nil || n == 0 {
		return b, nil
	}
	if n > cfg.MaxBody {
		resp.CloseConnection()
		return nil, &bff.Error{Code: bff.CodePayloadTooLarge,
			Message: fmt.Sprintf("the body is %d bytes, over the %d this server takes", n, cfg.MaxBody)}
	}
	// The body may take its own time once the headers are in.
	req.SetBodyDeadline(time.Now().Add(cfg.BodyTimeout))
	b.sent = &capped{r: stream, left: cfg.MaxBody}
	b.length = n
	var dec io.Reader
	var err error
	switch enc := strings.ToLower(strings.TrimSpace(req.Header("Content-Encoding"))); enc {
	case "", "identity":
		b.r = b.sent
		return b, nil
	case "gzip", "x-gzip":
		dec, err = gzip.NewReader(b.sent)
	case "deflate":
		dec, err = zlib.NewReader(b.sent)
	default:
		return nil, &bff.Error{Code: bff.CodeUnsupportedMediaType,
			Message: fmt.Sprintf("Content-Encoding %q is not supported: send gzip, deflate or none", enc)}
	}
	if b.sent.over {
		resp.CloseConnection()
		return nil, &bff.Error{Code: bff.CodePayloadTooLarge,
			Message: fmt.Sprintf("the body is larger than %d bytes", cfg.MaxBody)}
	}
	if err != nil {
		return nil, &bff.Error{Code: bff.CodeBadRequest, Message: "the body is not valid " + req.Header("Content-Encoding")}
	}
	b.r = &capped{r: dec, left: cfg.MaxBody}
	b.length = -1
	return b, nil
}

// reader is the body for an http.Request.
func (b *body) reader() io.Reader {
	if b.r == nil {
		return http.NoBody
	}
	return b
}

func (b *body) Read(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.done {
		return 0, errBodyGone
	}
	n, err := b.r.Read(p)
	if errors.Is(err, errTooLarge) {
		b.big = true
	}
	return n, err
}

// finish ends the reads of the body: a read still waiting on the client
// (a BFF that answered before the end) is woken by a past deadline, and
// the connection closes after the answer.
func (b *body) finish() {
	if !b.mu.TryLock() {
		b.req.SetBodyDeadline(time.Now())
		b.resp.CloseConnection()
		b.mu.Lock()
	}
	b.done = true
	b.mu.Unlock()
}

// over reports whether the body went over its bound.
func (b *body) over() bool {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.big || (b.sent != nil && b.sent.over)
}

// capped reads r up to left bytes; one byte more is errTooLarge.
type capped struct {
	r    io.Reader
	left int64
	over bool
}

func (c *capped) Read(p []byte) (int, error) {
	if c.over {
		return 0, errTooLarge
	}
	if int64(len(p)) > c.left+1 {
		p = p[:c.left+1]
	}
	n, err := c.r.Read(p)
	if int64(n) <= c.left {
		c.left -= int64(n)
		return n, err
	}
	c.over = true
	n, c.left = int(c.left), 0
	return n, errTooLarge
}

// bffAnswer is the body of a BFF's answer, streamed to the client and cut
// at EdgeConfig.MaxBFFResponse bytes. The binding closes it once written
// or dropped.
type bffAnswer struct {
	capped
	max    int64
	body   io.Closer
	cancel context.CancelFunc
	log    *slog.Logger
	id     string
	bff    string
}

func (a *bffAnswer) Read(p []byte) (int, error) {
	was := a.over
	n, err := a.capped.Read(p)
	if a.over && !was {
		// The client sees the body end early, without its last chunk.
		a.log.Warn("bff answer cut at its bound", "request_id", a.id, "bff", a.bff, "max", a.max)
	}
	return n, err
}

func (a *bffAnswer) Close() error {
	a.cancel()
	return a.body.Close()
}
