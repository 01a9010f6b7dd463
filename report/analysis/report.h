// What `dial9 report` says about a trace, as data: built from a TraceModel by
// the analyses, then rendered as text, Markdown or JSON. The fields mirror
// the JSON document (docs/REPORT-JSON.md), so the renderers only format.
//
// Times are nanoseconds; percentages are 0–100; stacks are symbolized frame
// names, leaf first. A section that the trace has no data for is empty (or
// nullopt), and renderers leave it out (JSON writes [] or null).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "report/model/trace_model.h"

namespace dial9::report {

inline constexpr int kReportJsonVersion = 1;

// A woken task waiting longer than this to be polled is a finding.
inline constexpr uint64_t kSlowWakeToPollNs = 5'000'000;

using Stack = std::vector<std::string>;

struct Overview {
  uint64_t start_ns = 0, end_ns = 0, duration_ns = 0;
  std::optional<uint64_t> start_realtime_ns;  // wall clock of start_ns, when the trace has a clock sync
  std::string command;
  std::vector<uint32_t> pids;
  size_t threads = 0;
  uint64_t cpu_samples = 0;     // on-CPU samples
  uint64_t offcpu_samples = 0;  // switch-out samples
  uint64_t lost_samples = 0;
  uint64_t lost_sched_events = 0;  // scheduler events the kernel could not deliver
  double lost_pct = 0;          // of samples taken plus lost
  size_t segments = 0;
  std::vector<SkippedInput> skipped_segments;
  std::string event;            // sampling event and rate, when recorded
  std::vector<std::string> degraded;
  std::vector<std::string> warnings;
  // The recording's `sched` metadata as written ("switches,stacks,...",
  // "off"); nullopt when the trace does not say (older or Tokio traces).
  std::optional<std::string> sched;
  // Which scheduler data is missing and what that leaves out, one line each
  // with the recording's reason when it gave one.
  std::vector<std::string> sched_notes;
};

struct HotFunction {
  std::string function, module, file;
  uint32_t line = 0;
  uint64_t self_samples = 0, total_samples = 0;
  double self_pct = 0, total_pct = 0;
};

struct ThreadRow {
  uint32_t pid = 0, tid = 0;
  std::string name;
  uint64_t cpu_samples = 0;
  double cpu_pct = 0;  // of all on-CPU samples
  // From scheduler data; nullopt when the trace has none for the thread:
  // state intervals, else schedstat totals (running and runnable only),
  // else a runtime worker's park records.
  std::optional<uint64_t> running_ns, runnable_ns, blocked_ns;
  std::string top_function;
};

// A thread that ended waits on an off-CPU stack. tid 0 is interrupt context
// (a timer or a device), named "interrupt (swapper/N)".
struct Waker {
  uint32_t tid = 0;
  std::string thread;
  uint64_t count = 0;  // wakeups that ended a wait on the stack
  Stack stack;         // its most frequent sampled stack when waking these threads; empty when none was sampled
  size_t first_user = 0;  // index in `stack` of its first user-space frame (where the waker's code is), 0 when none
};

struct OffCpuStack {
  uint32_t tid = 0;  // the thread that blocked most on this stack
  std::string thread;
  // Time blocked on the stack: each switch-out's wait until its wakeup (or
  // until it ran again when no wakeup was recorded). nullopt when the trace
  // does not say how long (switch-out samples without thread states).
  std::optional<uint64_t> blocked_ns;
  uint64_t count = 0;  // switch-outs
  Stack stack;
  std::vector<Waker> woken_by;  // most wakeups first
};

struct LatencyStats {
  uint64_t count = 0;
  uint64_t p50_ns = 0, p90_ns = 0, p99_ns = 0, max_ns = 0;
};

struct ThreadLatency {
  uint32_t tid = 0;
  std::string name;
  LatencyStats stats;
  uint64_t wait_ns = 0;  // total time runnable, waiting for a CPU
};

// Run-queue latency: how long threads waited for a CPU once runnable (woken
// or preempted). From schedstat totals there is no distribution: count and
// the percentiles are 0 and only wait_ns is known.
struct SchedLatency {
  std::string source;  // where the figures come from
  LatencyStats overall;
  uint64_t wait_ns = 0;
  std::vector<ThreadLatency> per_thread;  // longest p99 (or wait) first
};

struct WorkerStats {
  uint32_t worker_id = 0;
  uint32_t tid = 0;
  double active_pct = 0;
  uint64_t polls = 0, parks = 0;
  uint64_t busy_ns = 0;
};

struct LongPoll {
  uint32_t worker_id = 0;
  uint64_t task_id = 0;
  std::string spawn_loc;
  uint64_t start_ns = 0, duration_ns = 0;
  Stack stack;  // the most frequent stack sampled inside the poll (empty when none)
  uint64_t stack_samples = 0;
  uint64_t samples = 0;  // samples of any stack inside the poll
};

struct SpawnPolls {
  std::string spawn_loc;
  LatencyStats duration;
};

struct QueueStats {
  uint64_t count = 0;
  double mean = 0;
  uint32_t p50 = 0, p99 = 0, max = 0;
};

struct Runtime {
  std::vector<WorkerStats> workers;
  std::vector<LongPoll> long_polls;
  LatencyStats wake_to_poll;
  uint64_t wake_to_poll_over_5ms = 0;  // delays above kSlowWakeToPollNs
  std::vector<SpawnPolls> polls_by_spawn;
  QueueStats global_queue;
  uint64_t polls = 0, tasks_spawned = 0;
};

struct SpanStats {
  std::string name;
  LatencyStats duration;
};

struct CustomEventCount {
  std::string name;
  uint64_t count = 0;
};

enum class Severity { kCritical, kWarning, kInfo };
const char* severity_name(Severity s);

struct Finding {
  Severity severity = Severity::kInfo;
  std::string kind;      // stable machine name, e.g. "long_poll"
  std::string title;     // one line
  std::string evidence;  // numbers, time, where
  Stack stack;           // when a stack is the evidence
  std::string next;      // what to look at next
};

struct Report {
  Overview overview;
  std::vector<HotFunction> hot_functions;
  std::vector<ThreadRow> threads;
  std::vector<OffCpuStack> off_cpu;
  std::vector<std::string> off_cpu_notes;  // what the section cannot show, and why
  std::optional<SchedLatency> sched_latency;
  std::optional<Runtime> runtime;
  std::vector<SpanStats> spans;
  std::vector<CustomEventCount> custom_events;
  std::vector<Finding> findings;
};

struct ReportOptions {
  size_t top = 10;            // rows per ranked table
  bool inlines = true;        // inlined functions as frames of their own
  uint64_t long_poll_ns = 1'000'000;
};

// "1.23 ms", "845 us", "12.0 s": three significant digits in a unit that
// fits; for finding titles and the renderers.
std::string format_duration(uint64_t ns);

Report build_report(const TraceModel& model, const ReportOptions& options = {});

}  // namespace dial9::report
