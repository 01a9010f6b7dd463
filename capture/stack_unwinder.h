// How the session completes a sample's user callchain from the registers and
// stack copy the sample carries (SamplingSpec::user_stack_bytes).
//
// The session keeps the processes' mappings (format::AddressSpaces, fed in
// time order) and asks the unwinder to complete each sample's frame-pointer
// chain against them. The implementation reads the
// modules' call-frame information with libdw, which belongs to report/; the
// CLI connects the two, so capture does not depend on report. Called on the
// session's thread only.
#pragma once

#include <cstdint>
#include <span>
#include <vector>

#include "capture/event_spec.h"
#include "format/address_space.h"

namespace dial9::capture {

struct UserStackSample {
  uint32_t pid = 0, tid = 0;
  UserRegs regs;
  std::span<const uint8_t> stack;  // memory from regs.sp upwards
};

class StackUnwinder {
 public:
  virtual ~StackUnwinder() = default;
  // `user_chain`: in, the kernel's frame-pointer chain (leaf first, from
  // regs.ip); out, the completed chain.
  virtual void complete(const UserStackSample& s, const format::AddressSpaces& spaces,
                        std::vector<uint64_t>& user_chain) = 0;
};

}  // namespace dial9::capture
