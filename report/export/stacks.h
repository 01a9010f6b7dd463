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
  bool off_cpu = false;  // switch-out samples instead of on-CPU samples
};

struct WeightedStack {
  StackId stack = kNoStack;
  uint64_t samples = 0;
};

// Samples per unique stack, in stack-id order; samples without a stack are
// left out (they have no frames to draw).
std::vector<WeightedStack> weigh_stacks(const TraceModel& m, const StackWeightOptions& o = {});

// How a frame is drawn: user code, kernel, an inlined call, or an address
// nothing named.
enum class FrameKind : uint8_t { kUser, kKernel, kInlined, kUnknown };
FrameKind frame_kind(const TraceModel& m, const Frame& f);

}  // namespace dial9::report
