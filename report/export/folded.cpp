#include "report/export/folded.h"

#include <map>

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
  // Stacks of different addresses can name the same frames (two call sites
  // in one function): one line each, counts added.
  std::map<std::string, uint64_t> lines;
  std::vector<const Frame*> frames;
  for (const WeightedStack& w : weigh_stacks(m, o.weight)) {
    expand_stack(m, w.stack, o.inlines, frames);
    if (frames.empty()) continue;
    std::string line;
    for (auto it = frames.rbegin(); it != frames.rend(); ++it) {  // root first
      if (it != frames.rbegin()) line += ';';
      append_name(m, **it, line);
    }
    lines[std::move(line)] += w.weight;
  }
  std::string out;
  for (const auto& [l, n] : lines) out += l + " " + std::to_string(n) + "\n";
  return out;
}

}  // namespace dial9::report
