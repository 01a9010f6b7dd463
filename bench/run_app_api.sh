#!/usr/bin/env bash
# What the app API (dial9/dial9.h, dial9(3)) costs per call, from
# bench_app_api (Google Benchmark):
#   1. bare, no agent: every call is one load and one branch (target 2 ns);
#   2. under `dial9 record`, the agent preloaded and recording the calls
#      (target 50 ns per custom event or span enter/exit, stretch 20 ns).
# A span enter + exit, or a poll_begin + poll_end, is two calls; the figures
# are CPU time per call (per thread for the 2-thread rows), the median of
# DIAL9_BENCH_RUNS repetitions (default 5; min-max spread printed) of at
# least DIAL9_BENCH_MIN_TIME seconds (default 0.2) each.
#
# Drops. The agent drops a record when the thread's 512 KiB ring is full
# (it drains every 20 ms, or when a ring passes half full), and drops a
# whole batch when the socket to `dial9 record` is full; a dropped call
# costs less than a recorded one. So each benchmark runs under its own
# `dial9 record -v`, and the script compares the API calls the benchmark
# made (every run, estimation runs included: "dial9 bench: N API call(s)")
# with the API events in the trace (counted by `dial9 dump`); the agent's
# own counts ("app API: N event(s) ..., D lost in the program" and "K
# dropped in the target (socket full)") are printed too. A row that lost
# more than 1% of its calls is flagged: its ns/call is not the cost of
# recording. Back to back (BM_Event, ...) the calls outrun the agent; the
# rate it kept up with is printed. The *Paced rows make 1000 calls, timed,
# then sleep 5 ms with the timer paused: their ns/call is the cost of a
# recorded call (compare with the same row bare: the pause adds ~1-2 ns).
# The floor row (BM_RingFloorPaced) involves no dial9: a 64-byte record
# stamped with the CPU's counter into a 512 KiB ring, paced the same way,
# so the part of a recorded call this machine charges for cold cache lines
# after each sleep is measured beside it.
#
# The agent runs must report the API active (dial9_active in the
# benchmark's context): else the script fails, so bare figures are never
# printed as the agent's.
# Prints its results as Markdown (bench/run puts them in docs/BENCHMARKS.md).
# Usage: bench/run_app_api.sh [bench_app_api options...]  e.g. --benchmark_filter=Event
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
build=${DIAL9_BENCH_BUILD:-$(cd "$here/.." && pwd)/build-bench}
runs=${DIAL9_BENCH_RUNS:-5}
min_time=${DIAL9_BENCH_MIN_TIME:-0.2}
# shellcheck source=lib.sh source-path=SCRIPTDIR
. "$here/lib.sh"
"$here/build.sh" dial9 dial9-agent bench_app_api
dial9=$build/cli/dial9
bench=$build/bench/bench_app_api
work=$(mktemp -d -t dial9-bench-app-api.XXXXXX)
trap 'rm -rf "$work"' EXIT
machine >&2
echo "load average: $(cut -d' ' -f1-3 /proc/loadavg)" >&2
args=(--benchmark_repetitions="$runs" --benchmark_report_aggregates_only=false
      --benchmark_display_aggregates_only=true --benchmark_min_time="$min_time" "$@")

# The benchmark's context says whether the agent served the calls.
active_in() { python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["context"].get("dial9_active", "?"))' "$1"; }

echo "running bench_app_api without the agent" >&2
"$bench" "${args[@]}" --benchmark_out="$work/bare.json" --benchmark_out_format=json >/dev/null 2>"$work/bare.err" ||
  { cat "$work/bare.err" >&2; exit 1; }
[[ $(active_in "$work/bare.json") == no ]] ||
  { echo "$0: dial9 was active in the run without the agent" >&2; exit 1; }

