#!/usr/bin/env bash
# Synth benchmarks of the example platform; `make bench` runs this.
#
#  1. cold `make synth` (a new Go process and jsii kernel per run; Go build
#     cache and jsii package cache warm), BENCH_RUNS runs each with
#     CDK_VALIDATION on and off: wall time, peak RSS of the largest process
#     (GNU time) and peak RSS summed over the whole process tree (sampled);
#  2. in-process build + synth per stack with a warm jsii kernel
#     (BenchmarkSynth in apps/platform/assemble);
#  3. the number of jsii kernel calls of one synth (JSII_DEBUG trace).
#
# Results and the machine description go to bench/out/; docs/performance.md
# ("Synth") summarises them.
set -euo pipefail
cd "$(dirname "$0")/.."
RUNS=${BENCH_RUNS:-5}
GOBENCH_N=${BENCH_SYNTH_N:-3}
OUT=bench/out
mkdir -p "$OUT"
export JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION=20 CDK_DISABLE_CLI_TELEMETRY=true

if [ ! -x /usr/bin/time ]; then
  echo "installing GNU time (Debian package time)" >&2
  SUDO=""; [ "$(id -u)" -eq 0 ] || SUDO=sudo
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq time >/dev/null
fi

machine() {
  echo "date: $(date -u +%Y-%m-%dT%H:%M:%SZ)"
  echo "cpu: $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ //') x $(nproc)"
  echo "memory: $(awk '/MemTotal/ {printf "%.1f GiB", $2/1048576}' /proc/meminfo)"
  echo "kernel: $(uname -sr)"
  echo "go: $(go env GOVERSION)"
  echo "node: $(node --version)"
  echo "cdk cli: $(npx cdk --version 2>/dev/null | head -1)"
  echo "aws-cdk-lib: $(go list -m -f '{{.Version}}' github.com/aws/aws-cdk-go/awscdk/v2)"
  echo "load average at start: $(cut -d' ' -f1-3 /proc/loadavg)"
}
machine | tee "$OUT/machine.txt"

# Peak RSS summed over every process of the session running $@ (sampled
# every 100 ms), in KiB, written to $1.
tree_peak() {
  local out=$1; shift
  setsid "$@" &
  local pid=$! peak=0 sum
  while kill -0 "$pid" 2>/dev/null; do
    # ps fails once the session is gone; that ends the loop, not the script.
    sum=$({ ps -o rss= -s "$pid" 2>/dev/null || true; } | awk '{s+=$1} END {print s+0}')
    if [ "$sum" -gt "$peak" ]; then peak=$sum; fi
    sleep 0.1
  done
  wait "$pid"
  echo "$peak" > "$out"
}

median() { sort -n | awk '{a[NR]=$1} END {if (NR%2) print a[(NR+1)/2]; else printf "%.2f\n", (a[NR/2]+a[NR/2+1])/2}'; }

echo "warm-up synth (not counted)" >&2
make -s synth >/dev/null 2>&1

summary="$OUT/synth.txt"
: > "$summary"
for mode in on off; do
  val=true; [ "$mode" = off ] && val=false
  : > "$OUT/wall-$mode"; : > "$OUT/rss-$mode"; : > "$OUT/tree-$mode"
  for i in $(seq 1 "$RUNS"); do
    echo "make synth, CDK_VALIDATION=$val, run $i/$RUNS" >&2
    tree_peak "$OUT/tree-$mode-$i" /usr/bin/time -v -o "$OUT/time-$mode-$i.txt" \
      env CDK_VALIDATION=$val make -s synth >/dev/null 2>"$OUT/synth-$mode-$i.log"
    wall=$(awk -F': ' '/Elapsed \(wall clock\)/ {split($2,t,":"); if (length(t)==3) print t[1]*3600+t[2]*60+t[3]; else print t[1]*60+t[2]}' "$OUT/time-$mode-$i.txt")
    rss=$(awk -F': ' '/Maximum resident set size/ {print $2}' "$OUT/time-$mode-$i.txt")
    echo "$wall" >> "$OUT/wall-$mode"; echo "$rss" >> "$OUT/rss-$mode"; cat "$OUT/tree-$mode-$i" >> "$OUT/tree-$mode"
  done
  printf 'make synth, CDK_VALIDATION=%s, %d runs: wall median %ss (min %ss, max %ss); largest process peak RSS median %d MiB; process tree peak RSS median %d MiB (max %d MiB)\n' \
    "$val" "$RUNS" "$(median < "$OUT/wall-$mode")" "$(sort -n "$OUT/wall-$mode" | head -1)" "$(sort -n "$OUT/wall-$mode" | tail -1)" \
    "$(( $(median < "$OUT/rss-$mode" | cut -d. -f1) / 1024 ))" "$(( $(median < "$OUT/tree-$mode" | cut -d. -f1) / 1024 ))" \
    "$(( $(sort -n "$OUT/tree-$mode" | tail -1) / 1024 ))" | tee -a "$summary"
done

echo "resources per stack:" | tee -a "$summary"
for f in cdk.out/*.template.json; do
  printf '  %s: %s resources\n' "$(basename "$f" .template.json)" \
    "$(node -e 'console.log(Object.keys(require(process.argv[1]).Resources||{}).length)' "$PWD/$f")" | tee -a "$summary"
done

echo "in-process synth per stack (warm kernel)" >&2
for mode in on off; do
  val=true; [ "$mode" = off ] && val=false
  CDK_VALIDATION=$val go test -run '^$' -bench BenchmarkSynth -benchtime "${GOBENCH_N}x" -count 1 ./apps/platform/assemble/ 2>/dev/null \
    | grep -E '^Benchmark' > "$OUT/gobench-$mode.txt"
  echo "BenchmarkSynth, CDK_VALIDATION=$val (ns/op of cumulative slices; per-stack = difference):" | tee -a "$summary"
  awk '{name=$1; sub(/^BenchmarkSynth\//,"",name); sub(/-[0-9]+$/,"",name); ms=$3/1e6; printf "  %-20s %8.0f ms  (+%.0f ms)\n", name, ms, ms-prev; prev=ms}' "$OUT/gobench-$mode.txt" | tee -a "$summary"
done

echo "jsii calls of one synth" >&2
go build -o "$OUT/platform" ./apps/platform
rm -rf "$OUT/jsii-out"; mkdir -p "$OUT/jsii-out"
JSII_DEBUG=1 CDK_OUTDIR="$OUT/jsii-out" CDK_VALIDATION=false WHARF_CONFIG=apps/platform/wharf.example.yaml \
  "$OUT/platform" >/dev/null 2>"$OUT/jsii-debug.log"
grep -E '^\[@jsii/kernel\] (create|del|get|set|invoke|sinvoke|sget|sset|load|begin|end|complete) ' "$OUT/jsii-debug.log" \
  | grep -v '^\[@jsii/kernel\] invoke result' | awk '{print $2}' | sort | uniq -c | sort -rn > "$OUT/jsii-calls.txt"
printf 'jsii kernel calls of one synth: %d (%s)\n' "$(awk '{s+=$1} END {print s}' "$OUT/jsii-calls.txt")" \
  "$(awk '{printf "%s%s %d", (NR>1?", ":""), $2, $1}' "$OUT/jsii-calls.txt")" | tee -a "$summary"
rm -rf "$OUT/jsii-out" "$OUT/platform" "$OUT/jsii-debug.log"
echo "results in $OUT/ (summary: $summary)" >&2
