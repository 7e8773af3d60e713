#!/usr/bin/env bash
# Side-by-side synth of the example platform: the Go app (`make synth`)
# against a plain JavaScript program -- what the same stacks written in
# TypeScript compile to -- that makes the same aws-cdk-lib calls, generated
# from the jsii protocol of one Go synth (bench/tssynth/gen.js). See
# bench/tssynth/README.md; `make bench-tssynth` runs it.
#
#  1. setup (not timed): build the platform app, unpack the npm tarballs the
#     Go modules embed (aws-cdk-lib, constructs, cdk-nag, ...; the very
#     packages the jsii kernel loads) into $OUT/node_modules, record one Go
#     synth under JSII_DEBUG=1 and generate $OUT/app.js from it;
#  2. fidelity: synthesize both through the CDK CLI as `make synth` does and
#     compare the cloud assemblies file by file (TSSYNTH_CHECK=1 also
#     compares every primitive result with the Go app's);
#  3. timing: RUNS runs of each variant, alternating, every run a new
#     process tree; Go build cache, jsii package cache, Lambda binary cache
#     and platform binary cache warm. GNU time's wall and user+sys CPU
#     (children included); ratios.js pairs each run with the JavaScript run
#     of the same round.
#  4. phases: the Go app with its kernel protocol timestamped
#     (bench/tssynth/proxy.js) and the JavaScript program with its own marks;
#  5. start-up: `go run`, cdk.json's launcher (apps/platform/run.js) and the
#     built binary on a config that stops the app at once.
#
# No network: everything comes from the Go module cache and node_modules.
set -euo pipefail
cd "$(dirname "$0")/../.."
ROOT=$PWD
RUNS=${BENCH_RUNS:-5}
OFF_RUNS=${BENCH_OFF_RUNS:-3}
OUT=${TSSYNTH_OUT:-$ROOT/bench/out/tssynth}
CONFIG=apps/platform/wharf.example.yaml
export JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION=20 CDK_DISABLE_CLI_TELEMETRY=true WHARF_CONFIG=$CONFIG
CDK="$ROOT/node_modules/.bin/cdk"
[ -x "$CDK" ] || { echo "the CDK CLI is missing: run make deps" >&2; exit 1; }
if [ ! -x /usr/bin/time ]; then
  echo "installing GNU time (Debian package time)" >&2
  SUDO=""; [ "$(id -u)" -eq 0 ] || SUDO=sudo
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq time >/dev/null
fi
rm -rf "$OUT"; mkdir -p "$OUT"

