package shell

import (
	"bytes"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"errors"
	"html"
	"io"
	"log/slog"
	"maps"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/collage-dev/collage/bff"
	"github.com/collage-dev/collage/build"
	"github.com/collage-dev/collage/shell/compose"
	"github.com/collage-dev/collage/shell/registry"
	"github.com/collage-dev/collage/shell/runtime"
)

// Request is what the Handler reads of an HTTP request. A binding adapts
// its framework's request to it. A string it returns may be valid only
// until Serve returns (a binding may reuse its buffers): the Handler
// copies what it keeps.
type Request interface {
	// Method is the request's method, in upper case.
	Method() string
	// Path is the path as sent, still percent-encoded, without the query.
	Path() string
	// RawQuery is the query as sent, without the "?".
	RawQuery() string
	// Host is the Host header, port included.
	Host() string
	// Scheme is "https" on a TLS connection, "http" otherwise.
	Scheme() string
	// Header is the first value of the header called name, or "".
	Header(name string) string
	// RemoteAddr is the client's address, host:port.
	RemoteAddr() string
	// Body is the body as a stream and its declared length, -1 when
	// unknown (chunked); a nil reader when there is none.
	Body() (io.Reader, int64)
	// SetBodyDeadline bounds the reads of Body from now on.
	SetBodyDeadline(t time.Time)
}

// Response is how the Handler answers. It sets headers, then ends with
// exactly one Send or Stream.
type Response interface {
	SetHeader(name, value string)
	AddHeader(name, value string)
	DelHeader(name string)
	// CloseConnection ends the connection once this response is written.
	CloseConnection()
	// Send writes status, the headers and body whole. body is the
	// caller's again once Send returns.
	Send(status int, body []byte)
	// Stream writes status and the headers, then body, as it comes:
	// length bytes, or until EOF when length is -1. The Response closes
	// body once written or dropped, maybe after Serve has returned. A body
	// that is an io.WriterTo writes itself: each of its Writes is a chunk
	// that must leave at once. If the writer it is given is a LastWriter,
	// the body may hand it its last chunk with WriteLast.
	Stream(status int, body io.ReadCloser, length int64)
}

// A LastWriter is the writer a Response may give a streamed body: its
// WriteLast takes the body's last chunk, which then leaves with the end of
// the response, in one write on the connection, where a Write would leave
// at once and the end in a write of its own.
type LastWriter interface {
	io.Writer
	WriteLast(p []byte) (int, error)
}

