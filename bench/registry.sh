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

say() { printf '%s %s\n' "$(date -u +%H:%M:%S)" "$*"; }
die() { say "error: $*" >&2; exit 1; }

if ! command -v wrk >/dev/null 2>&1; then
  say "installing wrk (Debian package)"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq && apt-get install -y -qq wrk >/dev/null
fi

TMP=$(mktemp -d -t collage-registry-bench-XXXXXX)
PIDS=()
cleanup() {
  for pid in "${PIDS[@]}"; do kill -TERM "$pid" 2>/dev/null || true; done
  for pid in "${PIDS[@]}"; do
    for _ in $(seq 30); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    kill -KILL "$pid" 2>/dev/null || true
  done
  if [ -d "$TMP/old" ]; then git worktree remove --force "$TMP/old" || true; fi
  rm -rf "$TMP"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

say "building this checkout ($(git rev-parse --short HEAD)) and $OLD into $TMP"
go build -o "$TMP/new" ./cmd/collage
git worktree add --quiet --detach "$TMP/old" "$OLD"
(cd "$TMP/old" && go build -o "$TMP/static" ./cmd/collage)
"$TMP/new" build --out "$TMP/dist" --lambda=false >"$TMP/build.log" 2>&1 || { cat "$TMP/build.log"; die "collage build failed"; }

declare -A URL
# start KEY PORT CMD... runs a server on 127.0.0.1:PORT and waits until its page answers 200.
start() {
  local key=$1 port=$2
  shift 2
  local url=http://127.0.0.1:$port
  if curl -s -o /dev/null --max-time 1 "$url/"; then die "port $port is in use"; fi
  "$@" --addr "127.0.0.1:$port" >"$TMP/$key.log" 2>&1 &
  PIDS+=($!)
  for _ in $(seq 100); do
    if [ "$(curl -s -o /dev/null -w '%{http_code}' --max-time 1 "$url/")" = 200 ]; then
      URL[$key]=$url/
      return
    fi
    sleep 0.1
  done
  cat "$TMP/$key.log"
  die "$key did not serve / with 200 within 10 s"
}
start static $((BASE + 1)) "$TMP/static" serve --config collage.yaml --dist "$TMP/dist"
COLLAGE_ADMIN_TOKEN=bench-registry-admin-secret \
  start registry $((BASE + 2)) "$TMP/new" serve --config collage.yaml --dist "$TMP/dist" --data "$TMP/data"
grep -q 'name="collage-versions"' <(curl -s "${URL[registry]}") || die "the registry's page names no versions: not the registry build?"
if grep -q 'name="collage-versions"' <(curl -s "${URL[static]}"); then die "$OLD's page names versions: not the static design"; fi

# rps KEY SECONDS: wrk's requests per second on KEY; fails on errors or non-2xx answers.
rps() {
  local out=$TMP/wrk-$1.txt
  timeout $(($2 + 20)) wrk -t"$THREADS" -c"$CONNS" -d"$2"s --timeout 2s "${URL[$1]}" >"$out"
  if grep -qE 'Non-2xx|Socket errors' "$out"; then cat "$out" >&2; die "$1: errors under load"; fi
  awk '/^Requests\/sec:/ {print $2}' "$out"
}
median() { sort -g | awk '{v[NR]=$1} END {print (NR % 2) ? v[(NR+1)/2] : (v[NR/2]+v[NR/2+1])/2}'; }

say "load before: $(cut -d' ' -f1-3 /proc/loadavg) on $(nproc) cores"
say "warm-up: 2 s of wrk each"
rps static 2 >/dev/null
rps registry 2 >/dev/null
declare -A RUNS
for r in $(seq "$ROUNDS"); do
  for key in static registry; do
    v=$(rps "$key" "$DURATION")
    RUNS[$key]="${RUNS[$key]:-} $v"
    say "round $r: $key $v req/s"
  done
done
say "load after: $(cut -d' ' -f1-3 /proc/loadavg)"

printf '\n%-9s %10s   %s\n' server median "runs (req/s, wrk -t$THREADS -c$CONNS -d${DURATION}s on /)"
for key in static registry; do
  m=$(tr ' ' '\n' <<<"${RUNS[$key]}" | grep . | median)
  declare "MED_$key=$m"
  printf '%-9s %10.0f  %s\n' "$key" "$m" "${RUNS[$key]}"
done
awk -v a="$MED_registry" -v b="$MED_static" 'BEGIN {printf "\nregistry / static (%s): %.3f\n", "'"$OLD"'", a / b}'
