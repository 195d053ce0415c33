// Command bootstrap runs the parity BFF the way every BFF's main does: in
// Lambda, or as a local HTTP server on $PORT. The parity tests build it.
package main

import (
	"os"

	"github.com/collage-dev/collage/adapters/lambda"
	"github.com/collage-dev/collage/tests/parity"
)

func main() { os.Exit(lambda.Main(parity.New, os.Environ())) }
