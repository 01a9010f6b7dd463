#!/usr/bin/env bash
# What the in-process agent costs the program it runs in:
#   1. the timer sampler's cost per sample: the time inside its signal
#      handler (the agent measures it: record -v) plus the kernel's part,
#      one signal delivered and returned from (bench_signal_roundtrip: an
#      upper bound, since it includes a tgkill a timer does not need);
#   2. the preload's fixed cost when perf samples: `record` of a 20 ms
#      program with the agent against --no-agent (the handshake; both
#      recordings name the same libraries, so seal-time symbolization is
#      the same);
#   3. the agent's memory in the program: bench_spin's peak RSS under the
#      timer sampler against bare.
# Medians of DIAL9_BENCH_RUNS (default 7), variants interleaved.
# Prints its results as Markdown (bench/run puts them in docs/BENCHMARKS.md).
# Usage: bench/run_agent.sh
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
build=${DIAL9_BENCH_BUILD:-$(cd "$here/.." && pwd)/build-bench}
runs=${DIAL9_BENCH_RUNS:-7}
# shellcheck source=lib.sh source-path=SCRIPTDIR
. "$here/lib.sh"
require_time
"$here/build.sh" dial9 dial9-agent bench_spin bench_signal_roundtrip
dial9=$build/cli/dial9
spin=$build/bench/bench_spin
work=$(mktemp -d -t dial9-bench-agent.XXXXXX)
trap 'rm -rf "$work"' EXIT
med() { printf '%s\n' "$@" | median "${FMT:-%.2f}"; }
machine >&2

# 1. Per sample.
declare -a handler roundtrip tgkill
for ((i = 0; i < runs; ++i)); do
  rm -rf "$work/t"
  handler+=("$("$dial9" record -v --sampler timer -o "$work/t" -- "$spin" 3000 2>&1 |
               grep -o '[0-9.]* us per sample in the signal handler' | awk '{print $1}')")
  out=$("$build/bench/bench_signal_roundtrip")
  roundtrip+=("$(awk '/^roundtrip_ns/ {print $2 / 1000}' <<<"$out")")
  tgkill+=("$(awk '/^tgkill_ns/ {print $2 / 1000}' <<<"$out")")
done
h=$(med "${handler[@]}"); r=$(med "${roundtrip[@]}"); k=$(med "${tgkill[@]}")
sp() { printf '%s\n' "$@" | spread %.2f; }
per_sample=$(awk -v a="$h" -v b="$r" -v c="$k" 'BEGIN{printf "%.2f", a + b - c}')
echo "Medians (min–max) of $runs runs."
echo
md_header measurement figure
md_row "time in the signal handler per sample (\`record -v --sampler timer\` of \`bench_spin 3000\`)" "$(sp "${handler[@]}") µs"
md_row "signal round trip with \`tgkill\` (an upper bound of the kernel's part)" "$(sp "${roundtrip[@]}") µs"
md_row "\`tgkill\` of an ignored signal (the system call alone, which a timer does not make)" "$(sp "${tgkill[@]}") µs"
md_row "timer sampler per sample: handler + round trip − the \`tgkill\` call" \
  "**$per_sample µs** (upper bound $(awk -v a="$h" -v b="$r" 'BEGIN{printf "%.2f", a + b}') µs with the call)"
# 2. Fixed cost of the preload when perf samples.
declare -a with without
for ((i = 0; i < runs * 3; ++i)); do
  t0=$(date +%s%N); "$dial9" record -q -o "$work/w$i" -- "$spin" 20; with+=("$(( ($(date +%s%N) - t0) / 1000 ))")
  t0=$(date +%s%N); "$dial9" record -q --no-agent -o "$work/n$i" -- "$spin" 20; without+=("$(( ($(date +%s%N) - t0) / 1000 ))")
  rm -rf "$work/w$i" "$work/n$i"
done
w=$(FMT=%.0f med "${with[@]}"); n=$(FMT=%.0f med "${without[@]}")
to_ms() { printf '%s\n' "$@" | awk '{print $1 / 1000}' | spread %.1f; }
md_row "\`record\` of a 20 ms program, agent preloaded against \`--no-agent\` ($((runs * 3)) runs)" \
  "$(to_ms "${with[@]}") ms against $(to_ms "${without[@]}") ms (+$(awk -v a="$w" -v b="$n" 'BEGIN{printf "%.1f", (a-b)/1000}') ms)"

# 3. Memory in the program.
bare_kib=$(/usr/bin/time -f '%M' "$spin" 500 2>&1 >/dev/null | tail -1)
rm -rf "$work/m"
agent_kib=$("$dial9" record -q --sampler timer -o "$work/m" -- /usr/bin/time -f 'child %M' "$spin" 500 2>&1 >/dev/null |
            grep '^child' | awk '{print $2}')
md_row "peak RSS of \`bench_spin 500\` (one thread), bare → timer sampler (one run)" \
  "$bare_kib → $agent_kib KiB (+$((agent_kib - bare_kib)) KiB)"
echo
md_header "target (issue #7)" measured status
target_row "timer sampler ≤ 3.5 µs per sample" "$per_sample µs" "$per_sample <= 3.5"
target_row "agent memory ≤ 4 MiB + 64 KiB per thread" "+$((agent_kib - bare_kib)) KiB, one thread" \
  "$((agent_kib - bare_kib)) <= 4096 + 64"
