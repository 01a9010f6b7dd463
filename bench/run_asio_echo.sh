#!/usr/bin/env bash
# Throughput of the Boost.Asio echo example (examples/asio_echo, instrumented
# with dial9/asio.h: every handler a task and a poll, every request a
# RequestCompleted event and a handle_request span) bare, under
# `dial9 record` (the agent preloaded: the app API records) and under
# `perf record -g`, same machine, same run, interleaved: DIAL9_BENCH_RUNS
# rounds (default 3) of the three, DIAL9_BENCH_SECONDS (default 5) of load
# each; also `dial9 record --no-sched` and `--no-agent`, to tell what the
# scheduler capture and the agent (the app API) each cost, and both off
# (CPU sampling alone, what the app API's part is added to). perf samples as
# dial9 does (cpu-clock, 999 Hz). Reported: the median requests/s of each, the ratios against bare
# (target: dial9 >= 95% of bare), the min-max spread, p50/p99 latency, and
# the app API's events and drops under dial9; and, steadier than
# throughput on a shared machine, the CPU time each spends: the server's
# threads per request, and under dial9 the agent's thread and `dial9 record`
# per API event (on-CPU nanoseconds from /proc/PID/task/*/schedstat, read
# just before the server stops).
#
# The server runs with --slow-every 0 (its deliberate 30 ms stall every 50th
# request would make this a benchmark of nanosleep) and DIAL9_ECHO_THREADS
# threads (default 1); the load generator with DIAL9_ECHO_CONNECTIONS
# blocking connections (default 4), one thread each. On a 2-CPU machine the
# load generator, the server and the recorder share the CPUs: one server
# thread and a few connections keep the server busy without 8 client threads
# crowding it out, so the figure is the server's, slowed by what is recorded.
# Prints its results as Markdown (bench/run puts them in docs/BENCHMARKS.md).
# Usage: bench/run_asio_echo.sh
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
build=${DIAL9_BENCH_BUILD:-$(cd "$here/.." && pwd)/build-bench}
runs=${DIAL9_BENCH_RUNS:-3}
seconds=${DIAL9_BENCH_SECONDS:-5}
threads=${DIAL9_ECHO_THREADS:-1}
connections=${DIAL9_ECHO_CONNECTIONS:-4}
# shellcheck source=lib.sh source-path=SCRIPTDIR
. "$here/lib.sh"
require_perf
"$here/build.sh" dial9 dial9-agent dial9-echo-server dial9-load-gen
dial9=$build/cli/dial9
server=$build/examples/asio_echo/dial9-echo-server
loadgen=$build/examples/asio_echo/dial9-load-gen
[[ -x $server && -x $loadgen ]] ||
  { echo "$0: the echo example was not built (Boost.Asio missing? apt-get install libboost-dev)" >&2; exit 1; }
work=$(mktemp -d -t dial9-bench-asio-echo.XXXXXX)
wrapper=
# Only what this script started, by pid.
cleanup() {
  if [[ -n $wrapper ]] && kill -0 "$wrapper" 2>/dev/null; then
    kill -INT "$wrapper" 2>/dev/null || true
    wait "$wrapper" 2>/dev/null || true
  fi
  rm -rf "$work"
}
trap cleanup EXIT
machine >&2
echo "load average: $(cut -d' ' -f1-3 /proc/loadavg)" >&2
echo "server: $threads thread(s), --slow-every 0; load generator: $connections connection(s), ${seconds} s per run" >&2

