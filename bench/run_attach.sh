#!/usr/bin/env bash
# What attaching to a running program takes, against `perf record -p` in the
# same run, on bench_attach_target (threads blocked in calls, one hot):
#   1. attach to first sample: `dial9 attach -v` says when its first sample
#      came, from dial9's own start: with perf events, and with the agent
#      loaded by ptrace injection (--sampler timer);
#   2. how long the injected thread was stopped (dial9 -v says; no thread
#      is stopped with perf events);
#   3. attach + record 0.3 s + detach, wall time, for dial9 with perf
#      events, dial9 with the agent, and `perf record -p PID -- sleep 0.3`.
# Medians of DIAL9_BENCH_RUNS (default 7), variants interleaved.
# Prints its results as Markdown (bench/run puts them in docs/BENCHMARKS.md).
# Usage: bench/run_attach.sh
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
build=${DIAL9_BENCH_BUILD:-$(cd "$here/.." && pwd)/build-bench}
runs=${DIAL9_BENCH_RUNS:-7}
# shellcheck source=lib.sh source-path=SCRIPTDIR
. "$here/lib.sh"
require_perf
"$here/build.sh" dial9 dial9-agent bench_attach_target
dial9=$build/cli/dial9
work=$(mktemp -d -t dial9-bench-attach.XXXXXX)
"$build/bench/bench_attach_target" hot > "$work/target.out" &
target=$!
trap 'kill $target 2>/dev/null || true; rm -rf "$work"' EXIT
until grep -q ready "$work/target.out" 2>/dev/null; do sleep 0.05; done
med() { printf '%s\n' "$@" | median "${FMT:-%.1f}"; }
us_since() { echo $(( ($(date +%s%N) - $1) / 1000 )); }
machine >&2

declare -a first_perf first_timer stopped wall_perf wall_timer wall_linux
for ((i = 0; i < runs; ++i)); do
  rm -rf "$work"/rec-*
  t0=$(date +%s%N)
  out=$("$dial9" attach -v --duration 0.3s -o "$work/rec-p" "$target" 2>&1)
  wall_perf+=("$(us_since "$t0")")
  first_perf+=("$(grep -o 'first sample [0-9.]* ms' <<<"$out" | awk '{print $3}')")
  t0=$(date +%s%N)
  out=$("$dial9" attach -v --sampler timer --duration 0.3s -o "$work/rec-t" "$target" 2>&1)
  wall_timer+=("$(us_since "$t0")")
  first_timer+=("$(grep -o 'first sample [0-9.]* ms' <<<"$out" | awk '{print $3}')")
  stopped+=("$(grep -o 'stopped for [0-9]* us' <<<"$out" | awk '{print $3}')")
  t0=$(date +%s%N)
  perf record -q -F 999 -e cpu-clock -g -o "$work/perf.data" -p "$target" -- sleep 0.3 >/dev/null 2>&1
  wall_linux+=("$(us_since "$t0")")
done
sp() { printf '%s\n' "$@" | spread "${FMT:-%.1f}"; }
to_ms() { printf '%s\n' "$@" | awk '{print $1 / 1000 - 300}' | spread %.0f; }
fp=$(med "${first_perf[@]}"); ft=$(med "${first_timer[@]}"); st=$(FMT=%.0f med "${stopped[@]}")
kill -TERM "$target"
wait "$target" || true
verdict=$(tail -1 "$work/target.out")
echo "Medians (min–max) of $runs runs, the three variants interleaved."
echo
md_header measurement figure
md_row "attach to first sample, perf events (\`attach -v\`, from dial9's start)" "$(sp "${first_perf[@]}") ms"
md_row "attach to first sample, agent injected (\`--sampler timer\`)" "$(sp "${first_timer[@]}") ms"
md_row "target thread stopped to load the agent (none with perf events)" "$(FMT=%.0f sp "${stopped[@]}") µs"
md_row "attach + record 0.3 s + detach, beyond the 0.3 s: dial9, perf events" "$(to_ms "${wall_perf[@]}") ms"
md_row "the same, dial9 with the agent" "$(to_ms "${wall_timer[@]}") ms"
md_row "the same, \`perf record -F 999 -e cpu-clock -g -p PID -- sleep 0.3\`" "$(to_ms "${wall_linux[@]}") ms"
md_row "the fixture after $((runs * 2)) attaches" "$verdict"
echo
md_header "target (issue #7)" measured status
target_row "attach to first sample ≤ 300 ms (stretch 100 ms), perf events" "$fp ms" "$fp <= 300"
target_row "attach to first sample ≤ 300 ms (stretch 100 ms), agent" "$ft ms" "$ft <= 300"
target_row "target threads stopped ≤ 10 ms (stretch 2 ms)" "$st µs" "$st <= 10000"
