#!/usr/bin/env bash
# Builds bench_codec in Release (-O2) in build-bench/ and runs it on the shared
# fixture, next to two baselines measured in the same run: `gzip -dc` of the
# fixture and `zstd -dc` of a zstd copy of it, both to /dev/null. bench_codec
# prints its medians as ratios to those, which drift less than absolute
# times on this shared 2-core machine.
#
# Usage: bench/run_codec.sh [bench_codec options...]    e.g. --json, --runs 11
# Environment: DIAL9_BENCH_BUILD (build dir, default build-bench),
#              DIAL9_BENCH_FIXTURE (gzip'd trace), DIAL9_BENCH_CPU (default 0),
#              DIAL9_BENCH_RUNS (default 7).
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/.." && pwd)
build=${DIAL9_BENCH_BUILD:-$repo/build-bench}
fixture=${DIAL9_BENCH_FIXTURE:-$repo/../shared/fixtures/tokio-demo-trace.bin.gz}
cpu=${DIAL9_BENCH_CPU:-0}
runs=${DIAL9_BENCH_RUNS:-7}

for tool in cmake ninja gzip zstd taskset; do
  command -v "$tool" >/dev/null || { echo "$0: '$tool' is required" >&2; exit 1; }
done
[[ -r $fixture ]] || { echo "$0: cannot read fixture '$fixture'" >&2; exit 1; }
fixture=$(realpath "$fixture")

# Progress goes to stderr so that `--json` output on stdout stays clean.
"$here/build.sh" bench_codec

zst=$build/fixture.trc.zst
if [[ ! -s $zst || $fixture -nt $zst ]]; then
  gzip -dc "$fixture" | zstd -q -3 -c >"$zst"
fi

# shellcheck source=lib.sh source-path=SCRIPTDIR
. "$here/lib.sh"  # median

# Median wall time in milliseconds of $runs runs of a command (after one
# warm-up), pinned to the benchmark's CPU.
median_ms() {
  local times=() t0 t1 i
  taskset -c "$cpu" "$@" >/dev/null
  for ((i = 0; i < runs; ++i)); do
    t0=$(date +%s%N)
    taskset -c "$cpu" "$@" >/dev/null
    t1=$(date +%s%N)
    times+=("$(((t1 - t0) / 1000))")
  done
  # The median in microseconds is exact at one decimal (a whole number or a half).
  printf '%s\n' "${times[@]}" | median %.1f | awk '{printf "%.3f", $1 / 1000}'
}

echo "timing baselines: gzip -dc, zstd -dc ($runs runs each, CPU $cpu)" >&2
gzip_ms=$(median_ms gzip -dc "$fixture")
zstd_ms=$(median_ms zstd -q -dc "$zst")

exec "$build/bench/bench_codec" --fixture "$fixture" --zstd "$zst" --runs "$runs" --cpu "$cpu" \
  --baseline "gzip -dc=$gzip_ms" --baseline "zstd -d=$zstd_ms" "$@"
