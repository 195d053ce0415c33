// Package runtime holds the client runtime that the shell links into every
// page: the <collage-slot> element that mounts frontends, and the event bus;
// and the dev client that collage dev links besides, which follows the dev
// server's events and shows the overlay of errors.
package runtime

import (
	"crypto/sha256"
	_ "embed"
	"encoding/hex"

	"github.com/collage-dev/collage/build"
)

var (
	//go:embed runtime.js
	source []byte
	//go:embed dev.js
	devSource []byte
)

// Source is the runtime's JavaScript.
func Source() []byte { return source }

// File is the runtime's content-hashed file name, served under
// /assets/_collage/.
var File = hashedName("runtime", source)

// Integrity is the runtime's subresource-integrity value.
var Integrity = build.Integrity(source)

// DevSource is the dev client's JavaScript.
func DevSource() []byte { return devSource }

// DevFile is the dev client's content-hashed file name, served under
// /assets/_collage/ by a shell in dev.
var DevFile = hashedName("dev", devSource)

// DevIntegrity is the dev client's subresource-integrity value.
var DevIntegrity = build.Integrity(devSource)

func hashedName(name string, data []byte) string {
	sum := sha256.Sum256(data)
	return name + "-" + hex.EncodeToString(sum[:])[:10] + ".js"
}
