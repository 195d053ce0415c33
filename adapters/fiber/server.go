package fiber

import (
	"bytes"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"sync"
	"time"

	"github.com/collage-dev/collage/bff"
	"github.com/collage-dev/collage/shell"
	"github.com/collage-dev/collage/shell/compose"
	"github.com/collage-dev/collage/shell/runtime"
	"github.com/gofiber/fiber/v2"
	"github.com/gofiber/fiber/v2/middleware/adaptor"
	"github.com/gofiber/fiber/v2/middleware/recover"
)

// Config is the HTTP edge's options. Every limit has a default that is safe
// on the public internet; a zero value means that default.
type Config struct {
	// Assets is the folder of built bundles (dist/assets). Optional.
	// Default: none; only the client runtime is served under /assets.
	Assets string
	// Metrics is served at /_collage/metrics. Optional. Default: none.
	Metrics http.Handler
	// CSP is the Content-Security-Policy of pages; "{nonce}" is replaced by
	// the response's nonce. Optional. Default: DefaultCSP.
	CSP string
	// SourceMaps serves the .map files of Assets, and points browsers at
	// them with a SourceMap header. Optional. Default: false, a .map is a
	// 404: maps show a team's source to anyone.
	SourceMaps bool

	// HeaderTimeout bounds the arrival of a request's headers, counted
	// from the connection's first byte or a keep-alive request's first
	// byte. Optional. Default: DefaultHeaderTimeout.
	HeaderTimeout time.Duration
	// BodyTimeout bounds the arrival of a /bff request's body once its
	// headers are in. Optional. Default: DefaultBodyTimeout.
	BodyTimeout time.Duration
	// IdleTimeout is how long a keep-alive connection may wait for its
	// next request. Optional. Default: DefaultIdleTimeout.
	IdleTimeout time.Duration
	// WriteTimeout bounds the writing of a response, from the end of its
	// handler (a page's status is known) to its last byte: a streamed page
	// must fit in it. Optional. Default: DefaultWriteTimeout.
	WriteTimeout time.Duration
	// MaxConns caps the connections served at once; one more is answered
	// 503 and closed. Optional. Default: DefaultMaxConns.
	MaxConns int
	// MaxBody bounds a /bff request's body in bytes, counted both as sent
	// and decoded (gzip, deflate). Optional. Default: DefaultMaxBody.
	MaxBody int64
	// MaxBFFResponse bounds the body of a BFF's answer to a /bff call, in
	// bytes. Optional. Default: DefaultMaxBFFResponse.
	MaxBFFResponse int64
	// ShutdownTimeout is how long Serve lets requests in flight finish once
	// its context is done. Optional. Default: DefaultShutdownTimeout.
	ShutdownTimeout time.Duration
	// ExposeFragments lets /bff/NAME/_fragment through to the BFF. Optional.
	// Default: false, a 404: fragments are the shell's to fetch.
	ExposeFragments bool
}

// The defaults of Config's limits.
const (
	DefaultHeaderTimeout   = 10 * time.Second
	DefaultBodyTimeout     = 30 * time.Second
	DefaultIdleTimeout     = 60 * time.Second
	DefaultWriteTimeout    = 30 * time.Second
	DefaultMaxConns        = 10_000
	DefaultMaxBody         = 1 << 20
	DefaultMaxBFFResponse  = 8 << 20
	DefaultShutdownTimeout = 15 * time.Second
)

// withDefaults is cfg with every zero field set to its default.
func (cfg Config) withDefaults() Config {
	if cfg.CSP == "" {
		cfg.CSP = DefaultCSP
	}
	def := func(d *time.Duration, v time.Duration) {
		if *d == 0 {
			*d = v
		}
	}
	def(&cfg.HeaderTimeout, DefaultHeaderTimeout)
	def(&cfg.BodyTimeout, DefaultBodyTimeout)
	def(&cfg.IdleTimeout, DefaultIdleTimeout)
	def(&cfg.WriteTimeout, DefaultWriteTimeout)
	def(&cfg.ShutdownTimeout, DefaultShutdownTimeout)
	if cfg.MaxConns == 0 {
		cfg.MaxConns = DefaultMaxConns
	}
	if cfg.MaxBody == 0 {
		cfg.MaxBody = DefaultMaxBody
	}
	if cfg.MaxBFFResponse == 0 {
		cfg.MaxBFFResponse = DefaultMaxBFFResponse
	}
	return cfg
}

// DefaultCSP allows only the shell's own origin and its nonced inline scripts.
const DefaultCSP = "default-src 'self'; script-src 'self' 'nonce-{nonce}'; style-src 'self'; " +
	"img-src 'self' data:; connect-src 'self'; base-uri 'none'; object-src 'none'; " +
	"frame-ancestors 'self'; form-action 'self'"

// immutable is the caching of content-hashed assets.
const immutable = "public, max-age=31536000, immutable"

