// Whether this machine lets the tests open perf events, for integration
// tests that skip (with the reason) where it does not.
#pragma once

#include <linux/perf_event.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <string>

#include "capture/perf_ring.h"

namespace dial9::test {

// Why perf events cannot be opened here, or "".
inline std::string perf_unavailable() {
  auto ok = capture::probe_sampling(capture::SamplingSpec{});
  return ok ? "" : ok.error().message();
}

// Why a disabled, user-only software event `config` (a perf_sw_ids value)
// cannot be opened on `pid` and `cpu` here, or "": a probe for one
// capability. `context_switch`: with switch records.
inline std::string software_event_unavailable(uint64_t config, pid_t pid, int cpu, bool context_switch = false) {
  perf_event_attr a{};
  a.size = sizeof a;
  a.type = PERF_TYPE_SOFTWARE;
  a.config = config;
  a.context_switch = context_switch ? 1 : 0;
  a.disabled = 1;
  a.exclude_kernel = 1;
  int fd = static_cast<int>(::syscall(SYS_perf_event_open, &a, pid, cpu, -1, 0));
  if (fd < 0) return std::string("perf_event_open: ") + std::strerror(errno);
  ::close(fd);
  return "";
}

}  // namespace dial9::test
