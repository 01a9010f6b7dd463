#include "report/export/stacks.h"

#include <algorithm>
#include <unordered_map>

namespace dial9::report {

bool off_cpu_by_time(const TraceModel& m) {
  return std::any_of(m.states.begin(), m.states.end(),
                     [](const StateInterval& s) { return s.blocked() && s.stack != kNoStack; });
}

std::vector<WeightedStack> weigh_stacks(const TraceModel& m, const StackWeightOptions& o) {
  std::unordered_map<StackId, uint64_t> counts;
  for_each_weighted(m, o, o.off_cpu && off_cpu_by_time(m),
                    [&](uint64_t, uint32_t, StackId stack, uint64_t w) { counts[stack] += w; });
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
