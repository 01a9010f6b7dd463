#!/usr/bin/env bash
# What scheduler capture (#6) costs, on the context-switch-heavy ping-pong
# (bench_pingpong: two threads bouncing a byte over pipes, so every round
# trip is two blocking switch-outs, two wakeups and two switch-ins). The
# time measured is the program's own (bench_pingpong prints it with
# DIAL9_BENCH_ELAPSED set), so the recorders' start-up and shutdown are
# left out; variants are interleaved and medians taken:
#   - bare; perf's sampling alone (`perf record -e cpu-clock -F 999 -g`,
#     what `dial9 record --no-sched` does), perf's switch-out samples
#     without and with callchains (`perf record -e sched:sched_switch
#     [-g]`, the latter what dial9's switch-out stacks do), `dial9 record
#     --no-sched`, `dial9 record` (the default: switches, off-CPU stacks,
#     wakers, one waker stack in 8), the default without waker stacks
#     (`--waker-stacks 0`) or without stack copies (`--call-graph fp`:
#     frame-pointer chains alone), and `dial9 record --waker-stacks 1`, to
#     show what each part costs; dial9 samples cpu-clock at 999 Hz (with
#     --call-graph auto but for the fp row) in all of them
#     (`cycles` on a virtual machine's PMU costs more per context switch
#     than all the rest: DIAL9_BENCH_EVENT=cycles to see it);
#   - twice: with the program pinned to CPU 0 (`taskset -c 0`; the
#     recorder runs on the other CPUs), which measures what each switch
#     costs, and unpinned, where a VM's cross-CPU wakeups can dominate;
#   - dial9's scheduler events (ThreadStateEvent, WakeupEvent,
#     WakerStackEvent, off-CPU CpuSampleEvent) per second and bytes on disk
#     per scheduler event after compression: the segments' bytes over the
#     events, and the bytes added over --no-sched's recording;
#   - events lost (LostEvent counts, all sources), every variant;
#   - then losses at fixed rates (bench_paced_pipe: a producer pacing a
#     consumer that blocks between messages), to check "no loss below
#     100k events/s".
# Issue #6's targets: capture with stacks at most 1.5x bare (stretch 1.25x),
# at most 16 bytes per scheduler event, no loss below 100k events/s.
# Prints its results as Markdown (bench/run puts them in docs/BENCHMARKS.md).
# Usage: bench/run_sched.sh
#   env: DIAL9_BENCH_RUNS=5, DIAL9_BENCH_PINGPONG=60000 (round trips),
#        DIAL9_BENCH_PLACEMENTS="pinned unpinned",
#        DIAL9_BENCH_PACED_RATES="6250 12500 25000" (messages/s),
#        DIAL9_BENCH_PACED_SECONDS=2, DIAL9_BENCH_EVENT=cpu-clock
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
build=${DIAL9_BENCH_BUILD:-$(cd "$here/.." && pwd)/build-bench}
runs=${DIAL9_BENCH_RUNS:-5}
trips=${DIAL9_BENCH_PINGPONG:-60000}
placements=${DIAL9_BENCH_PLACEMENTS:-pinned unpinned}
paced_rates=${DIAL9_BENCH_PACED_RATES:-6250 12500 25000}
paced_seconds=${DIAL9_BENCH_PACED_SECONDS:-2}
event=${DIAL9_BENCH_EVENT:-cpu-clock}
# shellcheck source=lib.sh source-path=SCRIPTDIR
. "$here/lib.sh"  # require_perf, median, machine
require_perf
"$here/build.sh" dial9 bench_pingpong bench_paced_pipe

dial9=$build/cli/dial9
record=("$dial9" record -q -e "$event" -F 999)
for flag in --no-sched --waker-stacks; do
  "$dial9" record --help 2>&1 | grep -q -- "$flag" ||
    { echo "$0: $dial9 has no $flag: this benchmark needs scheduler capture (issue #6)" >&2; exit 1; }
done
work=$(mktemp -d -t dial9-bench-sched.XXXXXX)
trap 'rm -rf "$work"' EXIT
export DIAL9_BENCH_ELAPSED=1

