// Package shell is the host that composes micro-frontends into pages.
//
// A Shell holds the routes, each with its parsed layout, the Invoker of
// every frontend's BFF, and the registry of bundle versions. For a page
// request it starts a compose.Render whose fragments come through the
// invokers, and whose head links the bundles of the frontends on the page.
// The web framework binding lives in shell/fiberhttp; nothing here knows it.
//
// The data path of a page request, by folder:
//
//	fiberhttp → shell (route, head) → compose (slots, deadlines) → invoke → bff
package shell
