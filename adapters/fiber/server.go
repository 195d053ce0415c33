package fiber

import (
	"errors"
	"io"
	"time"

	"github.com/collage-dev/collage/bff"
	"github.com/collage-dev/collage/shell"
	"github.com/gofiber/fiber/v2"
	"github.com/gofiber/fiber/v2/middleware/adaptor"
	"github.com/gofiber/fiber/v2/middleware/recover"
	"github.com/gofiber/fiber/v2/utils"
)

// Config is the HTTP edge's options: the shell handler's, and the limits
// this server applies.
type Config = shell.EdgeConfig

// The defaults of Config's limits.
const (
	DefaultHeaderTimeout   = shell.DefaultHeaderTimeout
	DefaultBodyTimeout     = shell.DefaultBodyTimeout
	DefaultIdleTimeout     = shell.DefaultIdleTimeout
	DefaultWriteTimeout    = shell.DefaultWriteTimeout
	DefaultMaxConns        = shell.DefaultMaxConns
	DefaultMaxBody         = shell.DefaultMaxBody
	DefaultMaxBFFResponse  = shell.DefaultMaxBFFResponse
	DefaultShutdownTimeout = shell.DefaultShutdownTimeout
)

// New returns a fiber app serving sh. Serve runs it on a listener; tests
// call its Test method.
func New(sh *shell.Shell, cfg Config) *fiber.App {
	return NewHandler(shell.NewHandler(sh, cfg))
}

// NewHandler returns a fiber app serving h, whose shell may be swapped
// while it serves.
func NewHandler(h *shell.Handler) *fiber.App {
	cfg := h.Config()
	app := fiber.New(fiber.Config{
		DisableStartupMessage: true,
		ErrorHandler:          errorHandler(h),
		ReadBufferSize:        16 << 10,
		// A streamed page holds its write buffer while it waits for its
		// fragments, so it stays at fasthttp's 4 KiB; the connection gathers
		// what it flushes of a larger page into one write (writerTo).
		WriteBufferSize: 4 << 10,
		// A connection gives its write buffer back once a response is out,
		// rather than keeping it while idle: an idle keep-alive connection
		// then holds its read buffer and goroutine only. The read buffer
		// stays, as fasthttp keeps it for a streamed body (below).
		ReduceMemoryUsage: true,
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
	app.Use(markConn)
	if cfg.Metrics != nil {
		app.Get(shell.MetricsPath, adaptor.HTTPHandler(cfg.Metrics))
	}
	app.Use(func(c *fiber.Ctx) error {
		h.Serve((*ctx)(c), (*ctx)(c))
		return nil
	})
	return app
}

// ctx is a *fiber.Ctx as the shell's Request and Response. The conversion
// costs nothing: no allocation per request.
type ctx fiber.Ctx

func (c *ctx) fiber() *fiber.Ctx { return (*fiber.Ctx)(c) }

// The strings below are views of fasthttp's buffers, valid until the
// request ends, as shell.Request allows: the shell copies what it keeps,
// so that no value is copied twice.

func (c *ctx) Method() string   { return c.fiber().Method() }
func (c *ctx) Path() string     { return utils.UnsafeString(c.fiber().Request().URI().PathOriginal()) }
func (c *ctx) RawQuery() string { return utils.UnsafeString(c.fiber().Request().URI().QueryString()) }
func (c *ctx) Host() string     { return utils.UnsafeString(c.fiber().Request().Host()) }

func (c *ctx) Scheme() string {
	if c.fiber().Context().IsTLS() {
		return "https"
	}
	return "http"
}

func (c *ctx) Header(name string) string {
	return utils.UnsafeString(c.fiber().Request().Header.Peek(name))
}

func (c *ctx) RemoteAddr() string { return c.fiber().Context().RemoteAddr().String() }

func (c *ctx) Body() (io.Reader, int64) {
	n := c.fiber().Request().Header.ContentLength() // -1 chunked, -2 none
	stream := c.fiber().Context().RequestBodyStream()
	if n == 0 || n == -2 || stream == nil {
		return nil, 0
	}
	return stream, int64(n)
}

func (c *ctx) SetBodyDeadline(t time.Time) { c.fiber().Context().SetReadDeadline(t) }

func (c *ctx) SetHeader(name, value string) { c.fiber().Response().Header.Set(name, value) }
func (c *ctx) AddHeader(name, value string) { c.fiber().Response().Header.Add(name, value) }
func (c *ctx) DelHeader(name string)        { c.fiber().Response().Header.Del(name) }
func (c *ctx) CloseConnection()             { c.fiber().Response().Header.SetConnectionClose() }

// Send copies body into fasthttp's response buffer.
func (c *ctx) Send(status int, body []byte) {
	c.fiber().Status(status)
	c.fiber().Response().SetBody(body)
}

// Stream hands body to fasthttp, which writes it once the handler returns,
// on the connection's goroutine, and closes it.
func (c *ctx) Stream(status int, body io.ReadCloser, length int64) {
	c.fiber().Status(status)
	if wt, ok := body.(io.WriterTo); ok {
		tc, _ := c.fiber().Context().Conn().(*conn)
		body = writerTo{ReadCloser: body, body: wt, conn: tc}
	}
	c.fiber().Context().SetBodyStream(body, int(length))
}

// writerTo tells fasthttp that a body's WriteTo stands for Read: each of
// its Writes to fasthttp's writer is a chunk, sent at once. On a
// connection of the listener's, the writer it gives the body is a
// shell.LastWriter, and the connection gathers what fasthttp's buffer
// flushes of the body: each chunk, and the end of the response with the
// last, leaves in one write.
type writerTo struct {
	io.ReadCloser
	body io.WriterTo
	conn *conn // nil on a connection of another listener's (app.Test)
}

// SupportsBodyWriteTo is how fasthttp asks.
func (writerTo) SupportsBodyWriteTo() bool { return true }

func (b writerTo) WriteTo(w io.Writer) (int64, error) {
	if b.conn == nil {
		return b.body.WriteTo(w)
	}
	b.conn.cork()
	return b.body.WriteTo(lastWriter{w, b.conn})
}

// lastWriter is fasthttp's chunk writer on a corked connection. A Write is
// a chunk that leaves at once; WriteLast's chunk stays gathered with the
// end of the body, which fasthttp writes on its own, and leaves when
// fasthttp next reads from or closes the connection.
type lastWriter struct {
	w    io.Writer
	conn *conn
}

func (w lastWriter) Write(p []byte) (int, error) {
	n, err := w.w.Write(p)
	if err == nil {
		err = w.conn.send()
	}
	return n, err
}

func (w lastWriter) WriteLast(p []byte) (int, error) { return w.w.Write(p) }

// errorHandler answers the errors that reach fiber (a *fiber.Error from
// fasthttp, such as a header over its limit, or a recovered panic) in the
// shell's JSON error shape.
func errorHandler(h *shell.Handler) fiber.ErrorHandler {
	return func(c *fiber.Ctx, err error) error {
		var fe *fiber.Error
		if errors.As(err, &fe) {
			err = &bff.Error{Status: fe.Code, Message: fe.Message}
		}
		h.WriteError((*ctx)(c), string(c.Response().Header.Peek(fiber.HeaderXRequestID)), c.Path(), err)
		return nil
	}
}

var _ shell.Request = (*ctx)(nil)
var _ shell.Response = (*ctx)(nil)
var _ shell.LastWriter = lastWriter{}
