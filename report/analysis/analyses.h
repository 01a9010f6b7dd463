// The analyses behind build_report(), one per report section. Each reads the
// model only; findings() reads the finished sections.
#pragma once

#include "report/analysis/report.h"

namespace dial9::report {

Overview overview(const TraceModel& m);
std::vector<HotFunction> hot_functions(const TraceModel& m, const ReportOptions& o);
std::vector<ThreadRow> thread_rows(const TraceModel& m, const ReportOptions& o);
std::vector<OffCpuStack> off_cpu_stacks(const TraceModel& m, const ReportOptions& o);
std::vector<std::string> off_cpu_notes(const TraceModel& m);
std::optional<SchedLatency> sched_latency(const TraceModel& m, const ReportOptions& o);
std::optional<Runtime> runtime_analysis(const TraceModel& m, const ReportOptions& o);
std::vector<SpanStats> span_stats(const TraceModel& m);
std::vector<CustomEventCount> custom_event_counts(const TraceModel& m);
std::vector<Finding> findings(const TraceModel& m, const Report& r, const ReportOptions& o);

}  // namespace dial9::report
