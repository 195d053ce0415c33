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

TMP=$(mktemp -d -t collage-replicas-bench-XXXXXX)
LOGS=$TMP
source bench/lib.sh
trap 'stop_servers; rm -rf "$TMP"' EXIT
need wrk redis-server

say "building this checkout ($(git rev-parse --short HEAD)) into $TMP"
go build -o "$TMP/collage" ./cmd/shop
"$TMP/collage" build --out "$TMP/dist" --lambda=false >"$TMP/build.log" 2>&1 || { cat "$TMP/build.log"; die "collage build failed"; }

if (exec 3<>"/dev/tcp/127.0.0.1/$REDIS_PORT") 2>/dev/null; then die "port $REDIS_PORT is in use"; fi
redis-server --bind 127.0.0.1 --port "$REDIS_PORT" --save '' --appendonly no --dir "$TMP" >"$TMP/redis.log" 2>&1 &
PIDS+=($!)
for _ in $(seq 50); do
  if [ "$(redis-cli -p "$REDIS_PORT" ping 2>/dev/null)" = PONG ]; then break; fi
  sleep 0.1
done
[ "$(redis-cli -p "$REDIS_PORT" ping 2>/dev/null)" = PONG ] || { cat "$TMP/redis.log"; die "redis-server did not answer on port $REDIS_PORT"; }

COLLAGE_ADMIN_TOKEN=bench-replicas-admin-secret \
  start embedded $((BASE + 1)) "$TMP/collage" serve --config collage.yaml --dist "$TMP/dist" --data "$TMP/embedded" \
  --addr 127.0.0.1:$((BASE + 1))
COLLAGE_ADMIN_TOKEN=bench-replicas-admin-secret \
  start redis $((BASE + 2)) "$TMP/collage" serve --config collage.yaml --dist "$TMP/dist" --data "$TMP/cache" \
  --redis "redis://127.0.0.1:$REDIS_PORT" --addr 127.0.0.1:$((BASE + 2))
ready embedded
ready redis
versions() { curl -s "$1" | grep -o '<meta name="collage-versions" content="[^"]*">'; }
[ -n "$(versions "${URL[redis]}")" ] || die "the page of the Redis shell names no versions"
[ "$(versions "${URL[redis]}")" = "$(versions "${URL[embedded]}")" ] || die "the two shells serve other versions"
grep -q '"status":"ok"' <(curl -s "http://127.0.0.1:$((BASE + 2))/_collage/health") || die "the Redis shell is not healthy"

measure embedded redis
medians store embedded redis
awk -v a="$MED_redis" -v b="$MED_embedded" 'BEGIN {printf "\nredis / embedded: %.3f\n", a / b}'
