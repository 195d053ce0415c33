// Package fiber binds the shell's Handler to fiber v2, the default
// server. It is the only package that imports fiber and fasthttp for
// serving. The shell's Handler decides every answer (routes, pages, assets,
// /bff calls, health, errors); this package adapts a *fiber.Ctx to the
// handler's Request and Response at no cost per request, streams a page
// with fasthttp's SetBodyStream, and keeps what only a server can do.
//
// Serve runs the app on a listener with the limits of Config (timeouts,
// connections, bodies streamed to the handler), retries the accept errors
// a process recovers from, and shuts down gracefully; /_collage/metrics is
// mounted here.
package fiber
