// `dial9 report DIR|FILE...`: where the time goes, in text, Markdown or JSON.
// See man/dial9-report.1 and docs/REPORT-JSON.md.
#include <CLI/CLI.hpp>

#include <signal.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstdio>
#include <memory>
#include <set>
#include <string>
#include <vector>

#include "base/io.h"
#include "cli/commands.h"
#include "cli/exit_codes.h"
#include "cli/units.h"
#include "report/analysis/report.h"
#include "report/model/trace_model.h"
#include "report/render/render.h"
#include "report/symbols/symbolizer.h"
#include "report/symbols/trace_resolver.h"

namespace dial9::cli {
namespace {

struct ReportCliOptions {
  std::vector<std::string> inputs;
  std::string format = "text";
  size_t top = 10;
  std::vector<uint32_t> tids, pids;
  std::vector<std::string> thread_names;
  std::string from, to;
  bool no_inline = false;
  std::vector<std::string> debug_dirs;
};

int fail_with(int code, const std::string& message) {
  std::fprintf(stderr, "dial9 report: %s\n", message.c_str());
  return code;
}

// A --from/--to value as a trace timestamp.
Result<uint64_t> resolve_time(const report::TraceModel& m, const std::string& flag, const std::string& text) {
  auto p = parse_time_point(text);
  if (!p) return fail(flag + ": " + p.error().message());
  switch (p->base) {
    case TimePoint::Base::kStart: return m.start_ns + p->ns;
    case TimePoint::Base::kEnd: return p->ns > m.end_ns - m.start_ns ? m.start_ns : m.end_ns - p->ns;
    case TimePoint::Base::kTrace: return p->ns;
    case TimePoint::Base::kWallClock:
      if (!m.clock_sync) {
        return fail(flag + " " + text + ": the trace has no wall-clock anchor (ClockSyncEvent); use a time "
                    "relative to its start, such as 2s");
      }
      return p->ns - m.clock_sync->second + m.clock_sync->first;
  }
  return fail(flag + ": unreachable");
}

int run_report(const ReportCliOptions& o) {
  // Inlined frames are always named; --no-inline folds them in the analyses.
  report::Symbolizer symbolizer(report::SymbolizerOptions{o.debug_dirs, true});
  report::TraceResolver resolver(symbolizer);
  report::LoadOptions load;
  // A progress line on a terminal, once loading has taken a second.
  const bool tty = ::isatty(2) == 1;
  const auto t0 = std::chrono::steady_clock::now();
  bool progress_shown = false;
  load.progress = [&](const char* step, size_t done, size_t total) {
    if (!tty || std::chrono::steady_clock::now() - t0 < std::chrono::seconds(1)) return;
    std::fprintf(stderr, "\rdial9 report: %s %zu/%zu\033[K", step, done, total);
    progress_shown = true;
  };
  load.warn = [&](const std::string& w) {
    if (progress_shown) std::fputs("\r\033[K", stderr);
    std::fprintf(stderr, "dial9 report: warning: %s\n", w.c_str());
  };
  auto model = report::load_trace(o.inputs, resolver, load);
  if (progress_shown) std::fputs("\r\033[K", stderr);
  if (!model) return fail_with(kExitRuntimeError, model.error().message());

  report::Selection sel;
  sel.tids = o.tids;
  sel.pids = o.pids;
  for (uint32_t tid : o.tids) {
    if (!model->threads.count(tid) &&
        std::none_of(model->samples.begin(), model->samples.end(), [&](const auto& s) { return s.tid == tid; })) {
      return fail_with(kExitUsage, "--tid " + std::to_string(tid) + ": no such thread in the trace");
    }
  }
  for (uint32_t pid : o.pids) {
    bool known = model->processes.count(pid) > 0 ||
                 std::any_of(model->threads.begin(), model->threads.end(),
                             [&](const auto& kv) { return kv.second.pid == pid; });
    if (!known) return fail_with(kExitUsage, "--pid " + std::to_string(pid) + ": no such process in the trace");
  }
  for (const std::string& name : o.thread_names) {
    size_t before = sel.tids.size();
    std::set<std::string> names;
    for (const auto& [tid, t] : model->threads) {
      if (t.name == name) sel.tids.push_back(tid);
      if (!t.name.empty()) names.insert(t.name);
    }
    if (sel.tids.size() == before) {
      std::string known;
      for (const auto& n : names) {
        if (known.size() > 200) {
          known += ", ...";
          break;
        }
        known += (known.empty() ? "" : ", ") + n;
      }
      return fail_with(kExitUsage, "--thread '" + name + "': no thread of that name in the trace (names: " +
                                       (known.empty() ? "none recorded" : known) + ")");
    }
  }
  if (!o.from.empty()) {
    auto t = resolve_time(*model, "--from", o.from);
    if (!t) return fail_with(kExitUsage, t.error().message());
    sel.from_ns = *t;
  }
  if (!o.to.empty()) {
    auto t = resolve_time(*model, "--to", o.to);
    if (!t) return fail_with(kExitUsage, t.error().message());
    sel.to_ns = *t;
  }
  if (sel.from_ns && sel.to_ns && *sel.from_ns > *sel.to_ns) {
    return fail_with(kExitUsage, "--from " + o.from + " is after --to " + o.to);
  }
  report::restrict(*model, sel);

  report::ReportOptions ro;
  ro.top = o.top;
  ro.inlines = !o.no_inline;
  report::Report r = report::build_report(*model, ro);
  std::string out = o.format == "json"       ? report::render_json(r)
                    : o.format == "markdown" ? report::render_markdown(r)
                                             : report::render_text(r);
  // `dial9 report DIR | head` is normal use: a closed pipe is not an error.
  ::signal(SIGPIPE, SIG_IGN);
  auto w = write_all(1, {reinterpret_cast<const uint8_t*>(out.data()), out.size()});
  if (!w && w.error().errno_value() != EPIPE) {
    return fail_with(kExitRuntimeError, "cannot write the report: " + w.error().message());
  }
  return kExitOk;
}

}  // namespace

RunFn add_report_command(CLI::App& app) {
  auto opt = std::make_shared<ReportCliOptions>();
  CLI::App* cmd = app.add_subcommand(
      "report", "Print where the time goes: overview, hot code, threads, off-CPU stacks, scheduler "
                "latency, async-runtime behaviour, spans and ranked findings.");
  cmd->add_option("inputs", opt->inputs, "Trace directories or segment files (raw, .gz or .zst)")->required();
  cmd->add_option("-f,--format", opt->format,
                  "text (for a terminal), markdown, or json (stable, see docs/REPORT-JSON.md)")
      ->check(CLI::IsMember({"text", "json", "markdown"}))
      ->capture_default_str();
  cmd->add_option("-n,--top", opt->top, "Rows in each ranked table")
      ->check(CLI::Range(1, 100000))
      ->capture_default_str();
  cmd->add_option("--tid", opt->tids, "Only these threads (repeatable, or comma-separated)")
      ->delimiter(',')
      ->type_name("TID");
  cmd->add_option("--thread", opt->thread_names, "Only threads with this name (repeatable)")->type_name("NAME");
  cmd->add_option("--pid", opt->pids, "Only these processes (repeatable, or comma-separated)")
      ->delimiter(',')
      ->type_name("PID");
  cmd->add_option("--from", opt->from,
                  "Start of the window: 2s (after the trace's start), -10s (before its end), @SECONDS "
                  "(a trace timestamp as dial9 dump prints it) or 2026-05-15T17:55:12Z")
      ->type_name("TIME");
  cmd->add_option("--to", opt->to, "End of the window, in the same forms as --from")->type_name("TIME");
  cmd->add_flag("--no-inline", opt->no_inline, "Fold inlined functions into their callers");
  cmd->add_option("--debug-dir", opt->debug_dirs,
                  "Also look for separate debug files here (DIR/.build-id/xx/yyyy.debug), before "
                  "/usr/lib/debug (repeatable)")
      ->type_name("DIR");
  return [opt] { return run_report(*opt); };
}

}  // namespace dial9::cli
