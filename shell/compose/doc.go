// Package compose composes a page from a parsed layout at request time.
//
// Start begins fetching every slot's fragment at once, each under its own
// deadline; the slots whose last fetch took a few microseconds (quick, as
// a render in process is) one after another on one goroutine. Status waits for the primary slot alone, if there is one, to
// decide the page's status and headers: its 4xx, or its redirect when the
// Location stays on the site or goes to an allowed origin (Render.Redirects);
// a primary that fails makes the page a 502, one that times out a 504.
// WriteTo then streams the page: the static HTML and the head tags first,
// flushed before any other fragment is awaited, then each slot in document
// order as it resolves, with its fallback when it failed. A page that ends
// before its slots, as a redirect or an answer to HEAD, calls Cancel and
// waits for none of them. The composer knows nothing of the web framework:
// it writes to a Writer.
package compose