# sched_counts DIR: "sched_events lost" of a dial9 recording.
sched_counts() {
  "$dial9" dump -e ThreadStateEvent,WakeupEvent,WakerStackEvent,CpuSampleEvent,LostEvent "$1" | awk '
    $2 == "ThreadStateEvent" || $2 == "WakeupEvent" || $2 == "WakerStackEvent" { ++n }
    $2 == "CpuSampleEvent" && / source=1 / { ++n }
    $2 == "LostEvent" { for (i = 3; i <= NF; ++i) if ($i ~ /^count=/) { sub(/^count=/, "", $i); lost += $i } }
    END { printf "%d %d\n", n, lost }'
}
# Segment bytes only (not the directory's own size).
dir_bytes() { find "$1" -type f -printf '%s\n' | awk '{s += $1} END {print s + 0}'; }

variants=(bare perf_cpu perf_ss perf_ss_g nosched sched wakers0 fp wakers1)
declare -A col name
name[bare]="bare"
name[perf_cpu]="perf -e cpu-clock -F 999 -g"
name[perf_ss]="perf -e sched:sched_switch"
name[perf_ss_g]="perf -e sched:sched_switch -g"
name[nosched]="dial9 --no-sched"
name[sched]="dial9 (default)"
name[wakers0]="dial9 --waker-stacks 0"
name[fp]="dial9 --call-graph fp"
name[wakers1]="dial9 --waker-stacks 1"
run_variant() {  # run_variant VARIANT PLACEMENT; prints "elapsed_ns bytes sched_events lost"
  local v=$1 out=$work/$1 ping=("$build/bench/bench_pingpong" "$trips") perf=(perf record -q --no-bpf-event)
  [[ $2 == pinned ]] && ping=(taskset -c 0 "${ping[@]}")
  rm -rf "$out" "$out.data"
  case $v in
    bare) "${ping[@]}" ;;
    perf_cpu) "${perf[@]}" -e cpu-clock -F 999 -g -o "$out.data" -- "${ping[@]}" ;;
    perf_ss) "${perf[@]}" -e sched:sched_switch -o "$out.data" -- "${ping[@]}" ;;
    perf_ss_g) "${perf[@]}" -e sched:sched_switch -g -o "$out.data" -- "${ping[@]}" ;;
    nosched) "${record[@]}" --no-sched -o "$out" -- "${ping[@]}" ;;
    sched) "${record[@]}" -o "$out" -- "${ping[@]}" ;;
    wakers0) "${record[@]}" --waker-stacks 0 -o "$out" -- "${ping[@]}" ;;
    fp) "${record[@]}" --call-graph fp -o "$out" -- "${ping[@]}" ;;
    wakers1) "${record[@]}" --waker-stacks 1 -o "$out" -- "${ping[@]}" ;;
  esac >/dev/null 2>"$work/err"
  local ns
  ns=$(awk '/^elapsed_ns / {print $2}' "$work/err")
  [[ -n $ns ]] || { echo "$0: $v printed no elapsed_ns:" >&2; cat "$work/err" >&2; exit 1; }
  case $v in
    bare) echo "$ns 0 0 0" ;;
    perf*) echo "$ns $(stat -c %s "$out.data") 0 $(perf report -i "$out.data" --stats 2>/dev/null |
                                                 awk '/LOST events:/ {print $3; exit}' | grep . || echo 0)" ;;
    *) echo "$ns $(dir_bytes "$out") $(sched_counts "$out")" ;;
  esac
}
# shellcheck disable=SC2086  # one value per line on purpose
m() { printf '%s\n' ${col[$1]} | median "%.0f"; }
# shellcheck disable=SC2086
max_of() { printf '%s\n' ${col[$1]} | sort -n | tail -1; }
# shellcheck disable=SC2086
ms_spread() { printf '%s\n' ${col[$1]} | awk '{print $1 / 1e6}' | spread "%.1f"; }
ratio() { awk -v a="$1" -v b="$2" 'BEGIN {printf "%.3f", a / b}'; }

