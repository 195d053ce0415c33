package api

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"mime"
	"net/http"
	"net/url"
	"os"
	"slices"
	"strings"
	"time"

	"github.com/collage-dev/collage/bff"
	"github.com/collage-dev/collage/build"
	"github.com/collage-dev/collage/shell"
	"github.com/collage-dev/collage/shell/registry"
)

// Options are the API's dependencies and limits.
type Options struct {
	// Store keeps releases, history and tokens.
	Store registry.Store
	// Blobs keeps the files of the releases uploaded.
	Blobs registry.Blobs
	// Frontends are the names collage.yaml declares. The shared
	// dependencies, build.SharedName, are always known besides them; any
	// other name is a 404.
	Frontends []string
	// Current returns the snapshot the shell serves. A frontend's version
	// is uploaded and activated only when the shared dependencies served
	// provide what it was built against, and a version of the shared
	// dependencies only when it provides what every frontend served needs.
	Current func() *registry.Snapshot
	// Changed is called after each change of the registry and before the
	// answer, so that the answer comes once the shell serves the change.
	// Optional. Default: nothing is called.
	Changed func(ctx context.Context)
	// Stale returns why the shell's snapshot cannot be trusted to follow
	// the store, such as a store that lost changes: then every change is
	// refused (503), so that nothing is built on what the shell does not
	// serve. Optional. Default: never.
	Stale func() error
	// Limits bound an uploaded archive. Optional. Default: the defaults of
	// registry.ArchiveLimits.
	Limits registry.ArchiveLimits
	// BodyTimeout bounds the arrival of a request's body. Optional.
	// Default: DefaultBodyTimeout.
	BodyTimeout time.Duration
	// Log receives a line per change and per failure. Optional. Default:
	// slog.Default().
	Log *slog.Logger
	// Now is the clock. Optional. Default: time.Now.
	Now func() time.Time
}

// DefaultBodyTimeout is the default of Options.BodyTimeout: long enough
// for an archive at the default limit over a slow uplink.
const DefaultBodyTimeout = 2 * time.Minute

// maxJSON bounds the body of a JSON call.
const maxJSON = 64 << 10

// API answers the publish API. It is safe for concurrent use.
type API struct {
	o     Options
	names []string        // the declared frontends, sorted
	known map[string]bool // the declared frontends and build.SharedName
}

