#!/usr/bin/env bash
# Runs govulncheck on every package against a vulnerability database built
# locally from the golang.org/x/vulndb module (the module proxy serves it;
# the database's web host may not be reachable). Both are pinned, so the
# result changes only when someone moves these versions on purpose.
set -euo pipefail
export GOTOOLCHAIN=go1.27.3 # the toolchain every build and test uses
cd "$(dirname "$0")/.."

vulndb=v0.0.0-20261105234957-e22db6528018 # golang.org/x/vulndb, 2026-11-05
govulncheck=v1.9.0                         # golang.org/x/vuln

db="$(go env GOCACHE)/collage-vulndb-$vulndb"
if [ ! -f "$db/index/db.json" ]; then
  echo "building the vulnerability database from golang.org/x/vulndb@$vulndb"
  src=$(GOFLAGS=-mod=mod go mod download -json "golang.org/x/vulndb@$vulndb" | sed -n 's/^[[:space:]]*"Dir": "\(.*\)",$/\1/p')
  rm -rf "$db.tmp"
  go run "golang.org/x/vulndb/cmd/indexdb@$vulndb" -vulns "$src/data/osv" -out "$db.tmp"
  mv "$db.tmp" "$db"
fi
go run "golang.org/x/vuln/cmd/govulncheck@$govulncheck" -db "file://$db" ./...
