// Scheduler data as the analyses read it: what the recording says it
// captured, each thread's time running, runnable and blocked, and blocked
// time per off-CPU stack. Shared by the sections (sched.cpp) and findings.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <unordered_map>
#include <vector>

#include "report/model/trace_model.h"

namespace dial9::report {

// The `sched` metadata of a recording (FORMAT.md): what scheduler capture
// recorded. `known` is false when the trace does not say (an older dial9 or
// the Tokio recorder), and then nothing is assumed missing.
struct SchedCapture {
  bool known = false;
  bool off = false;  // --no-sched
  bool timer_sampler = false;  // off because CPU samples came from the agent's timer sampler
  bool switches = false, stacks = false, states = false, wakers = false, waker_stacks = false, schedstat = false;
};
SchedCapture sched_capture(const TraceModel& m);

// What scheduler data is missing, one line each, with the recording's
// reason when its `degraded` notes give one. `section` is "off_cpu" for the
// lines the off-CPU section repeats, else "".
struct SchedNote {
  std::string section;
  std::string text;
};
std::vector<SchedNote> sched_notes(const TraceModel& m);

// Waits (closed blocked intervals) of a recording that captured wakers, and
// how many of them ended with no wakeup recorded. sched_notes says so from
// kMissedWakeupNotePct percent up.
struct WaitsWithoutWakeup {
  uint64_t waits = 0, missed = 0;
};
WaitsWithoutWakeup waits_without_wakeup(const TraceModel& m);
inline constexpr uint64_t kMissedWakeupNotePct = 5;

struct ThreadTimes {
  uint64_t running_ns = 0, runnable_ns = 0;
  std::optional<uint64_t> blocked_ns;  // nullopt from schedstat totals
  uint64_t total_ns() const { return running_ns + runnable_ns + blocked_ns.value_or(0); }
};

// Per thread, from its state intervals when it has any, else from the
// difference of its first and last schedstat totals (two or more needed).
std::map<uint32_t, ThreadTimes> thread_times(const TraceModel& m);

// Blocked time per off-CPU stack, from the blocked intervals that carry one.
struct BlockedStack {
  StackId stack = kNoStack;
  uint64_t blocked_ns = 0;
  uint64_t uninterruptible_ns = 0;  // in state 3 (D: usually disk I/O)
  uint64_t count = 0;               // switch-outs inside the window
  std::unordered_map<uint32_t, uint64_t> ns_by_tid;
  std::unordered_map<uint32_t, uint64_t> wakeups;  // TraceModel::wakers index -> wakeups that ended a wait
};
// Most blocked time first (then stack id). Empty when no blocked interval
// has a stack: then off-CPU stacks are only switch-out samples.
std::vector<BlockedStack> blocked_stacks(const TraceModel& m);

}  // namespace dial9::report