// New returns the API of o.
func New(o Options) *API {
	if o.BodyTimeout == 0 {
		o.BodyTimeout = DefaultBodyTimeout
	}
	if o.Log == nil {
		o.Log = slog.Default()
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	o.Limits = o.Limits.WithDefaults()
	a := &API{o: o, names: slices.Sorted(slices.Values(o.Frontends)), known: map[string]bool{build.SharedName: true}}
	a.names = slices.Compact(a.names)
	for _, name := range a.names {
		a.known[name] = true
	}
	return a
}

// call is one request being answered.
type call struct {
	ctx  context.Context
	req  shell.Request
	resp shell.Response
	tok  *registry.Token
	by   string     // who the token is, for the history
	q    url.Values // the query, its names checked
	// Path parameters, as the route found them.
	name, label, id string
}

// route is what answers at one path, by method, and the names its query
// may hold.
type route struct {
	get, post, del func(*call) error
	query          []string
}

// Serve implements shell.Service.
func (a *API) Serve(req shell.Request, resp shell.Response) {
	resp.SetHeader("Cache-Control", "no-store")
	c := &call{ctx: context.Background(), req: req, resp: resp}
	if err := a.serve(c); err != nil {
		a.fail(c, err)
	}
}

func (a *API) serve(c *call) error {
	var err error
	if c.tok, err = a.authenticate(c.ctx, c.req.Header("Authorization")); err != nil {
		return err
	}
	c.by = by(c.tok)
	// The path and query may live in a binding's buffers; what they name
	// goes to the store.
	path := strings.Clone(c.req.Path())
	rt, ok := a.route(c, strings.Split(strings.TrimPrefix(path, shell.APIPrefix), "/"))
	if !ok {
		return &bff.Error{Code: bff.CodeNotFound, Message: fmt.Sprintf("no API at %s: see docs/API.md", path)}
	}
	var h func(*call) error
	switch c.req.Method() {
	case http.MethodGet, http.MethodHead:
		h = rt.get
	case http.MethodPost:
		h = rt.post
	case http.MethodDelete:
		h = rt.del
	}
	if h == nil {
		var allow []string
		for m, f := range map[string]func(*call) error{http.MethodGet: rt.get, http.MethodPost: rt.post, http.MethodDelete: rt.del} {
			if f != nil {
				allow = append(allow, m)
			}
		}
		slices.Sort(allow)
		c.resp.SetHeader("Allow", strings.Join(allow, ", "))
		return &bff.Error{Code: bff.CodeMethodNotAllowed, Message: fmt.Sprintf("%s %s: use %s", c.req.Method(), path, strings.Join(allow, " or "))}
	}
	if c.q, err = url.ParseQuery(strings.Clone(c.req.RawQuery())); err != nil {
		return &bff.Error{Code: bff.CodeBadRequest, Message: "the query: " + err.Error()}
	}
	for name := range c.q {
		if !slices.Contains(rt.query, name) {
			return &bff.Error{Code: bff.CodeBadRequest, Field: name, Message: fmt.Sprintf("%s %s takes no query parameter %q", c.req.Method(), path, name)}
		}
	}
	if c.req.Method() != http.MethodGet && c.req.Method() != http.MethodHead && a.o.Stale != nil {
		if err := a.o.Stale(); err != nil {
			return &bff.Error{Code: bff.CodeServiceUnavailable, Message: "nothing was changed: " + err.Error()}
		}
	}
	return h(c)
}

// route finds what answers at the path p, split at its slashes, and puts
// its parameters in c.
func (a *API) route(c *call, p []string) (route, bool) {
	switch {
	case len(p) == 1 && p[0] == "frontends":
		return route{get: a.listFrontends}, true
	case len(p) == 1 && p[0] == "history":
		return route{get: a.history, query: []string{"since", "frontend"}}, true
	case len(p) == 1 && p[0] == "rollback":
		return route{post: a.rollbackAll}, true
	case len(p) == 1 && p[0] == "tokens":
		return route{get: a.listTokens, post: a.createToken}, true
	case len(p) == 2 && p[0] == "tokens":
		c.id = p[1]
		return route{del: a.revokeToken}, true
	case len(p) < 3 || p[0] != "frontends":
		return route{}, false
	}
	c.name = p[1]
	switch {
	case len(p) == 3 && p[2] == "versions":
		return route{get: a.listVersions, post: a.upload, query: []string{"promote", "expect"}}, true
	case len(p) == 3 && p[2] == "promote":
		return route{post: a.promote}, true
	case len(p) == 3 && p[2] == "rollback":
		return route{post: a.rollback}, true
	case len(p) == 4 && p[2] == "versions":
		c.label = p[3]
		return route{get: a.showVersion}, true
	case len(p) == 5 && p[2] == "versions" && p[4] == "preview":
		c.label = p[3]
		return route{post: a.preview}, true
	case len(p) == 5 && p[2] == "versions" && p[4] == "yank":
		c.label = p[3]
		return route{post: a.yank}, true
	}
	return route{}, false
}

// frontend checks that c.name is a frontend of this shell.
func (a *API) frontend(c *call) error {
	if a.known[c.name] {
		return nil
	}
	return &bff.Error{Code: bff.CodeNotFound, Message: a.unknown(c.name)}
}

// unknown says that name is not a frontend of this shell, and which are.
func (a *API) unknown(name string) string {
	return fmt.Sprintf("no frontend %q: this shell's are %s", name, strings.Join(append(slices.Clone(a.names), build.SharedName), ", "))
}

// unavailable is what a caller is told while the store or the blobs do
// not answer (a service_unavailable error); what failed, and where, goes
// to the log.
const unavailable = "the registry's store does not answer, so nothing can be published, changed or listed now; " +
	"the shell keeps serving its pages, and its log says why. Try again once the store is back"

// fail answers err in the shell's JSON error shape. A failure that is not
// the caller's is logged and answered without its detail: a 503 with what
// it means for the caller, any other status with its name.
func (a *API) fail(c *call, err error) {
	var e *bff.Error
	if !errors.As(err, &e) {
		e = &bff.Error{Code: bff.CodeInternal}
	}
	status := e.StatusCode()
	if status < 400 || status > 599 {
		status, e = http.StatusInternalServerError, &bff.Error{Code: bff.CodeInternal}
	}
	if status >= 500 {
		a.o.Log.Error("publish API call failed", "method", c.req.Method(), "path", c.req.Path(), "by", c.by, "err", err)
		msg := http.StatusText(status)
		if e.Code == bff.CodeServiceUnavailable {
			msg = unavailable
		}
		e = &bff.Error{Status: status, Code: e.Code, Message: msg}
	}
	if status == http.StatusUnauthorized {
		c.resp.SetHeader("WWW-Authenticate", `Bearer realm="collage"`)
	}
	c.resp.SetHeader("Content-Type", "application/json")
	c.resp.Send(status, append(e.JSON(), '\n'))
}

// reply answers v as JSON with status.
func reply(c *call, status int, v any) error {
	body, err := json.Marshal(v)
	if err != nil {
		return err
	}
	c.resp.SetHeader("Content-Type", "application/json")
	c.resp.Send(status, append(body, '\n'))
	return nil
}

// decode reads the JSON body of c into v: one object of v's fields, at
// most maxJSON bytes. An empty body leaves v as it is when optional.
func (a *API) decode(c *call, v any, optional bool) error {
	body, n := c.req.Body()
	var data []byte
	if body != nil && n != 0 {
		if n > maxJSON {
			c.resp.CloseConnection()
			return jsonTooLarge()
		}
		c.req.SetBodyDeadline(a.o.Now().Add(a.o.BodyTimeout))
		var err error
		if data, err = io.ReadAll(io.LimitReader(body, maxJSON+1)); err != nil {
			c.resp.CloseConnection()
			return bodyError(err)
		}
		if len(data) > maxJSON {
			c.resp.CloseConnection()
			return jsonTooLarge()
		}
	}
	if len(bytes.TrimSpace(data)) == 0 {
		if optional {
			return nil
		}
		return &bff.Error{Code: bff.CodeBadRequest, Message: "the body is empty: send a JSON object (see docs/API.md)"}
	}
	if mt, _, _ := mime.ParseMediaType(c.req.Header("Content-Type")); mt != "application/json" {
		return &bff.Error{Code: bff.CodeUnsupportedMediaType,
			Message: fmt.Sprintf("Content-Type %q: send application/json", c.req.Header("Content-Type"))}
	}
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return &bff.Error{Code: bff.CodeBadRequest, Message: "the body: " + err.Error()}
	}
	if dec.More() {
		return &bff.Error{Code: bff.CodeBadRequest, Message: "the body: more than one JSON value"}
	}
	return nil
}

