// How the session completes a sample's user callchain from the registers and
// stack copy the sample carries (SamplingSpec::user_stack_bytes).
//
// The session tells the unwinder about each process's mappings, forks, execs
// and exits in time order, before the samples they concern, and asks it to
// complete each sample's frame-pointer chain. The implementation reads the
// modules' call-frame information with libdw, which belongs to report/; the
// CLI connects the two, so capture does not depend on report. Called on the
// session's thread only.
#pragma once

#include <cstdint>
#include <span>
#include <vector>

#include "capture/event_spec.h"
#include "format/events.h"

namespace dial9::capture {

struct UserStackSample {
  uint32_t pid = 0, tid = 0;
  UserRegs regs;
  std::span<const uint8_t> stack;  // memory from regs.sp upwards
};

class StackUnwinder {
 public:
  virtual ~StackUnwinder() = default;
  virtual void map(const format::Mapping& m) = 0;
  virtual void fork(uint32_t parent_pid, uint32_t child_pid) = 0;
  virtual void exec(uint32_t pid) = 0;
  virtual void exit(uint32_t pid) = 0;
  // `user_chain`: in, the kernel's frame-pointer chain (leaf first, from
  // regs.ip); out, the completed chain.
  virtual void complete(const UserStackSample& s, std::vector<uint64_t>& user_chain) = 0;
};

}  // namespace dial9::capture
