// Chrome's Trace Event Format (the JSON object form, {"traceEvents": [...]}),
// which Perfetto's UI (ui.perfetto.dev) and chrome://tracing open: the
// trace's threads as tracks, with its runtime's polls, parks and spans as
// slices and its samples as instant events.
#pragma once

#include <string>

#include "report/model/trace_model.h"

namespace dial9::report {

struct ChromeTraceOptions {
  bool inlines = true;  // inlined calls as frames of their own in sample stacks
};

// Timestamps ("ts", "dur") are microseconds, as doubles, from the trace's
// first event. Each process and named thread gets a process_name or
// thread_name metadata ("M") event. Polls and parked time are complete
// ("X") events on the thread that ran their runtime worker (model.threads'
// worker field; a worker no thread is known for gets a made-up track named
// "worker N"); spans are X events on made-up tracks beside it, "worker N
// spans", "worker N spans 2"... ("spans" for those entered outside any
// worker), since a span crosses polls and other spans and the slices of one
// track must nest: each span goes to the first of its worker's span tracks
// where it nests. Their ids and times are in "args". Made-up tracks have tids above 0x7ffe0000, beyond any
// Linux tid. On- and off-CPU samples are thread-scoped
// instant ("i") events named after their leaf function, their stacks in the
// top-level "stackFrames" table (referenced by "sf", each frame naming its
// parent). Names that are not valid UTF-8 have the bad bytes replaced by
// U+FFFD, so the output is always valid JSON.
std::string chrome_trace(const TraceModel& m, const ChromeTraceOptions& o = {});

}  // namespace dial9::report
