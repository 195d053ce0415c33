# bench/lib.sh: what the benchmark scripts share. Each script sources it
# from the repository's root, after it sets LOGS (the folder for the
# servers' logs and wrk's output) and, for rps and measure, THREADS, CONNS,
# ROUNDS and DURATION. Servers listen on 127.0.0.1 only; stop_servers
# ends them, and the EXIT trap set here calls it (a script that has more
# to clean sets its own trap, which calls it too).

# COLLAGE_MAIN is the Go package of the collage binary users run: the
# benchmarks build it from here and measure `collage serve` as it ships.
COLLAGE_MAIN=./cmd/collage

say() { printf '%s %s\n' "$(date -u +%H:%M:%S)" "$*"; }
die() { say "error: $*" >&2; exit 1; }

# install_exe FILE...: rewrites each executable as an install does (a copy
# in place of the file the linker wrote), then writes it out, so that each
# run starts from the page cache's state right after an install. That
# state moves what a process maps of its executable: the same file held
# 19.8 MB of file pages under wrk -c64 nine minutes and a benchmark run
# after it was written, 14.7 MB a quarter of an hour later, and a fresh
# copy of it 14.3 (2026-12-02; why was not found). nginx's files were
# installed long before.
install_exe() {
  local f
  for f in "$@"; do cp "$f" "$f.copy" && mv "$f.copy" "$f"; done
  sync "$@"
}

# need CMD...: installs each command that is missing, from the Debian
# package of its name.
need() {
  local pkg
  for pkg; do
    if ! command -v "$pkg" >/dev/null 2>&1; then
      say "installing $pkg (Debian package)"
      export DEBIAN_FRONTEND=noninteractive
      apt-get update -qq && apt-get install -y -qq "$pkg" >/dev/null
    fi
  done
}

# cleanup_tmp, the EXIT trap of a script that builds an earlier commit in
# the git worktree $TMP/old: stops the servers, then removes the worktree
# and $TMP.
cleanup_tmp() {
  stop_servers
  if [ -d "$TMP/old" ]; then git worktree remove --force "$TMP/old" || true; fi
  rm -rf "$TMP"
}

# need_nginx installs Debian's nginx-light when nginx is missing, and
# prints the path of its binary (/usr/sbin is not on every PATH).
need_nginx() {
  if ! command -v nginx >/dev/null 2>&1 && [ ! -x /usr/sbin/nginx ]; then
    say "installing nginx-light (Debian package)" >&2
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq >&2 && apt-get install -y -qq nginx-light >/dev/null
  fi
  command -v nginx || echo /usr/sbin/nginx
}

# PIDS are the servers started; stop_servers sends each SIGTERM, and
# SIGKILL to any still running 3 s later.
PIDS=()
stop_servers() {
  local pid
  for pid in "${PIDS[@]}"; do kill -TERM "$pid" 2>/dev/null || true; done
  for pid in "${PIDS[@]}"; do
    for _ in $(seq 30); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    kill -KILL "$pid" 2>/dev/null || true
  done
}
trap stop_servers EXIT
trap 'exit 130' INT TERM

declare -A URL PID
# start KEY PORT CMD... runs CMD, a server that listens on 127.0.0.1:PORT
# (CMD says so itself), its output in $LOGS/KEY.log; PID[KEY] is its
# process and URL[KEY] its page. ready waits for it.
start() {
  local key=$1 port=$2
  shift 2
  local url=http://127.0.0.1:$port
  if curl -s -o /dev/null --max-time 1 "$url/"; then die "port $port is in use"; fi
  "$@" >"$LOGS/$key.log" 2>&1 &
  PIDS+=($!)
  PID[$key]=$!
  URL[$key]=$url/
}

# ready KEY [PATH]: waits up to 10 s for the server of KEY to answer PATH
# (its page by default) with 200; else shows its log and fails.
ready() {
  local url=${URL[$1]}${2:-}
  for _ in $(seq 100); do
    if [ "$(curl -s -o /dev/null -w '%{http_code}' --max-time 1 "$url")" = 200 ]; then return 0; fi
    sleep 0.1
  done
  cat "$LOGS/$1.log"
  die "$url did not answer 200 within 10 s"
}

# rps KEY SECONDS: wrk's requests per second on the page of KEY; fails on
# errors or non-2xx answers.
rps() {
  local out=$LOGS/wrk-$1.txt
  timeout $(($2 + 20)) wrk -t"$THREADS" -c"$CONNS" -d"$2"s --timeout 2s "${URL[$1]}" >"$out"
  if grep -qE 'Non-2xx|Socket errors' "$out"; then cat "$out" >&2; die "$1: errors under load"; fi
  awk '/^Requests\/sec:/ {print $2}' "$out"
}

# median: the median of the numbers on standard input, one a line.
median() { sort -g | awk '{v[NR]=$1} END {print (NR % 2) ? v[(NR+1)/2] : (v[NR/2]+v[NR/2+1])/2}'; }

