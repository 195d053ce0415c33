package dev

import (
	"context"
	"fmt"
	"log/slog"
	"time"

	"github.com/collage-dev/collage/bff"
)

// SourceBFF is a problem of a /bff call: a BFF function that panicked.
const SourceBFF = "bff"

// bffPanic is the last panic of a BFF's fragment.
type bffPanic struct {
	value, stack string
	at           time.Time
}

// LogHandler returns next, telling the hub of the panics of the BFFs
// that log through it (bff.PanicMessage): one while a fragment renders
// goes with that fragment's problem, with its stack, to the pages of its
// path; one in a /bff call goes to every page at once.
func (h *Hub) LogHandler(next slog.Handler) slog.Handler {
	return &logHandler{next: next, h: h}
}

type logHandler struct {
	next  slog.Handler
	h     *Hub
	attrs []slog.Attr // of WithAttrs
}

// Enabled takes errors always: a panic is one, which next may not want.
func (l *logHandler) Enabled(ctx context.Context, level slog.Level) bool {
	return level >= slog.LevelError || l.next.Enabled(ctx, level)
}

func (l *logHandler) Handle(ctx context.Context, r slog.Record) error {
	if r.Message == bff.PanicMessage {
		got := map[string]string{}
		for _, a := range l.attrs {
			got[a.Key] = a.Value.String()
		}
		r.Attrs(func(a slog.Attr) bool {
			got[a.Key] = a.Value.String()
			return true
		})
		l.h.panicked(got["bff"], got["method"], got["path"], got["panic"], got["stack"], r.Time)
	}
	if !l.next.Enabled(ctx, r.Level) {
		return nil
	}
	return l.next.Handle(ctx, r)
}

func (l *logHandler) WithAttrs(attrs []slog.Attr) slog.Handler {
	return &logHandler{next: l.next.WithAttrs(attrs), h: l.h, attrs: append(append([]slog.Attr(nil), l.attrs...), attrs...)}
}

func (l *logHandler) WithGroup(name string) slog.Handler {
	return &logHandler{next: l.next.WithGroup(name), h: l.h, attrs: l.attrs}
}

// panicked keeps a fragment's panic for its failed fetch, and tells every
// page of a /bff call's at once: no page's path is known. A panic told
// after its fetch failed, as a BFF in another process tells it, goes
// with the problems of that frontend's fragments that have no stack.
func (h *Hub) panicked(name, method, path, value, stack string, at time.Time) {
	if path == bff.FragmentPath {
		h.mu.Lock()
		var late []Problem
		for k, p := range h.problems {
			if k.source == SourceFragment && k.frontend == name && p.Frame == "" {
				late = append(late, p)
			}
		}
		if late == nil {
			h.panics[name] = bffPanic{value: value, stack: stack, at: at}
		}
		h.mu.Unlock()
		for _, p := range late {
			p.Message += "\npanic: " + value
			p.Frame = stack
			h.Problem(p)
		}
		return
	}
	h.send(EventError, Problem{Source: SourceBFF, Frontend: name,
		Message: fmt.Sprintf("%s %s panicked: %s", method, path, value), Frame: stack}, "")
}

// takePanic returns the panic of name's fragment since the time since,
// and forgets it.
func (h *Hub) takePanic(name string, since time.Time) (bffPanic, bool) {
	h.mu.Lock()
	defer h.mu.Unlock()
	p, ok := h.panics[name]
	delete(h.panics, name)
	return p, ok && !p.at.Before(since)
}
