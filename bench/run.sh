#!/usr/bin/env bash
# Composition benchmark: one page of four ~2 KB fragments, served by
#   (a) collage serve, the binary users run ($COLLAGE_MAIN), fragments over
#       HTTP from bench/fragserver, --no-collapse --fragment-cache 0
#   (a+) the same with its defaults: collapsing and the fragment cache on
#   (n) nginx with server-side includes, the same fragments through an
#       upstream of keep-alive connections: the bar (a) is held to
#   (b) collage, fragments from in-process BFFs (bench/inproc)
#   (c) a naive fiber composer (parallel net/http GETs, page buffered)
#   (d) fiber serving the same page bytes as a static page
#   (e) a floor, not a composer: fiber composing on the request's goroutine,
#       no goroutine per fragment, no deadline of a slot's own (bench/baseline
#       --mode sequential), for scale against (a) and (n)
#   (f) the floor (e) pipelined: a page's GETs in one write on one
#       connection, the answers read in order (--mode pipelined)
# each with no fragment delay and with delays of 5/20/10/2 ms, measured in
# the same run, interleaved: closed loop with wrk (requests/s, the
# composer's CPU per page, its peak RSS), first byte and full page with
# bench/ttfb at low load, and (a), (a+), (n) and (c) under an open-loop
# load at half of (a)'s peak. Everything listens on 127.0.0.1, every load is bounded in
# time, and the servers are stopped on exit. wrk and nginx (Debian's
# nginx-light) are installed with apt-get when missing; nginx runs in the
# foreground with a config of its own under the results, not as a service.
#
# Usage: bench/run.sh        (about 7 minutes with the defaults)
# Settings, from the environment:
#   BENCH_ROUNDS=3       rounds; the tables show medians
#   BENCH_DURATION=5     seconds of each wrk run and of each open-loop run
#   BENCH_THREADS=2      wrk -t
#   BENCH_CONNS=64       wrk -c, no delay
#   BENCH_CONNS_SLOW=256 wrk -c, with delays: a closed loop of N connections
#                        cannot pass N / 20 ms pages a second, so 64 would
#                        measure the connection count, not the servers
#   BENCH_TTFB_N=200     sequential requests per server for first byte
#   BENCH_OPEN=1         0 skips the open-loop runs
#   BENCH_PORT_BASE=18100  ports used: BASE+1 … BASE+31
# Raw results and the table go to bench/results/DATE/ (gitignored).
set -euo pipefail
export GOTOOLCHAIN=go1.27.3 # the toolchain every build and test uses
cd "$(dirname "$0")/.."

ROUNDS=${BENCH_ROUNDS:-3}
DURATION=${BENCH_DURATION:-5}
THREADS=${BENCH_THREADS:-2}
CONNS=${BENCH_CONNS:-64}
CONNS_SLOW=${BENCH_CONNS_SLOW:-256}
TTFB_N=${BENCH_TTFB_N:-200}
TTFB_WARMUP=20
OPEN=${BENCH_OPEN:-1}
OPEN_WORKERS=256
BASE=${BENCH_PORT_BASE:-18100}
SLOW=5,20,10,2

RUN=$PWD/bench/results/$(date -u +%Y%m%dT%H%M%SZ)
BIN=$RUN/bin
mkdir -p "$BIN" "$RUN/log" "$RUN/wrk" "$RUN/cpu" "$RUN/rss" "$RUN/ttfb" "$RUN/open"

LOGS=$RUN/log
source bench/lib.sh
need wrk
NGINX=$(need_nginx)

