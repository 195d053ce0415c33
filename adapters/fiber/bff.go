package fiber

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
	"github.com/collage-dev/collage/shell"
	"github.com/gofiber/fiber/v2"
)

// bffTimeout bounds one /bff call.
const bffTimeout = 30 * time.Second

// bffCSP is the Content-Security-Policy of a /bff answer that sets none: it
// is data, never a document to run.
const bffCSP = "default-src 'none'; frame-ancestors 'none'"

// passed are the request headers a /bff call carries besides shell.Forwarded.
var passed = shell.BFFForwarded

// bffHandler sends /bff/NAME/REST to NAME's BFF as REST, with NAME's
// credentials alone and the body as a stream, and streams its answer back,
// unchanged but for the cookies NAME may not set.
func bffHandler(sh *shell.Shell, cfg Config) fiber.Handler {
	// Sec-Fetch-Site, then Origin against Host; a request with neither (a
	// script, a server) is not a browser's and passes.
	csrf := http.NewCrossOriginProtection()
	return func(c *fiber.Ctx) error {
		c.Set(fiber.HeaderXContentTypeOptions, "nosniff")
		c.Set(fiber.HeaderContentSecurityPolicy, bffCSP)
		name := c.Params("name")
		inv, ok := sh.Invoker(name)
		if !ok {
			return &bff.Error{Code: bff.CodeNotFound, Message: "no frontend called " + name}
		}
		// Fiber's params are the path as sent, still percent-encoded; the
		// BFF gets it decoded, with the encoded form kept (a%2Fb is one
		// segment).
		raw := "/" + c.Params("*")
		rest, err := url.PathUnescape(raw)
		if err != nil {
			return &bff.Error{Code: bff.CodeBadRequest, Message: "malformed path"}
		}
		if path.Clean(rest) != rest && path.Clean(rest)+"/" != rest {
			// No dot segments: a call stays inside its BFF's namespace.
			return &bff.Error{Code: bff.CodeBadRequest, Message: "the path may not hold . or .. segments"}
		}
		if !cfg.ExposeFragments && (rest == bff.FragmentPath || strings.HasPrefix(rest, bff.FragmentPath+"/")) {
			return &bff.Error{Code: bff.CodeNotFound, Message: "no such path: fragments are fetched by the shell"}
		}
		if err := csrf.Check(originOf(c)); err != nil {
			return &bff.Error{Code: bff.CodeForbidden,
				Message: "cross-origin " + c.Method() + " refused: a /bff call that changes state must come from this site's pages"}
		}
		body, err := requestBody(c, cfg)
		if err != nil {
			return err
		}
		defer body.finish()
		u := &url.URL{Path: rest, RawQuery: string(c.Request().URI().QueryString())}
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
		req, err := http.NewRequestWithContext(ctx, c.Method(), u.String(), body.reader())
		if err != nil {
			return &bff.Error{Code: bff.CodeBadRequest, Message: "malformed path"}
		}
		req.URL = u
		req.ContentLength = body.length
		req.Header = copyCredentials(c, sh, forwarded(c, requestID(c)))
		for _, k := range passed {
			if v := c.Request().Header.Peek(k); len(v) > 0 {
				req.Header.Set(k, string(v))
			}
		}
		sh.ScopeCall(name, req.Header)
		req.RemoteAddr = c.Context().RemoteAddr().String()
		resp, err := inv.RoundTrip(req)
		// The BFF may stop reading before the end: nothing reads the
		// connection once the handler has returned.
		body.finish()
		if body.over() {
			if err == nil {
				resp.Body.Close()
			}
			// The rest of the body is still on its way: the connection
			// cannot carry another request.
			c.Response().Header.SetConnectionClose()
			return &bff.Error{Code: bff.CodePayloadTooLarge,
				Message: fmt.Sprintf("the body is larger than %d bytes (counted decoded)", cfg.MaxBody)}
		}
		if err != nil {
			// errorHandler logs the cause once; the browser sees the message.
			return fmt.Errorf("bff %s %s: %v: %w", name, rest, err,
				&bff.Error{Code: bff.CodeBadGateway, Message: "the " + name + " BFF did not answer"})
		}
		if resp.ContentLength > cfg.MaxBFFResponse {
			resp.Body.Close()
			return fmt.Errorf("bff %s %s: an answer of %d bytes is over --max-bff-response %d: %w", name, rest,
				resp.ContentLength, cfg.MaxBFFResponse,
				&bff.Error{Code: bff.CodeBadGateway, Message: "the " + name + " BFF's answer is too large"})
		}
		c.Status(resp.StatusCode)
		for k, vs := range resp.Header {
			switch {
			case hopByHop[k], k == fiber.HeaderXContentTypeOptions:
				continue
			case k == fiber.HeaderContentSecurityPolicy:
				c.Response().Header.Del(k)
			}
			if k == "Set-Cookie" {
				vs = sh.SetCookies(name, requestID(c), vs)
			}
			for _, v := range vs {
				c.Response().Header.Add(k, v)
			}
		}
		streaming = true
		c.Context().SetBodyStream(&answer{capped: capped{r: resp.Body, left: cfg.MaxBFFResponse}, max: cfg.MaxBFFResponse, body: resp.Body, cancel: cancel,
			log: sh.Log(), id: requestID(c), bff: strings.Clone(name)}, int(resp.ContentLength))
		return nil
	}
}

