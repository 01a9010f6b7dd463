// Completing user callchains through code built without frame pointers.
//
// The kernel's frame-pointer walk loses the caller of any function that does
// not keep rbp as a frame pointer (glibc's memcpy, read, pthread_mutex_lock,
// malloc, ...), exactly the frame that says which of the program's functions
// spent the time. A sample can also carry the user registers and a small copy
// of the stack: unwinding that copy with the modules' call-frame information
// (.eh_frame) recovers those frames, and the kernel's frame-pointer chain
// supplies the rest beyond the copy. Only the resulting chain is stored, not
// the copy.
//
// This lives in report/ because it reads modules through libdw, like the
// symbolizer; the recorder reaches it through capture's StackUnwinder
// interface, connected by the CLI. x86-64 only (the registers are rip, rsp,
// rbp).
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <span>
#include <unordered_map>
#include <vector>

#include "format/address_space.h"
#include "report/symbols/elf_module.h"
#include "report/symbols/module_cache.h"

namespace dial9::report {

struct UnwindInput {
  uint32_t pid = 0;
  uint64_t ip = 0, sp = 0, bp = 0;
  std::span<const uint8_t> stack;  // a copy of memory from `sp` upwards
};

// The CFI rule at a code address (a pc for the leaf, a return address minus
// one for callers), or nullopt when unknown.
using RuleLookup = std::function<std::optional<FrameRule>(uint64_t pc)>;

// Unwinds from the registers through the stack copy: `frames` gets ip, then
// each caller's return address, leaf first. Stops where a rule is unknown or
// the copy ends. Returns true when it reached the thread's outermost frame
// (a return address the CFI marks undefined, or 0). Pure.
bool unwind_stack_copy(const UnwindInput& in, const RuleLookup& rule_at, std::vector<uint64_t>& frames);

// Joins the frames unwound from the stack copy (`dwarf`, trusted) with the
// kernel's frame-pointer chain (`fp`, leaf first, from the same ip): the
// frame-pointer frames after the deepest unwound frame they share are
// appended. When none is shared, the unwound frames are the frames the
// frame-pointer walk skipped, so all of `fp` after its leaf follows them;
// when the unwinding reached the outermost frame, nothing follows. Pure.
void splice_callchains(std::span<const uint64_t> dwarf, bool complete, std::span<const uint64_t> fp,
                       std::vector<uint64_t>& out);

// unwind_stack_copy() with rules from the modules mapped in each process,
// cached per code address.
class CfiUnwinder {
 public:
  explicit CfiUnwinder(ModuleCache& modules) : modules_(modules) {}

  // `chain`: in, the kernel's frame-pointer chain (user part, leaf first);
  // out, the completed chain. `spaces`: the processes' mappings now.
  void complete(const AddressSpaces& spaces, const UnwindInput& in, std::vector<uint64_t>& chain);

 private:
  std::optional<FrameRule> rule_at(const AddressSpaces& spaces, uint32_t pid, uint64_t pc);
  ModuleCache& modules_;
  std::unordered_map<ModuleAddress, std::optional<FrameRule>, ModuleAddressHash> rules_;
  std::vector<uint64_t> dwarf_, out_;
};

}  // namespace dial9::report
