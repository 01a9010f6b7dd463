#include "report/symbols/cfi_unwinder.h"

#include <cstring>

namespace dial9::report {
namespace {

// Enough for real programs; a bound so a corrupt stack cannot loop.
constexpr size_t kMaxFrames = 256;
// The rule cache is dropped when it grows past this (distinct code
// addresses), bounding the recorder's memory.
constexpr size_t kMaxCachedRules = 1 << 20;

bool read_u64(const UnwindInput& in, uint64_t addr, uint64_t& out) {
  if (addr < in.sp || addr - in.sp > in.stack.size() || in.stack.size() - (addr - in.sp) < 8) return false;
  std::memcpy(&out, in.stack.data() + (addr - in.sp), 8);
  return true;
}

}  // namespace

bool unwind_stack_copy(const UnwindInput& in, const RuleLookup& rule_at, std::vector<uint64_t>& frames) {
  frames.clear();
  frames.push_back(in.ip);
  uint64_t pc = in.ip, sp = in.sp, bp = in.bp;
  bool bp_known = true;
  while (frames.size() < kMaxFrames) {
    // A return address is the instruction after the call, which may already
    // belong to the next function (or to no CFI at all): look up the call.
    auto rule = rule_at(frames.size() == 1 ? pc : pc - 1);
    if (!rule) return false;
    uint64_t cfa;
    if (rule->cfa == FrameRule::Cfa::kSpOffset) {
      cfa = sp + static_cast<uint64_t>(rule->cfa_offset);
    } else if (rule->cfa == FrameRule::Cfa::kBpOffset && bp_known) {
      cfa = bp + static_cast<uint64_t>(rule->cfa_offset);
    } else {
      return false;
    }
    if (rule->ra == FrameRule::Saved::kUndefined) return true;
    if (rule->ra != FrameRule::Saved::kAtCfaOffset) return false;
    uint64_t ra;
    if (!read_u64(in, cfa + static_cast<uint64_t>(rule->ra_offset), ra)) return false;
    if (ra == 0) return true;
    switch (rule->bp) {
      case FrameRule::Saved::kAtCfaOffset:
        bp_known = read_u64(in, cfa + static_cast<uint64_t>(rule->bp_offset), bp);
        break;
      case FrameRule::Saved::kSameValue:
        break;
      case FrameRule::Saved::kUndefined:
      case FrameRule::Saved::kUnsupported:
        bp_known = false;
        break;
    }
    // The stack grows down, so each caller's frame is above: anything else
    // is a corrupt stack or a wrong rule, and would loop.
    if (cfa <= sp) return false;
    frames.push_back(ra);
    pc = ra;
    sp = cfa;
  }
  return false;
}

void splice_callchains(std::span<const uint64_t> dwarf, bool complete, std::span<const uint64_t> fp,
                       std::vector<uint64_t>& out) {
  out.assign(dwarf.begin(), dwarf.end());
  if (fp.empty()) return;
  if (dwarf.empty()) {
    out.assign(fp.begin(), fp.end());
    return;
  }
  // The deepest unwound frame the frame-pointer chain also has. In recursion
  // the same return address repeats: the k-th occurrence in `dwarf` is
  // matched with the k-th in `fp`.
  for (size_t i = dwarf.size() - 1; i >= 1; --i) {
    size_t occurrence = 0;
    for (size_t k = 1; k <= i; ++k) occurrence += dwarf[k] == dwarf[i];
    size_t match = 0, seen = 0;
    for (size_t j = 1; j < fp.size(); ++j) {
      if (fp[j] == dwarf[i]) {
        match = j;
        if (++seen == occurrence) break;
      }
    }
    if (match != 0) {
      // Frames the unwinding found below the match and the frame-pointer
      // walk did not are kept: they were skipped, not invented.
      out.insert(out.end(), fp.begin() + static_cast<ptrdiff_t>(match) + 1, fp.end());
      return;
    }
  }
  if (!complete) out.insert(out.end(), fp.begin() + 1, fp.end());
}

std::optional<FrameRule> CfiUnwinder::rule_at(const AddressSpaces& spaces, uint32_t pid, uint64_t pc) {
  const MappedFile* f = spaces.find(pid, pc);
  if (!f) return std::nullopt;
  const ElfModule* m = modules_.get(*f);
  if (!m) return std::nullopt;
  auto vaddr = m->vaddr_of_offset(pc - f->start + f->file_offset);
  if (!vaddr) return std::nullopt;
  ModuleAddress key{m, *vaddr};
  auto it = rules_.find(key);
  if (it != rules_.end()) return it->second;
  if (rules_.size() >= kMaxCachedRules) rules_.clear();
  auto rule = m->frame_rule(*vaddr);
  rules_.emplace(key, rule);
  return rule;
}

void CfiUnwinder::complete(const AddressSpaces& spaces, const UnwindInput& in, std::vector<uint64_t>& chain) {
  if (in.stack.empty()) return;
  bool reached_end = unwind_stack_copy(in, [&](uint64_t pc) { return rule_at(spaces, in.pid, pc); }, dwarf_);
  splice_callchains(dwarf_, reached_end, chain, out_);
  chain.swap(out_);
}

}  // namespace dial9::report
