// Symbolized stacks from the model, shared by the analyses and exporters.
#pragma once

#include <vector>

#include "report/analysis/report.h"
#include "report/model/trace_model.h"

namespace dial9::report {

// The frames of a stack, leaf first. With `inlines`, every location
// contributes its inlined frames before its real function; without, only
// the real function (inlined code is folded into its caller).
void expand_stack(const TraceModel& m, StackId id, bool inlines, std::vector<const Frame*>& out);

// The function names of a stack, leaf first.
Stack stack_names(const TraceModel& m, StackId id, bool inlines);

}  // namespace dial9::report
