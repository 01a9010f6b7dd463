#!/usr/bin/env bash
# Segment writing cost and size, against perf, in one run:
#  1. records bench_workload (64 threads, realistic 10-20 frame stacks) with
#     `perf record -e cpu-clock -F 999 -g`;
#  2. measures perf.data's bytes per sample, raw and after `zstd -3`;
#  3. runs bench_segments on the same samples (bytes per sample in dial9
#     segments) and on 64 threads x 999 Hz of them (sealing CPU cost).
# Without options it prints Markdown (bench/run puts it in docs/BENCHMARKS.md);
# with them, bench_segments' own output.
# Usage: bench/run_segments.sh [bench_segments options...]   e.g. --json
# Needs perf (Debian: linux-perf) and permission to sample (root, or
# kernel.perf_event_paranoid <= 1).
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/.." && pwd)
build=${DIAL9_BENCH_BUILD:-$repo/build-bench}
threads=${DIAL9_BENCH_THREADS:-64}
seconds=${DIAL9_BENCH_RECORD_SECONDS:-5}

for tool in perf zstd; do
  command -v "$tool" >/dev/null || { echo "$0: '$tool' is required (apt-get install linux-perf zstd)" >&2; exit 1; }
done
# shellcheck source=lib.sh source-path=SCRIPTDIR
. "$here/lib.sh"  # md_header, target_row
"$here/build.sh" bench_segments bench_workload

work=$(mktemp -d -t dial9-bench-segments.XXXXXX)
trap 'rm -rf "$work"' EXIT
echo "recording bench_workload ($threads threads, ${seconds}s) with perf record -F 999 -g" >&2
if ! perf record -q -e cpu-clock -F 999 -g -o "$work/perf.data" -- \
    "$build/bench/bench_workload" "$threads" "$seconds" >/dev/null 2>"$work/perf.err"; then
  cat "$work/perf.err" >&2
  echo "$0: perf record failed; as non-root try: sudo sysctl kernel.perf_event_paranoid=1" >&2
  exit 1
fi
perf script -i "$work/perf.data" -F tid,time,ip >"$work/perf.txt" 2>/dev/null
samples=$(grep -c ':[[:space:]]*$' "$work/perf.txt" || true)
raw=$(stat -c %s "$work/perf.data")
zst=$(zstd -3 -q -c "$work/perf.data" | wc -c)
perf_raw=$(awk -v b="$raw" -v s="$samples" 'BEGIN{printf "%.1f", b/s}')
perf_zst=$(awk -v b="$zst" -v s="$samples" 'BEGIN{printf "%.2f", b/s}')
echo "perf.data: $samples samples, $raw bytes = $perf_raw B/sample raw, $zst bytes = $perf_zst B/sample after zstd -3" >&2
segments=("$build/bench/bench_segments" --perf-script "$work/perf.txt")
# With options, bench_segments' own output (text, or --json).
(($# == 0)) || exec "${segments[@]}" "$@"

# Without: its JSON, as the Markdown tables of docs/BENCHMARKS.md.
"${segments[@]}" --json >"$work/segments.json"
python3 - "$work/segments.json" "$samples" "$perf_raw" "$perf_zst" <<'PY'
import json, sys
d = json.load(open(sys.argv[1]))
n, raw, zst = sys.argv[2], float(sys.argv[3]), float(sys.argv[4])
print(f"perf.data of the same program: {n} samples, {raw:.1f} B/sample raw, **{zst:.2f} B/sample after `zstd -3`**. "
      f"Rate workload: {d['threads']} threads × {d['hz']} Hz × {d['seconds']:g} s = {d['rate_samples']} samples, "
      f"{d['batch_ms']} ms batches; one run of each.")
print()
print("| config | B/sample (perf's samples) | B/sample (rate) | sealing, % of one core | encode, % of one core |")
print("|---|---|---|---|---|")
for c in d["configs"]:
    name = c["config"] + (" (default)" if c["config"] == "zstd-3" else "")
    same = f"{c['bytes_per_sample_perf_samples']:.2f}"
    if c["config"] == "zstd-3":
        same = f"**{same}** ({c['bytes_per_sample_perf_samples'] / zst:.2f}× perf.data + zstd -3)"
    print(f"| {name} | {same} | {c['bytes_per_sample_rate']:.2f} | {c['sealing_core_percent']:.2f}% | "
          f"{c['encode_core_percent']:.2f}% |")
PY
field() { json_value "$work/segments.json" "next(c for c in d['configs'] if c['config'] == 'zstd-3')['$1']" %.2f; }
sealing=$(field sealing_core_percent) bps=$(field bytes_per_sample_rate)
echo
md_header "target (issue #3)" measured status
target_row "sealing and compression ≤ 2% of one core at 999 Hz × 64 threads" "$sealing% (zstd-3)" "$sealing <= 2"
target_row "≤ 12 B per CPU sample with 10–20 frame stacks (aim 6)" "$bps B (zstd-3, 64 threads × 999 Hz)" "$bps <= 12"
