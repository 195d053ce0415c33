#!/usr/bin/env bash
# Checks the import rule, in every package's tests too:
#
#  1. The core packages (the root of shell/, bff/ and build/, and shell/api,
#     shell/cache, shell/compose, shell/dev, shell/layout, shell/invoke,
#     shell/registry, shell/replica, shell/runtime)
#     import only the standard library, golang.org/x and this module's
#     packages that link no third-party module.
#  2. Each third-party module is imported by one package of this module only.
#  3. An adapter (a package that imports a third-party module) imports no other
#     adapter, directly or through another package of this module.
#  4. Adapters live under adapters/, each named for what it adapts: a package
#     that imports a third-party module anywhere else breaks the rule.
#
# golang.org/x is the standard library's extension here: it makes no adapter.
# Exempt from 3: the packages that wire adapters together, cli/ and those under cmd/ and
# bench/ and any .../cmd/ folder; and a test's import of a package that only
# tests import (and its own cmd/), such as tests/parity, the fixture that runs
# one table of requests through every transport and so links all of them.
# Each complaint names the file, the import and the rule.
set -euo pipefail
export GOTOOLCHAIN=go1.27.3 # the toolchain every build and test uses
cd "$(dirname "$0")/.."
mod=$(go list -m)
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

# Every package the module's code and tests reach, and its module ("std" for
# the standard library); then each package of the module with its imports.
go list -deps -test -f '{{if not .ForTest}}{{.ImportPath}}|{{if .Standard}}std{{else}}{{with .Module}}{{.Path}}{{end}}{{end}}{{end}}' ./... |
  grep -v '^$' | sort -u >"$tmp/modules"
go list -f '{{.ImportPath}}|{{.Dir}}|{{join .Imports " "}}|{{join .TestImports " "}}|{{join .XTestImports " "}}|{{join .Deps " "}}' ./... >"$tmp/packages"

# The checks print: directory|import|tests or not|what is wrong.
awk -F'|' -v mod="$mod" '
  function thirdparty(p) { return p in module && module[p] != "std" && module[p] != mod && module[p] !~ /^golang\.org\/x\// }
  function short(p) { return substr(p, 1, length(mod) + 1) == mod "/" ? substr(p, length(mod) + 2) : p }
  function wiring(p) { p = short(p); return p ~ /^(cli|cmd|bench)(\/|$)/ || p ~ /\/cmd(\/|$)/ }
  # links returns the first third-party module p or its dependencies import, or "".
  function links(p,   i, n, d) {
    if (thirdparty(p)) return module[p]
    n = split(imports[p], d, " ")
    for (i = 1; i <= n; i++) if (thirdparty(d[i])) return module[d[i]]
    n = split(deps[p], d, " ")
    for (i = 1; i <= n; i++) if (thirdparty(d[i])) return module[d[i]]
    return ""
  }
  # viaAdapter returns the adapter other than self that p is or depends on, or "".
  function viaAdapter(p, self,   i, n, d) {
    if (p != self && p in adapter) return p
    n = split(deps[p], d, " ")
    for (i = 1; i <= n; i++) if (d[i] != self && d[i] in adapter) return d[i]
    return ""
  }
  function complain(p, imp, test, msg) { print dir[p] "|" imp "|" test "|" msg; bad = 1 }

  FILENAME == ARGV[1] { module[$1] = $2; next }
  {
    pkgs[++np] = $1; dir[$1] = $2; imports[$1] = $3; tests[$1] = $4 " " $5; deps[$1] = $6
    n = split($3, a, " ")
    for (i = 1; i <= n; i++) importedBy[a[i]] = importedBy[a[i]] " " $1
  }
  END {
    split("shell bff build shell/api shell/cache shell/compose shell/dev shell/layout shell/invoke shell/registry shell/replica shell/runtime", c, " ")
    for (i in c) core[mod "/" c[i]] = 1
    for (k = 1; k <= np; k++) {
      p = pkgs[k]
      if (wiring(p)) continue
      n = split(imports[p], a, " ")
      for (i = 1; i <= n; i++) if (thirdparty(a[i])) { adapter[p] = 1; break }
      if ((p in adapter) && short(p) !~ /^adapters\//)
        complain(p, a[i], 0, short(p) " imports the module " module[a[i]] " but is not under adapters/: a package that adapts a third-party module lives there")
    }
    # A package only tests import: no package but its own cmd/ imports it.
    for (k = 1; k <= np; k++) {
      p = pkgs[k]; testOnly[p] = 1
      n = split(importedBy[p], a, " ")
      for (i = 1; i <= n; i++) if (index(a[i], p "/cmd/") != 1) delete testOnly[p]
    }
    # Imports first, then tests: a module belongs to the package that imports it.
    for (t = 0; t <= 1; t++) for (k = 1; k <= np; k++) {
      p = pkgs[k]
      n = split(t ? tests[p] : imports[p], a, " ")
      for (i = 1; i <= n; i++) {
        imp = a[i]
        if (imp == p || module[imp] == "std") continue
        if (p in core) {
          if (thirdparty(imp)) what = "the module " module[imp]
          else if ((m = links(imp)) != "") what = short(imp) ", which links " m
          else continue
          complain(p, imp, t, short(p) " is a core package: it imports " what \
            "; the core uses only the standard library, golang.org/x and packages of this module that link no third-party module")
          continue
        }
        if (thirdparty(imp)) {
          m = module[imp]
          if (!(m in owner)) owner[m] = p
          else if (owner[m] != p && !((m, p) in told)) {
            told[m, p] = 1
            complain(p, imp, t, m " is imported by " short(owner[m]) " and by " short(p) ": each third-party module has one adapter package")
          }
          continue
        }
        if (!(p in adapter) || (t && imp in testOnly)) continue
        if ((o = viaAdapter(imp, p)) != "")
          complain(p, imp, t, "the adapter " short(p) " imports " (o == imp ? "the adapter " short(o) : short(imp) ", which imports the adapter " short(o)) \
            ": adapters do not know about each other (only cmd/ and bench/ wire them together)")
      }
    }
    exit bad
  }
' "$tmp/modules" "$tmp/packages" >"$tmp/complaints" && exit 0

# Name the files that hold each import at fault.
while IFS='|' read -r d imp test msg; do
  if [ "$test" = 1 ]; then files=$(find "$d" -maxdepth 1 -name '*_test.go')
  else files=$(find "$d" -maxdepth 1 -name '*.go' ! -name '*_test.go'); fi
  at=$(grep -l -F -- "\"$imp\"" $files 2>/dev/null || true)
  for f in ${at:-$d}; do echo "${f#"$PWD"/}: imports $imp: $msg"; done
done <"$tmp/complaints" | sort -u
echo "the import rule is broken: see above (the rule is at the top of scripts/imports.sh)" >&2
exit 1