// EdgeConfig is the options of the HTTP edge. The Handler uses the first
// group; the bindings apply the second, the server's limits. Every limit
// has a default that is safe on the public internet; a zero value means
// that default.
type EdgeConfig struct {
	// Blobs hold the files of the versions the registry serves, which the
	// Handler serves under /assets/NAME/VERSION/FILE. Optional. Default:
	// none; only the client runtime is served under /assets.
	Blobs registry.Blobs
	// Compressors make the compressed copies of the assets, in the order
	// the Handler prefers them, once per file, in the background. Optional.
	// Default: gzip alone (build.Gzip).
	Compressors []build.Compressor
	// CSP is the Content-Security-Policy of pages; "{nonce}" is replaced by
	// the response's nonce. A policy of its own must allow the origin of
	// the shell's Options.AssetsURL, if any, itself. Optional. Default:
	// DefaultCSP, with the AssetsURL's origin added to script-src,
	// style-src, img-src and font-src (see AssetsCSP).
	CSP string
	// SourceMaps serves the .map files of the bundles, and points browsers at
	// them with a SourceMap header. Optional. Default: false, a .map is a
	// 404: maps show a team's source to anyone.
	SourceMaps bool
	// BodyTimeout bounds the arrival of a /bff request's body once its
	// headers are in. Optional. Default: DefaultBodyTimeout.
	BodyTimeout time.Duration
	// MaxBody bounds a /bff request's body in bytes, counted both as sent
	// and decoded (gzip, deflate). Optional. Default: DefaultMaxBody.
	MaxBody int64
	// MaxBFFResponse bounds the body of a BFF's answer to a /bff call, in
	// bytes. Optional. Default: DefaultMaxBFFResponse.
	MaxBFFResponse int64
	// ExposeFragments lets /bff/NAME/_fragment through to the BFF. Optional.
	// Default: false, a 404: fragments are the shell's to fetch.
	ExposeFragments bool
	// API answers every path under APIPrefix: the registry's publish API.
	// Optional. Default: none, a 404.
	API Service
	// Dev answers every path under DevPrefix: collage dev's events.
	// Optional. Default: none, a 404.
	Dev Service

	// Metrics is served at /_collage/metrics by the server. Optional.
	// Default: none.
	Metrics http.Handler
	// HeaderTimeout bounds the arrival of a request's headers, counted
	// from the connection's first byte or a keep-alive request's first
	// byte. Optional. Default: DefaultHeaderTimeout.
	HeaderTimeout time.Duration
	// IdleTimeout is how long a keep-alive connection may wait for its
	// next request. Optional. Default: DefaultIdleTimeout.
	IdleTimeout time.Duration
	// WriteTimeout bounds the writing of a response, from the end of its
	// handler (a page's status is known) to its last byte: a streamed page
	// must fit in it. Optional. Default: DefaultWriteTimeout.
	WriteTimeout time.Duration
	// MaxConns caps the connections served at once; one more is refused.
	// Optional. Default: DefaultMaxConns.
	MaxConns int
	// ShutdownTimeout is how long a server lets requests in flight finish
	// once told to stop. Optional. Default: DefaultShutdownTimeout.
	ShutdownTimeout time.Duration
}

// The defaults of EdgeConfig's limits.
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

// DefaultCSP allows only the shell's own origin and its nonced inline scripts.
const DefaultCSP = "default-src 'self'; script-src 'self' 'nonce-{nonce}'; style-src 'self'; " +
	"img-src 'self' data:; connect-src 'self'; base-uri 'none'; object-src 'none'; " +
	"frame-ancestors 'self'; form-action 'self'"

// AssetsCSP is DefaultCSP for pages whose assets come from origin
// (scheme://host[:port]) too: their modules, stylesheets, and the images
// and fonts the stylesheets name. An empty origin gives DefaultCSP.
func AssetsCSP(origin string) string {
	if origin == "" {
		return DefaultCSP
	}
	directives := strings.Split(DefaultCSP, "; ")
	for i, d := range directives {
		name, rest, _ := strings.Cut(d, " ")
		switch name {
		case "script-src", "style-src", "img-src":
			directives[i] = name + " " + origin + " " + rest
		}
	}
	// Fonts fall under default-src 'self' in DefaultCSP.
	directives = append(directives, "font-src "+origin+" 'self'")
	return strings.Join(directives, "; ")
}

// WithDefaults is cfg with every zero field set to its default.
func (cfg EdgeConfig) WithDefaults() EdgeConfig {
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
	if len(cfg.Compressors) == 0 {
		cfg.Compressors = []build.Compressor{build.Gzip}
	}
	return cfg
}

// The paths the Handler answers besides the pages.
const (
	HealthPath  = "/_collage/health"
	MetricsPath = "/_collage/metrics"
	// APIPrefix is where the registry's publish API answers.
	APIPrefix = "/_collage/api/"
	// DevPrefix is where collage dev's service answers (EdgeConfig.Dev).
	DevPrefix = "/_collage/dev/"
	bffPrefix = "/bff/"
)

// A Service answers a family of paths for the Handler, such as the publish
// API. It reads req's body itself, bounded as it sees fit.
type Service interface {
	Serve(req Request, resp Response)
}

// immutable is the caching of content-hashed assets.
const immutable = "public, max-age=31536000, immutable"

