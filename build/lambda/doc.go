// Package lambda packages BFFs for AWS Lambda: each BFF's main package is
// built into a static linux bootstrap for the provided.al2023 runtime and
// zipped as NAME.zip, and an AWS SAM template declares every function, so
// that `sam deploy` works from the output folder. The shell itself can be
// packaged too: ZipShell zips its bootstrap with collage.yaml, the layouts
// and the built assets as shell.zip, and Options.Shell declares its
// function behind a Function URL that streams (RESPONSE_STREAM).
//
// It uses the standard library only and shells out to the go command, with
// CGO off and -tags lambda.norpc -trimpath -ldflags="-s -w". A failed build
// leaves no half-written files: everything is made in a temporary folder and
// moved into place at the end.
package lambda
