// Command bootstrap runs the catalog BFF: as an AWS Lambda function (collage
// build packages it as the bootstrap of the provided.al2023 runtime), or as
// a local HTTP server on $PORT when it is not inside Lambda. Inside Lambda
// it renders the frontend's component itself, from the server bundle
// collage build put beside it.
package main

import (
	"os"

	"github.com/collage-dev/collage/adapters/lambda"
	"github.com/collage-dev/collage/adapters/quickjs"
	catalog "github.com/collage-dev/collage/frontends/catalog/bff"
)

func main() {
	os.Exit(lambda.Main(quickjs.WithServerBundle(catalog.New, quickjs.ExecutableDir()), os.Environ()))
}