func jsonTooLarge() error {
	return &bff.Error{Code: bff.CodePayloadTooLarge, Message: fmt.Sprintf("the body is over %d bytes, the most a JSON call takes", maxJSON)}
}

// bodyError is the error of a body that could not be read: the client was
// too slow, or went away.
func bodyError(err error) error {
	if errors.Is(err, os.ErrDeadlineExceeded) {
		return &bff.Error{Code: "request_timeout", Message: "the body did not arrive in time"}
	}
	return &bff.Error{Code: bff.CodeBadRequest, Message: "reading the body: " + err.Error()}
}

// changed tells the shell of a change, so that it serves it before the
// answer leaves.
func (a *API) changed(ctx context.Context) {
	if a.o.Changed != nil {
		a.o.Changed(ctx)
	}
}

// logChange logs one change of the registry.
func (a *API) logChange(ch registry.Change) {
	a.o.Log.Info("registry change", "kind", ch.Kind, "frontend", ch.Frontend, "label", ch.Label,
		"from", ch.From, "revision", ch.Revision, "by", ch.By)
}

func conflict(format string, a ...any) error {
	return &bff.Error{Code: "conflict", Message: fmt.Sprintf(format, a...)}
}

func badRequest(field, format string, a ...any) error {
	return &bff.Error{Code: bff.CodeBadRequest, Field: field, Message: fmt.Sprintf(format, a...)}
}

// code is the code of err when it is a *bff.Error, else "".
func code(err error) string {
	var e *bff.Error
	if errors.As(err, &e) {
		return e.Code
	}
	return ""
}

var _ shell.Service = (*API)(nil)
