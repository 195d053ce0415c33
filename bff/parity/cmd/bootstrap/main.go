// Command bootstrap runs the parity BFF the way every BFF's main does: in
// Lambda, or as a local HTTP server on $PORT. The parity tests build it.
package main

import (
	"os"

	"github.com/collage-dev/collage/bff/lambda"
	"github.com/collage-dev/collage/bff/parity"
)

func main() { os.Exit(lambda.Main(parity.New, os.Environ())) }
