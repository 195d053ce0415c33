// Package frontends holds the demo shop's frontends, each in a folder of
// its own, and collage.d.ts: the types of the contract between the shell's
// client runtime and a frontend's entry module, which collage new copies
// into every project it writes.
package frontends

import _ "embed"

// Types is collage.d.ts.
//
//go:embed collage.d.ts
var Types string