echo "$(machine); $runs runs each, interleaved; bench_pingpong $trips; dial9 samples $event at 999 Hz" >&2
declare -A verdict  # pinned results the targets are judged on
max_lost=0
for placement in $placements; do
  col=()
  for ((i = 0; i < runs; ++i)); do
    for v in "${variants[@]}"; do
      read -r w b n l < <(run_variant "$v" "$placement")
      col[$v.wall]+="$w "
      col[$v.bytes]+="$b "
      col[$v.events]+="$n "
      col[$v.lost]+="$l "
    done
  done
  where=$placement
  [[ $placement == pinned ]] && where="pinned (\`taskset -c 0\`)"
  echo "\`bench_pingpong $trips\`, $where:" \
    "the program's own time, median (min–max) of $runs interleaved runs; dial9 samples $event at 999 Hz."
  echo
  md_header variant "program time" "vs bare" "vs --no-sched" "sched events/s" bytes "B/event" "B/ev added" "lost (max)"
  bare=$(m bare.wall)
  nosched_bytes=$(m nosched.bytes)
  for v in "${variants[@]}"; do
    wall=$(m "$v.wall") bytes=$(m "$v.bytes") events=$(m "$v.events")
    per_event='' added='' rate='' vs_nosched='' lost=$(max_of "$v.lost")
    case $v in
      bare) bytes='' lost='' ;;
      sched | wakers0 | fp | wakers1)
        per_event=$(awk -v b="$bytes" -v n="$events" 'BEGIN{printf "%.2f", n ? b/n : 0}')
        added=$(awk -v b="$bytes" -v b0="$nosched_bytes" -v n="$events" 'BEGIN{printf "%.2f", n ? (b-b0)/n : 0}')
        rate=$(awk -v n="$events" -v w="$wall" 'BEGIN{printf "%.0f", n / (w/1e9)}')
        vs_nosched=$(ratio "$wall" "$(m nosched.wall)")× ;;
    esac
    # --waker-stacks 1 is the variant known to lose (BENCHMARKS.md says why).
    if [[ $v != bare && $v != wakers1 ]] && ((lost > max_lost)); then max_lost=$lost; fi
    md_row "\`${name[$v]}\`" "$(ms_spread "$v.wall") ms" "$(ratio "$wall" "$bare")×" "$vs_nosched" "$rate" "$bytes" \
      "$per_event" "$added" "$lost"
  done
  echo
  if [[ $placement == pinned || -z ${verdict[ratio]:-} ]]; then
    verdict[ratio]=$(ratio "$(m sched.wall)" "$bare")
    verdict[perf_ratio]=$(ratio "$(m perf_ss_g.wall)" "$bare")
    verdict[bpe]=$(awk -v b="$(m sched.bytes)" -v n="$(m sched.events)" 'BEGIN{printf "%.2f", n ? b/n : 0}')
    verdict[rate]=$(awk -v n="$(m sched.events)" -v w="$(m sched.wall)" 'BEGIN{printf "%.0f", n / (w/1e9)}')
    verdict[placement]=$placement
  fi
done

# Losses at fixed rates: one recording each, the default capture.
echo "Losses at fixed rates (\`bench_paced_pipe RATE $paced_seconds\`, the default capture, one run each):"
echo
md_header "messages/s" "sched events" "events/s" lost
paced_lost=0 paced_max_rate=0
for rate in $paced_rates; do
  out=$work/paced-$rate
  rm -rf "$out"
  "${record[@]}" -o "$out" -- "$build/bench/bench_paced_pipe" "$rate" "$paced_seconds"
  read -r n l < <(sched_counts "$out")
  events_per_s=$(awk -v n="$n" -v s="$paced_seconds" 'BEGIN{printf "%.0f", n / s}')
  if ((events_per_s < 100000)); then
    paced_lost=$((paced_lost + l))
    ((events_per_s > paced_max_rate)) && paced_max_rate=$events_per_s
  fi
  md_row "$rate" "$n" "$events_per_s" "$l"
done
echo
md_header "target (issue #6)" measured status
target_row "scheduler capture with stacks ≤ 1.5× bare (stretch 1.25×)" \
  "${verdict[ratio]}× ${verdict[placement]} (perf's switch-out stacks: ${verdict[perf_ratio]}×)" "${verdict[ratio]} <= 1.5"
target_row "≤ 16 bytes per scheduler event on disk" "${verdict[bpe]} B" "${verdict[bpe]} <= 16"
# Judged on the paced runs below 100k events/s; the ping-pong runs go
# faster, so their losses are reported beside the target, not judged by it.
target_row "no loss below 100k events/s (default capture)" \
  "$paced_lost lost at the paced rates (up to $paced_max_rate events/s); ping-pong at ${verdict[rate]} events/s: at most $max_lost lost in a run" \
  "$paced_lost == 0"
