#!/usr/bin/env bash
# What `dial9 record` costs the program it records, against running bare and
# against `perf record` in the same run (variants interleaved, medians):
#   1. CPU-bound (bench_spin: a fixed amount of work) at 999 Hz and 99 Hz;
#   2. context-switch heavy (bench_pingpong: two threads over pipes), 999 Hz,
#      with dial9's default scheduler capture and without it (--no-sched:
#      CPU sampling alone, the same work as perf's row);
#   3. fixed cost: `record -- true` against `true`;
#   4. dial9's peak RSS recording 64 threads at 999 Hz.
# Both recorders sample cpu-clock with callchains, so they do the same work.
# Rows 1 and 2 time the program's own work (it prints "elapsed_ns N" when
# DIAL9_BENCH_ELAPSED is set): the recorders' start-up and shutdown are row
# 3's, and counting them again would make the ratios depend on how long the
# workload runs.
# Prints its results as Markdown (bench/run puts them in docs/BENCHMARKS.md).
# Usage: bench/run_record.sh   (env: DIAL9_BENCH_RUNS=7, DIAL9_BENCH_ROUNDS=3×RUNS,
#                                    DIAL9_BENCH_RSS_SECONDS=60,
#                                    DIAL9_BENCH_SPIN_WORK=4000, DIAL9_BENCH_PINGPONG=60000)
# ROUNDS is for rows 1 and 2, whose targets allow 0.5-10%. On this shared
# machine the CPU's speed swings by up to 2x within seconds, more in some
# hours than others (rounds disagreeing by ±1-2% in one run, ±10-26% an
# hour later); long workloads average the swings within a run.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
build=${DIAL9_BENCH_BUILD:-$(cd "$here/.." && pwd)/build-bench}
runs=${DIAL9_BENCH_RUNS:-7}
rounds=${DIAL9_BENCH_ROUNDS:-$((runs * 3))}
rss_seconds=${DIAL9_BENCH_RSS_SECONDS:-60}
command -v perf >/dev/null || { echo "$0: perf is required (apt-get install linux-perf)" >&2; exit 1; }
"$here/build.sh" dial9 bench_spin bench_pingpong bench_peak_rss bench_workload

dial9=$build/cli/dial9
work=$(mktemp -d -t dial9-bench-record.XXXXXX)
trap 'rm -rf "$work"' EXIT

