// Package api is the registry's publish API: the JSON endpoints under
// /_collage/api/ through which teams upload, list, promote, roll back and
// yank versions of their frontends, and admins manage tokens.
//
// An API is a shell.Service: the shell's Handler passes it every request
// under shell.APIPrefix, whatever the binding. It writes through a
// registry.Store and registry.Blobs, and never touches what the shell
// serves itself: after each change it calls Options.Changed, which reloads
// the snapshot, and answers once that is done.
//
// Every call carries a bearer token, kept in the store as the SHA-256 of
// its secret and scoped to frontends and actions (registry.CanPublish,
// registry.CanPromote, registry.CanAdmin). Bootstrap gives a new store its
// first admin token. docs/API.md is the reference of the endpoints.
//
//	a := api.New(api.Options{Store: st, Blobs: blobs, Frontends: names,
//		Current: reg.Current, Changed: reload})
//	h := shell.NewHandler(sh, shell.EdgeConfig{API: a})
package api
