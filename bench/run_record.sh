#!/usr/bin/env bash
# What `dial9 record` costs the program it records, against running bare and
# against `perf record` in the same run (variants interleaved, medians):
#   1. CPU-bound (bench_spin: a fixed amount of work) at 999 Hz and 99 Hz;
#   2. context-switch heavy (bench_pingpong: two threads over pipes), 999 Hz;
#   3. fixed cost: `record -- true` against `true`;
#   4. dial9's peak RSS recording 64 threads at 999 Hz.
# Both recorders sample cpu-clock with callchains, so they do the same work.
# Usage: bench/run_record.sh   (env: DIAL9_BENCH_RUNS=7, DIAL9_BENCH_RSS_SECONDS=60)
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
build=${DIAL9_BENCH_BUILD:-$(cd "$here/.." && pwd)/build-bench}
runs=${DIAL9_BENCH_RUNS:-7}
rss_seconds=${DIAL9_BENCH_RSS_SECONDS:-60}
command -v perf >/dev/null || { echo "$0: perf is required (apt-get install linux-perf)" >&2; exit 1; }
"$here/build.sh" dial9 bench_spin bench_pingpong bench_peak_rss bench_workload

dial9=$build/cli/dial9
work=$(mktemp -d -t dial9-bench-record.XXXXXX)
trap 'rm -rf "$work"' EXIT

now_ns() { date +%s%N; }
# run_variants NAME... : each variant is a function v_NAME; prints medians (ms).
# shellcheck source=lib.sh source-path=SCRIPTDIR
. "$here/lib.sh"  # median
measure() {  # measure RUNS name... -> "name=median_ms" lines
  local n=$1; shift
  declare -A times
  local i v t0
  for ((i = 0; i < n; ++i)); do
    for v in "$@"; do
      rm -rf "$work/out"
      t0=$(now_ns)
      "v_$v" >/dev/null 2>&1
      times[$v]+="$(( ($(now_ns) - t0) / 1000 )) "
    done
  done
  for v in "$@"; do
    echo "$v=$(printf '%s\n' ${times[$v]} | awk '{print $1/1000}' | median %.2f)"
  done
}
ratio() { awk -v a="$1" -v b="$2" 'BEGIN {printf "%.3f", a / b}'; }

report() {  # report TITLE bare dial9 perf (medians in ms)
  printf '%-34s bare %8.2f ms  dial9 %8.2f ms (%sx)  perf %8.2f ms (%sx)  dial9/perf %s\n' \
    "$1" "$2" "$3" "$(ratio "$3" "$2")" "$4" "$(ratio "$4" "$2")" "$(ratio "$3" "$4")"
}

spin=(work:4000)
v_spin_bare() { "$build/bench/bench_spin" "${spin[@]}"; }
v_spin_dial9() { "$dial9" record -q -e cpu-clock -F "$hz" -o "$work/out" -- "$build/bench/bench_spin" "${spin[@]}"; }
v_spin_perf() { perf record -q -e cpu-clock -F "$hz" -g --no-bpf-event -o "$work/out.data" -- "$build/bench/bench_spin" "${spin[@]}"; }
v_ping_bare() { "$build/bench/bench_pingpong" 60000; }
v_ping_dial9() { "$dial9" record -q -e cpu-clock -F 999 -o "$work/out" -- "$build/bench/bench_pingpong" 60000; }
v_ping_perf() { perf record -q -e cpu-clock -F 999 -g --no-bpf-event -o "$work/out.data" -- "$build/bench/bench_pingpong" 60000; }
v_true_bare() { /bin/true; }
v_true_dial9() { "$dial9" record -q -o "$work/out" -- /bin/true; }
v_true_perf() { perf record -q --no-bpf-event -o "$work/out.data" -- /bin/true; }
v_true_perfdefault() { perf record -q -o "$work/out.data" -- /bin/true; }

val() { printf '%s\n' "$1" | grep "^$2=" | cut -d= -f2; }
echo "machine: $(nproc) CPUs, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs); $runs runs each, interleaved" >&2
for hz in 999 99; do
  m=$(measure "$runs" spin_bare spin_dial9 spin_perf)
  report "CPU-bound, ${hz} Hz" "$(val "$m" spin_bare)" "$(val "$m" spin_dial9)" "$(val "$m" spin_perf)"
done
m=$(measure "$runs" ping_bare ping_dial9 ping_perf)
report "ping-pong over pipes, 999 Hz" "$(val "$m" ping_bare)" "$(val "$m" ping_dial9)" "$(val "$m" ping_perf)"
m=$(measure $((runs * 3)) true_bare true_dial9 true_perf true_perfdefault)
printf '%-34s bare %8.2f ms  dial9 +%.1f ms  perf --no-bpf-event +%.1f ms  perf (default) +%.1f ms\n' "fixed cost, record -- true" \
  "$(val "$m" true_bare)" \
  "$(awk -v a="$(val "$m" true_dial9)" -v b="$(val "$m" true_bare)" 'BEGIN{print a-b}')" \
  "$(awk -v a="$(val "$m" true_perf)" -v b="$(val "$m" true_bare)" 'BEGIN{print a-b}')" \
  "$(awk -v a="$(val "$m" true_perfdefault)" -v b="$(val "$m" true_bare)" 'BEGIN{print a-b}')"
rss=$("$build/bench/bench_peak_rss" "$dial9" record -q -e cpu-clock -F 999 -o "$work/rss" -- \
        "$build/bench/bench_workload" 64 "$rss_seconds" 2>&1 >/dev/null | grep peak_rss_kib | tail -1 | awk '{print $2}')
printf '%-34s %.1f MiB\n' "dial9 peak RSS, 64 threads ${rss_seconds}s" "$(awk -v k="$rss" 'BEGIN{print k/1024}')"
