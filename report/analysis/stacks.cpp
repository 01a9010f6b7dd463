#include "report/analysis/stacks.h"

namespace dial9::report {

void expand_stack(const TraceModel& m, StackId id, bool inlines, std::vector<const Frame*>& out) {
  out.clear();
  if (id == kNoStack) return;
  auto [locs, n] = m.stacks.get(id);
  for (size_t i = 0; i < n; ++i) {
    if (locs[i] >= m.location_frames.size()) continue;
    auto [first, count] = m.location_frames[locs[i]];
    for (uint32_t k = 0; k < count; ++k) {
      const Frame& f = m.frames[first + k];
      if (!inlines && f.inlined) continue;
      out.push_back(&f);
    }
  }
}

Stack stack_names(const TraceModel& m, StackId id, bool inlines) {
  std::vector<const Frame*> frames;
  expand_stack(m, id, inlines, frames);
  Stack names;
  names.reserve(frames.size());
  for (const Frame* f : frames) names.push_back(m.strings.get(f->function));
  return names;
}

}  // namespace dial9::report
