// Package component renders a frontend's own component on the server: the
// contract between a BFF whose fragment returns data and the engine that
// turns that data into the component's HTML.
//
// A frontend that exports View next to mount gets a server bundle from
// collage build (build.Manifest.Server). Its BFF's fragment returns typed
// data (bff.Component); a Renderer made from the server bundle renders
// View with it, and Fragment writes the HTML followed by nothing the
// browser shows: the same data, in a <script type="application/json">,
// which the client runtime hands to mount so the frontend hydrates instead
// of fetching and rendering again.
//
// The engine lives in adapters/quickjs; this package holds what does not
// depend on it: the Renderer interface, the embedding of the data, source
// maps for error stacks, a render cache and the drift check of a Go
// template against the component.
package component
