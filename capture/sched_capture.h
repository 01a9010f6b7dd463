// Scheduler capture: when each thread of the target runs, waits for a CPU or
// blocks, where it blocked, and who woke it. The decisions here are pure
// (attrs, filters, state decoding, what the recording captured); the session
// opens the events and feeds their records through.
//
// What is captured depends on what the host allows (a ladder, strongest
// first; each rung keeps what the ones below have):
//   - context-switch records on the sampling event (`context_switch`): every
//     switch-out and switch-in of a target thread, preempted or not. Needs
//     nothing beyond recording itself (works at perf_event_paranoid 2).
//   - switch-out stacks: a sample at each switch-out, from the
//     `sched:sched_switch` tracepoint (which also says whether the thread
//     slept, waited uninterruptibly or stopped; needs tracefs and
//     CAP_PERFMON for its raw data), else from the `context-switches`
//     software event (needs kernel samples: paranoid <= 1).
//   - wakeups: `sched:sched_waking` on every CPU, filtered to the target's
//     threads, so wakers from any process are seen (tracefs and CAP_PERFMON).
//   - /proc schedstat totals per thread, always: the run-queue wait no
//     rung above can split out is at least known in total.
#pragma once

#include <linux/perf_event.h>

#include <cstdint>
#include <span>
#include <string>
#include <vector>

#include "format/events.h"

namespace dial9::capture {

// `dial9 record --waker-stacks N`: one wakeup in N carries the waker's
// stack. 0 turns waker stacks off. Prime, because the kernel counts every
// wakeup on a CPU alike and wakeups come in cycles: a pipe's consumer
// woken by its producer, then the producer by its timer, alternate, and
// with N = 8 every sampled wakeup was the same one of the two (which one
// depended on where the count started), so one edge got every stack and
// the other none. 7 shares no factor with cycles of 2 to 6 wakeups.
inline constexpr uint32_t kDefaultWakerStackEvery = 7;

// Bytes of user stack copied at a switch-out so a blocking call in a library
// without frame pointers (read, pthread_mutex_lock, nanosleep) still shows
// its caller: enough for the library's own frames; the frame-pointer chain
// supplies the rest.
inline constexpr uint32_t kSwitchStackBytes = 512;

struct SchedOptions {
  bool enabled = true;                     // --no-sched turns it off
  uint32_t waker_stack_every = kDefaultWakerStackEvery;
  bool use_tracefs = true;                 // false: behave as if tracefs were missing (tests)
};

enum class SwitchStackSource { kNone, kSchedSwitchTracepoint, kContextSwitchEvent };

// What a recording captured, for the segment metadata (`sched` key) and the
// summary.
struct SchedCapabilities {
  bool switches = false;
  SwitchStackSource stacks = SwitchStackSource::kNone;
  bool wakers = false;
  bool waker_stacks = false;
  bool schedstat = false;
};
// "switches,stacks,states,wakers,waker_stacks,schedstat", or "off".
std::string sched_metadata(const SchedCapabilities& c);

// Ring data pages per CPU for the rings of large scheduler records
// (switch-out and waker stacks, about 1 KB each with a stack copy): a
// context-switch-heavy program writes a hundred times more of them than
// samples, so they get up to 4x the sampling rings' `mmap_pages`, within
// kSchedRingBudgetBytes over all CPUs (a power of two, never below
// `mmap_pages`). Without the margin, a controller delayed by the program's
// own threads on a small machine lost events at 40k events/s.
inline constexpr size_t kSchedRingBudgetBytes = size_t{4} << 20;
size_t sched_ring_pages(size_t mmap_pages, size_t ncpu, size_t page_size);

// The switch-out sampler's attr, derived from the sampling attr (same
// clock, inheritance, kernel/user choice, callchains and stack copies): the
// tracepoint (with its raw record) or the software context-switch event,
// every occurrence.
perf_event_attr switch_out_attr(const perf_event_attr& sampling, SwitchStackSource source,
                                uint64_t tracepoint_id);

// The sched_switch sampler's filter: switch-outs whose `prev_state` field
// (named `field`) says the thread stopped running of its own accord (any
// of the TASK_REPORT bits, 0xff; a preempted thread reports a bit above
// them, or 0). A preempted thread's stack is never written (its switch
// record says it was preempted), and taking it, a kernel and user
// callchain and a stack copy at each preemption, cost a busy server
// several microseconds a time: most of its switch-outs.
std::string blocking_switch_filter(std::string_view field);

// sched_waking on one CPU for every process (the session filters it to the
// target's threads): every wakeup (`period` 1, no stack), or one in
// `period` with the waker's callchain. The stack sampler takes the
// sampling attr's kernel/user choice and, when it copies user stacks, a
// kSwitchStackBytes copy, so a waker inside a library without frame
// pointers (write, pthread_mutex_unlock) still shows its caller.
perf_event_attr waking_attr(uint64_t tracepoint_id, uint64_t period, bool callchain,
                            const perf_event_attr& sampling);

// Thread ids the wakeup filter admits beyond the target's newest thread:
// Linux hands out ids in increasing order, so the target's next threads
// are usually among them and their wakeups are seen before the session
// can name them in a new filter. Wakeups of other processes' threads in
// the window are dropped by the session (it knows the target's threads),
// and those threads are then left out of the window (`outsiders` below):
// a busy neighbour started just after the target (a load generator, a
// sidecar) was otherwise recorded by the kernel on every wakeup.
inline constexpr uint32_t kNewThreadWindow = 64;

// A tracepoint filter that keeps events whose `field` is one of `tids`, or
// one of the `window` ids after the largest that is not in `outsiders`
// ("pid == 7 || (pid >= 10 && pid <= 14)"): runs of consecutive ids become
// ranges so a thread pool fits. Empty when the filter would exceed the
// kernel's limit (a page); the caller then captures no wakeups rather than
// every wakeup on the machine.
std::string tid_filter(std::string_view field, std::vector<uint32_t> tids, uint32_t window = 0,
                       std::span<const uint32_t> outsiders = {});

// The two records one sched_waking hit produces, from the every-wakeup
// event and (one time in N) the stack event, arrive on different rings a
// few microseconds apart and in either order. They are the same wakeup
// when they come from the same CPU, name the same woken thread and waker,
// and are at most kSameWakeupNs apart.
struct WakingHit {
  uint64_t time = 0;
  uint32_t cpu = 0, woken = 0, waker_tid = 0;
};
inline constexpr uint64_t kSameWakeupNs = 200'000;
bool same_wakeup(const WakingHit& a, const WakingHit& b);

// A thread's state after a switch-out, from sched_switch's `prev_state`
// (TASK_REPORT bits; bit 8 and above set, or 0, mean it was preempted and
// is still runnable). `dead` is set for an exiting thread, whose last
// switch-out is not a wait.
format::ThreadState state_from_prev_state(int64_t prev_state, bool& dead);

// "hardirq", "softirq" or "nmi" when a tracepoint's common_flags say it
// fired in interrupt context (where the current thread did not cause the
// event), else nullptr.
const char* interrupt_context(uint64_t common_flags);

// The kernel's cumulative run and wait figures for a thread, from
// /proc/PID/task/TID/schedstat ("run_ns wait_ns timeslices"). False when
// the text is not three numbers.
bool parse_schedstat(std::string_view text, format::SchedStat& out);

}  // namespace dial9::capture
