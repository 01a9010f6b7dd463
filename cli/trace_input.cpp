#include "cli/trace_input.h"

#include <CLI/CLI.hpp>

#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <set>

#include "cli/exit_codes.h"
#include "cli/units.h"

namespace dial9::cli {
namespace {

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

// The selection, checked against what the trace has; errors are usage errors.
Result<report::Selection> selection(const report::TraceModel& m, const TraceArgs& a) {
  report::Selection sel;
  sel.tids = a.tids;
  sel.pids = a.pids;
  for (uint32_t tid : a.tids) {
    if (!m.threads.count(tid) &&
        std::none_of(m.samples.begin(), m.samples.end(), [&](const auto& s) { return s.tid == tid; })) {
      return fail("--tid " + std::to_string(tid) + ": no such thread in the trace");
    }
  }
  for (uint32_t pid : a.pids) {
    bool known = m.processes.count(pid) > 0 ||
                 std::any_of(m.threads.begin(), m.threads.end(), [&](const auto& kv) { return kv.second.pid == pid; });
    if (!known) return fail("--pid " + std::to_string(pid) + ": no such process in the trace");
  }
  for (const std::string& name : a.thread_names) {
    size_t before = sel.tids.size();
    std::set<std::string> names;
    for (const auto& [tid, t] : m.threads) {
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
      return fail("--thread '" + name + "': no thread of that name in the trace (names: " +
                  (known.empty() ? "none recorded" : known) + ")");
    }
  }
  if (!a.from.empty()) {
    auto t = resolve_time(m, "--from", a.from);
    if (!t) return fail(t.error());
    sel.from_ns = *t;
  }
  if (!a.to.empty()) {
    auto t = resolve_time(m, "--to", a.to);
    if (!t) return fail(t.error());
    sel.to_ns = *t;
  }
  if (sel.from_ns && sel.to_ns && *sel.from_ns > *sel.to_ns) {
    return fail("--from " + a.from + " is after --to " + a.to);
  }
  return sel;
}

}  // namespace

void add_trace_options(CLI::App* cmd, TraceArgs& a) {
  cmd->add_option("TRACE", a.inputs, "Trace directories or segment files (raw, .gz or .zst)")->required()->type_name("");
  cmd->add_option("--tid", a.tids, "Only these threads (repeatable, or comma-separated)")
      ->delimiter(',')
      ->type_name("TID");
  cmd->add_option("--thread", a.thread_names, "Only threads with this name (repeatable)")->type_name("NAME");
  cmd->add_option("--pid", a.pids, "Only these processes (repeatable, or comma-separated)")
      ->delimiter(',')
      ->type_name("PID");
  cmd->add_option("--from", a.from,
                  "Start of the window: 2s (after the trace's start), -10s (before its end), @SECONDS "
                  "(a trace timestamp as dial9 dump prints it) or 2026-05-15T17:55:12Z")
      ->type_name("TIME");
  cmd->add_option("--to", a.to, "End of the window, in the same forms as --from")->type_name("TIME");
  cmd->add_option("--debug-dir", a.debug_dirs,
                  "Also look for separate debug files here (DIR/.build-id/xx/yyyy.debug), before "
                  "/usr/lib/debug (repeatable)")
      ->type_name("DIR");
  cmd->add_flag("-v,--verbose", a.verbose,
                "Say on stderr what was read and how long it took, and where each module's symbols came from");
}

std::unique_ptr<LoadedTrace> load_selected(const TraceArgs& a, const char* cmd, int* exit_code) {
  auto fail_with = [&](int code, const std::string& message) -> std::unique_ptr<LoadedTrace> {
    std::fprintf(stderr, "dial9 %s: %s\n", cmd, message.c_str());
    *exit_code = code;
    return nullptr;
  };
  auto t = std::make_unique<LoadedTrace>();
  // Inlined frames are always named; --no-inline folds them in the analyses.
  t->symbolizer = std::make_unique<report::Symbolizer>(report::SymbolizerOptions{a.debug_dirs, true});
  t->resolver = std::make_unique<report::TraceResolver>(*t->symbolizer);
  report::LoadOptions load;
  // A progress line on a terminal, once loading has taken a second.
  const bool tty = ::isatty(2) == 1;
  const auto t0 = std::chrono::steady_clock::now();
  bool progress_shown = false;
  load.progress = [&](const char* step, size_t done, size_t total) {
    if (!tty || std::chrono::steady_clock::now() - t0 < std::chrono::seconds(1)) return;
    std::fprintf(stderr, "\rdial9 %s: %s %zu/%zu\033[K", cmd, step, done, total);
    progress_shown = true;
  };
  load.warn = [&](const std::string& w) {
    if (progress_shown) std::fputs("\r\033[K", stderr);
    std::fprintf(stderr, "dial9 %s: warning: %s\n", cmd, w.c_str());
  };
  auto model = report::load_trace(a.inputs, *t->resolver, load);
  if (progress_shown) std::fputs("\r\033[K", stderr);
  if (!model) return fail_with(kExitRuntimeError, model.error().message());
  if (a.verbose) {
    auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - t0).count();
    std::fprintf(stderr, "dial9 %s: read %zu segment(s) (%zu skipped): %zu samples, %zu thread states in %lld ms\n", cmd,
                 model->segments, model->skipped.size(), model->samples.size(), model->states.size(),
                 static_cast<long long>(ms));
  }
  auto sel = selection(*model, a);
  if (!sel) return fail_with(kExitUsage, sel.error().message());
  report::restrict(*model, *sel);
  t->model = std::move(*model);
  return t;
}

void describe_modules(const TraceArgs& a, const LoadedTrace& t, const char* cmd) {
  if (!a.verbose) return;
  for (const report::ModuleOutcome& m : t.symbolizer->module_outcomes()) {
    std::string id = m.build_id.empty() ? "" : " (build id " + m.build_id.substr(0, 16) + (m.build_id.size() > 16 ? "..." : "") + ")";
    if (m.module) {
      std::string from = m.symbols_from == m.path ? "the file itself" : m.symbols_from;
      if (!m.debug_file.empty()) from += ", with " + m.debug_file;
      std::fprintf(stderr, "dial9 %s: module %s%s: symbols from %s\n", cmd, m.path.c_str(), id.c_str(), from.c_str());
    } else {
      std::fprintf(stderr, "dial9 %s: module %s%s: no symbols: %s\n", cmd, m.path.c_str(), id.c_str(), m.why.c_str());
    }
  }
}

}  // namespace dial9::cli
