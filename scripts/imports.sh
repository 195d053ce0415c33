#!/usr/bin/env bash
# Enforces DESIGN.md's architecture rule 1: the root packages of shell/, bff/
# and build/, and the composer, import only the standard library and this
# module; each third-party module is imported by exactly one package.
set -euo pipefail
export GOTOOLCHAIN=go1.27.3 # the toolchain every build and test uses
cd "$(dirname "$0")/.."
mod=$(go list -m)
fail=0

for pkg in ./shell ./bff ./build ./shell/compose ./shell/layout ./shell/invoke ./shell/registry ./shell/runtime; do
  for imp in $(go list -f '{{join .Imports "\n"}}' "$pkg"); do
    case "$imp" in
      "$mod"/*) ;;
      *.*/*) echo "$pkg imports $imp: core packages use only the standard library"; fail=1 ;;
    esac
  done
done

# Each third-party module path is imported by one package only.
go list -f '{{$p := .ImportPath}}{{range .Imports}}{{$p}} {{.}}{{"\n"}}{{end}}' ./... |
  awk -v mod="$mod" '$2 !~ "^"mod && $2 ~ /^[a-z0-9.-]+\.[a-z]+\// {
      split($2, parts, "/"); m = parts[1]"/"parts[2]"/"parts[3]
      if (!(m in first)) first[m] = $1
      else if (first[m] != $1 && !seen[m, $1]++) { print m " is imported by " first[m] " and " $1; bad = 1 }
    } END { exit bad }' || fail=1

exit $fail
