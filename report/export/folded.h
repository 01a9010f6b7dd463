// Folded stacks, the text format of Brendan Gregg's FlameGraph and of
// inferno: one line per unique stack, "root;caller;...;leaf COUNT".
#pragma once

#include <string>

#include "report/export/stacks.h"

namespace dial9::report {

struct FoldedOptions {
  StackWeightOptions weight;
  bool inlines = true;  // inlined calls as frames of their own
};

// Names are the report's frame names, with ';' (the separator) replaced by
// ':' and line breaks by spaces, as stackcollapse-perf.pl does; kernel
// frames end in "_[k]" and inlined ones in "_[i]" (its --kernel and
// --inline annotations, which flamegraph.pl colours). Lines are sorted,
// and their counts sum to the selected samples that have a stack, or, for
// off-CPU stacks of a trace with thread states, to the nanoseconds blocked
// on them (see off_cpu_by_time).
std::string folded_stacks(const TraceModel& m, const FoldedOptions& o = {});

}  // namespace dial9::report
