// An open perf event and its ring buffer, owned together (RAII): created by
// open(), released (munmap, close) by the destructor. Not thread-safe; one
// reader per ring.
#pragma once

#include <linux/perf_event.h>
#include <sys/types.h>

#include <cstdint>
#include <functional>
#include <span>
#include <string>
#include <vector>

#include "base/result.h"
#include "base/unique_fd.h"
#include "capture/event_spec.h"

namespace dial9::capture {

class PerfRing {
 public:
  // perf_event_open(attr, pid, cpu, -1, PERF_FLAG_FD_CLOEXEC), then maps
  // 1 + `data_pages` pages (a power of two) of ring. The error says what to
  // change when permission is missing (perf_event_paranoid, CAP_PERFMON,
  // perf_event_mlock_kb).
  static Result<PerfRing> open(const perf_event_attr& attr, pid_t pid, int cpu, size_t data_pages);

  PerfRing(PerfRing&& other) noexcept;
  PerfRing& operator=(PerfRing&& other) noexcept;
  PerfRing(const PerfRing&) = delete;
  PerfRing& operator=(const PerfRing&) = delete;
  ~PerfRing();

  int fd() const { return fd_.get(); }
  // Opens `attr` on thread `tid` (-1: every process) on this ring's CPU
  // and sends its records into this ring (PERF_EVENT_IOC_SET_OUTPUT): how a
  // running process's existing threads share one ring per CPU, and how a
  // CPU-wide sampler shares the ring of the program's side band. enable,
  // disable, set_filter and read_lost then act on all of them. A thread
  // that exited meanwhile is an error with errno ESRCH.
  Result<void> add_event(const perf_event_attr& attr, pid_t tid, int cpu);
  Result<void> enable();
  Result<void> disable();
  // A tracepoint event's filter (PERF_EVENT_IOC_SET_FILTER), replacing any
  // earlier one.
  Result<void> set_filter(const std::string& filter);
  // With read_format PERF_FORMAT_LOST: how many samples the event (and its
  // inherited copies in exited threads) lost.
  Result<uint64_t> read_lost();

  // Calls fn for every complete record now in the ring (a record that wraps
  // around the end is copied so fn always sees it contiguous), then frees
  // that space for the kernel. Returns the number of records.
  size_t drain(const std::function<void(std::span<const uint8_t>)>& fn);

 private:
  PerfRing(UniqueFd fd, void* base, size_t map_bytes, size_t data_bytes);
  void release();

  UniqueFd fd_;
  std::vector<UniqueFd> followers_;  // events redirected into this ring
  void* base_ = nullptr;
  size_t map_bytes_ = 0;
  size_t data_bytes_ = 0;
  std::vector<uint8_t> scratch_;
};

// Why perf_event_open failed, as one line with the fix, from its errno.
std::string explain_perf_open_error(int errno_value);

// Whether this process may open `spec` (on itself, not inherited,
// disabled, one ring page): what record and doctor try before relying on
// perf events. `every_process`: as the session's per-CPU sampler instead
// (cpu_wide_sampling_attr, every process on one CPU). The error keeps
// perf_event_open's errno.
Result<void> probe_sampling(SamplingSpec spec, bool every_process = false);

}  // namespace dial9::capture
