// Package dev is the loop of collage dev: it builds again what an edit
// touched, serves the new version at once, and tells the pages.
//
// A Loop takes the paths a file watcher reports, gathers each burst (an
// editor's save is several events), and works out what they touch: a
// frontend's files, which it builds again through the frontend's
// incremental context (build.Session) and publishes to the registry as a
// new version, made active; the shared dependencies; or collage.yaml and
// the layouts, which make a new shell, swapped in place. A build that
// fails keeps the last good version serving, and so does a bad config.
//
// A Hub tells the pages, one server-sent events stream per page at
// EventsPath: update (a frontend's new version, which the client runtime
// mounts again in place, or whose stylesheets it swaps), reload, error
// (a Problem, for the overlay) and clear. A page that connects is told of
// the versions it was not rendered with and the problems that stand, and
// one that connects again of the events it missed. Hub.Fetcher reports the
// fragments that fail, to the pages of their path.
package dev
