// One analysis model of a trace: every event a report or an export needs, in
// compact records sorted by time, with stacks and strings interned.
//
// Loading is the only step that reads files. It decodes each input once,
// keeps what the analyses use (samples, polls, wakes, parks, spans, task
// dumps, lost counts, metadata, thread and process names) and hands the rest
// to a StackResolver, which sees every event in file order so it can follow
// mappings, forks and execs as they happened and locate each unique address
// at the time it was sampled. Memory grows with unique stacks and with
// runtime events, not with the bytes of the trace: a CPU sample costs one
// 24-byte record.
//
// The model is plain data: analyses read it and never change it, apart from
// restrict() (the --from/--to/--tid/--pid selection), which drops records.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "base/result.h"
#include "format/decoder.h"

namespace dial9::report {

// A stack as its unique, interned location ids, leaf first. A location is
// whatever the resolver makes of one (process, address): the model does not
// know how addresses become names.
using StackId = uint32_t;
using StringId = uint32_t;
inline constexpr StackId kNoStack = UINT32_MAX;

class StringTable {
 public:
  StringTable() { intern(""); }  // id 0 is the empty string
  StringId intern(std::string_view s);
  const std::string& get(StringId id) const { return strings_[id]; }
  size_t size() const { return strings_.size(); }

 private:
  std::vector<std::string> strings_;
  std::unordered_map<std::string, StringId> ids_;
};

// Interned sequences of 32-bit ids (location ids for stacks).
class StackTable {
 public:
  StackId intern(const uint32_t* ids, size_t n);
  std::pair<const uint32_t*, size_t> get(StackId id) const {
    return {pool_.data() + offsets_[id], offsets_[id + 1] - offsets_[id]};
  }
  size_t size() const { return offsets_.size() - 1; }