# measure KEY...: 2 s of wrk on each server to warm up, then ROUNDS
# rounds of DURATION s on each, each round starting at the next, so that
# drift in the machine's speed spreads over all; RUNS[KEY] gets the
# requests per second of each run.
declare -A RUNS
measure() {
  local keys=("$@") r i key v
  say "load before: $(cut -d' ' -f1-3 /proc/loadavg) on $(nproc) cores"
  say "warm-up: 2 s of wrk each"
  for key in "${keys[@]}"; do rps "$key" 2 >/dev/null; done
  for r in $(seq "$ROUNDS"); do
    for i in "${!keys[@]}"; do
      key=${keys[$(((i + r - 1) % ${#keys[@]}))]}
      v=$(rps "$key" "$DURATION")
      RUNS[$key]="${RUNS[$key]:-} $v"
      say "round $r: $key $v req/s"
    done
  done
  say "load after: $(cut -d' ' -f1-3 /proc/loadavg)"
}

# medians TITLE KEY...: the table of each server's median and runs, under
# a first column named TITLE; MED_KEY is set to each median.
medians() {
  local title=$1 key m
  shift
  printf '\n%-9s %10s   %s\n' "$title" median "runs (req/s, wrk -t$THREADS -c$CONNS -d${DURATION}s on /)"
  for key; do
    m=$(tr ' ' '\n' <<<"${RUNS[$key]}" | grep . | median)
    declare -g "MED_$key=$m"
    printf '%-9s %10.0f  %s\n' "$key" "$m" "${RUNS[$key]}"
  done
}

# tree PID: PID and its children (nginx's master and its workers).
tree() { echo "$1" $(pgrep -P "$1" || true); }

# ticks PID: the CPU time (user + system, in clock ticks of 1/CLK_TCK s)
# PID and its children have used, and of it the system's.
ticks() {
  local p u k n=0 s=0
  for p in $(tree "$1"); do
    read -r u k < <(awk '{print $14, $15}' "/proc/$p/stat")
    n=$((n + u + k)) s=$((s + k))
  done
  echo "$n $s"
}

# syscalls PID: the read and write system calls PID and its children
# have made (syscr and syscw of /proc/PID/io).
syscalls() {
  local p r w n=0 m=0
  for p in $(tree "$1"); do
    read -r r w < <(awk '/^syscr:/ {r = $2} /^syscw:/ {w = $2} END {print r, w}' "/proc/$p/io")
    n=$((n + r)) m=$((m + w))
  done
  echo "$n $m"
}

# peak_rss PID: the peak resident set (VmHWM, in kB) of PID plus that of
# each of its children, and the part of the resident set now that is
# mapped from files (RssFile: the executable's and libraries' pages, which
# VmHWM counts as soon as they are touched); pages the processes share
# count once per process.
peak_rss() {
  local p n=0 f=0
  for p in $(tree "$1"); do
    n=$((n + $(awk '/^VmHWM:/ {print $2}' "/proc/$p/status")))
    f=$((f + $(awk '/^RssFile:/ {print $2}' "/proc/$p/status")))
  done
  echo "$n $f"
}

# collage_config DIR FRAGMENTS writes DIR/collage.yaml: the benchmark page
# at /, each of its fragments' BFF an http:// target on the fragment
# server FRAGMENTS (NAME's fragment is FRAGMENTS/NAME/_fragment).
collage_config() {
  local dir=$1 base=$2 name
  mkdir -p "$dir/layouts"
  cp bench/internal/frag/layout.html "$dir/layouts/page.html"
  {
    echo "layouts: layouts"
    echo "routes:"
    echo "  /: page.html"
    echo "frontends:"
    for name in header product recs footer; do echo "  $name: { bff: \"$base/$name\" }"; done
  } >"$dir/collage.yaml"
}

# nginx_config DIR PORT FRAGMENTS writes DIR/nginx.conf: nginx with
# server-side includes serving the benchmark page on 127.0.0.1:PORT, each
# slot an include of http://FRAGMENTS/NAME/_fragment through an upstream
# of keep-alive connections, its fallback the include's stub when the
# fragment fails or takes over the slot's 1 s. Its access log waits in
# memory for up to 100 ms or 4 KiB, as collage serve's page log does
# (--log-flush), so that neither pays a write a page for its log.
nginx_config() {
  local dir=$1 port=$2 frags=$3
  mkdir -p "$dir/html" "$dir/tmp"
  sed -E 's|<collage-slot frontend="([a-z]+)" timeout="1s">(.*)</collage-slot>|<collage-slot frontend="\1"><!--# block name="\1" -->\2<!--# endblock --><!--# include virtual="/_fragments/\1/_fragment" stub="\1" --></collage-slot>|' \
    bench/internal/frag/layout.html >"$dir/html/page.html"
  cat >"$dir/nginx.conf" <<EOF
worker_processes 2;
daemon off;
pid $dir/nginx.pid;
error_log $dir/error.log warn;
events { worker_connections 4096; }
http {
  access_log $dir/access.log combined buffer=4k flush=100ms;
  client_body_temp_path $dir/tmp/body;
  proxy_temp_path $dir/tmp/proxy;
  fastcgi_temp_path $dir/tmp/fastcgi;
  uwsgi_temp_path $dir/tmp/uwsgi;
  scgi_temp_path $dir/tmp/scgi;
  upstream fragments {
    server $frags;
    keepalive 1024;
  }
  server {
    listen 127.0.0.1:$port;
    root $dir/html;
    location = / {
      ssi on;
      default_type text/html;
      charset utf-8;
      try_files /page.html =404;
    }
    location /_fragments/ {
      internal;
      proxy_pass http://fragments/;
      proxy_http_version 1.1;
      proxy_set_header Connection "";
      proxy_connect_timeout 1s;
      proxy_read_timeout 1s;
    }
  }
}
EOF
}