# --- 1. setup -------------------------------------------------------------
echo "build apps/platform" >&2
go build -o "$OUT/platform" ./apps/platform
echo "unpack the jsii packages of the Go modules into $OUT/node_modules" >&2
for dir in $(go list -deps -f '{{with .Module}}{{.Dir}}{{end}}' ./apps/platform | sort -u); do
  for tgz in "$dir"/jsii/*.tgz; do
    [ -f "$tgz" ] || continue
    tmp=$(mktemp -d "$OUT/unpack.XXXX")
    tar xzf "$tgz" -C "$tmp" --strip-components=1
    name=$(node -p 'require(process.argv[1]).name' "$tmp/package.json")
    mkdir -p "$OUT/node_modules/$(dirname "$name")"
    mv "$tmp" "$OUT/node_modules/$name"
    echo "  $name $(node -p 'require(process.argv[1]).version' "$OUT/node_modules/$name/package.json")" >&2
  done
done
echo "record the jsii protocol of one Go synth (also fills the Lambda binary cache)" >&2
JSII_DEBUG=1 CDK_OUTDIR="$OUT/trace.out" "$OUT/platform" >/dev/null 2>"$OUT/jsii-debug.log"
node bench/tssynth/gen.js "$OUT/jsii-debug.log" "$OUT/app.js" 2>&1 | tee "$OUT/gen.txt" >&2
grep -E '^[<>] ' "$OUT/jsii-debug.log" | gzip > "$OUT/jsii-protocol.txt.gz"
rm -rf "$OUT/trace.out" "$OUT/jsii-debug.log"

machine() {
  echo "date: $(date -u +%Y-%m-%dT%H:%M:%SZ)"
  echo "cpu: $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ //') x $(nproc)"
  echo "go: $(go env GOVERSION); node: $(node --version); cdk cli: $("$CDK" --version 2>/dev/null | head -1)"
  echo "aws-cdk-lib: $(node -p 'require(process.argv[1]).version' "$OUT/node_modules/aws-cdk-lib/package.json")"
  echo "uptime at start: $(uptime)"
}
machine | tee "$OUT/machine.txt" >&2

# --- 2. fidelity ----------------------------------------------------------
echo "fidelity: both through the CDK CLI as make synth runs it (CDK_VALIDATION on)" >&2
"$CDK" synth --quiet --no-notices --output "$OUT/go.cdk.out" >/dev/null 2>"$OUT/go-synth.log" || { cat "$OUT/go-synth.log" >&2; exit 1; }
TSSYNTH_CHECK=1 "$CDK" synth --quiet --no-notices --app "node $OUT/app.js" --output "$OUT/js.cdk.out" >/dev/null 2>"$OUT/check.txt" \
  || { cat "$OUT/check.txt" >&2; exit 1; }
{
  grep '^tssynth:' "$OUT/check.txt" || echo "tssynth: no check summary (see check.txt)"
  echo "cdk synth (make synth's flags):"
  node bench/tssynth/compare.js "$OUT/go.cdk.out" "$OUT/js.cdk.out" || true
} | tee "$OUT/fidelity.txt" >&2

# --- 3. timing ------------------------------------------------------------
# run <label> <validation> <command...>: one timed run, appended to times.tsv.
printf 'label\tvalidation\trun\twall_s\tcpu_s\tmaxrss_kib\tload1\n' > "$OUT/times.tsv"
run() {
  local label=$1 val=$2 i=$3; shift 3
  local dir="$OUT/run-${label%% *}.out"
  rm -rf "$dir"
  local load; load=$(cut -d' ' -f1 /proc/loadavg)
  CDK_VALIDATION=$val CDK_OUTDIR="$dir" RUN_OUT="$dir" /usr/bin/time -f '%e %U %S %M' -o "$OUT/time.txt" "$@" >/dev/null 2>"$OUT/run.log" \
    || { echo "$label failed:" >&2; cat "$OUT/run.log" >&2; exit 1; }
  read -r wall user sys rss < <(tail -1 "$OUT/time.txt")
  printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$label" "$val" "$i" "$wall" "$(echo "$user + $sys" | bc)" "$rss" "$load" >> "$OUT/times.tsv"
  echo "  $label validation=$val run $i: ${wall}s wall, $(echo "$user + $sys" | bc)s cpu (load $load)" >&2
}
cli_go() { "$CDK" synth --quiet --no-notices --output "$RUN_OUT"; }
cli_gorun() { "$CDK" synth --quiet --no-notices --app "go run ./apps/platform" --output "$RUN_OUT"; }
cli_js() { "$CDK" synth --quiet --no-notices --app "node $OUT/app.js" --output "$RUN_OUT"; }
export -f cli_go cli_gorun cli_js; export CDK OUT
for val in true false; do
  n=$RUNS; [ "$val" = false ] && n=$OFF_RUNS
  for i in $(seq 1 "$n"); do
    run "cli-go (make synth: cdk synth, cdk.json's app)" "$val" "$i" bash -c cli_go
    run "cli-gorun (cdk synth --app 'go run ./apps/platform')" "$val" "$i" bash -c cli_gorun
    run "cli-js (cdk synth --app 'node app.js')" "$val" "$i" bash -c cli_js
    if [ "$val" = true ]; then
      run "app-go-run (go run ./apps/platform)" "$val" "$i" go run ./apps/platform
      run "app-go-cached (node apps/platform/run.js)" "$val" "$i" node apps/platform/run.js
      run "app-go-bin (prebuilt apps/platform)" "$val" "$i" "$OUT/platform"
      run "app-js (node app.js)" "$val" "$i" node "$OUT/app.js"
    fi
  done
done
node bench/tssynth/ratios.js "$OUT/times.tsv" | tee "$OUT/summary.txt" >&2
{
  echo "last timed runs, the built app and node app.js with CDK_OUTDIR (no CLI, so no version reporting):"
  node bench/tssynth/compare.js "$OUT/run-app-go-bin.out" "$OUT/run-app-js.out" || true
} | tee -a "$OUT/fidelity.txt" >&2

# --- 4. phases ------------------------------------------------------------
RT="$(go list -m -f '{{.Dir}}' github.com/aws/jsii-runtime-go)/internal/embedded/resources/bin/jsii-runtime.js"
phases_go() {
  local log=$1; rm -rf "$OUT/run.out"
  local t0; t0=$(date +%s%3N)
  TSSYNTH_T0=$t0 JSII_RUNTIME="node $ROOT/bench/tssynth/proxy.js $RT $log" CDK_OUTDIR="$OUT/run.out" "$OUT/platform" >/dev/null 2>&1
  echo "$(( $(date +%s%3N) - t0 )) process-exit" >> "$log"
}
phases_js() {
  local log=$1; rm -rf "$OUT/run.out" "$log"
  local t0; t0=$(date +%s%3N)
  TSSYNTH_T0=$t0 TSSYNTH_TIMING=$log CDK_OUTDIR="$OUT/run.out" node "$OUT/app.js" >/dev/null 2>&1
  echo "process-exit $(( $(date +%s%3N) - t0 ))" >> "$log"
}
echo "phases (CDK_VALIDATION=true), $RUNS runs each" >&2
for i in $(seq 1 "$RUNS"); do
  CDK_VALIDATION=true phases_go "$OUT/phases-go-$i.log"
  CDK_VALIDATION=true phases_js "$OUT/phases-js-$i.log"
done
node bench/tssynth/phases.js "$OUT" "$RUNS" | tee "$OUT/phases.txt" >&2
# --- 5. start-up of the app command -----------------------------------------
# The fixed cost before the app's own code: a config that does not exist
# stops the app at once, so only `go run`, the cached-binary launcher or
# nothing (the built binary) differ. STARTUP_RUNS rounds, alternating.
STARTUP_RUNS=${STARTUP_RUNS:-10}
printf 'variant\trun\twall_s\tcpu_s\n' > "$OUT/startup.tsv"
for i in $(seq 1 "$STARTUP_RUNS"); do
  for v in go-run launcher binary; do
    case $v in
      go-run) cmd=(go run ./apps/platform) ;;
      launcher) cmd=(node apps/platform/run.js) ;;
      binary) cmd=("$OUT/platform") ;;
    esac
    WHARF_CONFIG=/nonexistent /usr/bin/time -f '%e %U %S' -o "$OUT/time.txt" "${cmd[@]}" >/dev/null 2>&1 || true
    read -r wall user sys < <(tail -1 "$OUT/time.txt")
    printf '%s\t%s\t%s\t%s\n' "$v" "$i" "$wall" "$(echo "$user + $sys" | bc)" >> "$OUT/startup.tsv"
  done
done
node -e '
const rows = require("fs").readFileSync(process.argv[1], "utf8").trim().split("\n").slice(1).map((l) => l.split("\t"));
const med = (a) => { a = a.map(Number).sort((x, y) => x - y); const m = a.length; return m % 2 ? a[(m - 1) / 2] : (a[m / 2 - 1] + a[m / 2]) / 2; };
for (const v of ["go-run", "launcher", "binary"]) {
  const r = rows.filter((x) => x[0] === v);
  console.log(`start-up, ${v}, ${r.length} runs: wall median ${med(r.map((x) => x[2])).toFixed(2)} s, CPU median ${med(r.map((x) => x[3])).toFixed(2)} s`);
}' "$OUT/startup.tsv" | tee "$OUT/startup.txt" >&2

echo "uptime at end: $(uptime)" | tee -a "$OUT/machine.txt" >&2
rm -rf "$OUT"/run*.out "$OUT/time.txt" "$OUT/run.log"
echo "results in $OUT/ (summary.txt, fidelity.txt, phases.txt, times.tsv)" >&2