// copyCredentials adds to h the request's headers that carry a credential
// some frontend declares; the shell leaves each BFF only its own.
func copyCredentials(c *fiber.Ctx, sh *shell.Shell, h http.Header) http.Header {
	for _, k := range sh.Credentials() {
		if v := c.Request().Header.Peek(k); len(v) > 0 {
			h[k] = []string{string(v)}
		}
	}
	return h
}

var hopByHop = map[string]bool{
	"Connection": true, "Keep-Alive": true, "Proxy-Authenticate": true, "Proxy-Authorization": true,
	"Te": true, "Trailer": true, "Transfer-Encoding": true, "Upgrade": true, "Content-Length": true,
}

// originOf is what CrossOriginProtection reads of the request.
func originOf(c *fiber.Ctx) *http.Request {
	r := &http.Request{Method: c.Method(), Host: string(c.Request().Host()), Header: http.Header{}}
	for _, k := range []string{"Sec-Fetch-Site", "Origin"} {
		if v := c.Get(k); v != "" {
			r.Header.Set(k, v)
		}
	}
	return r
}

// errTooLarge ends the read of a body over its bound.
var errTooLarge = errors.New("body over its bound")

// errBodyGone is what a read of the body gets once the handler is done.
var errBodyGone = errors.New("the request is over: its body can no longer be read")

// body is a /bff request's body as the BFF reads it: straight from the
// connection, decoded, bounded by Config.MaxBody as sent and as decoded, and
// closed to readers once the handler returns.
type body struct {
	c      *fiber.Ctx
	mu     sync.Mutex
	r      io.Reader // nil when there is none
	sent   *capped
	length int64 // as the BFF sees it: -1 when unknown
	done   bool
	big    bool
}

// requestBody opens c's body, or answers 413 (declared too long), 415 (an
// encoding other than gzip or deflate) or 400 (a malformed gzip or deflate
// header).
func requestBody(c *fiber.Ctx, cfg Config) (*body, error) {
	b := &body{c: c, length: 0}
	n := c.Request().Header.ContentLength() // -1 chunked, -2 none
	stream := c.Context().RequestBodyStream()
	if n == 0 || n == -2 || stream == nil {
		return b, nil
	}
	if int64(n) > cfg.MaxBody {
		c.Response().Header.SetConnectionClose()
		return nil, &bff.Error{Code: bff.CodePayloadTooLarge,
			Message: fmt.Sprintf("the body is %d bytes, over the %d this server takes", n, cfg.MaxBody)}
	}
	// The body may take its own time once the headers are in.
	c.Context().SetReadDeadline(time.Now().Add(cfg.BodyTimeout))
	b.sent = &capped{r: stream, left: cfg.MaxBody}
	b.length = int64(n)
	var dec io.Reader
	var err error
	switch enc := strings.ToLower(strings.TrimSpace(c.Get(fiber.HeaderContentEncoding))); enc {
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
		c.Response().Header.SetConnectionClose()
		return nil, &bff.Error{Code: bff.CodePayloadTooLarge,
			Message: fmt.Sprintf("the body is larger than %d bytes", cfg.MaxBody)}
	}
	if err != nil {
		return nil, &bff.Error{Code: bff.CodeBadRequest, Message: "the body is not valid " + c.Get(fiber.HeaderContentEncoding)}
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
		b.c.Context().SetReadDeadline(time.Now())
		b.c.Response().Header.SetConnectionClose()
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

// answer is the body of a BFF's answer, streamed to the client and cut at
// Config.MaxBFFResponse bytes. fasthttp closes it once written or dropped.
type answer struct {
	capped
	max    int64
	body   io.Closer
	cancel context.CancelFunc
	log    *slog.Logger
	id     string
	bff    string
}

func (a *answer) Read(p []byte) (int, error) {
	was := a.over
	n, err := a.capped.Read(p)
	if a.over && !was {
		// The client sees the body end early, without its last chunk.
		a.log.Warn("bff answer cut at its bound", "request_id", a.id, "bff", a.bff, "max", a.max)
	}
	return n, err
}

func (a *answer) Close() error {
	a.cancel()
	return a.body.Close()
}