say "building into $BIN"
go build -o "$BIN/collage" "$COLLAGE_MAIN"
go build -o "$BIN/" ./bench/inproc ./bench/fragserver ./bench/ttfb ./bench/report
(cd bench/baseline && go build -o "$BIN/baseline" .)
install_exe "$BIN"/* # as an install writes them (bench/lib.sh)

declare -A UPSTREAM

say "starting servers on 127.0.0.1:$((BASE + 1))-$((BASE + 31))"
start frag-fast $((BASE + 1)) "$BIN/fragserver" --addr 127.0.0.1:$((BASE + 1)) --delays 0,0,0,0
start frag-slow $((BASE + 2)) "$BIN/fragserver" --addr 127.0.0.1:$((BASE + 2)) --delays $SLOW
ready frag-fast header/_fragment
ready frag-slow header/_fragment
# (a) and (a+): collage serve as users run it, page log lines and metrics
# on, each with its own config, registry and log.
serve() { # serve KEY PORT FRAGMENTS FLAG...
  local key=$1 port=$2 frags=$3 dir=$RUN/$1
  shift 3
  collage_config "$dir" "http://$frags"
  start "$key" "$port" "$BIN/collage" serve --config "$dir/collage.yaml" --dist "$dir/dist" --data "$dir/data" \
    --addr "127.0.0.1:$port" "$@"
}
serve a-fast $((BASE + 11)) 127.0.0.1:$((BASE + 1)) --no-collapse --fragment-cache 0
serve a-slow $((BASE + 12)) 127.0.0.1:$((BASE + 2)) --no-collapse --fragment-cache 0
serve ac-fast $((BASE + 15)) 127.0.0.1:$((BASE + 1))
serve ac-slow $((BASE + 16)) 127.0.0.1:$((BASE + 2))
for v in fast slow; do
  port=$((BASE + 17)); frags=127.0.0.1:$((BASE + 1))
  if [ $v = slow ]; then port=$((BASE + 18)); frags=127.0.0.1:$((BASE + 2)); fi
  nginx_config "$RUN/n-$v" "$port" "$frags"
  start n-$v "$port" "$NGINX" -p "$RUN/n-$v" -c "$RUN/n-$v/nginx.conf" -e "$RUN/n-$v/error.log"
done
start b-fast $((BASE + 13)) "$BIN/inproc" --delays 0,0,0,0 --addr 127.0.0.1:$((BASE + 13))
start b-slow $((BASE + 14)) "$BIN/inproc" --delays $SLOW --addr 127.0.0.1:$((BASE + 14))
start c-fast $((BASE + 21)) "$BIN/baseline" --mode naive --frags "http://127.0.0.1:$((BASE + 1))" --layout bench/internal/frag/layout.html --addr 127.0.0.1:$((BASE + 21))
start c-slow $((BASE + 22)) "$BIN/baseline" --mode naive --frags "http://127.0.0.1:$((BASE + 2))" --layout bench/internal/frag/layout.html --addr 127.0.0.1:$((BASE + 22))
start e-fast $((BASE + 23)) "$BIN/baseline" --mode sequential --frags "http://127.0.0.1:$((BASE + 1))" --layout bench/internal/frag/layout.html --addr 127.0.0.1:$((BASE + 23))
start e-slow $((BASE + 24)) "$BIN/baseline" --mode sequential --frags "http://127.0.0.1:$((BASE + 2))" --layout bench/internal/frag/layout.html --addr 127.0.0.1:$((BASE + 24))
start f-fast $((BASE + 25)) "$BIN/baseline" --mode pipelined --frags "http://127.0.0.1:$((BASE + 1))" --layout bench/internal/frag/layout.html --addr 127.0.0.1:$((BASE + 25))
start f-slow $((BASE + 26)) "$BIN/baseline" --mode pipelined --frags "http://127.0.0.1:$((BASE + 2))" --layout bench/internal/frag/layout.html --addr 127.0.0.1:$((BASE + 26))
for key in a-fast a-slow ac-fast ac-slow n-fast n-slow b-fast b-slow c-fast c-slow e-fast e-slow f-fast f-slow; do ready "$key"; done
for v in fast slow; do
  for s in a ac n c e f; do UPSTREAM[$s-$v]=${PID[frag-$v]}; done
done
# (d) serves exactly what collage composes (only the nonce differs per request).
curl -fs --max-time 5 -o "$RUN/page.html" "${URL[b-fast]}"
# Every server composes the same bytes; they differ only in how.
for key in a-fast ac-fast n-fast c-fast e-fast f-fast a-slow ac-slow n-slow b-slow c-slow e-slow f-slow; do
  curl -fs --max-time 5 "${URL[$key]}" | cmp -s - "$RUN/page.html" || die "$key does not serve the page b-fast serves"
done
start d $((BASE + 31)) "$BIN/baseline" --mode static --page "$RUN/page.html" --addr 127.0.0.1:$((BASE + 31))
ready d

KEYS=(a-fast ac-fast n-fast b-fast c-fast e-fast f-fast d a-slow ac-slow n-slow b-slow c-slow e-slow f-slow)
cat >"$RUN/meta.env" <<EOF
DATE=$(date -u +%Y-%m-%dT%H:%MZ)
COMMAND=BENCH_ROUNDS=$ROUNDS BENCH_DURATION=$DURATION BENCH_THREADS=$THREADS BENCH_CONNS=$CONNS BENCH_CONNS_SLOW=$CONNS_SLOW BENCH_TTFB_N=$TTFB_N bench/run.sh
ROUNDS=$ROUNDS
DURATION=$DURATION
THREADS=$THREADS
CONNS=$CONNS
CONNS_SLOW=$CONNS_SLOW
TTFB_N=$TTFB_N
TTFB_WARMUP=$TTFB_WARMUP
OPEN_WORKERS=$OPEN_WORKERS
CPU=$(nproc) x $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ *//')
GO=$(go env GOVERSION)
WRK=$(wrk -v 2>&1 | head -1 | cut -d' ' -f1-2)
NGINX=$("$NGINX" -v 2>&1 | cut -d' ' -f3)
COMMIT=$(git describe --always --dirty 2>/dev/null || echo none)
LOAD_START=$(cut -d' ' -f1-3 /proc/loadavg)
EOF