 private:
  std::vector<uint32_t> pool_;
  std::vector<uint32_t> offsets_ = {0};
  std::unordered_multimap<uint64_t, StackId> by_hash_;
};

// One frame of a symbolized location.
struct ResolvedFrame {
  std::string_view function;  // "module+0xOFF" when unknown, never empty
  std::string_view module;
  std::string_view file;  // "" when unknown
  uint32_t line = 0;
  bool inlined = false;  // inlined into the next frame of the same location
};

// Turns the addresses of a callchain into location ids while the trace is
// read, and names them once it has been read (a trace's symbol table comes
// after the samples it covers). observe() sees every event, in file order,
// before the model looks at it. `return_address` is true for every
// callchain entry after the leaf. Location ids are dense from 0.
class StackResolver {
 public:
  virtual ~StackResolver() = default;
  virtual void observe(const format::Event& e) = 0;
  virtual uint32_t locate(uint32_t pid, uint64_t addr, bool return_address) = 0;
  virtual uint32_t locations() const = 0;
  // The frames at a location, leaf (innermost inlined frame) first, the
  // real function last. Never empty.
  virtual void frames(uint32_t location, std::vector<ResolvedFrame>& out) = 0;
};

// A named frame in the model; strings are in TraceModel::strings.
struct Frame {
  StringId function = 0, module = 0, file = 0;
  uint32_t line = 0;
  bool inlined = false;
};

struct Sample {
  uint64_t ts = 0;
  uint32_t tid = 0;
  StackId stack = kNoStack;
  uint16_t cpu = UINT16_MAX;  // UINT16_MAX when unknown
  uint8_t source = 0;         // format::SampleSource: 0 on-CPU, 1 off-CPU (switch-out)
  uint8_t worker = 255;       // runtime worker id, 255 = not a worker
};

struct Poll {
  uint64_t start_ns = 0, end_ns = 0;
  uint64_t task_id = 0;
  uint32_t worker = 0;
  StringId spawn_loc = 0;
  bool ended = false;  // a PollEnd was seen; else the end is inferred (next poll or park)
};

struct Wake {
  uint64_t ts = 0;
  uint64_t waker_task = 0, woken_task = 0;
  uint32_t target_worker = 0;
};

struct Park {
  uint64_t ts = 0;
  uint32_t worker = 0, tid = 0;
  bool unpark = false;
  uint64_t cpu_time_ns = 0;
  uint64_t sched_wait_ns = 0;  // unpark only
};

struct QueueDepth {
  uint64_t ts = 0;
  uint32_t global_queue = 0;
};

// One span instance: from its first enter to its last exit.
struct SpanRecord {
  StringId name = 0;
  uint64_t start_ns = 0, end_ns = 0;
  uint64_t busy_ns = 0;   // time entered (the sum of its enter–exit segments)
  uint32_t segments = 0;  // enter–exit pairs
  uint32_t worker = 255;  // where it was first entered
};

struct TaskDumpRecord {
  uint64_t ts = 0;
  uint64_t task_id = 0;
  StackId stack = kNoStack;
};

// An event of a schema dial9 does not know (the application's own), kept
// for the HTML timeline: the first kMaxCustomEventRecords with a timestamp.
struct CustomEventRecord {
  uint64_t ts = 0;
  StringId name = 0;
  StringId fields = 0;  // "key=value ..." as `dial9 dump` prints them, cut at kMaxCustomEventText bytes
};
inline constexpr size_t kMaxCustomEventRecords = 10'000;
inline constexpr size_t kMaxCustomEventText = 256;

// One stretch of a thread's scheduler state, from its ThreadStateEvents and
// WakeupEvents (FORMAT.md). A thread's intervals do not overlap; a gap means
// the state was unknown (before its first event, when that event does not
// say what came before). 32 bytes: a recording of ~400k switches a second
// keeps about one interval per switch event.
struct StateInterval {
  uint64_t start_ns = 0, end_ns = 0;
  uint32_t tid = 0;
  // Blocked intervals: the thread's stack where it blocked (the source-1
  // sample at the same time), kNoStack when none was recorded.
  StackId stack = kNoStack;
  // Blocked intervals ended by a wakeup, and the runnable intervals that
  // wakeup started: an index into TraceModel::wakers; kNoWaker otherwise
  // (a runnable interval without one was a preemption).
  uint32_t waker = UINT32_MAX;
  uint8_t state = 0;  // a format::ThreadState
  // kOpenStart: the start is not an event (the window's or the selection's
  // edge); kOpenEnd: neither is the end. Latencies use closed intervals only.
  uint8_t flags = 0;
  static constexpr uint8_t kOpenStart = 1, kOpenEnd = 2;
  bool blocked() const { return state >= 2; }
  bool closed() const { return flags == 0; }
  uint64_t duration() const { return end_ns - start_ns; }
};
inline constexpr uint32_t kNoWaker = UINT32_MAX;

// A thread that woke one of the trace's threads; tid 0 is interrupt context.
struct WakerInfo {
  uint32_t pid = 0, tid = 0;
  StringId name = 0;  // as the wakeup named it ("swapper/N" for interrupts)
};

// A sampled waker stack (WakerStackEvent): at the time of the wakeup of
// `tid` by `waker_tid` it was taken for, located in the waker's process.
struct WakerStackRecord {
  uint64_t ts = 0;
  uint32_t tid = 0, waker_tid = 0;
  StackId stack = kNoStack;
};

// A thread's cumulative /proc schedstat totals at a time.
struct SchedStatRecord {
  uint64_t ts = 0;
  uint32_t tid = 0;
  uint64_t run_ns = 0, wait_ns = 0, timeslices = 0;
};

struct ThreadInfo {
  uint32_t pid = 0, tid = 0;
  std::string name;
  uint32_t worker = 255;  // the runtime worker it ran, when known
  uint64_t start_ns = 0, exit_ns = 0;  // ThreadStart / ThreadExit times, 0 when not in the trace
};

struct ProcessInfo {
  uint32_t pid = 0;
  std::string command;
  std::optional<int64_t> exit_status;
};

struct SkippedInput {
  std::string path;
  std::string reason;
};

struct TraceModel {
  // Inputs.
  size_t segments = 0;                 // files read
  std::vector<SkippedInput> skipped;   // damaged segments left out
  std::vector<std::string> warnings;   // truncations and corrupt frames kept around
  // SegmentMetadataEvent entries, first value seen per key.
  std::map<std::string, std::string> metadata;
  // Why the recording was degraded (metadata "degraded" across segments,
  // deduplicated, in order).
  std::vector<std::string> degraded;

