package component

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
)

// MediaType is the Content-Type of a fragment answered as data: the body is
// the JSON the frontend's View renders, and whoever holds the frontend's
// server bundle renders it (the shell, for a BFF that renders nothing).
const MediaType = "application/vnd.collage.component+json"

// View is the export of a frontend's entry module that the server renders:
// a Preact component whose props are the data of the slot's fragment.
const View = "View"

// RenderFunc is the global function a server bundle defines: it takes the
// data as a JSON string and returns the HTML of View rendered with it.
const RenderFunc = "collageRender"

// A Renderer renders a frontend's component with data, a JSON value, into
// HTML. It honours ctx's deadline. It is safe for concurrent use.
type Renderer interface {
	Render(ctx context.Context, data []byte) ([]byte, error)
}

// Error is a component that failed to render: it threw, or ran past its
// deadline. Stack names the frontend's own files and lines when the server
// bundle came with its source map.
type Error struct {
	Frontend string
	Message  string // "TypeError: x is undefined"
	Stack    string // one "    at NAME (FILE:LINE:COLUMN)" frame per line
	// Interrupted is set when the render was stopped: it ran past its
	// deadline, or its context was cancelled, which Cause then holds.
	Interrupted bool
	Cause       error
}

// Unwrap returns the context's error of an interrupted render.
func (e *Error) Unwrap() error { return e.Cause }

func (e *Error) Error() string {
	if e.Frontend == "" {
		return "component: " + e.Message
	}
	return "component " + e.Frontend + ": " + e.Message
}

// DataAttr marks the script element holding a slot's data.
const DataAttr = "data-collage-data"

// dataOpen and dataClose surround the data Fragment embeds.
const (
	dataOpen  = `<script type="application/json" ` + DataAttr + `>`
	dataClose = `</script>`
)

// Fragment writes a slot's HTML: the data in a JSON script element, for
// the browser, then the component's HTML. The script comes first, so the
// client runtime takes it out before View hydrates what follows; it runs
// nothing, so the page's Content-Security-Policy needs no nonce for it.
// Every <, > and & in the data is written as a \u escape, and so are
// U+2028 and U+2029: no "</script>" or "<!--" can end the element early.
func Fragment(dst *bytes.Buffer, html, data []byte) error {
	dst.Grow(len(dataOpen) + len(data) + len(dataClose) + len(html))
	dst.WriteString(dataOpen)
	if err := compact(dst, data); err != nil {
		return err
	}
	dst.WriteString(dataClose)
	dst.Write(html)
	return nil
}

// Split returns the data and the HTML of a slot that Fragment wrote, and
// false for a body that does not start with the data. The data is as
// Fragment wrote it, HTML's special characters escaped, which JSON reads
// as the same value.
func Split(body []byte) (html, data []byte, ok bool) {
	rest, ok := bytes.CutPrefix(body, []byte(dataOpen))
	if !ok {
		return nil, nil, false
	}
	data, html, ok = bytes.Cut(rest, []byte(dataClose))
	return html, data, ok
}

// compact writes data without insignificant space and with HTML's special
// characters escaped, or fails on data that is not one JSON value.
func compact(dst *bytes.Buffer, data []byte) error {
	var c bytes.Buffer
	if err := json.Compact(&c, data); err != nil {
		return fmt.Errorf("component data: %w", err)
	}
	json.HTMLEscape(dst, c.Bytes())
	return nil
}

// ErrNoServerBundle is the error of rendering a frontend whose release has
// no server bundle: it exports no View, or was built before collage made
// server bundles.
var ErrNoServerBundle = errors.New("the frontend's release has no server bundle: export View from its entry module and build it again")
