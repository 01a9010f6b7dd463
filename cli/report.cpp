// `dial9 report DIR|FILE...`: where the time goes, in text, Markdown or JSON.
// See man/dial9-report.1 and docs/REPORT-JSON.md.
#include <CLI/CLI.hpp>

#include <signal.h>

#include <cerrno>
#include <cstdio>
#include <memory>
#include <string>
#include <vector>

#include "base/io.h"
#include "cli/commands.h"
#include "cli/exit_codes.h"
#include "cli/output.h"
#include "cli/trace_input.h"
#include "report/analysis/report.h"
#include "report/render/render.h"

namespace dial9::cli {
namespace {

struct ReportCliOptions {
  TraceArgs trace;
  std::string format = "text";
  size_t top = 10;
  bool no_inline = false;
};

int run_report(const ReportCliOptions& o) {
  int code = kExitOk;
  auto loaded = load_selected(o.trace, "report", &code);
  if (!loaded) return code;
  const report::TraceModel* model = &loaded->model;

  report::ReportOptions ro;
  ro.top = o.top;
  ro.inlines = !o.no_inline;
  report::Report r = report::build_report(*model, ro);
  std::string out = o.format == "json"       ? report::render_json(r)
                    : o.format == "markdown" ? report::render_markdown(r)
                                             : report::render_text(r, stdout_wants_colour());
  describe_modules(o.trace, *loaded, "report");
  return write_stdout(out, "report");
}

}  // namespace

RunFn add_report_command(CLI::App& app) {
  auto opt = std::make_shared<ReportCliOptions>();
  CLI::App* cmd = app.add_subcommand(
      "report", "Print where the time goes: overview, hot code, threads, off-CPU stacks, scheduler "
                "latency, async-runtime behaviour, spans and ranked findings.");
  add_trace_options(cmd, opt->trace);
  cmd->add_option("-f,--format", opt->format,
                  "text (for a terminal), markdown, or json (stable, see docs/REPORT-JSON.md)")
      ->check(CLI::IsMember({"text", "json", "markdown"}))
      ->capture_default_str();
  cmd->add_option("-n,--top", opt->top, "Rows in each ranked table")
      ->check(CLI::Range(1, 100000))
      ->capture_default_str();
  cmd->add_flag("--no-inline", opt->no_inline, "Fold inlined functions into their callers");
  return [opt] { return run_report(*opt); };
}

}  // namespace dial9::cli