// Handler answers every request of the shell but the server's own
// (metrics): pages, assets, /bff calls, health and errors, through a
// binding's Request and Response. Its Shell can be swapped while it serves.
// It is safe for concurrent use.
type Handler struct {
	shell    atomic.Pointer[Shell]
	cfg      EdgeConfig
	cspParts []string
	// assetsCSP is the default policy with the origin of the assets of
	// the shell last served, if it has one, split like cspParts.
	assetsCSP atomic.Pointer[originCSP]
	runtime   *asset
	dev       *asset  // the dev client, served to a shell in dev
	assets    *assets // nil without EdgeConfig.Blobs
	csrf      *http.CrossOriginProtection
}

// NewHandler returns a Handler serving sh with cfg.
func NewHandler(sh *Shell, cfg EdgeConfig) *Handler {
	cfg = cfg.WithDefaults()
	h := &Handler{
		cfg:      cfg,
		cspParts: strings.Split(cfg.CSP, "{nonce}"),
		runtime:  newAsset(runtime.File, runtime.Source(), cfg.Compressors),
		dev:      newAsset(runtime.DevFile, runtime.DevSource(), nil),
		// Sec-Fetch-Site, then Origin against Host; a request with neither
		// (a script, a server) is not a browser's and passes.
		csrf: http.NewCrossOriginProtection(),
	}
	// The runtime is small, and on every page: its copies are made now.
	h.runtime.compress(runtime.File, cfg.Compressors, nil, slog.Default())
	if cfg.Blobs != nil {
		h.assets = newAssets(cfg.Blobs, cfg.Compressors, cfg.SourceMaps)
	}
	h.shell.Store(sh)
	return h
}

// Config returns the handler's options, defaults set.
func (h *Handler) Config() EdgeConfig { return h.cfg }

// Shell returns the shell being served.
func (h *Handler) Shell() *Shell { return h.shell.Load() }

// Swap serves sh from now on: its routes, layouts and frontends replace the
// old ones in one atomic store. A request already started finishes with
// the shell it started with.
func (h *Handler) Swap(sh *Shell) { h.shell.Store(sh) }

// Serve answers req on resp.
func (h *Handler) Serve(req Request, resp Response) {
	sh := h.shell.Load()
	id := req.Header("X-Request-Id")
	if !wellFormedID(id) {
		id = newRequestID()
	} else {
		id = strings.Clone(id)
	}
	resp.SetHeader("X-Request-Id", id)
	path, method := req.Path(), req.Method()
	get := method == http.MethodGet || method == http.MethodHead
	var err error
	switch {
	case strings.HasPrefix(path, bffPrefix) && len(path) > len(bffPrefix):
		err = h.callBFF(sh, req, resp, id, path[len(bffPrefix):])
	case strings.HasPrefix(path, assetsPrefix):
		if !get {
			err = errMethod
			break
		}
		err = h.serveAsset(sh, req, resp, path[len(assetsPrefix):])
	case strings.HasPrefix(path, APIPrefix) && h.cfg.API != nil:
		h.cfg.API.Serve(req, resp)
	case strings.HasPrefix(path, DevPrefix) && h.cfg.Dev != nil:
		h.cfg.Dev.Serve(req, resp)
	case trimSlash(path) == HealthPath:
		if !get {
			err = errMethod
			break
		}
		h.health(sh, resp)
	default:
		p, params, ok := sh.match(path)
		switch {
		case !ok:
			err = &bff.Error{Code: bff.CodeNotFound, Message: "Cannot " + method + " " + html.EscapeString(path)}
		case !get:
			err = errMethod
		default:
			err = h.page(sh, p, params, req, resp, id)
		}
	}
	if err != nil {
		h.WriteError(resp, id, path, err)
	}
}

var errMethod = &bff.Error{Status: http.StatusMethodNotAllowed, Code: bff.CodeMethodNotAllowed, Message: "Method Not Allowed"}

