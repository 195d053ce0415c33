package dev

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/collage-dev/collage/component"
	"github.com/collage-dev/collage/shell/compose"
	"github.com/collage-dev/collage/shell/layout"
)

// Fetcher returns next, telling the pages of each slot that fails, by
// their path, why it shows its fallback, with the stack of the BFF's
// panic if it panicked (see LogHandler), or of the component that threw
// (naming the frontend's file and line where it threw); a slot of the same frontend that
// succeeds on that path ends the problem.
func (h *Hub) Fetcher(next compose.Fetcher) compose.Fetcher {
	return &fetcher{next: next, h: h}
}

type fetcher struct {
	next compose.Fetcher
	h    *Hub
}

func (f *fetcher) Fetch(ctx context.Context, slot *layout.Slot, req *compose.Request) compose.Result {
	start := time.Now()
	res := f.next.Fetch(ctx, slot, req)
	switch {
	case res.Outcome == compose.Canceled:
	case res.Err != nil:
		p := Problem{Source: SourceFragment, Frontend: slot.Frontend, Path: req.Path,
			Message: fmt.Sprintf("%s (%s): %v", req.Path, res.Outcome, res.Err)}
		if pn, ok := f.h.takePanic(slot.Frontend, start); ok {
			p.Message += "\npanic: " + pn.value
			p.Frame = pn.stack
		}
		var ce *component.Error
		if errors.As(res.Err, &ce) && ce.Stack != "" {
			p.Frame = ce.Stack
			p.File, p.Line, p.Column = component.Origin(ce.Stack)
		}
		f.h.Problem(p)
	default:
		f.h.Clear(SourceFragment, slot.Frontend, req.Path)
	}
	return res
}

var _ compose.Fetcher = (*fetcher)(nil)
