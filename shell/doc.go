// Package shell is the host that composes micro-frontends into pages.
//
// A Shell holds the routes, each with its parsed layout, the Invoker of
// every frontend's BFF, and the registry of bundle versions. For a page
// request it starts a compose.Render whose fragments come through the
// invokers, and whose head links the bundles of the frontends on the page.
// A Handler answers every request: it routes (the shell's patterns,
// /assets, /bff/NAME, /_collage), composes pages with their status,
// headers, CSP and nonce, serves assets and their precompressed copies,
// proxies /bff calls, and writes the one JSON error shape. It speaks
// through its own Request and Response, which a binding adapts:
// adapters/fiber (the default server) and adapters/nethttp (net/http, also
// used by the shell's Lambda entry). Its Shell can be swapped while it
// serves.
//
// Credentials cross a team boundary only when declared. A frontend's BFF
// receives the request headers in Forwarded (and, on a /bff call,
// BFFForwarded) and, of the browser's credentials, only what its Frontend
// declares: its Cookies, in a Cookie header of their own, and its Headers.
// It may set only its declared cookies: the shell drops any other
// Set-Cookie of its answers, and logs the cookie's name, never its value.
// The scoping happens before the Fetcher, so that a cache or the
// collapsing of fetches sees what the BFF sees.
//
// The data path of a page request, by folder:
//
//	adapters/fiber | adapters/nethttp → shell (Handler: route, credentials, head)
//	→ compose (slots, deadlines) → cache → invoke (in-process, HTTP,
//	adapters/awssdk) → frontends/NAME/bff
package shell
