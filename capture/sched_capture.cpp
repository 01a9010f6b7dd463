#include "capture/sched_capture.h"

#include <algorithm>
#include <charconv>

namespace dial9::capture {

std::string sched_metadata(const SchedCapabilities& c) {
  std::string out;
  auto add = [&](const char* s) {
    if (!out.empty()) out += ',';
    out += s;
  };
  if (c.switches) add("switches");
  if (c.stacks != SwitchStackSource::kNone) add("stacks");
  if (c.stacks == SwitchStackSource::kSchedSwitchTracepoint) add("states");
  if (c.wakers) add("wakers");
  if (c.waker_stacks) add("waker_stacks");
  if (c.schedstat) add("schedstat");
  return out.empty() ? "off" : out;
}

size_t sched_ring_pages(size_t mmap_pages, size_t ncpu, size_t page_size) {
  size_t pages = mmap_pages;
  while (pages < 4 * mmap_pages && (pages * 2) * page_size * std::max<size_t>(ncpu, 1) <= kSchedRingBudgetBytes) pages *= 2;
  return pages;
}

perf_event_attr switch_out_attr(const perf_event_attr& sampling, SwitchStackSource source,
                                uint64_t tracepoint_id) {
  perf_event_attr a = sampling;
  if (source == SwitchStackSource::kSchedSwitchTracepoint) {
    a.type = PERF_TYPE_TRACEPOINT;
    a.config = tracepoint_id;
    a.sample_type |= PERF_SAMPLE_RAW;
  } else {
    a.type = PERF_TYPE_SOFTWARE;
    a.config = PERF_COUNT_SW_CONTEXT_SWITCHES;
  }
  a.freq = 0;
  a.sample_period = 1;
  // The switch happens in the kernel: a kernel-excluding event would never
  // fire. Kernel frames are still dropped when the user asked for that.
  a.exclude_kernel = 0;
  if (a.sample_type & PERF_SAMPLE_STACK_USER) a.sample_stack_user = std::min(a.sample_stack_user, kSwitchStackBytes);
  // Side-band records (mmaps, names, forks, switches) come from the
  // sampling event already; this one only samples.
  a.mmap = a.mmap2 = a.comm = a.comm_exec = a.task = 0;
  a.build_id = 0;
  a.context_switch = 0;
  return a;
}

perf_event_attr waking_attr(uint64_t tracepoint_id, uint64_t period, bool callchain,
                            const perf_event_attr& sampling) {
  perf_event_attr a{};
  a.size = sizeof a;
  a.type = PERF_TYPE_TRACEPOINT;
  a.config = tracepoint_id;
  a.sample_period = period == 0 ? 1 : period;
  // No PERF_SAMPLE_PERIOD: with it, a software event with a fixed period
  // writes a sample for every occurrence (perf_swevent_event), and one in
  // `period` would be all of them.
  a.sample_type = PERF_SAMPLE_IDENTIFIER | PERF_SAMPLE_IP | PERF_SAMPLE_TID | PERF_SAMPLE_TIME |
                  PERF_SAMPLE_CPU | PERF_SAMPLE_RAW;
  if (callchain) {
    a.sample_type |= PERF_SAMPLE_CALLCHAIN;
    a.exclude_callchain_kernel = sampling.exclude_callchain_kernel;
    if (sampling.sample_type & PERF_SAMPLE_STACK_USER) {
      a.sample_type |= PERF_SAMPLE_REGS_USER | PERF_SAMPLE_STACK_USER;
      a.sample_regs_user = sampling.sample_regs_user;
      a.sample_stack_user = std::min(sampling.sample_stack_user, kSwitchStackBytes);
    }
  }
  a.use_clockid = 1;
  a.clockid = CLOCK_MONOTONIC;
  a.sample_id_all = 1;
  a.disabled = 0;
  a.watermark = 1;
  return a;
}

std::string blocking_switch_filter(std::string_view field) { return std::string(field) + " & 255"; }

std::string tid_filter(std::string_view field, std::vector<uint32_t> tids, uint32_t window,
                       std::span<const uint32_t> outsiders) {
  std::sort(tids.begin(), tids.end());
  if (!tids.empty()) {
    // Kept below pid_max's hard limit (2^22), so the window never wraps.
    const uint32_t last = tids.back();
    for (uint32_t i = 1; i <= window && last + i < (1u << 22); ++i) {
      if (std::find(outsiders.begin(), outsiders.end(), last + i) == outsiders.end()) tids.push_back(last + i);
    }
  }
  tids.erase(std::unique(tids.begin(), tids.end()), tids.end());
  std::string f(field);
  std::string out;
  for (size_t i = 0; i < tids.size();) {
    size_t j = i;
    while (j + 1 < tids.size() && tids[j + 1] == tids[j] + 1) ++j;
    if (!out.empty()) out += " || ";
    if (j - i >= 2) {
      out += "(" + f + " >= " + std::to_string(tids[i]) + " && " + f + " <= " + std::to_string(tids[j]) + ")";
    } else {
      for (size_t k = i; k <= j; ++k) {
        if (k != i) out += " || ";
        out += f + " == " + std::to_string(tids[k]);
      }
    }
    i = j + 1;
  }
  // The kernel copies at most a page of filter text (strndup_user).
  if (out.size() >= 4096) return {};
  return out;
}

bool same_wakeup(const WakingHit& a, const WakingHit& b) {
  uint64_t gap = a.time > b.time ? a.time - b.time : b.time - a.time;
  return a.cpu == b.cpu && a.woken == b.woken && a.waker_tid == b.waker_tid && gap <= kSameWakeupNs;
}

format::ThreadState state_from_prev_state(int64_t prev_state, bool& dead) {
  using format::ThreadState;
  dead = false;
  uint64_t s = static_cast<uint64_t>(prev_state);
  if (s == 0 || (s & ~uint64_t{0xff}) != 0) return ThreadState::kRunnable;
  if (s & 0x30) {  // EXIT_DEAD (X), EXIT_ZOMBIE (Z)
    dead = true;
    return ThreadState::kBlocked;
  }
  if (s & 0x02) return ThreadState::kUninterruptible;  // D (TASK_KILLABLE reports as D too)
  if (s & 0x0c) return ThreadState::kStopped;          // T, t
  if (s & 0x81) return ThreadState::kSleeping;         // S, and I (TASK_IDLE)
  return ThreadState::kBlocked;                        // P (parked) and anything newer
}

const char* interrupt_context(uint64_t flags) {
  // TRACE_FLAG_* of include/linux/trace_events.h.
  if (flags & 0x40) return "nmi";
  if (flags & 0x08) return "hardirq";
  if (flags & 0x10) return "softirq";
  return nullptr;
}

bool parse_schedstat(std::string_view text, format::SchedStat& out) {
  uint64_t v[3];
  const char* p = text.data();
  const char* end = text.data() + text.size();
  for (uint64_t& x : v) {
    while (p < end && (*p == ' ' || *p == '\t')) ++p;
    auto r = std::from_chars(p, end, x);
    if (r.ec != std::errc()) return false;
    p = r.ptr;
  }
  out.run_ns = v[0];
  out.wait_ns = v[1];
  out.timeslices = v[2];
  return true;
}

}  // namespace dial9::capture
