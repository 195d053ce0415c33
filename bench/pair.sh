#!/usr/bin/env bash
# Paired runs of one change: `collage serve` of this checkout against the
# same command at an earlier commit, and nginx with server-side includes,
# on the page of bench/run.sh over HTTP fragments (--no-collapse
# --fragment-cache 0, as row (a) there). Each round runs wrk on the three
# servers one after the other, so the machine's drift falls on all three
# alike; the ratios of one round are steadier on a shared, noisy machine
# than the ratio of medians of bench/run.sh, where a round spreads over
# eleven servers.
#
# Usage: bench/pair.sh          (about 2 minutes with the defaults)
# Settings, from the environment:
#   BENCH_OLD=6d2c570       the commit to compare with (a git revision)
#   BENCH_ROUNDS=6          rounds
#   BENCH_DURATION=5        seconds of each wrk run
#   BENCH_THREADS=2         wrk -t
#   BENCH_CONNS=64          wrk -c
#   BENCH_DELAYS=0,0,0,0    the fragments' delays (bench/fragserver)
#   BENCH_PORT_BASE=18400   ports used: BASE+1 … BASE+4
# Everything listens on 127.0.0.1; the servers and the worktree go on exit.
set -euo pipefail
export GOTOOLCHAIN=go1.27.3 # the toolchain every build and test uses
cd "$(dirname "$0")/.."

OLD=${BENCH_OLD:-6d2c570}
ROUNDS=${BENCH_ROUNDS:-6}
DURATION=${BENCH_DURATION:-5}
THREADS=${BENCH_THREADS:-2}
CONNS=${BENCH_CONNS:-64}
DELAYS=${BENCH_DELAYS:-0,0,0,0}
BASE=${BENCH_PORT_BASE:-18400}

TMP=$(mktemp -d -t collage-pair-bench-XXXXXX)
chmod 755 "$TMP" # nginx's workers, not root, read its page
LOGS=$TMP
source bench/lib.sh
trap cleanup_tmp EXIT
need wrk
NGINX=$(need_nginx)

say "building this checkout ($(git rev-parse --short HEAD)) and $OLD into $TMP"
go build -o "$TMP/new-collage" "$COLLAGE_MAIN"
go build -o "$TMP/fragserver" ./bench/fragserver
git worktree add --quiet --detach "$TMP/old" "$OLD"
(cd "$TMP/old" && go build -o "$TMP/old-collage" "$COLLAGE_MAIN")
install_exe "$TMP/new-collage" "$TMP/old-collage" # as an install writes them (bench/lib.sh)

frags=127.0.0.1:$((BASE + 1))
start frag $((BASE + 1)) "$TMP/fragserver" --addr "$frags" --delays "$DELAYS"
ready frag header/_fragment
for key in old new; do
  port=$((BASE + 2)) bin=$TMP/old-collage
  if [ $key = new ]; then port=$((BASE + 3)) bin=$TMP/new-collage; fi
  collage_config "$TMP/$key" "http://$frags"
  start $key $port "$bin" serve --config "$TMP/$key/collage.yaml" --dist "$TMP/$key/dist" --data "$TMP/$key/data" \
    --addr 127.0.0.1:$port --no-collapse --fragment-cache 0
done
nginx_config "$TMP/n" $((BASE + 4)) "$frags"
start n $((BASE + 4)) "$NGINX" -p "$TMP/n" -c "$TMP/n/nginx.conf" -e "$TMP/n/error.log"
for key in old new n; do ready $key; done

# cpu_per_page KEY: one wrk run on KEY (rps, in bench/lib.sh); prints
# req/s and the server's CPU µs per page over it.
cpu_per_page() {
  local t0 t1 r n
  read -r t0 _ <<<"$(ticks "${PID[$1]}")"
  r=$(rps "$1" "$DURATION")
  read -r t1 _ <<<"$(ticks "${PID[$1]}")"
  n=$(awk '/requests in/ {print $1}' "$LOGS/wrk-$1.txt")
  awk -v r="$r" -v n="$n" -v t=$((t1 - t0)) -v hz="$(getconf CLK_TCK)" 'BEGIN {printf "%.0f %.1f", r, t * 1e6 / hz / n}'
}

say "load before: $(cut -d' ' -f1-3 /proc/loadavg) on $(nproc) cores; warm-up: 2 s of wrk each"
for key in old new n; do timeout 30 wrk -t"$THREADS" -c"$CONNS" -d2s "${URL[$key]}" >/dev/null; done
printf '\n%s\n\n' "Rounds of \`wrk -t$THREADS -c$CONNS -d${DURATION}s\` on each, fragments delayed $DELAYS ms; CPU µs/page is the server's user + system time over its run, per page (nginx: master and workers)."
echo "| round | $OLD: req/s, CPU µs/page | $(git rev-parse --short HEAD): req/s, CPU µs/page | nginx: req/s, CPU µs/page | $OLD / nginx CPU | $(git rev-parse --short HEAD) / nginx CPU |"
echo "|---|---:|---:|---:|---:|---:|"
declare -A CPU RPS
for r in $(seq "$ROUNDS"); do
  for key in old new n; do
    read -r RPS[$key] CPU[$key] <<<"$(cpu_per_page $key)"
  done
  awk -v r="$r" -v ro="${RPS[old]}" -v co="${CPU[old]}" -v rn="${RPS[new]}" -v cn="${CPU[new]}" -v rx="${RPS[n]}" -v cx="${CPU[n]}" \
    'BEGIN {printf "| %d | %d, %.0f | %d, %.0f | %d, %.0f | %.2f× | %.2f× |\n", r, ro, co, rn, cn, rx, cx, co / cx, cn / cx}' | tee -a "$TMP/rows"
done
# The medians of the rounds' ratios: CPU per page and req/s against nginx's.
awk -F'|' '{
  split($3, o, ","); split($4, w, ","); split($5, x, ",")
  co[NR] = o[2] / x[2]; cn[NR] = w[2] / x[2]; ro[NR] = o[1] / x[1]; rn[NR] = w[1] / x[1]
} function med(a, n,   i, j, t) {
  for (i = 1; i <= n; i++) for (j = i + 1; j <= n; j++) if (a[j] < a[i]) { t = a[i]; a[i] = a[j]; a[j] = t }
  return (n % 2) ? a[(n + 1) / 2] : (a[n / 2] + a[n / 2 + 1]) / 2
} END {
  printf "\nmedians of the rounds: CPU per page %.2f× nginx'"'"'s before, %.2f× after; req/s %.2f× nginx'"'"'s before, %.2f× after\n", med(co, NR), med(cn, NR), med(ro, NR), med(rn, NR)
}' "$TMP/rows"
rss() { read -r p f <<<"$(peak_rss "$1")"; awk -v p="$p" -v f="$f" 'BEGIN {printf "%.1f MB (%.1f from files)", p / 1024, f / 1024}'; }
echo "peak RSS: $OLD $(rss "${PID[old]}"), this checkout $(rss "${PID[new]}"), nginx $(rss "${PID[n]}")"
say "load after: $(cut -d' ' -f1-3 /proc/loadavg)"
