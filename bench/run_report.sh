#!/usr/bin/env bash
# How fast `dial9 report` turns sealed segments into text, and how its memory
# grows, against `perf report --stdio` on a perf.data of the same program:
#   1. records the demo program (examples/demo: 4 workers with deep stacks,
#      a mutex convoy, an event loop) with dial9 and, separately, with
#      `perf record -g`, both cpu-clock at 999 Hz;
#   2. reports each recording as it is: samples per second of wall time and
#      peak RSS, dial9 against perf in the same run (median of $runs);
#   3. concatenates the dial9 segment into ~100k- and ~1M-sample traces
#      (the same stacks over and over, so unique stacks stay fixed) and
#      reports those: throughput at scale, and RSS that should follow unique
#      stacks, not samples.
# Prints its results as Markdown (bench/run puts them in docs/BENCHMARKS.md).
# Usage: bench/run_report.sh    (env: DIAL9_BENCH_RUNS=5, DIAL9_BENCH_SECONDS=4)
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
build=${DIAL9_BENCH_BUILD:-$(cd "$here/.." && pwd)/build-bench}
runs=${DIAL9_BENCH_RUNS:-5}
seconds=${DIAL9_BENCH_SECONDS:-4}
# shellcheck source=lib.sh source-path=SCRIPTDIR
. "$here/lib.sh"
prepare_demo_recordings report

for ((i = 0; i < runs; ++i)); do
  measure perf perf report -i "$work/perf.data" --stdio
  measure dial9 "$dial9" report "$work/d"
  measure dial9_100k "$dial9" report "$work/x100k.bin.zst"
  measure dial9_1m "$dial9" report "$work/x1m.bin.zst"
done
echo "$(machine); $runs runs each, interleaved; demo ${seconds}s, cpu-clock 999 Hz" >&2
echo "The demo recorded for ${seconds} s at 999 Hz (cpu-clock) by each tool; wall time median (min–max) of $runs interleaved runs."
echo
throughput_header
throughput_row "\`perf report --stdio\` (perf.data)" "$perf_samples" perf
throughput_row "\`dial9 report\` (the recording)" "$samples" dial9
throughput_row "\`dial9 report\` ($copies_100k copies)" $((samples * copies_100k)) dial9_100k
throughput_row "\`dial9 report\` ($copies_1m copies)" $((samples * copies_1m)) dial9_1m
echo
vs_perf=$(awk -v d="$(median_wall dial9)" -v ds="$samples" -v p="$(median_wall perf)" -v ps="$perf_samples" \
  'BEGIN{printf "%.2f", (ds/d)/(ps/p)}')
echo "dial9 report against perf report, samples per second on their own recordings: **${vs_perf}×**."
echo
rate_1m=$(awk -v n=$((samples * copies_1m)) -v w="$(median_wall dial9_1m)" 'BEGIN{printf "%.0f", n/w}')
rss_1m=$(awk -v m="$(median_rss_mib dial9_1m)" 'BEGIN{printf "%.1f", m}')
md_header "target (issue #5)" measured status
target_row "report ≥ 500k samples/s on one core" "$rate_1m samples/s at $((samples * copies_1m)) samples" "$rate_1m >= 500000"
target_row "peak RSS ≤ 200 MiB at 1M samples" "$rss_1m MiB" "$rss_1m <= 200"
