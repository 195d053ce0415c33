package bff

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"net/http"

	"github.com/collage-dev/collage/component"
)

// HeaderPerUser marks the answer of a Component fragment whose data
// differs by user: its renders bypass the render cache.
const HeaderPerUser = "Collage-Per-User"

// ComponentOptions tune a Component fragment.
type ComponentOptions struct {
	// PerUser says that the data differs by user (a cart, a greeting), so
	// that rendering it bypasses the render cache, which would keep each
	// render for nobody else. Optional. Default: false, the data is shared
	// (a catalog, recommendations).
	PerUser bool
}

// ErrorData is the data a Component fragment's View gets, as its error
// prop, when fn fails with a 4xx *Error.
type ErrorData struct {
	Status  int    `json:"status"`
	Code    string `json:"code"`
	Message string `json:"message"`
}

// Component registers the BFF's fragment as data for its frontend's own
// component: fn returns the data, and the View that the frontend's entry
// module exports renders it, on the server with its server bundle and in
// the browser, where mount hydrates it with the same data. Go templates
// (Fragment) stay the fastest way to render; a component is written once.
//
// The data is View's props, as encoding/json writes D. An *Error from fn
// with a 3xx redirects, as for Fragment; with a 4xx View gets
// {"error": ErrorData} and the status is the fragment's. Any other error
// is a 500 with no body, and the shell shows the slot's fallback.
//
// Where the BFF has a Renderer, the fragment answers the HTML: the data
// in a JSON script element, then View's markup (component.Fragment).
// Otherwise it answers the data as component.MediaType, for the shell to
// render with the server bundle of the page's version.
func Component[D any](b *BFF, fn func(context.Context, *FragmentRequest) (D, error), opts ...ComponentOptions) {
	var o ComponentOptions
	if len(opts) > 0 {
		o = opts[0]
	}
	b.fragment = func(ctx context.Context, ex *exchange, fr *FragmentRequest) {
		d, err := fn(ctx, fr)
		status := http.StatusOK
		if ex.status != 0 {
			status = ex.status
		}
		var data []byte
		if err != nil {
			e := b.fragmentError(ctx, ex, fr, err)
			if e == nil {
				return
			}
			status = e.StatusCode()
			if e.Location != "" {
				ex.w.Header().Set("Location", e.Location)
				ex.writeHeader(status)
				return
			}
			data, err = json.Marshal(map[string]ErrorData{"error": {Status: status, Code: e.code(), Message: e.Message}})
		} else {
			data, err = json.Marshal(d)
		}
		if err != nil {
			b.logger().Error("bff fragment data cannot be encoded", "bff", b.name, "path", fr.Path, "err", err)
			ex.writeHeader(http.StatusInternalServerError)
			return
		}
		if o.PerUser {
			ex.w.Header().Set(HeaderPerUser, "1")
		}
		body := data
		if b.Renderer == nil {
			ex.w.Header().Set("Content-Type", component.MediaType)
		} else {
			html, err := b.Renderer.Render(ctx, data)
			if err != nil {
				b.logComponent(ctx, fr, err)
				ex.writeHeader(http.StatusInternalServerError)
				return
			}
			var buf bytes.Buffer
			if err := component.Fragment(&buf, html, data); err != nil {
				b.logComponent(ctx, fr, err)
				ex.writeHeader(http.StatusInternalServerError)
				return
			}
			body = buf.Bytes()
			ex.w.Header().Set("Content-Type", "text/html; charset=utf-8")
		}
		ex.writeHeader(status)
		if aw, direct := ex.w.(*answerWriter); direct {
			aw.body = body
		} else {
			ex.w.Write(body)
		}
	}
	b.routeFragment()
}

// ComponentFailed is the message of the log line of a View that failed to
// render, whose attributes are bff, path, err and stack (the component's,
// in its own files and lines when the server bundle has its source map).
const ComponentFailed = "component failed to render"

func (b *BFF) logComponent(ctx context.Context, fr *FragmentRequest, err error) {
	args := []any{"bff", b.name, "path", fr.Path, "err", err}
	var e *component.Error
	if errors.As(err, &e) && e.Stack != "" {
		args = append(args, "stack", e.Stack)
	}
	b.logger().ErrorContext(ctx, ComponentFailed, args...)
}
