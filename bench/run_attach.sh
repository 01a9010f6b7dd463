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
trap 'kill $target 2>/dev/null; rm -rf "$work"' EXIT
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
printf 'attach to first sample: %s ms with perf events, %s ms loading the agent (timer sampler)\n' \
  "$(med "${first_perf[@]}")" "$(med "${first_timer[@]}")"
printf 'thread stopped to load the agent: %s us (no thread is stopped with perf events)\n' "$(FMT=%.0f med "${stopped[@]}")"
wp=$(FMT=%.0f med "${wall_perf[@]}"); wt=$(FMT=%.0f med "${wall_timer[@]}"); wl=$(FMT=%.0f med "${wall_linux[@]}")
printf 'attach + record 0.3 s + detach: dial9 %.0f ms (perf events), %.0f ms (agent); perf record -p %.0f ms; overhead beyond the 0.3 s: %.0f / %.0f / %.0f ms\n' \
  "$(awk -v v="$wp" 'BEGIN{print v/1000}')" "$(awk -v v="$wt" 'BEGIN{print v/1000}')" "$(awk -v v="$wl" 'BEGIN{print v/1000}')" \
  "$(awk -v v="$wp" 'BEGIN{print v/1000-300}')" "$(awk -v v="$wt" 'BEGIN{print v/1000-300}')" "$(awk -v v="$wl" 'BEGIN{print v/1000-300}')"
kill -TERM "$target"
wait "$target" || true
verdict=$(tail -1 "$work/target.out")
echo "target after $((runs * 2)) attaches: $verdict"
