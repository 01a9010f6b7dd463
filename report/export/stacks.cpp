#include "report/export/stacks.h"

#include <algorithm>
#include <unordered_map>

namespace dial9::report {

std::vector<WeightedStack> weigh_stacks(const TraceModel& m, const StackWeightOptions& o) {
  std::unordered_map<StackId, uint64_t> counts;
  const uint8_t source = o.off_cpu ? 1 : 0;
  for (const Sample& s : m.samples) {
    if (s.source == source && s.stack != kNoStack) ++counts[s.stack];
  }
  std::vector<WeightedStack> out;
  out.reserve(counts.size());
  for (const auto& [stack, n] : counts) out.push_back({stack, n});
  std::sort(out.begin(), out.end(), [](const WeightedStack& a, const WeightedStack& b) { return a.stack < b.stack; });
  return out;
}

FrameKind frame_kind(const TraceModel& m, const Frame& f) {
  if (f.inlined) return FrameKind::kInlined;
  const std::string& module = m.strings.get(f.module);
  if (module == "[kernel]") return FrameKind::kKernel;
  const std::string& fn = m.strings.get(f.function);
  // Unnamed: a raw address, or module+0xOFFSET.
  if (fn.rfind("0x", 0) == 0 || fn.find("+0x") != std::string::npos || fn == "[unknown]") return FrameKind::kUnknown;
  return FrameKind::kUser;
}

}  // namespace dial9::report
