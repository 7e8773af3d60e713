# Wharf: the two commands of the README are `make synth` and `make test`.
# Both install what they need on a fresh machine and need no AWS account,
# no credentials and no Docker.

SHELL := /bin/bash
GO ?= go
export JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION := 20
# Platform config used by `make synth` (see docs/config.md).
CONFIG ?= apps/platform/wharf.example.yaml
STATICCHECK_VERSION := v0.8.2

.PHONY: deps node-deps go-deps postgres synth test test-consumer lint bench sandbox soak clean

deps: node-deps go-deps

# npm packages exactly as package-lock.json pins them; reinstalled only when
# the lock file changes.
node_modules/.package-lock.json: package-lock.json
	npm ci --no-audit --no-fund
node-deps: node_modules/.package-lock.json

go-deps:
	$(GO) mod download

# PostgreSQL server binaries for the database-manager tests (Debian package).
postgres:
	bash scripts/ensure-postgres.sh

synth: deps
	rm -rf cdk.out
	WHARF_CONFIG=$(CONFIG) npx cdk synth --quiet

test: deps postgres
	$(GO) test -count=1 ./...

lint: go-deps
	@out=$$(gofmt -l $$(git ls-files '*.go')); if [ -n "$$out" ]; then echo "gofmt needed:"; echo "$$out"; exit 1; fi
	$(GO) vet ./...
	$(GO) run honnef.co/go/tools/cmd/staticcheck@$(STATICCHECK_VERSION) ./...

bench: deps postgres
	bash bench/run.sh

clean:
	rm -rf cdk.out
