// Package nethttp binds the shell's Handler to net/http. It imports the
// standard library only. New returns an http.Handler that answers
// everything by itself, with no server-level state, so that another entry
// point (such as the shell's Lambda function) can wrap it; Serve runs it
// on an http.Server with the limits of Config and shuts down gracefully,
// with the same exit semantics as adapters/fiber's Serve.
//
// A page streams: each flush of the composer is written and flushed
// through http.ResponseController. A response that cannot end as it began
// (a /bff answer cut at its bound, a page whose client went away) is
// aborted with http.ErrAbortHandler, so that the client sees it cut rather
// than complete.
//
// collage serve --server nethttp selects it; fiber stays the default.
package nethttp
