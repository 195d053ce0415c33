// Package components tests server-rendered components end to end, on the
// demo's own frontends: collage build's server bundle, rendered in
// adapters/quickjs with the data of the demo's BFFs, against the HTML
// Node's preact-render-to-string makes of the same component and data.
package components
