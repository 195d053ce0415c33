#!/usr/bin/env bash
# Installs the AWS Lambda Runtime Interface Emulator (aws-lambda-rie), which
# the Lambda tests and benchmarks run BFF bootstraps under, unless it is
# already there. It goes to $(go env GOPATH)/bin (or $GOBIN), where the
# tests look for it; the version is pinned in internal/emulator.
set -euo pipefail
export GOTOOLCHAIN=go1.27.3 # the toolchain every build and test uses
cd "$(dirname "$0")/.."
version=$(sed -n 's/^[[:space:]]*Version = "\(v[^"]*\)"$/\1/p' internal/emulator/emulator.go)
module=github.com/aws/aws-lambda-runtime-interface-emulator/cmd/aws-lambda-rie
bin=$(go env GOBIN)
[ -n "$bin" ] || bin="$(go env GOPATH | cut -d: -f1)/bin"
stamp="$bin/.aws-lambda-rie.version"
if [ -x "$bin/aws-lambda-rie" ] && [ "$(cat "$stamp" 2>/dev/null)" = "$version" ]; then
  echo "aws-lambda-rie $version is installed in $bin"
  exit 0
fi
echo "installing aws-lambda-rie $version into $bin"
GOBIN="$bin" CGO_ENABLED=0 go install "$module@$version"
echo "$version" > "$stamp"
