#!/usr/bin/env bash
# Builds bench_codec in Release (-O2) in build-bench/ and runs it on the shared
# fixture, next to two baselines measured in the same run: `gzip -dc` of the
# fixture and `zstd -dc` of a zstd copy of it, both to /dev/null. bench_codec
# prints its medians as ratios to those, which drift less than absolute
# times on this shared 2-core machine.
#
# Without options it prints Markdown (bench/run puts it in docs/BENCHMARKS.md);
# with them, bench_codec's own output.
# Usage: bench/run_codec.sh [bench_codec options...]    e.g. --json, --runs 11
# Environment: DIAL9_BENCH_BUILD (build dir, default build-bench),
#              DIAL9_BENCH_FIXTURE (gzip'd trace), DIAL9_BENCH_CPU (default 0),
#              DIAL9_BENCH_RUNS (default 7).
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/.." && pwd)
build=${DIAL9_BENCH_BUILD:-$repo/build-bench}
fixture=${DIAL9_BENCH_FIXTURE:-$repo/../shared/fixtures/tokio-demo-trace.bin.gz}
cpu=${DIAL9_BENCH_CPU:-0}
runs=${DIAL9_BENCH_RUNS:-7}

for tool in cmake ninja gzip zstd taskset; do
  command -v "$tool" >/dev/null || { echo "$0: '$tool' is required" >&2; exit 1; }
done
[[ -r $fixture ]] || { echo "$0: cannot read fixture '$fixture'" >&2; exit 1; }
fixture=$(realpath "$fixture")

# Progress goes to stderr so that `--json` output on stdout stays clean.
"$here/build.sh" bench_codec

zst=$build/fixture.trc.zst
if [[ ! -s $zst || $fixture -nt $zst ]]; then
  gzip -dc "$fixture" | zstd -q -3 -c >"$zst"
fi

# shellcheck source=lib.sh source-path=SCRIPTDIR
. "$here/lib.sh"  # median

# Median wall time in milliseconds of $runs runs of a command (after one
# warm-up), pinned to the benchmark's CPU.
median_ms() {
  local times=() t0 t1 i
  taskset -c "$cpu" "$@" >/dev/null
  for ((i = 0; i < runs; ++i)); do
    t0=$(date +%s%N)
    taskset -c "$cpu" "$@" >/dev/null
    t1=$(date +%s%N)
    times+=("$(((t1 - t0) / 1000))")
  done
  # The median in microseconds is exact at one decimal (a whole number or a half).
  printf '%s\n' "${times[@]}" | median %.1f | awk '{printf "%.3f", $1 / 1000}'
}

echo "timing baselines: gzip -dc, zstd -dc ($runs runs each, CPU $cpu)" >&2
gzip_ms=$(median_ms gzip -dc "$fixture")
zstd_ms=$(median_ms zstd -q -dc "$zst")

codec=("$build/bench/bench_codec" --fixture "$fixture" --zstd "$zst" --runs "$runs" --cpu "$cpu"
       --baseline "gzip -dc=$gzip_ms" --baseline "zstd -d=$zstd_ms")
# With options, bench_codec's own output (text, or --json).
(($# == 0)) || exec "${codec[@]}" "$@"

# Without: its JSON, as the Markdown tables of docs/BENCHMARKS.md.
json=$(mktemp -t dial9-bench-codec.XXXXXX)
trap 'rm -f "$json"' EXIT
"${codec[@]}" --json >"$json"
python3 - "$json" <<'PY'
import json, sys
d = json.load(open(sys.argv[1]))
print(f"Pinned to CPU {d['pinned_cpu']}; median (min–max) of {d['runs']} runs after a warm-up; "
      "per CPU-second: the median events per second of the process's CPU time.")
print()
print("| benchmark | events/s | per CPU-second | MB/s | time per run | vs baselines |")
print("|---|---|---|---|---|---|")
def m(x, scale=1, fmt="{:.2f}"):
    return f"{fmt.format(x['median'] / scale)} ({fmt.format(x['min'] / scale)}–{fmt.format(x['max'] / scale)})"
for r in d["results"]:
    ratios = ", ".join(f"{v:.2f}× {k}" for k, v in r.get("time_ratio_to_baseline", {}).items())
    mb = m(r["mb_per_s"], fmt="{:.0f}")
    if "input_mb_per_s" in r:
        mb += f"; {r['input_mb_per_s']['median']:.0f} in"
    print(f"| `{r['name']}` | **{m(r['events_per_s'], 1e6)} M** | {r['cpu_events_per_s_median'] / 1e6:.2f} M | {mb} | "
          f"{r['wall_ms']['median']:.2f} ms | {ratios} |")
for b in d["baselines"]:
    print(f"| baseline `{b['name']}` (process start included) | | | | {b['wall_ms_median']:.2f} ms | |")
PY
rate() { json_value "$json" "next(r for r in d['results'] if r['name'] == '$1')['events_per_s']['median'] / 1e6" %.2f; }
decode=$(rate decode_typed) encode=$(rate encode_writer)
echo
md_header "target (issue #2)" measured status
target_row "typed decode ≥ 20 M events/s on one core" "$decode M events/s" "$decode >= 20"
target_row "encode ≥ 40 M small events/s" "$encode M events/s (\`TraceWriter\`)" "$encode >= 40"
