// One recording: perf rings on a launched program (all its threads and
// descendants), read in an epoll loop and written as TRC batches to a
// SegmentWriter until the program exits or the user stops recording.
//
// Signal policy (the CLI blocks SIGINT/SIGTERM/SIGHUP before run()): the
// first SIGINT only notes that the user pressed Ctrl-C (the program, in the
// same process group, got it too) and recording goes on until the program
// exits; a second SIGINT, or SIGTERM/SIGHUP, stops recording and leaves the
// program running. So does the end of `duration_ns`.
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "base/result.h"
#include "capture/agent_link.h"
#include "capture/event_spec.h"
#include "capture/perf_ring.h"
#include "capture/sched_capture.h"
#include "capture/tracefs.h"
#include "capture/stack_unwinder.h"

namespace dial9::format {
class SegmentWriter;
}

namespace dial9::capture {

struct SessionOptions {
  SamplingSpec sampling;         // inherit and enable_on_exec are set by the session
  size_t mmap_pages = 64;        // ring data pages per CPU (a power of two)
  // The user did not choose mmap_pages: when the locked-memory budget
  // cannot hold rings that size, halve them (down to 8 pages) and say so in
  // degraded() rather than fail.
  bool shrink_rings_to_fit = false;
  uint64_t batch_interval_ns = 100'000'000;
  uint64_t duration_ns = 0;      // 0: until the program exits
  // The program's name, for samples taken during its exec, before the
  // kernel reports the new name.
  std::string program_name;
  // Progress lines for the user (first Ctrl-C, duration reached, ...).
  std::function<void(const std::string&)> note;
  // Completes callchains from the stack copies samples carry (when
  // sampling.user_stack_bytes is set); none: frame-pointer chains as they are.
  std::shared_ptr<StackUnwinder> unwinder;
  // Scheduler capture (capture/sched_capture.h).
  SchedOptions sched;
  // The in-process agents' socket (capture/agent_link.h), or none. The
  // session accepts the recording's processes on it and appends their
  // batches, taking their mappings and thread names into each segment's
  // preamble.
  AgentLink* agents = nullptr;
  // Sample with the agents' timer sampler, opening no perf event at all (the
  // fallback when perf events are denied, or --sampler timer).
  bool timer_sampler = false;
  // The first SIGINT stops recording (attach: the program is not in dial9's
  // process group, so Ctrl-C is meant for dial9 alone).
  bool stop_on_interrupt = false;
};

struct SessionResult {
  uint64_t samples = 0;
  uint64_t lost = 0;        // samples the kernel could not deliver
  uint64_t throttles = 0;
  uint64_t threads = 0;     // distinct threads seen
  uint64_t processes = 0;   // distinct processes seen
  uint64_t first_sample_ns = 0;  // CLOCK_MONOTONIC time of the first CPU sample, 0 if none
  uint64_t unwound = 0;     // samples whose chain the unwinder completed
  uint64_t unwind_ns = 0;   // time spent unwinding (the controller's cost)
  bool exited = false;      // the program exited while recorded
  int exit_status = 0;      // its status as a shell reports it (128 + signal); -1 unknown (attach)
  bool detached = false;    // recording stopped and the program left running
  // Scheduler capture.
  uint64_t switches = 0;     // switch-outs recorded
  uint64_t offcpu_stacks = 0;  // blocking switch-outs with a stack
  uint64_t wakeups = 0;      // wakeups of blocked target threads
  uint64_t sched_lost = 0;   // scheduler events the kernel could not deliver
  // How the controller kept up (record --verbose).
  uint64_t refilters = 0;         // wakeup events reopened for new threads or outsiders
  uint64_t found_after_loss = 0;  // processes of the program's tree found in /proc after lost records
  uint64_t outsider_wakeups = 0;  // other processes' wakeups the filter's window let through (dropped)
  uint64_t switch_samples = 0;    // switch-out samples the kernel delivered (stacks taken)
  uint64_t long_conversions = 0;  // drains that converted in more than one slice
  size_t peak_records = 0;        // most records held between ring reads and conversion
  // The in-process agents.
  uint64_t agent_batches = 0;   // appended
  uint64_t agent_rejected = 0;  // batches that did not decode cleanly, dropped
};

class Session {
 public:
  // Opens one ring per CPU on `pid` (a SuspendedProcess, not yet started).
  // When kernel samples are not permitted, retries without them and says so
  // in degraded().
  static Result<std::unique_ptr<Session>> open(pid_t pid, SessionOptions options);
  // Opens the same events on a running process: on every thread it has
  // (threads they start inherit them), one ring per CPU shared by all of
  // them, and
  // takes its threads, their names and its executable mappings from /proc,
  // since the kernel reports only what happens from now on. Sampling starts
  // at once.
  static Result<std::unique_ptr<Session>> attach(pid_t pid, SessionOptions options);
  ~Session();

