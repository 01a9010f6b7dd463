// What every exporter starts from: the samples of the selection counted per
// unique stack (so the cost follows unique stacks, not samples), and the
// frames of a stack as exporters name them.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "report/model/trace_model.h"

namespace dial9::report {

struct StackWeightOptions {
  bool off_cpu = false;  // where threads blocked instead of on-CPU samples
};

// Off-CPU stacks are weighed by the time threads were blocked on them (ns)
// when the trace has thread states whose blocked intervals carry stacks;
// else by switch-outs, one per switch-out sample (the Tokio recorder's).
bool off_cpu_by_time(const TraceModel& m);

// Calls fn(ts, tid, stack, weight) for what an export weighs, in time
// order: each on-CPU sample (weight 1); or, off-CPU, each blocked interval
// with a stack (ts its start, weight its ns) when `by_time`, else each
// switch-out sample (weight 1). Entries without a stack are left out (they
// have no frames to draw).
template <typename Fn>
void for_each_weighted(const TraceModel& m, const StackWeightOptions& o, bool by_time, Fn&& fn) {
  if (o.off_cpu && by_time) {
    for (const StateInterval& s : m.states) {
      if (s.blocked() && s.stack != kNoStack) fn(s.start_ns, s.tid, s.stack, s.duration());
    }
    return;
  }
  const uint8_t source = o.off_cpu ? 1 : 0;
  for (const Sample& s : m.samples) {
    if (s.source == source && s.stack != kNoStack) fn(s.ts, s.tid, s.stack, uint64_t{1});
  }
}

struct WeightedStack {
  StackId stack = kNoStack;
  uint64_t weight = 0;  // samples, or blocked ns (see off_cpu_by_time)
};

// The weight per unique stack, in stack-id order.
std::vector<WeightedStack> weigh_stacks(const TraceModel& m, const StackWeightOptions& o = {});

// How a frame is drawn: user code, kernel, an inlined call, or an address
// nothing named.
enum class FrameKind : uint8_t { kUser, kKernel, kInlined, kUnknown };
FrameKind frame_kind(const TraceModel& m, const Frame& f);

}  // namespace dial9::report
