package dev

import (
	"context"
	"fmt"

	"github.com/collage-dev/collage/shell/compose"
	"github.com/collage-dev/collage/shell/layout"
)

// Fetcher returns next, telling the pages of each slot that fails, by
// their path, why it shows its fallback; a slot of the same frontend that
// succeeds on that path ends the problem.
func (h *Hub) Fetcher(next compose.Fetcher) compose.Fetcher {
	return &fetcher{next: next, h: h}
}

type fetcher struct {
	next compose.Fetcher
	h    *Hub
}

func (f *fetcher) Fetch(ctx context.Context, slot *layout.Slot, req *compose.Request) compose.Result {
	res := f.next.Fetch(ctx, slot, req)
	switch {
	case res.Outcome == compose.Canceled:
	case res.Err != nil:
		f.h.Problem(Problem{Source: SourceFragment, Frontend: slot.Frontend, Path: req.Path,
			Message: fmt.Sprintf("%s (%s): %v", req.Path, res.Outcome, res.Err)})
	default:
		f.h.Clear(SourceFragment, slot.Frontend, req.Path)
	}
	return res
}

var _ compose.Fetcher = (*fetcher)(nil)
