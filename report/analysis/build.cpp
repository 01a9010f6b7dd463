// The overview, span and custom-event sections, and build_report(), which
// runs every analysis.
#include <algorithm>
#include <cinttypes>
#include <cstdio>
#include <map>
#include <set>
#include <unordered_map>

#include "report/analysis/analyses.h"
#include "report/analysis/sched.h"
#include "report/analysis/stats.h"

namespace dial9::report {

const char* severity_name(Severity s) {
  switch (s) {
    case Severity::kCritical: return "critical";
    case Severity::kWarning: return "warning";
    case Severity::kInfo: return "info";
  }
  return "info";
}

std::string format_duration(uint64_t ns) {
  char buf[32];
  auto d = static_cast<double>(ns);
  if (ns < 1'000) {
    std::snprintf(buf, sizeof buf, "%" PRIu64 " ns", ns);
  } else if (ns < 1'000'000) {
    std::snprintf(buf, sizeof buf, d < 1e4 ? "%.2f us" : d < 1e5 ? "%.1f us" : "%.0f us", d / 1e3);
  } else if (ns < 1'000'000'000) {
    std::snprintf(buf, sizeof buf, d < 1e7 ? "%.2f ms" : d < 1e8 ? "%.1f ms" : "%.0f ms", d / 1e6);
  } else {
    std::snprintf(buf, sizeof buf, d < 1e10 ? "%.2f s" : d < 1e11 ? "%.1f s" : "%.0f s", d / 1e9);
  }
  return buf;
}

Overview overview(const TraceModel& m) {
  Overview o;
  o.start_ns = m.start_ns;
  o.end_ns = m.end_ns;
  o.duration_ns = m.end_ns - m.start_ns;
  if (m.clock_sync) {
    auto [mono, real] = *m.clock_sync;
    o.start_realtime_ns = real - mono + m.start_ns;
  }
  auto meta = [&](const char* key) -> std::string {
    auto it = m.metadata.find(key);
    return it == m.metadata.end() ? std::string() : it->second;
  };
  o.command = meta("command");
  if (o.command.empty()) o.command = meta("service");  // the Tokio recorder's name for it
  std::set<uint32_t> pids, tids;
  for (const auto& [pid, p] : m.processes) pids.insert(pid);
  for (const Sample& s : m.samples) {
    tids.insert(s.tid);
    (s.source == 0 ? o.cpu_samples : o.offcpu_samples) += 1;
  }
  for (const auto& [tid, t] : m.threads) tids.insert(tid);
  // A trace without process events (the Tokio recorder's) still has one.
  if (pids.empty() && !meta("pid").empty()) pids.insert(static_cast<uint32_t>(std::stoul(meta("pid"))));
  o.pids.assign(pids.begin(), pids.end());
  o.threads = tids.size();
  o.lost_samples = m.lost_samples;
  o.lost_sched_events = m.lost_sched_events;
  uint64_t attempted = o.cpu_samples + o.offcpu_samples + m.lost_samples;
  o.lost_pct = attempted == 0 ? 0 : 100.0 * static_cast<double>(m.lost_samples) / static_cast<double>(attempted);
  o.segments = m.segments;
  o.skipped_segments = m.skipped;
  std::string rate = meta("frequency_hz").empty() ? (meta("period").empty() ? "" : "period " + meta("period"))
                                                  : meta("frequency_hz") + " Hz";
  o.event = meta("event");
  if (!rate.empty()) o.event += (o.event.empty() ? "" : " at ") + rate;
  o.degraded = m.degraded;
  o.warnings = m.warnings;
  if (auto it = m.metadata.find("sched"); it != m.metadata.end()) o.sched = it->second;
  for (SchedNote& n : sched_notes(m)) o.sched_notes.push_back(std::move(n.text));
  return o;
}

std::vector<SpanStats> span_stats(const TraceModel& m) {
  std::map<StringId, std::vector<uint64_t>> by_name;
  for (const SpanRecord& s : m.spans) by_name[s.name].push_back(s.end_ns - s.start_ns);
  std::vector<SpanStats> out;
  for (auto& [name, d] : by_name) out.push_back({m.strings.get(name), summarize(d)});
  std::sort(out.begin(), out.end(), [](const SpanStats& a, const SpanStats& b) {
    return a.duration.count != b.duration.count ? a.duration.count > b.duration.count : a.name < b.name;
  });
  return out;
}

std::vector<CustomEventCount> custom_event_counts(const TraceModel& m) {
  std::vector<CustomEventCount> out;
  for (const auto& [name, n] : m.custom_events) out.push_back({name, n});
  std::sort(out.begin(), out.end(), [](const auto& a, const auto& b) {
    return a.count != b.count ? a.count > b.count : a.name < b.name;
  });
  return out;
}

Report build_report(const TraceModel& m, const ReportOptions& o) {
  Report r;
  r.overview = overview(m);
  r.hot_functions = hot_functions(m, o);
  r.threads = thread_rows(m, o);
  r.off_cpu = off_cpu_stacks(m, o);
  r.off_cpu_notes = off_cpu_notes(m);
  r.sched_latency = sched_latency(m, o);
  r.runtime = runtime_analysis(m, o);
  r.spans = span_stats(m);
  r.custom_events = custom_event_counts(m);
  r.findings = findings(m, r, o);
  return r;
}

}  // namespace dial9::report
