// speedscope's file format (https://www.speedscope.app/file-format-schema.json),
// which speedscope.app opens: a time-ordered view of each thread's samples
// beside its flamegraph.
#pragma once

#include <string>

#include "report/export/stacks.h"

namespace dial9::report {

struct SpeedscopeOptions {
  StackWeightOptions weight;
  bool inlines = true;  // inlined calls as frames of their own
};

// One "sampled" profile per thread that has samples with a stack (named
// "NAME (tid N)"), in tid order; shared.frames has one frame per (function,
// source file), its "line" the lowest line sampled in it. Each profile's
// samples are frame-index arrays, root first, in time order; runs of
// identical consecutive stacks are merged into one sample whose weight is
// their sum. Weights are nanoseconds (samples × the metadata's period, see
// pprof.h) when the trace gives a time period, else sample counts (unit
// "none"); off-CPU profiles count switch-outs. Invalid UTF-8 in names is
// replaced by U+FFFD.
std::string speedscope_json(const TraceModel& m, const SpeedscopeOptions& o = {});

}  // namespace dial9::report
