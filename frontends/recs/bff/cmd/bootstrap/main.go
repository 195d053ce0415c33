// Command bootstrap runs the recs BFF: as an AWS Lambda function (collage
// build packages it as the bootstrap of the provided.al2023 runtime), or as
// a local HTTP server on $PORT when it is not inside Lambda.
package main

import (
	"os"

	"github.com/collage-dev/collage/adapters/lambda"
	recs "github.com/collage-dev/collage/frontends/recs/bff"
)

func main() { os.Exit(lambda.Main(recs.New, os.Environ())) }