now_ns() { date +%s%N; }
# shellcheck source=lib.sh source-path=SCRIPTDIR
. "$here/lib.sh"  # median, spread, md_*, target_row
# measure RUNS VARIANT...: runs each variant's function v_VARIANT RUNS times,
# interleaved: each round rotates the order by one, and every other round
# also reverses it, so no variant always starts a round or always follows
# the same one; sets ms[VARIANT] (median, ms), ms_spread[VARIANT] and
# runs_of[VARIANT] (each run's µs, in round order). The time is the program's
# own "elapsed_ns" when it printed one, else the whole run's.
declare -A ms ms_spread runs_of
measure() {
  local n=$1; shift
  local vs=("$@") i k v t0 t1 own
  for v in "${vs[@]}"; do runs_of[$v]=""; done
  local m=${#vs[@]}
  for ((i = 0; i < n; ++i)); do
    for ((k = 0; k < m; ++k)); do
      if ((i % 2)); then v=${vs[$(( (i + m - 1 - k) % m ))]}; else v=${vs[$(( (i + k) % m ))]}; fi
      rm -rf "$work/out"
      t0=$(now_ns)
      "v_$v" >/dev/null 2>"$work/err" || { echo "$0: $v failed:" >&2; cat "$work/err" >&2; exit 1; }
      t1=$(now_ns)
      own=$(awk '/^elapsed_ns / {print $2}' "$work/err")
      if [[ -n ${DIAL9_BENCH_ELAPSED:-} && -z $own ]]; then
        echo "$0: $v printed no elapsed_ns:" >&2; cat "$work/err" >&2; exit 1
      fi
      runs_of[$v]+="$(( ${own:-$((t1 - t0))} / 1000 )) "
    done
  done
  for v in "${vs[@]}"; do
    # One value per line on purpose.
    # shellcheck disable=SC2086
    ms[$v]=$(printf '%s\n' ${runs_of[$v]} | awk '{print $1/1000}' | median %.2f)
    # shellcheck disable=SC2086
    ms_spread[$v]=$(printf '%s\n' ${runs_of[$v]} | awk '{print $1/1000}' | spread %.1f)
  done
}
# alias_variant NEW OLD: NEW's results are OLD's.
alias_variant() { ms[$1]=${ms[$2]} ms_spread[$1]=${ms_spread[$2]} runs_of[$1]=${runs_of[$2]}; }
# ratio A B: the median over rounds of A's time over B's in the same round.
# This machine's speed drifts by tens of percent within a minute (shared
# host); a round's variants ran seconds apart, so each round's ratio
# cancels most of the drift that a ratio of two medians keeps.
round_ratios() {
  # shellcheck disable=SC2086
  paste <(printf '%s\n' ${runs_of[$1]}) <(printf '%s\n' ${runs_of[$2]}) | awk '{print $1 / $2}'
}
ratio() { round_ratios "$1" "$2" | median %.3f; }
# noise A B: half the interquartile range of the rounds' ratios (of their
# whole range for 4 rounds or fewer): how far apart rounds typically
# disagree, a difference the median of so few rounds cannot resolve.
noise() { round_ratios "$1" "$2" | half_iqr %.3f; }
# half_iqr FORMAT: half the interquartile range of the numbers on stdin.
half_iqr() { sort -n | awk -v f="$1" '{a[NR]=$1} END {k = int((NR + 3) / 4); printf f, (a[NR + 1 - k] - a[k]) / 2}'; }

spin=("work:${DIAL9_BENCH_SPIN_WORK:-4000}")
v_spin_bare() { "$build/bench/bench_spin" "${spin[@]}"; }
v_spin_dial9() { "$dial9" record -q -e cpu-clock -F "$hz" -o "$work/out" -- "$build/bench/bench_spin" "${spin[@]}"; }
v_spin_perf() { perf record -q -e cpu-clock -F "$hz" -g --no-bpf-event -o "$work/out.data" -- "$build/bench/bench_spin" "${spin[@]}"; }
trips=${DIAL9_BENCH_PINGPONG:-60000}
v_ping_bare() { "$build/bench/bench_pingpong" "$trips"; }
v_ping_dial9() { "$dial9" record -q -e cpu-clock -F 999 -o "$work/out" -- "$build/bench/bench_pingpong" "$trips"; }
v_ping_nosched() { "$dial9" record -q --no-sched -e cpu-clock -F 999 -o "$work/out" -- "$build/bench/bench_pingpong" "$trips"; }
v_ping_perf() { perf record -q -e cpu-clock -F 999 -g --no-bpf-event -o "$work/out.data" -- "$build/bench/bench_pingpong" "$trips"; }
v_true_bare() { /bin/true; }
v_true_dial9() { "$dial9" record -q -o "$work/out" -- /bin/true; }
v_true_perf() { perf record -q --no-bpf-event -o "$work/out.data" -- /bin/true; }
v_true_perfdefault() { perf record -q -o "$work/out.data" -- /bin/true; }

echo "$(machine); $rounds rounds ($((runs * 3)) for the fixed cost), interleaved" >&2
# overhead_row LABEL PREFIX: the bare, dial9 and perf variants PREFIX_*.
declare -A dial9_ratio perf_ratio dial9_noise vs_perf vs_perf_noise
overhead_row() {
  local p=$2
  dial9_ratio[$p]=$(ratio "${p}_dial9" "${p}_bare")
  dial9_noise[$p]=$(noise "${p}_dial9" "${p}_bare")
  vs_perf[$p]=$(ratio "${p}_dial9" "${p}_perf")
  vs_perf_noise[$p]=$(noise "${p}_dial9" "${p}_perf")
  perf_ratio[$p]=$(ratio "${p}_perf" "${p}_bare")
  md_row "$1" "${ms_spread[${p}_bare]} ms" "${ms_spread[${p}_dial9]} ms" "${ms_spread[${p}_perf]} ms" \
    "**${dial9_ratio[$p]}×** (±${dial9_noise[$p]})" "${perf_ratio[$p]}× (±$(noise "${p}_perf" "${p}_bare"))"
}
echo "The program's own time (its work, without the recorders' start-up and shutdown; the fixed-cost row is those), median (min–max) of $rounds rounds, variants interleaved; ratios: the median of each round's ratio (a round runs each variant once, seconds apart), ± half their interquartile range. A target within that ± of the ratio is **unresolved**: this run cannot tell on which side of it the cost lies."
echo
md_header measurement bare "dial9 record" "perf record" "dial9 / bare" "perf / bare"
export DIAL9_BENCH_ELAPSED=1
for hz in 999 99; do
  measure "$rounds" spin_bare spin_dial9 spin_perf
  for v in bare dial9 perf; do alias_variant "spin${hz}_$v" "spin_$v"; done
  overhead_row "CPU-bound (\`bench_spin ${spin[*]}\`), $hz Hz" "spin$hz"
done
measure "$rounds" ping_bare ping_dial9 ping_nosched ping_perf
overhead_row "ping-pong over pipes (\`bench_pingpong $trips\`), 999 Hz, dial9's default (with scheduler capture)" ping
alias_variant pingns_bare ping_bare
alias_variant pingns_dial9 ping_nosched
alias_variant pingns_perf ping_perf
overhead_row "the same, CPU sampling alone (\`--no-sched\`)" pingns
unset DIAL9_BENCH_ELAPSED
measure $((runs * 3)) true_bare true_dial9 true_perf true_perfdefault
plus() { awk -v a="${ms[$1]}" -v b="${ms[true_bare]}" 'BEGIN{printf "+%.1f ms", a - b}'; }
true_cost=$(awk -v a="${ms[true_dial9]}" -v b="${ms[true_bare]}" 'BEGIN{printf "%.1f", a - b}')
# How far apart the runs' fixed costs typically are (half the interquartile
# range of each round's dial9 run less its bare run, in ms): the kernel's
# share of it (kallsyms, tracepoint teardown) moves with the host.
# shellcheck disable=SC2086
true_noise=$(paste <(printf '%s\n' ${runs_of[true_dial9]}) <(printf '%s\n' ${runs_of[true_bare]}) |
  awk '{print ($1 - $2) / 1000}' | half_iqr %.1f)
md_row "fixed cost: \`record -- true\` against \`true\` ($((runs * 3)) runs)" "${ms_spread[true_bare]} ms" "$(plus true_dial9)" \
  "$(plus true_perf) (\`--no-bpf-event\`); $(plus true_perfdefault) (default)" "" ""
rss=$("$build/bench/bench_peak_rss" "$dial9" record -q -e cpu-clock -F 999 -o "$work/rss" -- \
        "$build/bench/bench_workload" 64 "$rss_seconds" 2>&1 >/dev/null | grep peak_rss_kib | tail -1 | awk '{print $2}')
rss_mib=$(awk -v k="$rss" 'BEGIN{printf "%.1f", k/1024}')
md_row "dial9's peak RSS recording 64 threads at 999 Hz for ${rss_seconds} s (one run)" "" "$rss_mib MiB" "" "" ""
echo
md_header "target (issue #4)" measured status
# within RATIO NOISE LIMIT: an awk condition, true when LIMIT is within
# NOISE of RATIO, where this run cannot say on which side of it the
# program's true cost lies (target_row's NOISY argument).
within() { echo "($1 - $3) ^ 2 <= $2 ^ 2"; }
target_row "CPU-bound, 999 Hz: ≤ 1.02× bare" "${dial9_ratio[spin999]}× (±${dial9_noise[spin999]})" \
  "${dial9_ratio[spin999]} <= 1.02" "$(within "${dial9_ratio[spin999]}" "${dial9_noise[spin999]}" 1.02)"
target_row "CPU-bound, 999 Hz: ≤ perf's overhead" \
  "${vs_perf[spin999]}× of perf's time (±${vs_perf_noise[spin999]}; perf: ${perf_ratio[spin999]}× bare)" \
  "${vs_perf[spin999]} <= 1" "$(within "${vs_perf[spin999]}" "${vs_perf_noise[spin999]}" 1)"
target_row "CPU-bound, 99 Hz: ≤ 1.005× bare" "${dial9_ratio[spin99]}× (±${dial9_noise[spin99]})" \
  "${dial9_ratio[spin99]} <= 1.005" "$(within "${dial9_ratio[spin99]}" "${dial9_noise[spin99]}" 1.005)"
# The issue's target is for CPU sampling (it sets it against perf's sampling
# events); scheduler capture has its own target (bench/run_sched.sh).
target_row "ping-pong, 999 Hz, CPU sampling (\`--no-sched\`): ≤ 1.10× bare" \
  "${dial9_ratio[pingns]}× (±${dial9_noise[pingns]}; perf: ${perf_ratio[pingns]}×; with scheduler capture: ${dial9_ratio[ping]}×)" \
  "${dial9_ratio[pingns]} <= 1.10" "$(within "${dial9_ratio[pingns]}" "${dial9_noise[pingns]}" 1.10)"
target_row "fixed cost of \`record -- true\` ≤ 100 ms" "$true_cost ms (±$true_noise)" "$true_cost <= 100" \
  "$(within "$true_cost" "$true_noise" 100)"
target_row "dial9's peak RSS, 64 threads × 999 Hz ≤ 32 MiB" "$rss_mib MiB" "$rss_mib <= 32"
