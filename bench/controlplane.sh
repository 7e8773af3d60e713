#!/usr/bin/env bash
# Control-plane benchmarks; results summarised in docs/performance.md
# ("Control plane: Lambda and AWS calls").
#
#  1. AWS API calls per deploy for N = 1, 3, 10 process types, and the calls
#     of an event that needs no action (BenchmarkAPICallsPerDeploy, counted
#     on the wire by the integration harness: kumo + awsfake);
#  2. events per second through the control plane with the DynamoDB store on
#     kumo (BenchmarkEventsDynamoStore);
#  3. the bootstrap under the Lambda Runtime Interface Emulator: cold start
#     and warm invoke (BenchmarkControlPlaneRIE, host architecture);
#  4. the size of the bootstrap as deployed (linux/arm64, the flags of
#     constructs/internal/lambdabuild), raw and deflate-compressed.
#
# BENCH_COUNT sets -count (default 5). Output: bench/out/controlplane*.txt.
set -euo pipefail
cd "$(dirname "$0")/.."
COUNT=${BENCH_COUNT:-5}
OUT=bench/out
mkdir -p "$OUT"
sum="$OUT/controlplane.txt"
{
  echo "date: $(date -u +%Y-%m-%dT%H:%M:%SZ)"
  echo "cpu: $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ //') x $(nproc), $(uname -m)"
  echo "go: $(go env GOVERSION)"
  echo "load average at start: $(cut -d' ' -f1-3 /proc/loadavg)"
} | tee "$sum"

echo "API calls per deploy; events/s on DynamoDB (kumo)" >&2
go test -run '^$' -bench 'BenchmarkAPICallsPerDeploy|BenchmarkEventsDynamoStore' -benchtime 2s -count "$COUNT" \
  ./controlplane/integration/ | grep -E '^Benchmark' | tee "$OUT/controlplane-bench.txt" | tee -a "$sum"

echo "bootstrap under the Lambda Runtime Interface Emulator" >&2
go test -run '^$' -bench 'BenchmarkControlPlaneRIE/cold' -benchtime 10x -count "$COUNT" ./test/ \
  | grep -E '^Benchmark' | tee "$OUT/controlplane-rie.txt" | tee -a "$sum"
go test -run '^$' -bench 'BenchmarkControlPlaneRIE/warm' -benchtime 200x -count "$COUNT" ./test/ \
  | grep -E '^Benchmark' | tee -a "$OUT/controlplane-rie.txt" | tee -a "$sum"

echo "bootstrap size (linux/arm64, as deployed)" >&2
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
GOOS=linux GOARCH=arm64 CGO_ENABLED=0 GOWORK=off go build -trimpath -buildvcs=false -tags lambda.norpc \
  -ldflags '-s -w -buildid=' -o "$tmp/bootstrap" ./lambda/controlplane
raw=$(stat -c %s "$tmp/bootstrap")
gz=$(gzip -9 -c "$tmp/bootstrap" | wc -c)
awk -v r="$raw" -v g="$gz" 'BEGIN {printf "bootstrap linux/arm64 stripped: %d bytes (%.1f MiB); deflate -9: %d bytes (%.1f MiB)\n", r, r/1048576, g, g/1048576}' | tee -a "$sum"
echo "results in $sum" >&2
