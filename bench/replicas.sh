#!/usr/bin/env bash
# Page throughput of `collage serve --redis` against `collage serve` on its
# embedded store: the request path reads an in-memory snapshot of the
# registry and never the store, so the two should be equal.
#
# One binary, this checkout's, serves the demo's collage.yaml and layouts
# and one demo build (collage build) twice: once with the embedded store
# under a temporary --data, once with the registry in a redis-server this
# script starts on a port of its own (nothing on disk) and its files cached
# under another --data. Each imports the build into its empty registry.
# wrk loads / on each in turn, ROUNDS rounds alternating; the table shows
# each run and the medians, and the last line the ratio redis / embedded.
#
# Usage: bench/replicas.sh        (about 70 s with the defaults)
# Settings, from the environment:
#   BENCH_ROUNDS=3          rounds
#   BENCH_DURATION=10       seconds of each wrk run
#   BENCH_THREADS=2         wrk -t
#   BENCH_CONNS=64          wrk -c
#   BENCH_PORT_BASE=18500   ports used: BASE+1, BASE+2 (the shells), BASE+3 (redis-server)
# Everything listens on 127.0.0.1; the servers and their files go on exit.
set -euo pipefail
export GOTOOLCHAIN=go1.27.3 # the toolchain every build and test uses
cd "$(dirname "$0")/.."

ROUNDS=${BENCH_ROUNDS:-3}
DURATION=${BENCH_DURATION:-10}
THREADS=${BENCH_THREADS:-2}
CONNS=${BENCH_CONNS:-64}
BASE=${BENCH_PORT_BASE:-18500}
REDIS_PORT=$((BASE + 3))

say() { printf '%s %s\n' "$(date -u +%H:%M:%S)" "$*"; }
die() { say "error: $*" >&2; exit 1; }

for pkg in wrk redis-server; do
  if ! command -v "$pkg" >/dev/null 2>&1; then
    say "installing $pkg (Debian package)"
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq && apt-get install -y -qq "$pkg" >/dev/null
  fi
done

TMP=$(mktemp -d -t collage-replicas-bench-XXXXXX)
PIDS=()
cleanup() {
  for pid in "${PIDS[@]}"; do kill -TERM "$pid" 2>/dev/null || true; done
  for pid in "${PIDS[@]}"; do
    for _ in $(seq 30); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    kill -KILL "$pid" 2>/dev/null || true
  done
  rm -rf "$TMP"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

say "building this checkout ($(git rev-parse --short HEAD)) into $TMP"
go build -o "$TMP/collage" ./cmd/collage
"$TMP/collage" build --out "$TMP/dist" --lambda=false >"$TMP/build.log" 2>&1 || { cat "$TMP/build.log"; die "collage build failed"; }

if (exec 3<>"/dev/tcp/127.0.0.1/$REDIS_PORT") 2>/dev/null; then die "port $REDIS_PORT is in use"; fi
redis-server --bind 127.0.0.1 --port "$REDIS_PORT" --save '' --appendonly no --dir "$TMP" >"$TMP/redis.log" 2>&1 &
PIDS+=($!)
for _ in $(seq 50); do
  if [ "$(redis-cli -p "$REDIS_PORT" ping 2>/dev/null)" = PONG ]; then break; fi
  sleep 0.1
done
[ "$(redis-cli -p "$REDIS_PORT" ping 2>/dev/null)" = PONG ] || { cat "$TMP/redis.log"; die "redis-server did not answer on port $REDIS_PORT"; }

declare -A URL
# start KEY PORT CMD... runs a shell on 127.0.0.1:PORT and waits until its page answers 200.
start() {
  local key=$1 port=$2
  shift 2
  local url=http://127.0.0.1:$port
  if curl -s -o /dev/null --max-time 1 "$url/"; then die "port $port is in use"; fi
  COLLAGE_ADMIN_TOKEN=bench-replicas-admin-secret "$@" --addr "127.0.0.1:$port" >"$TMP/$key.log" 2>&1 &
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
start embedded $((BASE + 1)) "$TMP/collage" serve --config collage.yaml --dist "$TMP/dist" --data "$TMP/embedded"
start redis $((BASE + 2)) "$TMP/collage" serve --config collage.yaml --dist "$TMP/dist" --data "$TMP/cache" \
  --redis "redis://127.0.0.1:$REDIS_PORT"
versions() { curl -s "$1" | grep -o '<meta name="collage-versions" content="[^"]*">'; }
[ -n "$(versions "${URL[redis]}")" ] || die "the page of the Redis shell names no versions"
[ "$(versions "${URL[redis]}")" = "$(versions "${URL[embedded]}")" ] || die "the two shells serve other versions"
grep -q '"status":"ok"' <(curl -s "http://127.0.0.1:$((BASE + 2))/_collage/health") || die "the Redis shell is not healthy"

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
rps embedded 2 >/dev/null
rps redis 2 >/dev/null
declare -A RUNS
for r in $(seq "$ROUNDS"); do
  # Each round starts at the other shell, so that drift spreads over both.
  if ((r % 2)); then order="embedded redis"; else order="redis embedded"; fi
  for key in $order; do
    v=$(rps "$key" "$DURATION")
    RUNS[$key]="${RUNS[$key]:-} $v"
    say "round $r: $key $v req/s"
  done
done
say "load after: $(cut -d' ' -f1-3 /proc/loadavg)"

printf '\n%-9s %10s   %s\n' store median "runs (req/s, wrk -t$THREADS -c$CONNS -d${DURATION}s on /)"
for key in embedded redis; do
  m=$(tr ' ' '\n' <<<"${RUNS[$key]}" | grep . | median)
  declare "MED_$key=$m"
  printf '%-9s %10.0f  %s\n' "$key" "$m" "${RUNS[$key]}"
done
awk -v a="$MED_redis" -v b="$MED_embedded" 'BEGIN {printf "\nredis / embedded: %.3f\n", a / b}'
