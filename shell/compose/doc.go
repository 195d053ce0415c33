// Package compose composes a page from a parsed layout at request time.
//
// Start begins fetching every slot's fragment at once, each under its own
// deadline. Status waits for the primary slot alone, if there is one, to
// decide the page's status and headers. WriteTo then streams the page: the
// static HTML and the head tags first, flushed before any other fragment is
// awaited, then each slot in document order as it resolves, with its
// fallback when it failed. The composer knows nothing of the web framework:
// it writes to a Writer.
package compose
