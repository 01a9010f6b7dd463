// Typed views of the built-in events (docs/FORMAT.md, "Built-in schemas").
//
// Each `as_*` function reads an Event whose builtin() is the matching kind.
// Fields the stream's schema lacks, or sends absent, read as the defaults
// below (FORMAT.md rule 5); optional fields are std::optional. Views
// (string_view, StackView) share the Event's lifetime.
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <string_view>

#include "format/decoder.h"

namespace dial9::format {

// worker_id values with a meaning of their own.
inline constexpr uint64_t kWorkerNone = 255;          // not a runtime worker
inline constexpr uint64_t kWorkerBlockingPool = 254;  // blocking-pool thread

struct PollStart {
  uint64_t worker_id = 0;
  uint8_t local_queue = 0;
  uint64_t task_id = 0;
  std::string_view spawn_loc;
};
struct PollEnd {
  uint64_t worker_id = 0;
};
struct WorkerPark {
  uint64_t worker_id = 0;
  uint8_t local_queue = 0;
  uint64_t cpu_time_ns = 0;
  uint32_t tid = 0;
};
struct WorkerUnpark {
  uint64_t worker_id = 0;
  uint8_t local_queue = 0;
  uint64_t cpu_time_ns = 0;
  uint64_t sched_wait_ns = 0;
  uint32_t tid = 0;
};
// WorkerStartEvent / WorkerStopEvent (the app API's dial9_worker_start/stop).
struct WorkerLife {
  uint64_t worker_id = 0;
  uint32_t tid = 0;
};
struct QueueSample {
  uint8_t global_queue = 0;
};
struct TaskSpawn {
  uint64_t task_id = 0;
  std::string_view spawn_loc;
  bool instrumented = false;
};
struct TaskTerminate {
  uint64_t task_id = 0;
};
struct WakeEvent {
  uint64_t waker_task_id = 0;
  uint64_t woken_task_id = 0;
  uint8_t target_worker = 0;
};
enum class SampleSource : uint8_t { kPeriodic = 0, kContextSwitch = 1 };
struct CpuSample {
  uint64_t worker_id = kWorkerNone;
  uint32_t tid = 0;
  uint8_t source = 0;  // a SampleSource
  std::optional<std::string_view> thread_name;
  StackView callchain;  // leaf first
  std::optional<uint64_t> cpu;
};
struct TaskDump {
  uint64_t task_id = 0;
  StackView callchain;
};
struct Alloc {
  uint32_t tid = 0;
  uint64_t size = 0;
  uint64_t addr = 0;
  StackView callchain;
};
struct Free {
  uint32_t tid = 0;
  uint64_t addr = 0;
  uint64_t size = 0;
  uint64_t alloc_timestamp_ns = 0;
};
struct ClockSync {
  uint64_t realtime_ns = 0;
};
struct SymbolTableEntry {
  uint64_t addr = 0;
  uint64_t size = 0;
  std::string_view symbol_name;
  uint64_t inline_depth = 0;  // 0 = the outermost (real) function
  std::string_view source_file;
  uint64_t source_line = 0;
};
struct SpanClose {
  uint64_t span_id = 0;
};
// SpanEnter and SpanExit share a view. The span's own fields are the
// schema's fields from `first_extra_field` on (optional pooled strings).
struct SpanEvent {
  bool enter = true;
  std::string_view callsite;  // the schema name after "SpanEnter:"/"SpanExit:"
  uint64_t worker_id = kWorkerNone;
  uint64_t span_id = 0;
  std::optional<uint64_t> parent_span_id;  // enter only
  std::string_view span_name;
  size_t first_extra_field = 0;
};

// dial9's own schemas.
struct ThreadName {
  uint32_t pid = 0, tid = 0;
  std::string_view name;
  bool exec = false;  // the name changed because the process exec'd
};
struct ThreadStart {
  uint32_t pid = 0, tid = 0, ppid = 0, ptid = 0;  // pid == tid: a new process
};
struct ThreadExit {
  uint32_t pid = 0, tid = 0;
};
struct ProcessExit {
  uint32_t pid = 0;
  int64_t status = 0;  // the exit code, or 128 + the signal (as a shell reports it)
  uint8_t signal = 0;  // the signal that killed it, 0 if it exited
};
struct Mapping {
  uint32_t pid = 0;
  uint64_t start = 0, length = 0, file_offset = 0;
  std::string_view path;
  std::span<const uint8_t> build_id;
  bool executable = false;
};
// kSchedRing: scheduler events (switch-out stacks, wakeups), not samples.
enum class LostSource : uint8_t { kRingFull = 0, kKernel = 1, kWriterQueue = 2, kSchedRing = 3 };
struct Lost {
  uint8_t source = 0;  // a LostSource
  uint64_t cpu = 0;
  uint64_t count = 0;
};
struct Throttle {
  uint64_t cpu = 0;
  bool throttled = false;
};
// What a thread is doing from a ThreadStateEvent's time on (FORMAT.md).
enum class ThreadState : uint8_t {
  kRunning = 0,        // switched in
  kRunnable = 1,       // preempted: wants a CPU
  kSleeping = 2,       // blocked, interruptible (S): locks, sleeps, most waits
  kUninterruptible = 3,// blocked, uninterruptible (D): usually disk I/O
  kStopped = 4,        // stopped or traced (T, t)
  kBlocked = 5,        // blocked, kind unknown (switch records only)
};
inline bool is_blocked(ThreadState s) { return s >= ThreadState::kSleeping; }
struct ThreadStateChange {
  uint32_t tid = 0;
  ThreadState state = ThreadState::kRunning;
};
struct Wakeup {
  uint32_t tid = 0;  // the woken thread
  uint32_t waker_pid = 0, waker_tid = 0;  // 0: woken from interrupt or idle context
  std::string_view waker_name;
};
struct WakerStack {
  uint32_t tid = 0;
  uint32_t waker_pid = 0, waker_tid = 0;
  StackView callchain;  // the waker's, leaf first
};
struct SchedStat {
  uint32_t pid = 0, tid = 0;
  uint64_t run_ns = 0;      // cumulative time on a CPU
  uint64_t wait_ns = 0;     // cumulative time runnable, waiting for a CPU
  uint64_t timeslices = 0;  // cumulative times run
};

PollStart as_poll_start(const Event& e);
PollEnd as_poll_end(const Event& e);
WorkerPark as_worker_park(const Event& e);
WorkerLife as_worker_life(const Event& e);
WorkerUnpark as_worker_unpark(const Event& e);
QueueSample as_queue_sample(const Event& e);
TaskSpawn as_task_spawn(const Event& e);
TaskTerminate as_task_terminate(const Event& e);
WakeEvent as_wake_event(const Event& e);
CpuSample as_cpu_sample(const Event& e);
TaskDump as_task_dump(const Event& e);
Alloc as_alloc(const Event& e);
Free as_free(const Event& e);
ClockSync as_clock_sync(const Event& e);
SymbolTableEntry as_symbol_table_entry(const Event& e);
SpanClose as_span_close(const Event& e);
SpanEvent as_span(const Event& e);
ThreadName as_thread_name(const Event& e);
ThreadStart as_thread_start(const Event& e);
ThreadExit as_thread_exit(const Event& e);
ProcessExit as_process_exit(const Event& e);
Mapping as_mapping(const Event& e);
Lost as_lost(const Event& e);
Throttle as_throttle(const Event& e);
ThreadStateChange as_thread_state(const Event& e);
Wakeup as_wakeup(const Event& e);
WakerStack as_waker_stack(const Event& e);
SchedStat as_sched_stat(const Event& e);
// SegmentMetadataEvent: calls fn(key, value) for each entry.
template <typename Fn>
void for_each_metadata(const Event& e, Fn&& fn) {
  const Value* v = e.slot(slot::kMetaEntries);
  if (v == nullptr || v->type != FieldType::kStringMap) return;
  CompositeReader r(*v);
  Value k, val;
  while (!r.done()) {
    r.next_pair(k, val);
    fn(k.str(), val.str());
  }
}

}  // namespace dial9::format
