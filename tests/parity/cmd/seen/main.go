// Command seen answers every Lambda event with what its handler saw of the
// request (parity.SeenHandler), through the same codec and runtime as a
// BFF's bootstrap. The tests of the real AWS events run it under the
// Lambda emulator; it only runs inside Lambda.
package main

import (
	"github.com/collage-dev/collage/adapters/lambda"
	"github.com/collage-dev/collage/tests/parity"
)

func main() { lambda.Start(parity.SeenHandler(), lambda.Options{}) }
