// The time one CPU sample stands for, from the trace's metadata, for
// exporters that weigh samples in nanoseconds (pprof, speedscope).
#pragma once

#include <cstdint>
#include <optional>

#include "report/model/trace_model.h"

namespace dial9::report {

// 1e9 / frequency_hz when the recording sampled at a frequency; the period
// itself when it sampled every N events of a software clock (cpu-clock or
// task-clock count nanoseconds); nullopt otherwise (a period of cycles or
// instructions is not a time, and a trace may say nothing).
std::optional<int64_t> sample_period_ns(const TraceModel& m);

}  // namespace dial9::report