wrk_run() { # wrk_run KEY SECONDS OUTFILE
  local conns=$CONNS
  case $1 in *-slow) conns=$CONNS_SLOW ;; esac
  timeout $(($2 + 20)) wrk -t"$THREADS" -c"$conns" -d"$2"s --timeout 2s --latency "${URL[$1]}" >"$3"
}
# cpu KEY: the ticks of KEY's server, of its fragment server (0 if none),
# the system's part of the server's, and the server's read and write
# system calls.
cpu() {
  local up=${UPSTREAM[$1]:-} server sys
  read -r server sys <<<"$(ticks "${PID[$1]}")"
  echo "$server $(if [ -n "$up" ]; then ticks "$up" | cut -d' ' -f1; else echo 0; fi) $sys $(syscalls "${PID[$1]}")"
}

say "warm-up: 1 s of wrk each"
for key in "${KEYS[@]}"; do wrk_run "$key" 1 /dev/null; done

for r in $(seq "$ROUNDS"); do
  # Each round starts at a different server, so drift in the machine's
  # speed spreads over all of them.
  n=${#KEYS[@]}
  for i in $(seq 0 $((n - 1))); do
    key=${KEYS[$(((i + r - 1) % n))]}
    out=$RUN/wrk/$key-r$r.txt
    read -r s0 u0 k0 r0 w0 <<<"$(cpu "$key")"
    wrk_run "$key" "$DURATION" "$out"
    read -r s1 u1 k1 r1 w1 <<<"$(cpu "$key")"
    # CPU the server (and its fragment server) used during the run, in
    # ticks of 1/CLK_TCK s: a cost per page that other load on the machine
    # disturbs less than requests/s.
    echo "$((s1 - s0)) $((u1 - u0)) $(getconf CLK_TCK) $((k1 - k0)) $((r1 - r0)) $((w1 - w0))" >"$RUN/cpu/$key-r$r.txt"
    # The peak resident set so far, in kB: it only grows, so the last
    # round's is the peak under load; and the part mapped from files.
    peak_rss "${PID[$key]}" >"$RUN/rss/$key.txt"
    say "round $r/$ROUNDS $key: $(grep -m1 Requests/sec "$out" | awk '{print $2}') req/s"
  done
done

say "first byte at low load: $TTFB_N sequential requests each"
for key in "${KEYS[@]}"; do
  timeout 300 "$BIN/ttfb" --url "${URL[$key]}" --n "$TTFB_N" --warmup "$TTFB_WARMUP" >"$RUN/ttfb/$key.json"
done
# The slowest fragment alone, straight from fragserver: what a page of the
# slow variant cannot beat, so page − this = the composition's overhead.
timeout 300 "$BIN/ttfb" --url "${URL[frag-slow]}product/_fragment" --n "$TTFB_N" --warmup "$TTFB_WARMUP" >"$RUN/ttfb/frag-slow-product.json"

if [ "$OPEN" != 0 ]; then
  for v in fast slow; do
    peak=$("$BIN/report" -peak "a-$v" "$RUN")
    rate=$((peak / 2))
    say "open loop, $v: $rate req/s (half of (a)'s $peak) against (a), (a+), (n) and (c)"
    for r in $(seq "$ROUNDS"); do
      for key in a-$v ac-$v n-$v c-$v; do
        timeout $((DURATION + 30)) "$BIN/ttfb" --url "${URL[$key]}" --rate "$rate" --duration "${DURATION}s" \
          --workers "$OPEN_WORKERS" >"$RUN/open/$key-r$r.json"
      done
    done
  done
fi

echo "LOAD_END=$(cut -d' ' -f1-3 /proc/loadavg)" >>"$RUN/meta.env"
"$BIN/report" "$RUN" >"$RUN/table.md"
cat "$RUN/table.md"
say "raw results in $RUN"
