#!/usr/bin/env bash
# What complete stacks cost, by --call-graph mode, on a CPU-bound program
# (bench_spin, a fixed amount of work) sampled at 999 Hz, interleaved runs:
#   - the program's run time against running bare (overhead on the target);
#   - the recorder's own CPU time (the recording's user+sys CPU minus the
#     bare program's) and, for dial9, the time per sample spent unwinding
#     (from its summary);
#   - bytes per sample on disk, against perf's `-g` and `--call-graph dwarf`
#     perf.data (perf keeps the 8 KiB stack copies; dial9 keeps only the
#     resulting stack).
# Prints its results as Markdown (bench/run puts them in docs/BENCHMARKS.md).
# Usage: bench/run_callgraph.sh   (env: DIAL9_BENCH_RUNS=5, DIAL9_BENCH_SPIN_WORK=12000)
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
build=${DIAL9_BENCH_BUILD:-$(cd "$here/.." && pwd)/build-bench}
runs=${DIAL9_BENCH_RUNS:-5}
command -v perf >/dev/null || { echo "$0: perf is required (apt-get install linux-perf)" >&2; exit 1; }
"$here/build.sh" dial9 bench_spin >/dev/null

dial9=$build/cli/dial9
spin=("$build/bench/bench_spin" "work:${DIAL9_BENCH_SPIN_WORK:-12000}")
work=$(mktemp -d -t dial9-bench-callgraph.XXXXXX)
trap 'rm -rf "$work"' EXIT

# shellcheck source=lib.sh source-path=SCRIPTDIR
. "$here/lib.sh"  # median

variants=(bare fp auto dwarf perf_fp perf_dwarf)
run_variant() {  # prints "wall_s recorder_cpu_s bytes samples unwind_us"
  local v=$1 out=$work/$1
  rm -rf "$out" "$out.data"
  local t0 t1
  t0=$(date +%s%N)
  case $v in
    bare)
      /usr/bin/time -f '%U %S' -o "$work/time" "${spin[@]}"
      echo "$(( $(date +%s%N) - t0 ))e-9 $(awk '{print $1 + $2}' "$work/time") 0 1 0"; return ;;
    fp|auto|dwarf)
      /usr/bin/time -f '%U %S' -o "$work/time" "$dial9" record -e cpu-clock -F 999 --call-graph "$v" -o "$out" -- \
        "${spin[@]}" 2>"$work/err"
      t1=$(date +%s%N)
      local samples unwind
      samples=$(sed -n 's/^dial9 record: \([0-9]*\) samples.*/\1/p' "$work/err")
      unwind=$(sed -n 's/.*, \([0-9.]*\) us each$/\1/p' "$work/err")
      # Segment bytes only (not the directory's own size).
      echo "$(( t1 - t0 ))e-9 $(awk '{print $1 + $2}' "$work/time") $(find "$out" -type f -printf '%s\n' | awk '{s+=$1} END {print s}') $samples ${unwind:-0}" ;;
    perf_fp|perf_dwarf)
      local cg=-g
      [[ $v == perf_dwarf ]] && cg=--call-graph=dwarf
      /usr/bin/time -f '%U %S' -o "$work/time" perf record -q -e cpu-clock -F 999 "$cg" --no-bpf-event -o "$out.data" -- \
        "${spin[@]}" 2>/dev/null
      t1=$(date +%s%N)
      local samples
      samples=$(perf report -i "$out.data" --stats 2>/dev/null | awk '/SAMPLE events:/ {print $3; exit}')
      echo "$(( t1 - t0 ))e-9 $(awk '{print $1 + $2}' "$work/time") $(stat -c %s "$out.data") ${samples:-1} 0" ;;
  esac
}
declare -A col
for ((i = 0; i < runs; ++i)); do
  for v in "${variants[@]}"; do
    read -r w c b s u < <(run_variant "$v")
    col[$v.wall]+="$(awk -v w="$w" 'BEGIN{print w+0}') "
    col[$v.cpu]+="$c "
    col[$v.bps]+="$(awk -v b="$b" -v s="$s" 'BEGIN{printf "%.1f", b/s}') "
    col[$v.us]+="$u "
  done
done
# One value per line on purpose.
# shellcheck disable=SC2086
m() { printf '%s\n' ${col[$1]} | median; }
# shellcheck disable=SC2086
sp() { printf '%s\n' ${col[$1]} | spread "$2"; }
bare=$(m bare.wall)
echo "machine: $(nproc) CPUs, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs); $runs runs each, interleaved; ${spin[1]}, cpu-clock 999 Hz" >&2
bare_cpu=$(m bare.cpu)
echo "\`bench_spin ${spin[1]}\` at 999 Hz (cpu-clock), median (min–max) of $runs interleaved runs; bare: $(sp bare.wall %.2f) s."
echo
md_header variant "wall time" "vs bare" "recorder CPU" "unwinding per sample" "bytes per sample"
for v in fp auto dwarf perf_fp perf_dwarf; do
  name=$v
  case $v in fp|auto|dwarf) name="\`dial9 record --call-graph $v\`" ;; perf_fp) name="\`perf record -g\`" ;;
    perf_dwarf) name="\`perf record --call-graph dwarf\`" ;; esac
  md_row "$name" "$(sp "$v.wall" %.2f) s" "$(awk -v a="$(m "$v.wall")" -v b="$bare" 'BEGIN{printf "%.3f×", a/b}')" \
    "$(awk -v a="$(m "$v.cpu")" -v b="$bare_cpu" 'BEGIN{printf "%.2f s", a-b}')" \
    "$( [[ $v == perf_* ]] && echo – || echo "$(sp "$v.us" %.1f) µs")" "$(sp "$v.bps" %.1f)"
done
echo
echo "Recorder CPU: the recording's user + system CPU time minus the bare program's (medians)."
