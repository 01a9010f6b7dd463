// What the text and Markdown reports say, section by section. Sections
// without data are left out.
#include "report/render/document.h"

#include <cinttypes>
#include <cstdio>
#include <ctime>

#include "report/render/render.h"

namespace dial9::report {
namespace {

std::string num(uint64_t v) {
  // Thousands separators: counts are read at a glance.
  std::string digits = std::to_string(v), out;
  for (size_t i = 0; i < digits.size(); ++i) {
    if (i > 0 && (digits.size() - i) % 3 == 0) out += ',';
    out += digits[i];
  }
  return out;
}

std::string pct(double v) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.1f%%", v);
  return buf;
}

std::string opt_duration(const std::optional<uint64_t>& v) { return v ? format_duration(*v) : "-"; }

std::string thread_label(const std::string& name, uint32_t tid) {
  return (name.empty() ? std::string("?") : name) + " (" + std::to_string(tid) + ")";
}

std::string utc(uint64_t realtime_ns) {
  std::time_t secs = static_cast<std::time_t>(realtime_ns / 1'000'000'000);
  std::tm tm{};
  gmtime_r(&secs, &tm);
  char buf[64];
  std::strftime(buf, sizeof buf, "%Y-%m-%d %H:%M:%S UTC", &tm);
  return buf;
}

Block heading(std::string text) { return Block{Block::Kind::kHeading, std::move(text), {}, {}, {}}; }
Block text(std::string t) { return Block{Block::Kind::kText, std::move(t), {}, {}, {}}; }
Block stack(const Stack& frames, size_t max_frames = 12) {
  Block b{Block::Kind::kStack, {}, {}, {}, {}};
  for (size_t i = 0; i < frames.size() && i < max_frames; ++i) b.lines.push_back(frames[i]);
  if (frames.size() > max_frames) b.lines.push_back("... " + std::to_string(frames.size() - max_frames) + " more frames");
  return b;
}
Block table(Table t) { return Block{Block::Kind::kTable, {}, {}, std::move(t), {}}; }

Table latency_table(const std::string& first) {
  Table t;
  t.headers = {first, "COUNT", "P50", "P90", "P99", "MAX"};
  t.right = {false, true, true, true, true, true};
  t.max_width = {60, 0, 0, 0, 0, 0};
  return t;
}
void latency_row(Table& t, const std::string& name, const LatencyStats& s) {
  t.rows.push_back({name, num(s.count), format_duration(s.p50_ns), format_duration(s.p90_ns),
                    format_duration(s.p99_ns), format_duration(s.max_ns)});
}

void add_overview(const Report& r, std::vector<Block>& doc) {
  const Overview& o = r.overview;
  Block f{Block::Kind::kFields, {}, {}, {}, {}};
  if (!o.command.empty()) f.fields.emplace_back("Command", o.command);
  if (!o.pids.empty()) {
    std::string pids;
    for (size_t i = 0; i < o.pids.size() && i < 8; ++i) pids += (i ? ", " : "") + std::to_string(o.pids[i]);
    if (o.pids.size() > 8) pids += ", ... (" + std::to_string(o.pids.size()) + " processes)";
    f.fields.emplace_back("Processes", pids);
  }
  std::string when = format_duration(o.duration_ns);
  if (o.start_realtime_ns) when += ", from " + utc(*o.start_realtime_ns);
  f.fields.emplace_back("Duration", when);
  f.fields.emplace_back("Threads", num(o.threads));
  std::string samples = num(o.cpu_samples) + " on-CPU";
  if (o.offcpu_samples) samples += ", " + num(o.offcpu_samples) + " off-CPU (switch-out)";
  samples += "; lost " + num(o.lost_samples) + " (" + pct(o.lost_pct) + ")";
  f.fields.emplace_back("Samples", samples);
  if (!o.event.empty()) f.fields.emplace_back("Event", o.event);
  std::string segs = num(o.segments);
  if (!o.skipped_segments.empty()) segs += " read, " + num(o.skipped_segments.size()) + " damaged and skipped";
  f.fields.emplace_back("Segments", segs);
  if (o.sched) {
    std::string what = *o.sched;
    for (size_t p = what.find(','); p != std::string::npos; p = what.find(',', p + 2)) what.replace(p, 1, ", ");
    f.fields.emplace_back("Scheduler", what.empty() ? "nothing recorded" : what);
  }
  for (const auto& n : o.sched_notes) f.fields.emplace_back("Missing", n);
  for (const auto& d : o.degraded) f.fields.emplace_back("Degraded", d);
  for (const auto& s : o.skipped_segments) f.fields.emplace_back("Skipped", s.path + ": " + s.reason);
  for (const auto& w : o.warnings) f.fields.emplace_back("Warning", w);
  doc.push_back(heading("Overview"));
  doc.push_back(std::move(f));
}

void add_hot_code(const Report& r, std::vector<Block>& doc) {
  if (r.hot_functions.empty()) return;
  doc.push_back(heading("Hot code (by self samples, of " + num(r.overview.cpu_samples) + " on-CPU samples)"));
  Table t;
  t.headers = {"SELF", "TOTAL", "FUNCTION", "MODULE", "SOURCE"};
  t.right = {true, true, false, false, false};
  t.max_width = {0, 0, 56, 20, 32};
  for (const auto& h : r.hot_functions) {
    std::string src = h.file.empty() ? "" : h.file + (h.line ? ":" + std::to_string(h.line) : "");
    t.rows.push_back({pct(h.self_pct), pct(h.total_pct), h.function, h.module, src});
  }
  doc.push_back(table(std::move(t)));
}

void add_threads(const Report& r, std::vector<Block>& doc) {
  if (r.threads.empty()) return;
  bool sched = false;
  for (const auto& t : r.threads) sched = sched || t.running_ns;
  doc.push_back(heading("Threads"));
  Table t;
  t.headers = {"TID", "NAME", "SAMPLES", "CPU"};
  t.right = {true, false, true, true};
  t.max_width = {0, 20, 0, 0};
  if (sched) {
    for (const char* h : {"RUNNING", "RUNNABLE", "BLOCKED"}) t.headers.push_back(h), t.right.push_back(true), t.max_width.push_back(0);
  }
  t.headers.push_back("TOP FUNCTION");
  t.right.push_back(false);
  t.max_width.push_back(48);
  for (const auto& th : r.threads) {
    std::vector<std::string> row = {std::to_string(th.tid), th.name, num(th.cpu_samples), pct(th.cpu_pct)};
    if (sched) {
      // With all three known, each with its share of the thread's time.
      uint64_t total = th.running_ns.value_or(0) + th.runnable_ns.value_or(0) + th.blocked_ns.value_or(0);
      for (const auto* v : {&th.running_ns, &th.runnable_ns, &th.blocked_ns}) {
        std::string cell = opt_duration(*v);
        if (*v && th.blocked_ns && total > 0) cell += " " + pct(100.0 * static_cast<double>(**v) / static_cast<double>(total));
        row.push_back(std::move(cell));
      }
    }
    row.push_back(th.top_function);
    t.rows.push_back(std::move(row));
  }
  doc.push_back(table(std::move(t)));
}

void add_off_cpu(const Report& r, std::vector<Block>& doc) {
  if (r.off_cpu.empty()) return;
  const bool timed = r.off_cpu.front().blocked_ns.has_value();
  doc.push_back(heading(timed ? "Off-CPU (where threads blocked, by blocked time)"
                              : "Off-CPU (where threads were switched out, by samples)"));
  for (const auto& n : r.off_cpu_notes) doc.push_back(text("Note: " + n));
  for (const auto& o : r.off_cpu) {
    std::string line = timed ? format_duration(o.blocked_ns.value_or(0)) + " blocked, " + num(o.count) + " waits"
                             : num(o.count) + " samples";
    line += ", mostly " + thread_label(o.thread, o.tid);
    doc.push_back(text(line));
    doc.push_back(stack(o.stack, 8));
    for (const auto& w : o.woken_by) {
      std::string by = "  woken " + num(w.count) + "x by " + (w.tid == 0 ? w.thread : thread_label(w.thread, w.tid));
      doc.push_back(text(by + (w.stack.empty() ? "" : ", at:")));
      // From the waker's own code: the kernel's wakeup path says little.
      if (!w.stack.empty()) doc.push_back(stack(Stack(w.stack.begin() + static_cast<ptrdiff_t>(w.first_user), w.stack.end()), 4));
    }
  }
}

void add_sched_latency(const Report& r, std::vector<Block>& doc) {
  if (!r.sched_latency) return;
  const SchedLatency& s = *r.sched_latency;
  doc.push_back(heading("Scheduler latency (" + s.source + ")"));
  Table t = latency_table("THREAD");
  t.headers.push_back("WAITED");
  t.right.push_back(true);
  t.max_width.push_back(0);
  // Totals without a distribution (schedstat) show no percentiles.
  auto row = [&](const std::string& name, const LatencyStats& st, uint64_t waited) {
    latency_row(t, name, st);
    if (st.count == 0) {
      for (size_t c = 2; c < t.rows.back().size(); ++c) t.rows.back()[c] = "-";
    }
    t.rows.back().push_back(format_duration(waited));
  };
  row("all", s.overall, s.wait_ns);
  for (const auto& th : s.per_thread) row(thread_label(th.name, th.tid), th.stats, th.wait_ns);
  doc.push_back(table(std::move(t)));
}

void add_runtime(const Report& r, std::vector<Block>& doc) {
  if (!r.runtime) return;
  const Runtime& rt = *r.runtime;
  doc.push_back(heading("Runtime (" + num(rt.polls) + " polls, " + num(rt.tasks_spawned) + " tasks spawned)"));
  Table w;
  w.headers = {"WORKER", "TID", "ACTIVE", "BUSY", "POLLS", "PARKS"};
  w.right = {true, true, true, true, true, true};
  w.max_width = {0, 0, 0, 0, 0, 0};
  for (const auto& x : rt.workers) {
    w.rows.push_back({std::to_string(x.worker_id), x.tid ? std::to_string(x.tid) : "-", pct(x.active_pct),
                      format_duration(x.busy_ns), num(x.polls), num(x.parks)});
  }
  doc.push_back(table(std::move(w)));
  if (rt.wake_to_poll.count) {
    Table t = latency_table("WAKE TO POLL");
    latency_row(t, "all tasks", rt.wake_to_poll);
    doc.push_back(table(std::move(t)));
  }
  if (!rt.long_polls.empty()) {
    doc.push_back(text("Longest polls:"));
    for (const auto& p : rt.long_polls) {
      std::string line = format_duration(p.duration_ns) + " on worker " + std::to_string(p.worker_id) + ", task " +
                         std::to_string(p.task_id) + " at +" + format_duration(p.start_ns - r.overview.start_ns) +
                         ", spawned at " + p.spawn_loc;
      doc.push_back(text(line));
      if (!p.stack.empty()) {
        doc.push_back(text("  sampled inside (" + num(p.stack_samples) + " of " + num(p.samples) + " samples):"));
        doc.push_back(stack(p.stack, 8));
      }
    }
  }
  if (!rt.polls_by_spawn.empty()) {
    Table t = latency_table("POLL DURATION BY SPAWN LOCATION");
    for (const auto& s : rt.polls_by_spawn) latency_row(t, s.spawn_loc, s.duration);
    doc.push_back(table(std::move(t)));
  }
  if (rt.global_queue.count) {
    char buf[160];
    std::snprintf(buf, sizeof buf, "Global queue depth: mean %.1f, p50 %u, p99 %u, max %u (%s samples)",
                  rt.global_queue.mean, rt.global_queue.p50, rt.global_queue.p99, rt.global_queue.max,
                  num(rt.global_queue.count).c_str());
    doc.push_back(text(buf));
  }
}

void add_spans(const Report& r, std::vector<Block>& doc) {
  if (!r.spans.empty()) {
    doc.push_back(heading("Spans"));
    Table t = latency_table("SPAN");
    for (const auto& s : r.spans) latency_row(t, s.name, s.duration);
    doc.push_back(table(std::move(t)));
  }
  if (!r.custom_events.empty()) {
    doc.push_back(heading("Custom events"));
    Table t;
    t.headers = {"EVENT", "COUNT"};
    t.right = {false, true};
    t.max_width = {72, 0};
    for (const auto& c : r.custom_events) t.rows.push_back({c.name, num(c.count)});
    doc.push_back(table(std::move(t)));
  }
}

void add_findings(const Report& r, std::vector<Block>& doc) {
  doc.push_back(heading("Findings"));
  if (r.findings.empty()) {
    doc.push_back(text("Nothing stands out."));
    return;
  }
  for (const auto& f : r.findings) {
    Block title = text("[" + std::string(severity_name(f.severity)) + "] " + f.title);
    title.tone = f.severity == Severity::kCritical  ? Block::Tone::kCritical
                 : f.severity == Severity::kWarning ? Block::Tone::kWarning
                                                    : Block::Tone::kInfo;
    doc.push_back(std::move(title));
    doc.push_back(text("  " + f.evidence));
    if (!f.stack.empty()) doc.push_back(stack(f.stack, 8));
    if (!f.next.empty()) doc.push_back(text("  Next: " + f.next));
  }
}

}  // namespace

std::vector<Block> build_document(const Report& r) {
  std::vector<Block> doc;
  add_overview(r, doc);
  add_hot_code(r, doc);
  add_threads(r, doc);
  add_off_cpu(r, doc);
  add_sched_latency(r, doc);
  add_runtime(r, doc);
  add_spans(r, doc);
  add_findings(r, doc);
  return doc;
}

}  // namespace dial9::report
