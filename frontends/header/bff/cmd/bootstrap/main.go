// Command bootstrap runs the header BFF: as an AWS Lambda function (collage
// build packages it as the bootstrap of the provided.al2023 runtime), or as
// a local HTTP server on $PORT when it is not inside Lambda.
package main

import (
	"os"

	"github.com/collage-dev/collage/adapters/lambda"
	header "github.com/collage-dev/collage/frontends/header/bff"
)

func main() { os.Exit(lambda.Main(header.New, os.Environ())) }
