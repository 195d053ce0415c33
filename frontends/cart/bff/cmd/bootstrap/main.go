// Command bootstrap runs the cart BFF: as an AWS Lambda function (collage
// build packages it as the bootstrap of the provided.al2023 runtime), or as
// a local HTTP server on $PORT when it is not inside Lambda.
package main

import (
	"os"

	"github.com/collage-dev/collage/adapters/lambda"
	cart "github.com/collage-dev/collage/frontends/cart/bff"
)

func main() { os.Exit(lambda.Main(cart.New, os.Environ())) }