// New returns a fiber app serving sh. Serve runs it on a listener; tests
// call its Test method.
func New(sh *shell.Shell, cfg Config) *fiber.App {
	cfg = cfg.withDefaults()
	app := fiber.New(fiber.Config{
		DisableStartupMessage: true,
		ErrorHandler:          errorHandler(sh.Log()),
		ReadBufferSize:        16 << 10,
		// A page chunk, its size line and CRLF then leave in one write: with
		// the default 4 KiB, a larger chunk took three.
		WriteBufferSize: 16 << 10,
		// fasthttp's ReadTimeout runs from a request's first byte to the end
		// of its body; the /bff handler gives a body its own deadline.
		ReadTimeout:  cfg.HeaderTimeout,
		IdleTimeout:  cfg.IdleTimeout,
		WriteTimeout: cfg.WriteTimeout,
		Concurrency:  cfg.MaxConns,
		// Bodies reach a handler as a stream (fasthttp reads at most 8 KiB
		// ahead): only /bff reads them, bounded as it decodes. Other routes
		// leave them unread, and fasthttp closes a connection that has too
		// much left.
		StreamRequestBody: true,
		BodyLimit:         int(cfg.MaxBody),
		// fasthttp would otherwise read a multipart body of any declared
		// length before the handler, spilling files to disk: it streams
		// like any other body instead.
		DisablePreParseMultipartForm: true,
	})
	// Once shutting down, a response ends its connection.
	app.Server().CloseOnShutdown = true
	app.Use(recover.New())
	app.Use(edge)

	app.Get("/_collage/health", health(sh))
	if cfg.Metrics != nil {
		app.Get("/_collage/metrics", adaptor.HTTPHandler(cfg.Metrics))
	}
	rt := newAsset(runtime.File, runtime.Source())
	app.Get("/assets/_collage/"+runtime.File, func(c *fiber.Ctx) error { return send(c, rt) })
	if cfg.Assets != "" {
		store := newAssets(cfg.Assets, cfg.SourceMaps)
		app.Get("/assets/:name/:version/*", store.handler)
	}
	bffs := bffHandler(sh, cfg)
	app.All("/bff/:name/*", bffs)
	app.All("/bff/:name", bffs)
	for _, p := range sh.Pages() {
		app.Get(fiberPattern(p.Pattern), pageHandler(sh, p, cfg.CSP))
	}
	return app
}

var braceRE = regexp.MustCompile(`\{([A-Za-z_][A-Za-z0-9_]*)\}`)

// fiberPattern turns /products/{id} into fiber's /products/:id.
func fiberPattern(p string) string { return braceRE.ReplaceAllString(p, ":$1") }

func pageHandler(sh *shell.Shell, p *shell.Page, csp string) fiber.Handler {
	cspParts := strings.Split(csp, "{nonce}")
	return func(c *fiber.Ctx) error {
		nonce, id := newNonce(), requestID(c)
		req := &compose.Request{
			Path:   string(c.Request().URI().RequestURI()),
			Params: params(c, p.Params),
			Header: copyCredentials(c, sh, forwarded(c, id)),
			Nonce:  nonce,
			ID:     id,
			Origin: c.Protocol() + "://" + c.Hostname(),
		}
		render, done := sh.Compose(p, req)
		status, header := render.Status()
		c.Status(status)
		for k, vs := range header {
			for _, v := range vs {
				c.Response().Header.Add(k, v)
			}
		}
		c.Set(fiber.HeaderContentSecurityPolicy, strings.Join(cspParts, nonce))
		c.Set(fiber.HeaderXContentTypeOptions, "nosniff")
		c.Set(fiber.HeaderCacheControl, "no-store")
		c.Type("html", "utf-8") // a HEAD answer has the headers of the GET
		if compose.Redirect(status) || c.Method() == fiber.MethodHead {
			c.Set(fiber.HeaderServerTiming, render.ServerTiming())
			done()
			return nil
		}
		// A page whose fragments all come within the composer's coalescing
		// window leaves whole, with a length, in one write; a slower one
		// streams from where the prefix stopped.
		complete, err := render.WritePrefix(c.Response().BodyWriter())
		c.Set(fiber.HeaderServerTiming, render.ServerTiming())
		if complete || err != nil {
			done()
			return err
		}
		stream := &pageStream{render: render, prefix: bytes.Clone(c.Response().Body()), done: done, log: sh.Log(), id: req.ID}
		c.Context().SetBodyStream(stream, -1)
		return nil
	}
}

// pageStream is the body of a page that streams. fasthttp calls its WriteTo
// on the connection's own goroutine once the headers are written, and each
// Write to the writer it gives is one chunk, sent at once: the composer's
// writes gather in a buffer that goes out as one chunk per flush.
type pageStream struct {
	render *compose.Render
	prefix []byte // what WritePrefix wrote
	done   func()
	log    *slog.Logger
	id     string

	closed bool
	rest   *bytes.Reader // the whole page, if something reads instead
}

// SupportsBodyWriteTo tells fasthttp that WriteTo can stand for Read.
func (s *pageStream) SupportsBodyWriteTo() bool { return true }