# run_one NAME ROUND: starts the server (bare, or under its recorder), loads
# it for $seconds s, stops it with SIGINT; appends the load generator's line
# to $work/NAME.out and keeps the recorder's stderr in $work/NAME.ROUND.err.
run_one() {
  local name=$1 round=$2 out=$work/server.out err=$work/$1.$2.err port='' pid='' i
  : >"$out"
  case $name in
    bare) "$server" --threads "$threads" --slow-every 0 >"$out" 2>"$err" & ;;
    dial9) "$dial9" record -v -o "$work/trace" -- "$server" --threads "$threads" --slow-every 0 >"$out" 2>"$err" & ;;
    no-sched) "$dial9" record -v --no-sched -o "$work/trace" -- "$server" --threads "$threads" --slow-every 0 >"$out" 2>"$err" & ;;
    no-agent) "$dial9" record -v --no-agent -o "$work/trace" -- "$server" --threads "$threads" --slow-every 0 >"$out" 2>"$err" & ;;
    sampling) "$dial9" record -v --no-sched --no-agent -o "$work/trace" -- "$server" --threads "$threads" --slow-every 0 \
                >"$out" 2>"$err" & ;;
    perf) perf record -q -e cpu-clock -F 999 -g --no-bpf-event -o "$work/perf.data" -- "$server" --threads "$threads" --slow-every 0 \
            >"$out" 2>"$err" & ;;
  esac
  wrapper=$!
  for ((i = 0; i < 300; ++i)); do
    port=$(awk '/^listening on / {print $3; exit}' "$out")
    [[ -n $port ]] && break
    kill -0 "$wrapper" 2>/dev/null || break
    sleep 0.05
  done
  [[ -n $port ]] || { cat "$err" >&2; echo "$0: the server ($name) did not listen" >&2; exit 1; }
  # bare: the server is $wrapper; under a recorder, the recorder's child.
  if [[ $name == bare ]]; then pid=$wrapper; else pid=$(ps -o pid= --ppid "$wrapper" | head -1 | tr -d ' '); fi
  [[ -n $pid ]] || { echo "$0: no server process under the $name recorder" >&2; exit 1; }
  "$loadgen" --port "$port" --connections "$connections" --duration "$seconds" >>"$work/$name.out" 2>>"$err" ||
    { cat "$err" >&2; echo "$0: the load generator failed ($name)" >&2; exit 1; }
  # On-CPU ns of the server's own threads, of the agent's thread in it, and
  # of the recorder (every thread), over the whole run.
  local t server_ns=0 agent_ns=0 recorder_ns=0 ns
  for t in /proc/"$pid"/task/*; do
    ns=$(cut -d' ' -f1 "$t/schedstat" 2>/dev/null) || continue
    if [[ $(cat "$t/comm" 2>/dev/null) == dial9-agent ]]; then agent_ns=$((agent_ns + ns)); else server_ns=$((server_ns + ns)); fi
  done
  if [[ $name != bare ]]; then
    for t in /proc/"$wrapper"/task/*; do
      ns=$(cut -d' ' -f1 "$t/schedstat" 2>/dev/null) || continue
      recorder_ns=$((recorder_ns + ns))
    done
  fi
  echo "$server_ns $agent_ns $recorder_ns" >>"$work/$name.cpu"
  kill -INT "$pid"
  wait "$wrapper" || { cat "$err" >&2; echo "$0: the server ($name) failed" >&2; exit 1; }
  wrapper=
  grep -q '^served [0-9]* requests' "$out" || { echo "$0: the server ($name) did not say what it served" >&2; exit 1; }
  if [[ $name == dial9 ]]; then
    # The app API's events in the trace, beside what the agent counted.
    "$dial9" dump "$work/trace" | awk '$2 ~ /^(RequestCompleted|SpanEnter:|SpanExit:|PollStartEvent|PollEndEvent|WakeEventEvent|TaskSpawnEvent|TaskTerminateEvent)/ {n++} END {print n + 0}' \
      >"$work/dial9.$round.in_trace"
    du -sk "$work/trace" | cut -f1 >"$work/dial9.$round.kib"
  fi
  rm -rf "$work/trace" "$work/perf.data"
}

for ((r = 0; r < runs; ++r)); do
  for name in bare dial9 no-sched no-agent sampling perf; do
    echo "round $((r + 1))/$runs: $name" >&2
    run_one "$name" "$r"
  done
done

python3 - "$work" "$runs" "$threads" "$connections" "$seconds" <<'EOF'
import re, statistics, sys

work, runs = sys.argv[1], int(sys.argv[2])

def results(name):
    out = []
    for line in open(f"{work}/{name}.out"):
        m = re.search(r"requests (\d+) throughput ([0-9.]+)/s p50 (\d+) us p99 (\d+) us", line)
        if m:
            out.append(dict(requests=int(m.group(1)), rps=float(m.group(2)), p50=int(m.group(3)), p99=int(m.group(4))))
    return out

names = (("bare", "bare"), ("dial9", "dial9 record"), ("no-sched", "dial9 record --no-sched"), ("no-agent", "dial9 record --no-agent"),
         ("sampling", "dial9 record --no-sched --no-agent"), ("perf", "perf record -g"))
res = {n: results(n) for n, _ in names}
# Per round: on-CPU ns of the server's threads, the agent's thread, the recorder.
cpu = {n: [tuple(map(int, l.split())) for l in open(f"{work}/{n}.cpu")] for n, _ in names}
med = {n: statistics.median(r["rps"] for r in v) for n, v in res.items()}
print(f"`dial9-echo-server --threads {sys.argv[3]} --slow-every 0` loaded by `dial9-load-gen --connections "
      f"{sys.argv[4]} --duration {sys.argv[5]}`; {runs} interleaved rounds, median (min–max).")
print()
print("| | requests/s | vs bare | p50 | p99 | server CPU per request |")
print("|---|---|---|---|---|---|")
for n, label in names:
    v = res[n]
    rps = [r["rps"] for r in v]
    ratio = f"{med[n] / med['bare']:.1%}"
    # The server's CPU over its whole run, over the requests of its one load.
    per_req = statistics.median(c[0] / r["requests"] / 1000 for c, r in zip(cpu[n], v))
    print(f"| {label.strip()} | {med[n]:.0f} ({min(rps):.0f}–{max(rps):.0f}) | {'**' + ratio + '**' if n == 'dial9' else ratio} | "
          f"{statistics.median(r['p50'] for r in v):.0f} µs | {statistics.median(r['p99'] for r in v):.0f} µs | "
          f"{per_req:.1f} µs |")
print()
print("`--no-sched`: dial9 without scheduler capture; `--no-agent`: without the agent, so without the app API; "
      "both: CPU sampling alone; perf samples cpu-clock at 999 Hz with `-g`, as dial9 does. Server CPU per request: the on-CPU time of the "
      "server's threads (not the agent's) over the run, kernel work for perf events included, per request served.")
print()
for i in range(runs):
    err = open(f"{work}/dial9.{i}.err").read()
    api = re.search(r"app API: (\d+) event\(s\)[^\n]*", err)
    batches = re.search(r"(\d+) dropped in the target", err)
    in_trace = open(f"{work}/dial9.{i}.in_trace").read().strip()
    kib = int(open(f"{work}/dial9.{i}.kib").read())
    _, agent_ns, recorder_ns = cpu["dial9"][i]
    events = max(int(in_trace), 1)
    print(f"- dial9 round {i + 1}: {api.group(0) if api else 'app API: no events'}; "
          f"{batches.group(1) if batches else '?'} batch(es) dropped in the target; "
          f"{in_trace} API events in the trace; trace {kib / 1024:.1f} MiB; CPU per API event: "
          f"{agent_ns / events:.0f} ns in the agent's thread, {recorder_ns / events:.0f} ns in `dial9 record`")
with open(f"{work}/ratio", "w") as f:
    f.write(f"{100 * med['dial9'] / med['bare']:.1f} {100 * med['perf'] / med['bare']:.1f} "
            f"{100 * med['sampling'] / med['bare']:.1f}\n")
EOF
read -r ratio perf_ratio sampling_ratio <"$work/ratio"
echo
md_header "target (issue #8)" measured status
target_row "echo throughput under dial9 ≥ 95% of bare" \
  "$ratio% (perf record -g: $perf_ratio%; dial9 sampling alone: $sampling_ratio%)" "$ratio >= 95"
