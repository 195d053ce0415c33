// Package runtime holds the client runtime that the shell links into every
// page: the <collage-slot> element that mounts frontends, and the event bus.
package runtime

import (
	"crypto/sha256"
	_ "embed"
	"encoding/hex"

	"github.com/collage-dev/collage/build"
)

//go:embed runtime.js
var source []byte

// Source is the runtime's JavaScript.
func Source() []byte { return source }

// File is the runtime's content-hashed file name, served under
// /assets/_collage/.
var File = func() string {
	sum := sha256.Sum256(source)
	return "runtime-" + hex.EncodeToString(sum[:])[:10] + ".js"
}()

// Integrity is the runtime's subresource-integrity value.
var Integrity = build.Integrity(source)
