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
# Usage: bench/run_report.sh    (env: DIAL9_BENCH_RUNS=5, DIAL9_BENCH_SECONDS=4)
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
work=$(mktemp -d -t dial9-bench-report.XXXXXX)
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
for ((i = 0; i < runs; ++i)); do
  measure perf perf report -i "$work/perf.data" --stdio
  measure dial9 "$dial9" report "$work/d"
  measure dial9_100k "$dial9" report "$work/x100k.bin.zst"
  measure dial9_1m "$dial9" report "$work/x1m.bin.zst"
done
m() { printf '%s\n' ${wall[$1]} | median; }
r() { printf '%s\n' ${rss[$1]} | median; }
echo "machine: $(nproc) CPUs, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs); $runs runs each, interleaved; demo ${seconds}s, cpu-clock 999 Hz" >&2
printf '%-34s %10s %10s %14s %12s\n' input samples "wall s" "samples/s" "peak RSS"
row() {  # label samples name
  printf '%-34s %10d %10.3f %14.0f %7.1f MiB\n' "$1" "$2" "$(m "$3")" "$(awk -v n="$2" -v w="$(m "$3")" 'BEGIN{print n/w}')" \
    "$(awk -v k="$(r "$3")" 'BEGIN{print k/1024}')"
}
row "perf report --stdio (perf.data)" "$perf_samples" perf
row "dial9 report (the recording)" "$samples" dial9
row "dial9 report (x$copies_100k copies)" $((samples * copies_100k)) dial9_100k
row "dial9 report (x$copies_1m copies)" $((samples * copies_1m)) dial9_1m
awk -v d="$(m dial9)" -v ds="$samples" -v p="$(m perf)" -v ps="$perf_samples" \
  'BEGIN{printf "dial9/perf throughput on their own recordings: %.2fx\n", (ds/d)/(ps/p)}'
