// Package fiber is the shell's HTTP edge on fiber v2: pages, assets,
// /bff/NAME/* calls and health. It is the only package that imports fiber;
// it copies what the shell needs out of each request, since a fiber.Ctx is
// reused after its handler returns, and maps errors to statuses.
//
// New builds the app; Serve runs it on a listener with the limits of Config
// (timeouts, connections, body and answer sizes), retries the accept errors
// a process recovers from, and shuts down gracefully. /bff request bodies
// stream to the BFF, decoded and bounded; the BFF's answer streams back,
// bounded too.
package fiber