  // The threads the events were opened on (attach), ascending.
  const std::vector<pid_t>& threads() const { return targets_; }

  // What was lost to missing permissions, with the fix, one line each.
  const std::vector<std::string>& degraded() const { return degraded_; }
  const perf_event_attr& attr() const { return attr_; }
  // Samples come from every CPU, the program's kept (see cpu_wide_).
  bool samples_every_cpu() const { return cpu_wide_; }
  // What scheduler capture could open (see SchedOptions).
  const SchedCapabilities& sched() const { return sched_; }
  // Ring data pages per CPU, as opened (see shrink_rings_to_fit).
  size_t mmap_pages() const { return opt_.mmap_pages; }
  // The perf events opened, one line each (record --verbose): what each
  // samples, how often, with what, on how many rings of how many pages.
  std::vector<std::string> describe() const;

  // Records until the program exits or recording is stopped.
  Result<SessionResult> run(format::SegmentWriter& writer);

 private:
  Session() = default;
  // What a ring's records are (their attr says how to decode them).
  enum class Role : uint8_t { kSampling, kSwitchOut, kWaking, kWakerStack };
  struct RingSet {
    Role role = Role::kSampling;
    perf_event_attr attr{};
    std::vector<PerfRing> rings;
    std::vector<int> cpus;
    size_t pages = 0;
  };
  // Opens the sampling events (and scheduler capture) on targets_.
  Result<void> open_events();
  void open_sched();
  // A ring per CPU on the target's threads (targets_), or on every process
  // (`every_process`: the wakeup tracepoints, filtered by thread).
  Result<RingSet> open_ring_set(Role role, const perf_event_attr& attr, bool every_process, size_t pages);
  // One ring on `cpu` for all of targets_ (threads gone meanwhile skipped).
  Result<PerfRing> open_on_targets(const perf_event_attr& attr, int cpu, size_t pages);
  // What /proc says of the attached process (see attach()).
  struct Snapshot;
  std::shared_ptr<Snapshot> snapshot_;
  static Result<void> filter_ring_set(RingSet& set, const std::string& filter);
  // Points the wakeup events at `tids` (and the window after them, less
  // `outsiders`); the events it replaces go to `retired`.
  void refilter_wakeups(const std::vector<uint32_t>& tids, const std::vector<uint32_t>& outsiders,
                        std::vector<RingSet>& retired);
  pid_t pid_ = -1;
  std::vector<pid_t> targets_;  // the threads perf events are opened on
  SessionOptions opt_;
  perf_event_attr attr_{};
  std::vector<PerfRing> rings_;
  std::vector<int> ring_cpus_;
  std::vector<std::string> degraded_;
  bool lost_from_read_ = true;  // read_format PERF_FORMAT_LOST accepted
  // Samples come from cpu_wide_sampling_attr events on every CPU, the
  // program's side band from tracking_attr ones (capture/event_spec.h);
  // attr_ stays the per-task sampling attr the scheduler's events derive
  // from. per_task_why_: why not, when cpu-clock was asked for.
  bool cpu_wide_ = false;
  perf_event_attr cpu_attr_{};
  std::string per_task_why_;
  SchedCapabilities sched_;
  std::vector<RingSet> sched_sets_;  // switch-out, waking, waker-stack rings
  std::optional<TracepointField> prev_state_, woken_pid_, waking_flags_;
  std::string wakeup_filter_;
  std::string switch_filter_;  // on the sched_switch sampler, when the kernel took it
  bool refilter_failed_ = false;
  // Closes the scheduler's ring sets on threads of their own (see run()).
  void close_sched_sets();
  // Last member: destroyed first, so ~Session waits for them.
  std::vector<std::jthread> closers_;
};

// Whether the hardware `cycles` event can sample here (false in most VMs):
// the recorder's default event is `cycles` when it can, else `cpu-clock`.
bool can_sample_cycles();

}  // namespace dial9::capture
