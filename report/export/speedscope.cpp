#include "report/export/speedscope.h"

#include <algorithm>
#include <map>

#include <nlohmann/json.hpp>

#include "report/analysis/stacks.h"
#include "report/export/sample_period.h"

namespace dial9::report {
namespace {

using Json = nlohmann::json;

// One thread's profile while it is built: runs of identical stacks merged.
struct ThreadProfile {
  std::vector<std::vector<uint32_t>> samples;  // frame indices, root first
  std::vector<uint64_t> weights;
  std::vector<StackId> stacks;  // of each entry in samples, for merging
  uint64_t total = 0;
};

}  // namespace

std::string speedscope_json(const TraceModel& m, const SpeedscopeOptions& o) {
  const int64_t period = o.weight.off_cpu ? 0 : sample_period_ns(m).value_or(0);
  const bool by_time = o.weight.off_cpu && off_cpu_by_time(m);
  // Each entry's weight: its blocked ns, the sample period, or 1.
  const uint64_t per_sample = period > 0 ? static_cast<uint64_t>(period) : 1;

  // Frames by (function, file); each stack's frame indices computed once.
  Json frames = Json::array();
  std::map<std::pair<StringId, StringId>, uint32_t> frame_ids;
  std::map<StackId, std::vector<uint32_t>> stack_frames;
  std::vector<const Frame*> expanded;
  auto frames_of = [&](StackId stack) -> const std::vector<uint32_t>& {
    auto [it, fresh] = stack_frames.try_emplace(stack);
    if (!fresh) return it->second;
    expand_stack(m, stack, o.inlines, expanded);
    for (auto f = expanded.rbegin(); f != expanded.rend(); ++f) {  // root first
      const Frame& fr = **f;
      auto [fit, new_frame] = frame_ids.try_emplace({fr.function, fr.file}, static_cast<uint32_t>(frames.size()));
      if (new_frame) {
        Json j = {{"name", m.strings.get(fr.function)}};
        if (fr.file != 0) j["file"] = m.strings.get(fr.file);
        if (fr.line != 0) j["line"] = fr.line;
        frames.push_back(std::move(j));
      } else if (fr.line != 0) {
        Json& j = frames[fit->second];
        if (!j.contains("line") || j["line"].get<uint32_t>() > fr.line) j["line"] = fr.line;
      }
      it->second.push_back(fit->second);
    }
    return it->second;
  };

  std::map<uint32_t, ThreadProfile> threads;
  for_each_weighted(m, o.weight, by_time, [&](uint64_t, uint32_t tid, StackId id, uint64_t w) {  // in time order
    const std::vector<uint32_t>& stack = frames_of(id);
    if (stack.empty()) return;
    const uint64_t weight = by_time ? w : per_sample;
    ThreadProfile& t = threads[tid];
    if (!t.stacks.empty() && t.stacks.back() == id) {
      t.weights.back() += weight;
    } else {
      t.samples.push_back(stack);
      t.weights.push_back(weight);
      t.stacks.push_back(id);
    }
    t.total += weight;
  });

  Json profiles = Json::array();
  for (auto& [tid, t] : threads) {
    const std::string& name = m.thread_name(tid);
    profiles.push_back({{"type", "sampled"},
                        {"name", (name.empty() ? "thread" : name) + " (tid " + std::to_string(tid) + ")"},
                        {"unit", period > 0 || by_time ? "nanoseconds" : "none"},
                        {"startValue", 0},
                        {"endValue", t.total},
                        {"samples", std::move(t.samples)},
                        {"weights", std::move(t.weights)}});
  }
  std::string title = "dial9";
  if (auto it = m.metadata.find("command"); it != m.metadata.end()) title += ": " + it->second;
  if (o.weight.off_cpu) title += by_time ? " (off-CPU, blocked time)" : " (off-CPU, switch-outs)";
  Json doc = {{"$schema", "https://www.speedscope.app/file-format-schema.json"},
              {"shared", {{"frames", std::move(frames)}}},
              {"profiles", std::move(profiles)},
              {"name", title},
              {"activeProfileIndex", 0},
              {"exporter", "dial9"}};
  return doc.dump(-1, ' ', false, Json::error_handler_t::replace) + "\n";
}

}  // namespace dial9::report
