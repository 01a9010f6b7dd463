#!/usr/bin/env bash
# How fast `dial9 export --folded --flamegraph` turns segments into folded
# stacks and an SVG flamegraph, against `perf script` on a perf.data of the
# same program (the first stage of perf's own flamegraph pipeline,
# `perf script | stackcollapse-perf.pl | flamegraph.pl`):
#   1. records the demo program (examples/demo: 4 workers with deep stacks,
#      a mutex convoy, an event loop) with dial9 and, separately, with
#      `perf record -g`, both cpu-clock at 999 Hz;
#   2. exports each recording: samples per second of wall time and peak RSS,
#      dial9 against `perf script` in the same run (median of $runs);
#   3. concatenates the dial9 segment into ~100k- and ~1M-sample traces
#      (the same stacks over and over, so unique stacks stay fixed) and
#      exports those: throughput at scale.
# When FlameGraph's stackcollapse-perf.pl and flamegraph.pl are on PATH the
# whole perl pipeline is timed too; otherwise the table says it was not.
# Prints its results as Markdown (bench/run puts them in docs/BENCHMARKS.md).
# Usage: bench/run_export.sh    (env: DIAL9_BENCH_RUNS=5, DIAL9_BENCH_SECONDS=4)
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
build=${DIAL9_BENCH_BUILD:-$(cd "$here/.." && pwd)/build-bench}
runs=${DIAL9_BENCH_RUNS:-5}
seconds=${DIAL9_BENCH_SECONDS:-4}
# shellcheck source=lib.sh source-path=SCRIPTDIR
. "$here/lib.sh"
prepare_demo_recordings export

perl_pipeline=
if command -v stackcollapse-perf.pl >/dev/null && command -v flamegraph.pl >/dev/null; then perl_pipeline=1; fi

# Outputs go to files in $work: export writes each whole, through a
# temporary file beside it, so it cannot write to /dev/null.
export_to() {  # name input
  measure "$1" "$dial9" export "$2" --folded "$work/$1.folded" --flamegraph "$work/$1.svg"
}
for ((i = 0; i < runs; ++i)); do
  measure perf perf script -i "$work/perf.data"
  [[ -n $perl_pipeline ]] && measure perl sh -c "perf script -i '$work/perf.data' | stackcollapse-perf.pl | flamegraph.pl"
  export_to dial9 "$work/d"
  export_to dial9_100k "$work/x100k.bin.zst"
  export_to dial9_1m "$work/x1m.bin.zst"
done
echo "$(machine); $runs runs each, interleaved; demo ${seconds}s, cpu-clock 999 Hz" >&2
echo "The demo recorded for ${seconds} s at 999 Hz (cpu-clock) by each tool; wall time median (min–max) of $runs interleaved runs."
echo
throughput_header
throughput_row "\`perf script\` (perf.data)" "$perf_samples" perf
if [[ -n $perl_pipeline ]]; then
  throughput_row "\`perf script | stackcollapse-perf.pl | flamegraph.pl\`" "$perf_samples" perl
fi
throughput_row "\`dial9 export --folded --flamegraph\` (the recording)" "$samples" dial9
throughput_row "the same, $copies_100k copies" $((samples * copies_100k)) dial9_100k
throughput_row "the same, $copies_1m copies" $((samples * copies_1m)) dial9_1m
echo
[[ -n $perl_pipeline ]] ||
  { echo "FlameGraph's \`stackcollapse-perf.pl\` and \`flamegraph.pl\` are not on PATH: perf's whole pipeline was not timed."; echo; }
vs_perf=$(awk -v d="$(median_wall dial9)" -v ds="$samples" -v p="$(median_wall perf)" -v ps="$perf_samples" \
  'BEGIN{printf "%.2f", (ds/d)/(ps/p)}')
echo "dial9 export against \`perf script\` alone, samples per second on their own recordings: **${vs_perf}×**." \
  "Flamegraph: $(stat -c %s "$work/dial9.svg") bytes for the recording, $(stat -c %s "$work/dial9_1m.svg") bytes for $copies_1m copies."
echo
rate_1m=$(awk -v n=$((samples * copies_1m)) -v w="$(median_wall dial9_1m)" 'BEGIN{printf "%.0f", n/w}')
md_header "target (issue #9)" measured status
target_row "folded + SVG ≥ 1M samples/s" "$rate_1m samples/s at $((samples * copies_1m)) samples" "$rate_1m >= 1000000"