# One `dial9 record` per benchmark, so its drops are its own.
mapfile -t names < <("$bench" "$@" --benchmark_list_tests=true 2>/dev/null)
i=0
for name in "${names[@]}"; do
  echo "running $name under dial9 record" >&2
  # --wait-active: the agent comes alive once connected to dial9; the
  # benchmark exits 3 if it has not within 10 s.
  status=0
  "$dial9" record -v -o "$work/trace" -- "$bench" --wait-active=10 "${args[@]}" \
    --benchmark_filter="^${name}\$" --benchmark_out="$work/agent$i.json" --benchmark_out_format=json \
    >/dev/null 2>"$work/agent$i.err" || status=$?
  if [[ ! -s $work/agent$i.json || $(active_in "$work/agent$i.json") != yes ]]; then
    cat "$work/agent$i.err" >&2
    echo "$0: FAILED: the app API was not active under dial9 record (dial9 active: no), so there are no" \
         "figures with the agent (exit status $status)" >&2
    exit 1
  fi
  ((status == 0)) || { cat "$work/agent$i.err" >&2; echo "$0: dial9 record failed (exit status $status)" >&2; exit 1; }
  # The API's events in the trace: custom events (BenchRequest*), span
  # enters and exits, polls, wakes, worker start/stop.
  "$dial9" dump "$work/trace" | awk '
    $2 ~ /^(BenchRequest|SpanEnter:|SpanExit:|PollStartEvent|PollEndEvent|WakeEventEvent|WorkerStartEvent|WorkerStopEvent)/ {n++}
    END {print n + 0}' >"$work/agent$i.in_trace"
  du -sk "$work/trace" | cut -f1 >"$work/agent$i.kib"
  rm -rf "$work/trace"
  ((++i))
done

python3 - "$work" "${#names[@]}" <<'EOF'
import json, re, sys

work, count = sys.argv[1], int(sys.argv[2])