// WriteError answers err in the JSON error shape: a *bff.Error is the
// shell's own refusal, anything else a failure. A 5xx's detail goes to the
// log, never to the browser.
func (h *Handler) WriteError(resp Response, id, path string, err error) {
	var e *bff.Error
	if !errors.As(err, &e) {
		e = &bff.Error{Code: bff.CodeInternal}
	}
	status := e.StatusCode()
	if status < 400 || status > 599 {
		// Not an error's status (a code bff does not know).
		status, e = http.StatusInternalServerError, &bff.Error{Code: bff.CodeInternal}
	}
	if status >= 500 {
		h.Shell().Log().Error("request failed", "request_id", id, "path", path, "err", err)
		e = &bff.Error{Status: status, Code: e.Code, Message: http.StatusText(status)}
	}
	resp.SetHeader("Content-Type", "application/json")
	resp.Send(status, e.JSON())
}

// health answers how the shell is: "ok", or "degraded" while the
// registry's store does not answer, the pages being served from the last
// snapshot. Either is a 200: the shell serves pages. The store's own error
// goes to the log, not to whoever asks.
func (h *Handler) health(sh *Shell, resp Response) {
	snap := sh.Registry().Current()
	versions := snap.Versions
	if versions == nil {
		versions = map[string]string{}
	}
	out := map[string]any{"status": "ok", "revision": snap.Revision, "frontends": versions, "routes": len(sh.Pages())}
	if len(snap.Canaries) > 0 {
		out["canaries"] = snap.Canaries
	}
	if s := sh.Registry().Sync(); s.Err != nil {
		out["status"] = "degraded"
		out["registry"] = map[string]any{
			"error":   "the registry's store does not answer: pages are served from the last snapshot, and publishing is refused",
			"failing": s.Failing.UTC().Format(time.RFC3339),
			"checked": s.Checked.UTC().Format(time.RFC3339),
		}
	}
	body, _ := json.Marshal(out)
	resp.SetHeader("Content-Type", "application/json")
	resp.Send(http.StatusOK, body)
}

