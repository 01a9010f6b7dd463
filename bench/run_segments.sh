#!/usr/bin/env bash
# Segment writing cost and size, against perf, in one run:
#  1. records bench_workload (64 threads, realistic 10-20 frame stacks) with
#     `perf record -e cpu-clock -F 999 -g`;
#  2. measures perf.data's bytes per sample, raw and after `zstd -3`;
#  3. runs bench_segments on the same samples (bytes per sample in dial9
#     segments) and on 64 threads x 999 Hz of them (sealing CPU cost).
# Usage: bench/run_segments.sh [bench_segments options...]   e.g. --json
# Needs perf (Debian: linux-perf) and permission to sample (root, or
# kernel.perf_event_paranoid <= 1).
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/.." && pwd)
build=${DIAL9_BENCH_BUILD:-$repo/build-bench}
threads=${DIAL9_BENCH_THREADS:-64}
seconds=${DIAL9_BENCH_RECORD_SECONDS:-5}

for tool in perf zstd; do
  command -v "$tool" >/dev/null || { echo "$0: '$tool' is required (apt-get install linux-perf zstd)" >&2; exit 1; }
done
"$here/build.sh" bench_segments bench_workload

work=$(mktemp -d -t dial9-bench-segments.XXXXXX)
trap 'rm -rf "$work"' EXIT
echo "recording bench_workload ($threads threads, ${seconds}s) with perf record -F 999 -g" >&2
if ! perf record -q -e cpu-clock -F 999 -g -o "$work/perf.data" -- \
    "$build/bench/bench_workload" "$threads" "$seconds" >/dev/null 2>"$work/perf.err"; then
  cat "$work/perf.err" >&2
  echo "$0: perf record failed; as non-root try: sudo sysctl kernel.perf_event_paranoid=1" >&2
  exit 1
fi
perf script -i "$work/perf.data" -F tid,time,ip >"$work/perf.txt" 2>/dev/null
samples=$(grep -c ':[[:space:]]*$' "$work/perf.txt" || true)
raw=$(stat -c %s "$work/perf.data")
zst=$(zstd -3 -q -c "$work/perf.data" | wc -c)
echo "perf.data: $samples samples, $raw bytes = $(awk -v b="$raw" -v s="$samples" 'BEGIN{printf "%.1f", b/s}') B/sample raw," \
  "$zst bytes = $(awk -v b="$zst" -v s="$samples" 'BEGIN{printf "%.2f", b/s}') B/sample after zstd -3" >&2
"$build/bench/bench_segments" --perf-script "$work/perf.txt" "$@"
