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
command -v perf >/dev/null || { echo "$0: perf is required (apt-get install linux-perf)" >&2; exit 1; }
[[ -x /usr/bin/time ]] || { echo "$0: /usr/bin/time is required (apt-get install time)" >&2; exit 1; }
"$here/build.sh" dial9 dial9-demo >/dev/null

dial9=$build/cli/dial9
demo=$build/examples/demo/dial9-demo
work=$(mktemp -d -t dial9-bench-export.XXXXXX)
trap 'rm -rf "$work"' EXIT

"$dial9" record -q -e cpu-clock -F 999 -o "$work/d" -- "$demo" "$seconds" >/dev/null
perf record -q -e cpu-clock -F 999 -g --no-bpf-event -o "$work/perf.data" -- "$demo" "$seconds" >/dev/null 2>&1
segment=$(find "$work/d" -name '*.bin*' | head -1)
[[ $(find "$work/d" -name '*.bin*' | wc -l) == 1 ]] || { echo "$0: expected one segment in $work/d" >&2; exit 1; }
samples=$("$dial9" report -f json "$work/d" | python3 -c 'import json,sys; print(json.load(sys.stdin)["overview"]["cpu_samples"])')
perf_samples=$(perf report -i "$work/perf.data" --stats 2>/dev/null | awk '/SAMPLE events:/ {print $3; exit}')

# Concatenated copies of the segment: zstd frames and TRC streams both
# concatenate, so N copies are one valid trace with N times the samples.
make_copies() {  # file copies
  local out=$1 n=$2 i
  : >"$out"
  for ((i = 0; i < n; ++i)); do cat "$segment" >>"$out"; done
}
copies_100k=$(( (100000 + samples - 1) / samples ))
copies_1m=$(( (1000000 + samples - 1) / samples ))
make_copies "$work/x100k.bin.zst" "$copies_100k"
make_copies "$work/x1m.bin.zst" "$copies_1m"

perl_pipeline=
if command -v stackcollapse-perf.pl >/dev/null && command -v flamegraph.pl >/dev/null; then perl_pipeline=1; fi

median() { sort -n | awk '{a[NR]=$1} END {m = (NR % 2) ? a[(NR+1)/2] : (a[NR/2] + a[NR/2+1]) / 2; printf "%.3f", m}'; }
declare -A wall rss
measure() {  # name command...
  local name=$1 t0 t1
  shift
  # Wall time from the clock (time(1) rounds to 10 ms), peak RSS from time(1).
  t0=$(date +%s%N)
  /usr/bin/time -f '%M' -o "$work/time" "$@" >/dev/null 2>"$work/err" || { cat "$work/err" >&2; exit 1; }
  t1=$(date +%s%N)
  read -r r <"$work/time"
  wall[$name]+="$(awk -v d=$((t1 - t0)) 'BEGIN{print d/1e9}') "
  rss[$name]+="$r "
}
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
# shellcheck disable=SC2086  # the lists are split into one value per line on purpose
m() { printf '%s\n' ${wall[$1]} | median; }
# shellcheck disable=SC2086
r() { printf '%s\n' ${rss[$1]} | median; }
echo "machine: $(nproc) CPUs, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs); $runs runs each, interleaved; demo ${seconds}s, cpu-clock 999 Hz" >&2
printf '%-44s %10s %10s %14s %12s\n' input samples "wall s" "samples/s" "peak RSS"
row() {  # label samples name
  printf '%-44s %10d %10.3f %14.0f %7.1f MiB\n' "$1" "$2" "$(m "$3")" "$(awk -v n="$2" -v w="$(m "$3")" 'BEGIN{print n/w}')" \
    "$(awk -v k="$(r "$3")" 'BEGIN{print k/1024}')"
}
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
awk -v d="$(m dial9)" -v ds="$samples" -v p="$(m perf)" -v ps="$perf_samples" \
  'BEGIN{printf "dial9 export / perf script throughput on their own recordings: %.2fx\n", (ds/d)/(ps/p)}'