// page composes p for req and answers it: whole when its fragments all
// come within the composer's coalescing window, streamed from where the
// prefix stopped otherwise.
func (h *Handler) page(sh *Shell, p *Page, params []string, req Request, resp Response, id string) error {
	nonce := newNonce()
	uri := req.Path()
	if q := req.RawQuery(); q != "" {
		uri += "?" + q
	} else {
		uri = strings.Clone(uri)
	}
	creq := &compose.Request{
		Path:   uri,
		Params: encodeParams(p.Params, params),
		Header: sh.copyCredentials(req, forwarded(req, id)),
		Nonce:  nonce,
		ID:     id,
		Origin: origin(req),
	}
	snap := sh.Registry().Current()
	if q := req.RawQuery(); strings.Contains(q, PreviewParam) {
		if vals, err := url.ParseQuery(q); err == nil && vals.Get(PreviewParam) != "" {
			// A preview link: its cookie, then the page without it.
			token := vals.Get(PreviewParam)
			snap, f, l, ok := sh.preview(snap, token)
			if !ok {
				return &bff.Error{Code: bff.CodeForbidden, Message: "this preview link has ended, or is not one this shell made"}
			}
			resp.AddHeader("Set-Cookie", previewCookie(req, token, snap.Previews[f][l].Until))
			resp.SetHeader("Location", withoutPreview(req, vals))
			resp.SetHeader("Cache-Control", "no-store")
			resp.Send(http.StatusSeeOther, nil)
			return nil
		}
	}
	// The preview the browser holds, looked up first: it may make the
	// shell catch up, and the page is rendered from the snapshot it finds.
	// A shell with no preview and none to catch up with reads no cookie.
	var previewed, label string
	if (len(snap.Previews) > 0 || sh.opts.CatchUp != nil) && strings.Contains(req.Header("Cookie"), PreviewCookie) {
		if token := cookie(req, PreviewCookie); token != "" {
			snap, previewed, label, _ = sh.preview(snap, token)
		}
	}
	if len(snap.Canaries) > 0 {
		bucket, setCookie := bucketOf(req)
		if setCookie != "" {
			resp.AddHeader("Set-Cookie", setCookie)
		}
		creq.Versions = versionsFor(snap, bucket)
	}
	if previewed != "" {
		if creq.Versions == nil {
			creq.Versions = snap.Versions
		}
		creq.Versions = maps.Clone(creq.Versions)
		creq.Versions[previewed] = label
	}
	render, done := sh.compose(p, creq, snap)
	status, header := render.Status()
	for k, vs := range header {
		for _, v := range vs {
			resp.AddHeader(k, v)
		}
	}
	resp.SetHeader("Content-Security-Policy", strings.Join(h.csp(sh), nonce))
	resp.SetHeader("X-Content-Type-Options", "nosniff")
	resp.SetHeader("Cache-Control", "no-store")
	resp.SetHeader("Content-Type", "text/html; charset=utf-8") // a HEAD answer has the headers of the GET
	if compose.Redirect(status) || req.Method() == http.MethodHead {
		resp.SetHeader("Server-Timing", render.ServerTiming())
		done()
		resp.Send(status, nil)
		return nil
	}
	buf := pageBuffers.Get().(*bytes.Buffer)
	buf.Reset()
	complete, err := render.WritePrefix(buf)
	resp.SetHeader("Server-Timing", render.ServerTiming())
	if complete || err != nil {
		done()
		if err != nil {
			pageBuffers.Put(buf)
			return err
		}
		// The buffer itself is the body, rather than a copy of it.
		resp.Stream(status, wholePage{buf}, int64(buf.Len()))
		return nil
	}
	resp.Stream(status, &pageStream{pw: pageWriter{buf: buf, render: render}, done: done, log: sh.Log(), id: id}, -1)
	return nil
}

// originCSP is AssetsCSP(origin), split at "{nonce}".
type originCSP struct {
	origin string
	parts  []string
}

// csp is the policy of sh's pages, split at "{nonce}": the configured
// one, unless it is the default and sh's assets come from another origin.
func (h *Handler) csp(sh *Shell) []string {
	if sh.assetsOrigin == "" || h.cfg.CSP != DefaultCSP {
		return h.cspParts
	}
	c := h.assetsCSP.Load()
	if c == nil || c.origin != sh.assetsOrigin {
		c = &originCSP{origin: sh.assetsOrigin, parts: strings.Split(AssetsCSP(sh.assetsOrigin), "{nonce}")}
		h.assetsCSP.Store(c)
	}
	return c.parts
}

// pageBuffers hold pages on their way out: what WritePrefix wrote, and,
// when the page streams, what each flush hands on after it.
var pageBuffers = sync.Pool{New: func() any { return new(bytes.Buffer) }}

// wholePage is the body of a page written whole by WritePrefix: its
// buffer, which goes back to the pool once written.
type wholePage struct{ *bytes.Buffer }

// WriteTo writes the page as a body's last chunk: with a LastWriter, it
// leaves with the end of the response, in one write.
func (p wholePage) WriteTo(w io.Writer) (int64, error) {
	b := p.Bytes()
	var n int
	var err error
	if lw, ok := w.(LastWriter); ok {
		n, err = lw.WriteLast(b)
	} else {
		n, err = w.Write(b)
	}
	p.Next(n)
	return int64(n), err
}

func (p wholePage) Close() error {
	pageBuffers.Put(p.Buffer)
	return nil
}

// pageStream is the body of a page that streams. Its WriteTo writes one
// chunk per flush of the composer: the composer's writes gather in the
// buffer that holds the prefix, and go out in one Write per flush.
type pageStream struct {
	pw   pageWriter // its buf holds what WritePrefix wrote
	done func()
	log  *slog.Logger
	id   string

	closed bool
	rest   *bytes.Reader // the whole page, if something reads instead
}

