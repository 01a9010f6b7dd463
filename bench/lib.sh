# shellcheck shell=bash
# shellcheck disable=SC2034,SC2154  # the variables named below are the caller's
# Shell helpers shared by the bench/run_*.sh scripts. Source it after
# `set -euo pipefail`:   . "$here/lib.sh"
# Sourcing defines functions only. Those that record, copy or measure use the
# calling script's variables: work (its scratch directory), dial9 (the dial9
# binary), demo (the demo program), seconds (how long the demo runs) and
# build (the Release build tree).
#
#   require_perf           exits 1 with a hint unless perf is on PATH.
#   require_time           exits 1 with a hint unless /usr/bin/time exists.
#   median [FORMAT]        the median of the numbers on stdin (one a line; the
#                          mean of the middle two for an even count), printed
#                          with printf FORMAT, "%.3f" by default.
#   spread [FORMAT]        the same median and the spread of the numbers:
#                          "MEDIAN (MIN–MAX)", each printed with FORMAT.
#   json_value FILE EXPR [FORMAT]
#                          the Python expression EXPR over the JSON document
#                          in FILE (as d), printed with FORMAT ("%s").
#   md_header COL...       a Markdown table's header row and separator.
#   md_row CELL...         one row of it.
#   target_row TARGET MEASURED CONDITION
#                          a row of a "target | measured | status" table:
#                          status "met" when the awk expression CONDITION
#                          holds, else "**missed**" (bench/run gathers these
#                          rows into the summary at the top of BENCHMARKS.md).
#                          With a fourth argument NOISY, an awk expression
#                          saying the target lies within the measurement's
#                          noise, the status is "**unresolved**" when NOISY
#                          holds.
#   machine                "machine: N CPUs, <CPU model>", for the line each
#                          script prints to stderr.
#   prepare_demo_recordings NAME
#                          what run_report.sh and run_export.sh start with:
#                          require_perf and require_time; builds dial9 and
#                          the demo (bench/build.sh) and sets dial9 and demo
#                          to them; makes work, a scratch directory
#                          (dial9-bench-NAME.*) removed on exit; then
#                          record_demo and make_scaled_traces.
#   record_demo            records the demo program for $seconds s with dial9
#                          (into $work/d, which must come out as one segment)
#                          and with `perf record -g` (into $work/perf.data),
#                          both cpu-clock at 999 Hz; sets segment (the dial9
#                          segment's path), samples and perf_samples (how many
#                          CPU samples each recording holds).
#   make_scaled_traces     concatenates copies of $segment into ~100k- and
#                          ~1M-sample traces, $work/x100k.bin.zst and
#                          $work/x1m.bin.zst (zstd frames and TRC streams both
#                          concatenate, so N copies are one valid trace with N
#                          times the samples); sets copies_100k and copies_1m.
#   measure NAME CMD...    runs CMD once, output discarded (its stderr shown
#                          and the script ended if it fails), and adds its
#                          wall time (s, from the clock: time(1) rounds to
#                          10 ms) and peak RSS (KiB, from /usr/bin/time) to
#                          NAME's lists.
#   median_wall NAME       the median wall time of NAME's runs, s ("%.3f").
#   spread_wall NAME       "MEDIAN (MIN–MAX)" of the same, s.
#   median_rss NAME        the median peak RSS of NAME's runs, KiB ("%.3f").
#   median_rss_mib NAME    the same in MiB, unformatted.
#   throughput_header
#   throughput_row LABEL SAMPLES NAME
#                          a Markdown table of samples, wall time (median and
#                          spread), samples per second (of the median) and
#                          median peak RSS per measured NAME.

require_perf() {
  command -v perf >/dev/null || { echo "$0: perf is required (apt-get install linux-perf)" >&2; exit 1; }
}

require_time() {
  [[ -x /usr/bin/time ]] || { echo "$0: /usr/bin/time is required (apt-get install time)" >&2; exit 1; }
}

median() {
  sort -n | awk -v fmt="${1:-%.3f}" '{a[NR]=$1} END {m = (NR % 2) ? a[(NR+1)/2] : (a[NR/2] + a[NR/2+1]) / 2; printf fmt, m}'
}

