#!/usr/bin/env bash
# Runs every test of collage, with the race detector, and govulncheck.
# Installs what the tests need when it is missing: npm packages (npm ci),
# Debian's chromium and redis-server (started on 127.0.0.1:6379 when none
# answers there), and the AWS Lambda Runtime Interface Emulator (go
# install, pinned). With "check" it only runs the static checks.
set -euo pipefail
export GOTOOLCHAIN=go1.27.3 # the toolchain every build and test uses
cd "$(dirname "$0")/.."

step() { printf '\n== %s\n' "$*"; }

ensure_npm() {
  if [ ! -f node_modules/.installed ] || [ package-lock.json -nt node_modules/.installed ]; then
    step "npm ci"
    npm ci --no-audit --no-fund
    touch node_modules/.installed
  fi
}

apt_updated=
ensure_apt() { # ensure_apt PACKAGE: installs a Debian package when it is missing
  if ! dpkg -s "$1" >/dev/null 2>&1; then
    step "apt-get install $1"
    export DEBIAN_FRONTEND=noninteractive
    [ -n "$apt_updated" ] || { apt-get update -qq; apt_updated=1; }
    apt-get install -y -qq --no-install-recommends "$1" >/dev/null
  fi
}

# redis_answers reports whether a Redis answers PING on 127.0.0.1:6379.
redis_answers() {
  exec 3<>/dev/tcp/127.0.0.1/6379 2>/dev/null || return 1
  printf 'PING\r\n' >&3
  local reply
  read -r -t 2 reply <&3 || true
  exec 3>&-
  [ "${reply%$'\r'}" = "+PONG" ]
}

ensure_redis() {
  # tests/replicas start (and kill) redis-servers of their own.
  ensure_apt redis-server
  if redis_answers; then return; fi
  step "redis-server on 127.0.0.1:6379"
  # Nothing on disk: the tests' keys live as long as this server.
  redis-server --bind 127.0.0.1 --port 6379 --save '' --appendonly no --daemonize yes
  for _ in $(seq 50); do redis_answers && return; sleep 0.1; done
  echo "redis-server did not answer on 127.0.0.1:6379" >&2
  exit 1
}

checks() {
  step "gofmt"
  unformatted=$(gofmt -l $(git ls-files '*.go'))
  if [ -n "$unformatted" ]; then echo "not gofmt-ed:"; echo "$unformatted"; exit 1; fi
  step "go vet"
  go vet ./...
  (cd bench/baseline && go vet ./...) # a module of its own: ./... above stops at it
  step "import rules"
  ./scripts/imports.sh
}

if [ "${1:-}" = "check" ]; then checks; exit 0; fi

ensure_npm
ensure_apt chromium
ensure_redis
checks
step "typecheck frontends"
npm run --silent typecheck
step "aws-lambda-rie"
bash scripts/install-rie.sh
step "govulncheck"
./scripts/vulncheck.sh
step "go test -race"
go test -race -count=1 -timeout 30m ./...
(cd bench/baseline && go test -race -count=1 ./...)
step "browser tests"
node --test tests/browser/
