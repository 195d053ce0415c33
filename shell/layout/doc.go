// Package layout parses a page layout once, at start-up, into static chunks
// and slots, so that composing a page per request is only copying bytes and
// waiting for fragments.
//
// A layout is an HTML document with <collage-slot> elements:
//
//	<collage-slot frontend="recs" timeout="150ms" primary>fallback HTML</collage-slot>
//
// The inner HTML is the fallback. Attributes: frontend (required), timeout
// (a Go duration, default 1s), primary (at most one per layout: its status
// becomes the page's), async (streamed at the end of the body and moved into
// place), name; id, class, role, title, aria-* and data-* pass through.
package layout
