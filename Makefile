# The two commands of the README: `make demo` and `make test`.

.PHONY: demo test check

# Every build and test runs on this Go toolchain (fetched by the go command
# from the module proxy when the installed go is older).
export GOTOOLCHAIN := go1.27.3

# Runs the demo shop on http://127.0.0.1:3000 with the embedded store.
demo: node_modules/.installed
	go run ./cmd/shop dev

# Installs what the tests need if it is missing, then runs them all.
test:
	./scripts/test.sh

# Format, vet and the import rules, without the tests.
check:
	./scripts/test.sh check

node_modules/.installed: package-lock.json
	npm ci --no-audit --no-fund
	touch $@
