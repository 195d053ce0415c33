package bff

import (
	"bytes"
	"context"
	"errors"
	"html/template"
	"log/slog"
	"net/http"
	"net/url"
)

// Headers of the fragment request the shell sends to GET /_fragment.
const (
	HeaderPath   = "Collage-Path"   // the page's path and query
	HeaderParams = "Collage-Params" // route parameters, query-encoded
	HeaderSlot   = "Collage-Slot"   // the slot's name in the layout
)

// FragmentPath is where a BFF answers fragment requests.
const FragmentPath = "/_fragment"

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
	b.mux.HandleFunc("GET "+FragmentPath, func(w http.ResponseWriter, r *http.Request) {
		ex := r.Context().Value(exchangeKey{}).(*exchange)
		fr := fragmentRequest(r, b.logger())
		data, err := fn(r.Context(), fr)
		var buf bytes.Buffer
		status := http.StatusOK
		if ex.status != 0 {
			status = ex.status
		}
		if err != nil {
			var e *Error
			if !errors.As(err, &e) || e.Status >= 500 {
				b.logFailure(r, "bff fragment failed", "path", fr.Path, "err", err)
				ex.writeHeader(http.StatusInternalServerError)
				return
			}
			status = e.Status
			if e.Location != "" {
				w.Header().Set("Location", e.Location)
			} else if err := renderError(&buf, tmpl, e); err != nil {
				b.logger().Error("bff fragment error template failed", "bff", b.name, "err", err)
				buf.Reset() // no half-rendered HTML in the slot
			}
		} else if err := tmpl.Execute(&buf, data); err != nil {
			b.logger().Error("bff fragment template failed", "bff", b.name, "path", fr.Path, "err", err)
			ex.writeHeader(http.StatusInternalServerError)
			return
		}
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		ex.writeHeader(status)
		w.Write(buf.Bytes())
	})
}

var defaultErrorTemplate = template.Must(template.New("error").Parse(
	`<p class="collage-error" role="alert">{{.Message}}</p>`))

func renderError(buf *bytes.Buffer, tmpl *template.Template, e *Error) error {
	if t := tmpl.Lookup("error"); t != nil {
		return t.Execute(buf, e)
	}
	return defaultErrorTemplate.Execute(buf, e)
}

func fragmentRequest(r *http.Request, log *slog.Logger) *FragmentRequest {
	fr := &FragmentRequest{Slot: r.Header.Get(HeaderSlot)}
	if u, err := url.ParseRequestURI(r.Header.Get(HeaderPath)); err == nil {
		fr.Path, fr.Query = u.Path, u.Query()
	} else {
		fr.Path, fr.Query = "/", url.Values{}
	}
	params, err := url.ParseQuery(r.Header.Get(HeaderParams))
	if err != nil {
		log.Warn("bff: malformed "+HeaderParams+" header", "value", r.Header.Get(HeaderParams))
	}
	fr.Params = params
	return fr
}
