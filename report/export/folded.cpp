#include "report/export/folded.h"

#include <algorithm>

#include "report/analysis/stacks.h"

namespace dial9::report {
namespace {

void append_name(const TraceModel& m, const Frame& f, std::string& out) {
  for (char c : m.strings.get(f.function)) {
    out += c == ';' ? ':' : (c == '\n' || c == '\r') ? ' ' : c;
  }
  switch (frame_kind(m, f)) {
    case FrameKind::kKernel: out += "_[k]"; break;
    case FrameKind::kInlined: out += "_[i]"; break;
    default: break;
  }
}

}  // namespace

std::string folded_stacks(const TraceModel& m, const FoldedOptions& o) {
  std::vector<std::string> lines;
  std::vector<const Frame*> frames;
  for (const WeightedStack& w : weigh_stacks(m, o.weight)) {
    expand_stack(m, w.stack, o.inlines, frames);
    if (frames.empty()) continue;
    std::string line;
    for (auto it = frames.rbegin(); it != frames.rend(); ++it) {  // root first
      if (it != frames.rbegin()) line += ';';
      append_name(m, **it, line);
    }
    line += ' ';
    line += std::to_string(w.samples);
    lines.push_back(std::move(line));
  }
  std::sort(lines.begin(), lines.end());
  std::string out;
  for (const auto& l : lines) out += l + "\n";
  return out;
}

}  // namespace dial9::report
