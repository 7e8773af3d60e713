# Wharf: the two commands of the README are `make synth` and `make test`.
# Both install what they need on a fresh machine and need no AWS account,
# no credentials and no Docker.

SHELL := /bin/bash
GO ?= go
export JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION := 20
# The CDK CLI sends no telemetry and fetches no notices from here.
export CDK_DISABLE_CLI_TELEMETRY := true
# Platform config used by `make synth` (see docs/config.md).
CONFIG ?= apps/platform/wharf.example.yaml
WHARF_CONFIG ?= $(CONFIG)
STATICCHECK_VERSION := v0.8.2
# Go test timeout: the CDK tests synthesize whole platforms on 2 shared cores.
TEST_TIMEOUT ?= 30m

.PHONY: deps node-deps go-deps postgres redis chromium web-deps web-build web-test synth test lint bench bench-synth bench-tssynth bench-controlplane bench-dbmanager bench-sim bench-dashboard bench-cli sandbox sandbox-dashboard soak clean

deps: node-deps go-deps

# npm packages exactly as package-lock.json pins them; reinstalled only when
# the lock file changes.
node_modules/.package-lock.json: package-lock.json
	npm ci --no-audit --no-fund
node-deps: node_modules/.package-lock.json

# Go modules (the consumer test module in test/consumer needs a subset).
go-deps:
	$(GO) mod download

# PostgreSQL server binaries for the database-manager tests (Debian package).
postgres:
	bash scripts/ensure-postgres.sh

# Redis server binaries for the Redis construct's hostile-tenant test
# (Debian package).
redis:
	bash scripts/ensure-redis.sh

# Debian's Chromium for the dashboard's end-to-end test (playwright-core
# drives it and downloads no browser).
chromium:
	bash scripts/ensure-chromium.sh

# The dashboard's npm toolchain, exactly as web/package-lock.json pins it.
web/node_modules/.package-lock.json: web/package-lock.json
	cd web && npm ci --no-audit --no-fund
web-deps: web/node_modules/.package-lock.json

web-build: web-deps
	cd web && npm run build

# Type check and the data layer's unit tests (vitest).
web-test: web-deps
	cd web && npx tsc --noEmit && npx vitest run

# Synthesizes the platform in $(WHARF_CONFIG) into cdk.out. Template
# validation (findings #1) is on unless CDK_VALIDATION=false is set, which
# makes synth several times faster for the inner loop.
# It synthesizes into cdk.out.new and replaces cdk.out only on success, so a
# config error keeps the last good cloud assembly.
synth: deps
	rm -rf cdk.out.new
	WHARF_CONFIG=$(WHARF_CONFIG) npx cdk synth --quiet --no-notices --output cdk.out.new || { rm -rf cdk.out.new; exit 1; }
	rm -rf cdk.out && mv cdk.out.new cdk.out

# WHARF_E2E=1: a missing browser or site build fails the dashboard tests
# instead of skipping them.
test: deps postgres redis chromium web-build web-test
	WHARF_E2E=1 $(GO) test -count=1 -timeout $(TEST_TIMEOUT) ./...
	# The sample app is a module of its own (it is a repository's root).
	cd examples/hello && $(GO) test -count=1 ./...

lint: go-deps
	@out=$$(gofmt -l $$(git ls-files '*.go')); if [ -n "$$out" ]; then echo "gofmt needed:"; echo "$$out"; exit 1; fi
	$(GO) vet ./...
	$(GO) run honnef.co/go/tools/cmd/staticcheck@$(STATICCHECK_VERSION) ./...

# Benchmarks; results go to bench/out/ and are summarised by hand in
# docs/performance.md. BENCH_RUNS sets the number of cold synth runs,
# BENCH_COUNT the -count of the Go benchmarks.
BENCH_COUNT ?= 5
bench: bench-synth bench-controlplane bench-dbmanager bench-sim bench-cli

bench-synth: deps
	bash bench/run.sh

# The example platform's synth in Go against the same aws-cdk-lib calls made
# from plain JavaScript (what TypeScript compiles to), generated from the
# jsii protocol of one Go synth: fidelity check and side-by-side timings in
# bench/out/tssynth/ (bench/tssynth/README.md). Not part of `make bench`.
bench-tssynth: deps
	bash bench/tssynth/run.sh

bench-controlplane: go-deps
	BENCH_COUNT=$(BENCH_COUNT) bash bench/controlplane.sh

bench-dbmanager: go-deps postgres
	@mkdir -p bench/out
	$(GO) test -run '^$$' -bench . -count $(BENCH_COUNT) ./dbmanager ./internal/pgtest | tee bench/out/dbmanager.txt

# wharf --version start-up and `wharf info` against the test fakes.
bench-cli: deps
	@mkdir -p bench/out
	$(GO) test -run '^$$' -bench . -benchtime 20x -count $(BENCH_COUNT) ./cmd/wharf | tee bench/out/cli.txt

# Time to an interactive apps page in Chromium against the local fakes.
bench-dashboard: go-deps chromium web-build
	@mkdir -p bench/out
	$(GO) test -run '^$$' -bench AppsPage -benchtime 20x ./web/e2e | tee bench/out/dashboard.txt

bench-sim: go-deps
	@mkdir -p bench/out
	$(GO) test -run '^$$' -bench . -count $(BENCH_COUNT) ./controlplane ./controlplane/sim | tee bench/out/sim.txt

# Runs the control plane in the local sandbox (see docs/simulation.md).
sandbox: go-deps
	$(GO) run ./controlplane/sim/sandbox

# The dashboard against local fakes and a local OIDC provider: sign in as
# alice@example.com and watch a deploy play out (docs/dashboard.md).
sandbox-dashboard: go-deps web-build
	$(GO) run ./internal/dashfake/sandbox

# Soak: SOAK_SEEDS seeded runs of the simulator with faults injected.
# Replay one seed: go test ./controlplane/sim -run 'TestSeed$$' -seed N -v
SOAK_SEEDS ?= 5000
soak: go-deps
	$(GO) test -count=1 -timeout 60m -v ./controlplane/sim -run 'TestSeeds$$' -seeds $(SOAK_SEEDS)

clean:
	rm -rf cdk.out bench/out
