// The JSON report. Key names and meanings are a stable interface
// (docs/REPORT-JSON.md): add keys freely, never rename or re-mean one
// without bumping kReportJsonVersion.
#include <nlohmann/json.hpp>

#include "report/render/render.h"

namespace dial9::report {
namespace {

using Json = nlohmann::ordered_json;

template <typename T>
Json opt(const std::optional<T>& v) {
  return v ? Json(*v) : Json(nullptr);
}

Json latency(const LatencyStats& s) {
  return Json{{"count", s.count}, {"p50_ns", s.p50_ns}, {"p90_ns", s.p90_ns},
              {"p99_ns", s.p99_ns}, {"max_ns", s.max_ns}};
}

Json overview(const Overview& o) {
  Json skipped = Json::array();
  for (const auto& s : o.skipped_segments) skipped.push_back({{"path", s.path}, {"reason", s.reason}});
  return Json{{"start_ns", o.start_ns},
              {"end_ns", o.end_ns},
              {"duration_ns", o.duration_ns},
              {"start_realtime_ns", opt(o.start_realtime_ns)},
              {"command", o.command},
              {"pids", o.pids},
              {"threads", o.threads},
              {"cpu_samples", o.cpu_samples},
              {"offcpu_samples", o.offcpu_samples},
              {"lost_samples", o.lost_samples},
              {"lost_pct", o.lost_pct},
              {"lost_sched_events", o.lost_sched_events},
              {"segments", o.segments},
              {"skipped_segments", skipped},
              {"event", o.event},
              {"degraded", o.degraded},
              {"warnings", o.warnings},
              {"sched", opt(o.sched)},
              {"sched_notes", o.sched_notes}};
}

Json runtime(const std::optional<Runtime>& rt) {
  if (!rt) return nullptr;
  Json workers = Json::array();
  for (const auto& w : rt->workers) {
    workers.push_back({{"worker_id", w.worker_id}, {"tid", w.tid}, {"active_pct", w.active_pct},
                       {"busy_ns", w.busy_ns}, {"polls", w.polls}, {"parks", w.parks}});
  }
  Json long_polls = Json::array();
  for (const auto& p : rt->long_polls) {
    long_polls.push_back({{"worker_id", p.worker_id}, {"task_id", p.task_id}, {"spawn_loc", p.spawn_loc},
                          {"start_ns", p.start_ns}, {"duration_ns", p.duration_ns},
                          {"samples", p.samples}, {"stack_samples", p.stack_samples},
                          {"stack", p.stack}});
  }
  Json by_spawn = Json::array();
  for (const auto& s : rt->polls_by_spawn) {
    Json d{{"spawn_loc", s.spawn_loc}};
    d.update(latency(s.duration));
    by_spawn.push_back(d);
  }
  return Json{{"polls", rt->polls},
              {"tasks_spawned", rt->tasks_spawned},
              {"workers", workers},
              {"long_polls", long_polls},
              {"wake_to_poll", latency(rt->wake_to_poll)},
              {"wake_to_poll_over_5ms", rt->wake_to_poll_over_5ms},
              {"polls_by_spawn", by_spawn},
              {"global_queue",
               {{"count", rt->global_queue.count}, {"mean", rt->global_queue.mean},
                {"p50", rt->global_queue.p50}, {"p99", rt->global_queue.p99},
                {"max", rt->global_queue.max}}}};
}

}  // namespace

std::string render_json(const Report& r) {
  Json hot = Json::array();
  for (const auto& h : r.hot_functions) {
    hot.push_back({{"function", h.function}, {"module", h.module}, {"file", h.file}, {"line", h.line},
                   {"self_samples", h.self_samples}, {"self_pct", h.self_pct},
                   {"total_samples", h.total_samples}, {"total_pct", h.total_pct}});
  }
  Json threads = Json::array();
  for (const auto& t : r.threads) {
    threads.push_back({{"pid", t.pid}, {"tid", t.tid}, {"name", t.name}, {"cpu_samples", t.cpu_samples},
                       {"cpu_pct", t.cpu_pct}, {"running_ns", opt(t.running_ns)},
                       {"runnable_ns", opt(t.runnable_ns)}, {"blocked_ns", opt(t.blocked_ns)},
                       {"top_function", t.top_function}});
  }
  Json off = Json::array();
  for (const auto& o : r.off_cpu) {
    Json wakers = Json::array();
    for (const auto& w : o.woken_by) {
      wakers.push_back({{"tid", w.tid}, {"thread", w.thread}, {"count", w.count}, {"stack", w.stack}});
    }
    off.push_back({{"tid", o.tid}, {"thread", o.thread}, {"blocked_ns", opt(o.blocked_ns)},
                   {"count", o.count}, {"stack", o.stack}, {"woken_by", wakers}});
  }
  Json sched = nullptr;
  if (r.sched_latency) {
    sched = latency(r.sched_latency->overall);
    sched["source"] = r.sched_latency->source;
    sched["wait_ns"] = r.sched_latency->wait_ns;
    Json per = Json::array();
    for (const auto& t : r.sched_latency->per_thread) {
      Json row{{"tid", t.tid}, {"name", t.name}};
      row.update(latency(t.stats));
      row["wait_ns"] = t.wait_ns;
      per.push_back(row);
    }
    sched["per_thread"] = per;
  }
  Json spans = Json::array();
  for (const auto& s : r.spans) {
    Json row{{"name", s.name}};
    row.update(latency(s.duration));
    spans.push_back(row);
  }
  Json custom = Json::array();
  for (const auto& c : r.custom_events) custom.push_back({{"name", c.name}, {"count", c.count}});
  Json findings = Json::array();
  for (const auto& f : r.findings) {
    findings.push_back({{"severity", severity_name(f.severity)}, {"kind", f.kind}, {"title", f.title},
                        {"evidence", f.evidence}, {"stack", f.stack}, {"next", f.next}});
  }
  Json doc{{"dial9_report_version", kReportJsonVersion},
           {"overview", overview(r.overview)},
           {"hot_functions", hot},
           {"threads", threads},
           {"off_cpu", off},
           {"off_cpu_notes", r.off_cpu_notes},
           {"sched_latency", sched},
           {"runtime", runtime(r.runtime)},
           {"spans", spans},
           {"custom_events", custom},
           {"findings", findings}};
  // Invalid UTF-8 (a thread name, a symbol) is replaced, never an exception.
  return doc.dump(2, ' ', false, Json::error_handler_t::replace) + "\n";
}

}  // namespace dial9::report
