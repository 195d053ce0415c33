package dev

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/collage-dev/collage/component"
	"github.com/collage-dev/collage/shell/compose"
	"github.com/collage-dev/collage/shell/layout"
)

// Drift tells the pages of req's path where the Go template of slot's
// frontend differs from its component, or why the component did not
// render to check it; a check that finds nothing ends the problem. It is
// shell.ComponentOptions.Drift.
func (h *Hub) Drift(_ context.Context, slot *layout.Slot, req *compose.Request, diffs []component.Difference, err error) {
	p := Problem{Source: SourceDrift, Frontend: slot.Frontend, Path: req.Path}
	switch {
	case err != nil:
		p.Message = fmt.Sprintf("%s: the component (View) did not render with the template's data, so the two could not be compared: %v", req.Path, err)
		var e *component.Error
		if errors.As(err, &e) {
			p.Frame = e.Stack
		}
	case len(diffs) > 0:
		p.Message = fmt.Sprintf("%s: the Go template's HTML and the component (View) rendered with the same data differ: "+
			"the browser changes the server's HTML when it renders. Change both together.", req.Path)
		lines := make([]string, len(diffs))
		for i, d := range diffs {
			lines[i] = d.String()
		}
		p.Frame = strings.Join(lines, "\n")
	default:
		h.Clear(SourceDrift, slot.Frontend, req.Path)
		return
	}
	h.Problem(p)
}
