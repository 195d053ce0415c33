package dev

import (
	"context"
	"time"
)

// gather waits for a change, then takes those that follow until quiet has
// passed without one, or max since the first: an editor's save is several
// events, and a copy many. It returns the paths in the order first seen,
// each once, and when the first came; ok is false once ctx is done.
func gather(ctx context.Context, changes <-chan string, quiet, max time.Duration) (paths []string, first time.Time, ok bool) {
	seen := map[string]bool{}
	add := func(p string) {
		if !seen[p] {
			seen[p] = true
			paths = append(paths, p)
		}
	}
	select {
	case <-ctx.Done():
		return nil, time.Time{}, false
	case p := <-changes:
		first = time.Now()
		add(p)
	}
	deadline := first.Add(max)
	timer := time.NewTimer(quiet)
	defer timer.Stop()
	for {
		select {
		case <-ctx.Done():
			return nil, time.Time{}, false
		case p := <-changes:
			add(p)
			wait := min(quiet, time.Until(deadline))
			if wait <= 0 {
				return paths, first, true
			}
			timer.Reset(wait)
		case <-timer.C:
			return paths, first, true
		}
	}
}
