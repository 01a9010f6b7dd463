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
throughput_header 44
row() { throughput_row 44 "$@"; }  # label samples name
row "perf script (perf.data)" "$perf_samples" perf
if [[ -n $perl_pipeline ]]; then
  row "perf script | stackcollapse | flamegraph.pl" "$perf_samples" perl
else
  echo "(FlameGraph's stackcollapse-perf.pl and flamegraph.pl are not on PATH: perl pipeline not timed)"
fi
row "dial9 export --folded --flamegraph (recording)" "$samples" dial9
row "dial9 export ... (x$copies_100k copies)" $((samples * copies_100k)) dial9_100k
row "dial9 export ... (x$copies_1m copies)" $((samples * copies_1m)) dial9_1m
echo "flamegraph sizes: $(stat -c %s "$work/dial9.svg") bytes (recording), $(stat -c %s "$work/dial9_1m.svg") bytes (x$copies_1m)"
awk -v d="$(median_wall dial9)" -v ds="$samples" -v p="$(median_wall perf)" -v ps="$perf_samples" \
  'BEGIN{printf "dial9 export / perf script throughput on their own recordings: %.2fx\n", (ds/d)/(ps/p)}'