// WriteTo streams the page to w, one Write per flush.
func (s *pageStream) WriteTo(w io.Writer) (int64, error) {
	pw := pagePool.Get().(*pageWriter)
	defer pagePool.Put(pw)
	pw.reset(w)
	pw.Write(s.prefix)
	err := s.render.WriteTo(pw)
	if err != nil {
		s.log.Info("page stream ended early", "request_id", s.id, "err", err)
	}
	return pw.n, err
}

// Read serves a reader other than fasthttp's response writer: it composes
// the whole page, then reads it.
func (s *pageStream) Read(p []byte) (int, error) {
	if s.rest == nil {
		var b bytes.Buffer
		if _, err := s.WriteTo(&b); err != nil {
			return 0, err
		}
		s.rest = bytes.NewReader(b.Bytes())
	}
	return s.rest.Read(p)
}

// Close ends the page: fasthttp calls it once the body is written, or
// dropped, in which case the slots still running are canceled.
func (s *pageStream) Close() error {
	if !s.closed {
		s.closed = true
		s.done()
	}
	return nil
}

// pageWriter is a compose.Writer that gathers a page's writes and hands
// them on in one Write per Flush.
type pageWriter struct {
	buf bytes.Buffer
	out io.Writer
	n   int64 // bytes handed on
}

var pagePool = sync.Pool{New: func() any { return new(pageWriter) }}

func (pw *pageWriter) reset(out io.Writer) {
	pw.out, pw.n = out, 0
	pw.buf.Reset()
}

func (pw *pageWriter) Write(p []byte) (int, error) { return pw.buf.Write(p) }

func (pw *pageWriter) Flush() error {
	if pw.buf.Len() == 0 {
		return nil
	}
	n, err := pw.out.Write(pw.buf.Bytes())
	pw.n += int64(n)
	pw.buf.Reset()
	return err
}

// params encodes the route parameters of the request.
func params(c *fiber.Ctx, names []string) string {
	if len(names) == 0 {
		return ""
	}
	var b strings.Builder
	for i, n := range names {
		if i > 0 {
			b.WriteByte('&')
		}
		b.WriteString(url.QueryEscape(n))
		b.WriteByte('=')
		// Fiber's params are still percent-encoded: decode before encoding.
		v, err := url.PathUnescape(c.Params(n))
		if err != nil {
			v = c.Params(n)
		}
		b.WriteString(url.QueryEscape(v))
	}
	return b.String()
}

// forwarded copies the headers the BFFs receive out of the fiber request,
// with the request id the shell gave it if it came with none.
func forwarded(c *fiber.Ctx, id string) http.Header {
	h := make(http.Header, len(shell.Forwarded))
	for _, k := range shell.Forwarded {
		if v := c.Request().Header.Peek(k); len(v) > 0 {
			h[http.CanonicalHeaderKey(k)] = []string{string(v)}
		}
	}
	if _, ok := h["X-Request-Id"]; !ok {
		h["X-Request-Id"] = []string{id}
	}
	return h
}

func requestID(c *fiber.Ctx) string {
	return string(c.Response().Header.Peek(fiber.HeaderXRequestID))
}

func newNonce() string {
	var b [16]byte
	rand.Read(b[:])
	return base64.RawStdEncoding.EncodeToString(b[:])
}

func health(sh *shell.Shell) fiber.Handler {
	return func(c *fiber.Ctx) error {
		snap := sh.Registry().Current()
		versions := map[string]string{}
		for name, m := range snap.Frontends {
			versions[name] = m.Version
		}
		return c.JSON(fiber.Map{"status": "ok", "frontends": versions, "routes": len(sh.Pages())})
	}
}

// errorHandler answers an error in the JSON error shape: a *bff.Error is
// the shell's own refusal, a *fiber.Error fiber's or fasthttp's (no route, a
// header over its limit), anything else a failure. A 5xx's detail goes to
// the log, never to the browser.
func errorHandler(log *slog.Logger) fiber.ErrorHandler {
	return func(c *fiber.Ctx, err error) error {
		var e *bff.Error
		var fe *fiber.Error
		switch {
		case errors.As(err, &e):
		case errors.As(err, &fe):
			e = &bff.Error{Status: fe.Code, Message: fe.Message}
		default:
			e = &bff.Error{Code: bff.CodeInternal}
		}
		status := e.StatusCode()
		if status < 400 || status > 599 {
			// Not an error's status (a code bff does not know): fasthttp
			// would send it as 200.
			status, e = http.StatusInternalServerError, &bff.Error{Code: bff.CodeInternal}
		}
		if status >= 500 {
			log.Error("request failed", "request_id", requestID(c), "path", c.Path(), "err", err)
			e = &bff.Error{Status: status, Code: e.Code, Message: http.StatusText(status)}
		}
		c.Set(fiber.HeaderContentType, fiber.MIMEApplicationJSON)
		return c.Status(status).Send(e.JSON())
	}
}