def per_call(path):
    """Median, min and max CPU ns per API call of each benchmark (the per_call counter)."""
    runs, med = {}, {}
    for b in json.load(open(path))["benchmarks"]:
        name = b["run_name"]
        if b.get("run_type") == "iteration":
            runs.setdefault(name, []).append(b["per_call"] * 1e9)
        elif b.get("aggregate_name") == "median":
            med[name] = b["per_call"] * 1e9
    # One repetition has no aggregates: its run is the median.
    for n, v in runs.items():
        med.setdefault(n, sorted(v)[len(v) // 2])
    return {n: (med[n], min(runs.get(n, [med[n]])), max(runs.get(n, [med[n]]))) for n in med}

def grab(pattern, text, default=0):
    m = re.search(pattern, text)
    return float(m.group(1)) if m else default

bare = per_call(f"{work}/bare.json")
agent, counts = {}, {}
for i in range(count):
    agent.update(per_call(f"{work}/agent{i}.json"))
    err = open(f"{work}/agent{i}.err").read()
    name = next(iter(per_call(f"{work}/agent{i}.json")))
    counts[name] = dict(
        calls=grab(r"dial9 bench: (\d+) API call", err),
        loop_s=grab(r"API call\(s\) in ([0-9.]+) s", err),
        api_events=grab(r"app API: (\d+) event", err),
        lost_ring=grab(r"(\d+) lost in the program", err),
        lost_batches=grab(r"(\d+) dropped in the target", err),
        writer_batches=grab(r"(\d+) batches could not be written", err),
        in_trace=float(open(f"{work}/agent{i}.in_trace").read()),
        mib=float(open(f"{work}/agent{i}.kib").read()) / 1024,
    )

labels = {
    "BM_Event": "custom event, 4 fields (EventType)",
    "BM_Event/threads:2": "  the same, 2 threads (per thread)",
    "BM_EventC": "  the same in C (values made always)",
    "BM_Span": "span enter/exit (Span, 1 field)",
    "BM_Scope": "span enter/exit (DIAL9_SCOPE)",
    "BM_Poll": "poll_begin/poll_end",
    "BM_Wake": "wake",
    "BM_RingFloor": "floor: a 64-byte record into a 512 KiB ring, no dial9",
}
def base(name):
    return re.sub(r"Paced/\d+/\d+/iterations:\d+", "", name)

def label(name):
    text = labels.get(base(name), name)
    return (text + ", paced") if "Paced" in name else text

def order(name):
    return ("Paced" in name, list(labels).index(base(name)) if base(name) in labels else len(labels), name)

def cell(t):
    return f"{t[0]:.2f} ({t[1]:.2f}–{t[2]:.2f})" if t else "–"

print("CPU ns per API call, median (min–max) of the repetitions; a span enter + exit or a poll begin + end is two calls.")
print()
print("| ns per call | no agent | dial9 record | calls lost |")
print("|---|---|---|---|")
flagged = []
for name in sorted(agent.keys() | bare.keys(), key=order):
    c = counts.get(name)
    lost = ""
    if c and c["calls"]:
        share = 1 - c["in_trace"] / c["calls"]
        lost = f"{100 * share:.2f}%"
        if share > 0.01:
            lost = f"**{lost} !**"
            flagged.append(name)
    print(f"| {label(name).strip()} | {cell(bare.get(name))} | {cell(agent.get(name))} | {lost} |")
print()
print("Under `dial9 record`, every run of each benchmark (estimation runs included). API calls: what the program called; "
      "in trace: API events in the trace (`dial9 dump`); ring full: records the agent dropped for a full per-thread ring; "
      "batches lost: batches dropped for a full socket to `dial9 record`, or by its segment writer; kept up with: events "
      "in the trace per second of timed loop, a capacity only where calls were lost.")
print()
print("| benchmark | API calls | in trace | ring full | batches lost | kept up with | trace |")
print("|---|---|---|---|---|---|---|")
for name, c in sorted(counts.items(), key=lambda kv: order(kv[0])):
    if not c["calls"]:
        continue  # the floor: no API calls
    rate = c["in_trace"] / c["loop_s"] / 1e6 if c["loop_s"] else 0
    print(f"| `{name}` | {c['calls']:.0f} | {c['in_trace']:.0f} | {c['lost_ring']:.0f} | "
          f"{c['lost_batches'] + c['writer_batches']:.0f} | {rate:.2f} M/s | {c['mib']:.1f} MiB |")
if flagged:
    print()
    print(f"**!** {len(flagged)} benchmark(s) lost more than 1% of their calls under dial9 record: their ns/call with the "
          "agent is a mix of recorded and dropped (cheaper) calls, not the cost of recording; the paced rows, within "
          "the agent's drain rate, are.")

# Targets, for the shell to print: bare C++ calls, and recorded (paced) event and span calls.
def med(table, name):
    return table[name][0] if name in table else float("nan")
cxx_bare = max(med(bare, n) for n in ("BM_Event", "BM_Span", "BM_Scope", "BM_Poll", "BM_Wake") if n in bare)
paced = {base(n): v[0] for n, v in agent.items() if "Paced" in n}
with open(f"{work}/targets", "w") as f:
    f.write(f"{cxx_bare:.2f} {paced.get('BM_Event', float('nan')):.1f} {paced.get('BM_Span', float('nan')):.1f} "
            f"{paced.get('BM_Scope', float('nan')):.1f} {med(bare, 'BM_RingFloorPaced/1000/5000/iterations:200'):.1f}\n")
EOF
# The targets need every benchmark: not with a filter.
(($# == 0)) || exit 0
read -r cxx_bare event span scope floor <"$work/targets"
echo
md_header "target (issue #8)" measured status
target_row "≤ 2 ns per C++ API call without the agent" "at most $cxx_bare ns" "$cxx_bare <= 2"
target_row "≤ 50 ns (stretch 20) per custom event, recorded (paced, nothing lost)" \
  "$event ns (the floor here: $floor ns)" "$event <= 50"
target_row "≤ 50 ns (stretch 20) per span enter or exit, recorded (paced)" "$span ns (\`Span\`), $scope ns (\`DIAL9_SCOPE\`)" \
  "$span <= 50 && $scope <= 50"