// WriteTo streams the page to w, one Write per flush.
func (s *pageStream) WriteTo(w io.Writer) (int64, error) {
	s.pw.out = w
	err := s.pw.render.WriteTo(&s.pw)
	if err != nil {
		s.log.Info("page stream ended early", "request_id", s.id, "err", err)
	}
	return s.pw.n, err
}

// Read serves a reader that does not take WriteTo: it composes the whole
// page, then reads it.
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

// Close ends the page, once written or dropped: the slots still running
// are canceled.
func (s *pageStream) Close() error {
	if !s.closed {
		s.closed = true
		s.done()
		pageBuffers.Put(s.pw.buf)
	}
	return nil
}

// pageWriter is a compose.Writer that gathers a page's writes in buf and
// hands them on in one Write per Flush; the last, once the page is
// written, goes to a LastWriter's WriteLast.
type pageWriter struct {
	buf    *bytes.Buffer
	out    io.Writer
	render *compose.Render
	n      int64 // bytes handed on
}

func (pw *pageWriter) Write(p []byte) (int, error) { return pw.buf.Write(p) }

func (pw *pageWriter) Flush() error {
	if pw.buf.Len() == 0 {
		return nil
	}
	var n int
	var err error
	if lw, ok := pw.out.(LastWriter); ok && pw.render.Written() {
		n, err = lw.WriteLast(pw.buf.Bytes())
	} else {
		n, err = pw.out.Write(pw.buf.Bytes())
	}
	pw.n += int64(n)
	pw.buf.Reset()
	return err
}

// encodeParams encodes the route parameters of a request as a query.
func encodeParams(names, values []string) string {
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
		// Values are the path as sent: decode before encoding.
		v, err := url.PathUnescape(values[i])
		if err != nil {
			v = values[i]
		}
		b.WriteString(url.QueryEscape(v))
	}
	return b.String()
}

// forwarded copies the headers the BFFs receive out of req, with the
// request's id.
func forwarded(req Request, id string) http.Header {
	h := make(http.Header, len(Forwarded))
	for _, k := range Forwarded {
		if v := req.Header(k); v != "" {
			h[http.CanonicalHeaderKey(k)] = []string{strings.Clone(v)}
		}
	}
	h["X-Request-Id"] = []string{id}
	return h
}

// copyCredentials adds to h the request's headers that carry a credential
// some frontend declares; the shell leaves each BFF only its own.
func (s *Shell) copyCredentials(req Request, h http.Header) http.Header {
	for _, k := range s.credentials {
		if v := req.Header(k); v != "" {
			h[k] = []string{strings.Clone(v)}
		}
	}
	return h
}

// origin is the page's origin, scheme://host[:port], for the redirects a
// primary slot may make. The shell trusts the X-Forwarded- headers of the
// proxy in front of it, as fiber does by default.
func origin(req Request) string {
	scheme := req.Scheme()
	if scheme != "https" {
		for _, k := range []string{"X-Forwarded-Proto", "X-Forwarded-Protocol"} {
			if v := req.Header(k); v != "" {
				scheme, _, _ = strings.Cut(v, ",")
			}
		}
		if req.Header("X-Forwarded-Ssl") == "on" {
			scheme = "https"
		}
		if v := req.Header("X-Url-Scheme"); v != "" {
			scheme = v
		}
	}
	host := req.Host()
	if v := req.Header("X-Forwarded-Host"); v != "" {
		host, _, _ = strings.Cut(v, ",")
	}
	return scheme + "://" + host
}

func newNonce() string {
	var b [16]byte
	rand.Read(b[:])
	var s [22]byte // encoded here, so that only the string is allocated
	base64.RawStdEncoding.Encode(s[:], b[:])
	return string(s[:])
}