spread() {
  sort -n | awk -v fmt="${1:-%.3f}" '{a[NR]=$1} END {
    m = (NR % 2) ? a[(NR+1)/2] : (a[NR/2] + a[NR/2+1]) / 2
    printf fmt " (" fmt "–" fmt ")", m, a[1], a[NR] }'
}

json_value() {
  python3 -c 'import json, sys; d = json.load(open(sys.argv[1])); print(sys.argv[3] % eval(sys.argv[2]))' \
    "$1" "$2" "${3:-%s}"
}

md_row() {
  printf '| %s ' "$@"
  printf '|\n'
}

md_header() {
  md_row "$@"
  printf '|---%.0s' "$@"
  printf '|\n'
}

target_row() {
  local status='**missed**'
  awk "BEGIN { exit !($3) }" && status=met
  [[ -n ${4:-} ]] && awk "BEGIN { exit !($4) }" && status='**unresolved**'
  md_row "$1" "$2" "$status"
}

machine() {
  echo "machine: $(nproc) CPUs, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs)"
}

prepare_demo_recordings() {
  require_perf
  require_time
  "$(dirname "${BASH_SOURCE[0]}")/build.sh" dial9 dial9-demo >/dev/null
  dial9=$build/cli/dial9
  demo=$build/examples/demo/dial9-demo
  work=$(mktemp -d -t "dial9-bench-$1.XXXXXX")
  trap 'rm -rf "$work"' EXIT
  record_demo
  make_scaled_traces
}

record_demo() {
  "$dial9" record -q -e cpu-clock -F 999 -o "$work/d" -- "$demo" "$seconds" >/dev/null
  perf record -q -e cpu-clock -F 999 -g --no-bpf-event -o "$work/perf.data" -- "$demo" "$seconds" >/dev/null 2>&1
  segment=$(find "$work/d" -name '*.bin*' | head -1)
  [[ $(find "$work/d" -name '*.bin*' | wc -l) == 1 ]] || { echo "$0: expected one segment in $work/d" >&2; exit 1; }
  samples=$("$dial9" report -f json "$work/d" | python3 -c 'import json,sys; print(json.load(sys.stdin)["overview"]["cpu_samples"])')
  perf_samples=$(perf report -i "$work/perf.data" --stats 2>/dev/null | awk '/SAMPLE events:/ {print $3; exit}')
}

# concat_copies FILE N: FILE holds N copies of $segment, one after the other.
concat_copies() {
  local out=$1 n=$2 i
  : >"$out"
  for ((i = 0; i < n; ++i)); do cat "$segment" >>"$out"; done
}

make_scaled_traces() {
  copies_100k=$(( (100000 + samples - 1) / samples ))
  copies_1m=$(( (1000000 + samples - 1) / samples ))
  concat_copies "$work/x100k.bin.zst" "$copies_100k"
  concat_copies "$work/x1m.bin.zst" "$copies_1m"
}

measure() {
  local name=$1 t0 t1 kib
  shift
  declare -gA bench_wall bench_rss
  t0=$(date +%s%N)
  /usr/bin/time -f '%M' -o "$work/time" "$@" >/dev/null 2>"$work/err" || { cat "$work/err" >&2; exit 1; }
  t1=$(date +%s%N)
  read -r kib <"$work/time"
  bench_wall[$name]+="$(awk -v d=$((t1 - t0)) 'BEGIN{print d/1e9}') "
  bench_rss[$name]+="$kib "
}

# The lists are split into one value per line on purpose.
# shellcheck disable=SC2086
median_wall() { printf '%s\n' ${bench_wall[$1]} | median %.3f; }
# shellcheck disable=SC2086
spread_wall() { printf '%s\n' ${bench_wall[$1]} | spread %.3f; }
# shellcheck disable=SC2086
median_rss() { printf '%s\n' ${bench_rss[$1]} | median %.3f; }
median_rss_mib() { awk -v k="$(median_rss "$1")" 'BEGIN{print k/1024}'; }

throughput_header() {
  md_header input samples "wall s" "samples/s" "peak RSS"
}

throughput_row() {
  local label=$1 n=$2 name=$3
  md_row "$label" "$n" "$(spread_wall "$name")" \
    "$(awk -v n="$n" -v w="$(median_wall "$name")" 'BEGIN{printf "%.0f", n/w}')" \
    "$(awk -v m="$(median_rss_mib "$name")" 'BEGIN{printf "%.1f MiB", m}')"
}