  uint64_t start_ns = 0, end_ns = 0;  // first and last event timestamps
  std::optional<std::pair<uint64_t, uint64_t>> clock_sync;  // (monotonic, realtime)

  StringTable strings;
  StackTable stacks;
  std::vector<Sample> samples;  // sorted by ts
  std::vector<Poll> polls;      // sorted by start
  std::vector<Wake> wakes;
  std::vector<Park> parks;
  // Workers that said when they started and stopped (the app API): their
  // lifetimes, [start, stop), 0 when not said.
  struct WorkerLife {
    uint64_t start_ns = 0, stop_ns = 0;
    uint32_t tid = 0;
  };
  std::map<uint32_t, WorkerLife> worker_lives;
  std::vector<QueueDepth> queue_depths;
  std::vector<SpanRecord> spans;  // spans with at least one exit, sorted by start
  std::vector<TaskDumpRecord> task_dumps;
  std::map<std::string, uint64_t> custom_events;  // unknown schemas, by name
  std::vector<CustomEventRecord> custom_event_records;  // in file order
  // Scheduler data: every thread's state intervals, sorted by start (then
  // tid); the wakers they name; sampled waker stacks and schedstat totals,
  // sorted by time.
  std::vector<StateInterval> states;
  std::vector<WakerInfo> wakers;
  std::vector<WakerStackRecord> waker_stacks;
  std::vector<SchedStatRecord> sched_stats;
  uint64_t lost_samples = 0;      // LostEvent counts of samples (every source but the scheduler's)
  uint64_t lost_sched_events = 0;  // LostEvent counts of scheduler events (LostSource::kSchedRing)
  uint64_t task_spawns = 0;       // TaskSpawnEvent count
  // Frames of each location id (see StackResolver): location_frames[loc] is
  // {first, count} in `frames`, leaf first.
  std::vector<Frame> frames;
  std::vector<std::pair<uint32_t, uint32_t>> location_frames;
  std::map<uint32_t, ThreadInfo> threads;
  std::map<uint32_t, ProcessInfo> processes;

  // The process of a thread (the thread itself when the trace never said).
  uint32_t pid_of(uint32_t tid) const {
    auto it = threads.find(tid);
    return it == threads.end() || it->second.pid == 0 ? tid : it->second.pid;
  }
  // A thread's name, or "" when unknown.
  const std::string& thread_name(uint32_t tid) const;
  bool has_runtime() const { return !polls.empty() || !parks.empty(); }
  // How a waker is named: its thread name, "interrupt (swapper/N)" for
  // interrupt context.
  std::string waker_name(uint32_t waker) const;
};

struct LoadOptions {
  // Called with a one-line warning for each damaged or skipped input.
  std::function<void(const std::string&)> warn;
  // Called before each input is read (step "reading", done = inputs read)
  // and while locations are named (step "symbolizing", done = locations
  // named, every 4096), for a progress line.
  std::function<void(const char* step, size_t done, size_t total)> progress;
};

// Reads every input (files or segment directories, as `dial9 dump` takes
// them). Errors: no input is readable at all ("no dial9 segments in DIR",
// "x is not a trace: ..."), or a file named explicitly is unreadable. A
// damaged segment found in a directory is skipped, named and counted.
Result<TraceModel> load_trace(const std::vector<std::string>& inputs, StackResolver& resolver,
                              const LoadOptions& options = {});

// Which part of the trace a report covers. Times are trace timestamps (ns).
struct Selection {
  std::optional<uint64_t> from_ns, to_ns;
  std::vector<uint32_t> tids;  // empty = all
  std::vector<uint32_t> pids;  // empty = all
};

// Drops every record outside `sel`: samples by time, thread and process;
// polls, wakes, parks and spans by time (and parks by thread); state
// intervals by thread, cut to the time range (a cut end is marked open);
// waker stacks and schedstat totals by time and (woken) thread.
void restrict(TraceModel& model, const Selection& sel);

}  // namespace dial9::report
