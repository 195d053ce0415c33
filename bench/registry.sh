#!/usr/bin/env bash
# Page throughput of `collage serve` from its registry against the same page
# served by collage before the registry (commit db807a6, which served a
# static dist/ it loaded once at start): the request path reads an
# in-memory snapshot and never the store, so the two should be equal.
#
# Both binaries are built here: this checkout's, and db807a6's from a
# temporary git worktree. Both serve the demo's collage.yaml and layouts and
# one demo build (collage build, from this checkout): the new one imports
# it into an empty registry under a temporary --data. wrk loads / on each in
# turn, ROUNDS rounds alternating; the table shows each run and the
# medians, and the last line the ratio registry / static.
#
# Usage: bench/registry.sh        (about 70 s with the defaults)
# Settings, from the environment:
#   BENCH_ROUNDS=3          rounds
#   BENCH_DURATION=10       seconds of each wrk run
#   BENCH_THREADS=2         wrk -t
#   BENCH_CONNS=64          wrk -c
#   BENCH_OLD=db807a6       the commit of the static design
#   BENCH_PORT_BASE=18300   ports used: BASE+1, BASE+2
# Everything listens on 127.0.0.1; the servers and the worktree go on exit.
set -euo pipefail
export GOTOOLCHAIN=go1.27.3 # the toolchain every build and test uses
cd "$(dirname "$0")/.."

ROUNDS=${BENCH_ROUNDS:-3}
DURATION=${BENCH_DURATION:-10}
THREADS=${BENCH_THREADS:-2}
CONNS=${BENCH_CONNS:-64}
OLD=${BENCH_OLD:-db807a6}
BASE=${BENCH_PORT_BASE:-18300}

TMP=$(mktemp -d -t collage-registry-bench-XXXXXX)
LOGS=$TMP
source bench/lib.sh
trap cleanup_tmp EXIT
need wrk

say "building this checkout ($(git rev-parse --short HEAD)) and $OLD into $TMP"
go build -o "$TMP/new" ./cmd/shop
git worktree add --quiet --detach "$TMP/old" "$OLD"
(cd "$TMP/old" && go build -o "$TMP/static" ./cmd/collage)
"$TMP/new" build --out "$TMP/dist" --lambda=false >"$TMP/build.log" 2>&1 || { cat "$TMP/build.log"; die "collage build failed"; }

start static $((BASE + 1)) "$TMP/static" serve --config collage.yaml --dist "$TMP/dist" --addr 127.0.0.1:$((BASE + 1))
COLLAGE_ADMIN_TOKEN=bench-registry-admin-secret \
  start registry $((BASE + 2)) "$TMP/new" serve --config collage.yaml --dist "$TMP/dist" --data "$TMP/data" --addr 127.0.0.1:$((BASE + 2))
ready static
ready registry
grep -q 'name="collage-versions"' <(curl -s "${URL[registry]}") || die "the registry's page names no versions: not the registry build?"
if grep -q 'name="collage-versions"' <(curl -s "${URL[static]}"); then die "$OLD's page names versions: not the static design"; fi

measure static registry
medians server static registry
awk -v a="$MED_registry" -v b="$MED_static" 'BEGIN {printf "\nregistry / static (%s): %.3f\n", "'"$OLD"'", a / b}'
