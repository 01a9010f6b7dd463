// `dial9 export DIR|FILE... OUTPUTS...`: the trace in formats other tools
// and people read. See man/dial9-export.1.
#include <CLI/CLI.hpp>

#include <cstdio>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "base/io.h"
#include "cli/commands.h"
#include "cli/exit_codes.h"
#include "cli/trace_input.h"
#include "report/export/chrome.h"
#include "report/export/flamegraph.h"
#include "report/export/folded.h"
#include "report/export/html.h"
#include "report/export/pprof.h"
#include "report/export/speedscope.h"

namespace dial9::cli {
namespace {

struct ExportCliOptions {
  TraceArgs trace;
  std::string folded;
  bool off_cpu = false;
  bool no_inline = false;
  std::string pprof, chrome, speedscope;  // --pprof, --chrome, --speedscope FILE
  std::string html;  // --html FILE
  std::string flamegraph;  // --flamegraph FILE, with --inverted, --diff DIR and --title
  bool inverted = false;
  std::string diff;
  std::string title;
};

// One requested output: its flag (for messages), its path, and how to make
// its bytes from the loaded trace.
struct Output {
  const char* flag;
  std::string path;
  // A renderer that returns a plain std::string cannot fail.
  std::function<Result<std::string>(const LoadedTrace&)> render;
};

int run_export(const ExportCliOptions& o) {
  std::vector<Output> outputs;
  if (!o.folded.empty()) {
    outputs.push_back({"--folded", o.folded, [&](const LoadedTrace& t) {
                         report::FoldedOptions f;
                         f.weight.off_cpu = o.off_cpu;
                         f.inlines = !o.no_inline;
                         return report::folded_stacks(t.model, f);
                       }});
  }
  std::unique_ptr<LoadedTrace> diff_base;  // loaded below, before any output is rendered
  if (!o.flamegraph.empty()) {
    outputs.push_back({"--flamegraph", o.flamegraph, [&](const LoadedTrace& t) {
                         report::FlamegraphOptions f;
                         f.weight.off_cpu = o.off_cpu;
                         f.inlines = !o.no_inline;
                         f.inverted = o.inverted;
                         f.title = o.title;
                         f.diff_base = diff_base ? &diff_base->model : nullptr;
                         return report::flamegraph_svg(t.model, f);
                       }});
  }
  if (!o.html.empty()) {
    outputs.push_back({"--html", o.html, [&](const LoadedTrace& t) {
                         report::ReportOptions r;
                         r.inlines = !o.no_inline;
                         report::HtmlOptions h;
                         h.inlines = !o.no_inline;
                         h.off_cpu = o.off_cpu;
                         return report::html_viewer(t.model, report::build_report(t.model, r), h);
                       }});
  }
  if (!o.pprof.empty()) {
    outputs.push_back({"--pprof", o.pprof, [&](const LoadedTrace& t) {
                         report::PprofOptions p;
                         p.weight.off_cpu = o.off_cpu;
                         p.inlines = !o.no_inline;
                         p.address = [&t](uint32_t loc) { return report::pprof_address(*t.resolver, loc); };
                         return report::pprof_gz(t.model, p);
                       }});
  }
  if (!o.chrome.empty()) {
    outputs.push_back({"--chrome", o.chrome, [&](const LoadedTrace& t) {
                         report::ChromeTraceOptions c;
                         c.inlines = !o.no_inline;
                         return report::chrome_trace(t.model, c);
                       }});
  }
  if (!o.speedscope.empty()) {
    outputs.push_back({"--speedscope", o.speedscope, [&](const LoadedTrace& t) {
                         report::SpeedscopeOptions sp;
                         sp.weight.off_cpu = o.off_cpu;
                         sp.inlines = !o.no_inline;
                         return report::speedscope_json(t.model, sp);
                       }});
  }
  if (outputs.empty()) {
    std::fprintf(stderr, "dial9 export: nothing to export: name at least one output, such as --folded FILE "
                         "(see 'dial9 export --help')\n");
    return kExitUsage;
  }
  int code = kExitOk;
  auto loaded = load_selected(o.trace, "export", &code);
  if (!loaded) return code;
  if (!o.diff.empty()) {  // the base of --diff, with the same selection
    TraceArgs base_args = o.trace;
    base_args.inputs = {o.diff};
    diff_base = load_selected(base_args, "export --diff", &code);
    if (!diff_base) return code;
  }
  // Each file is written whole or not at all; one that fails does not stop
  // the others.
  int status = kExitOk;
  for (const Output& out : outputs) {
    auto rendered = out.render(*loaded);
    if (!rendered) {
      std::fprintf(stderr, "dial9 export: %s: %s\n", out.flag, rendered.error().message().c_str());
      status = kExitRuntimeError;
      continue;
    }
    const std::string& bytes = *rendered;
    auto w = write_file_atomic(out.path, {reinterpret_cast<const uint8_t*>(bytes.data()), bytes.size()});
    if (!w) {
      std::fprintf(stderr, "dial9 export: %s: %s\n", out.flag, w.error().message().c_str());
      status = kExitRuntimeError;
      continue;
    }
    std::fprintf(stderr, "dial9 export: wrote %s (%zu bytes)\n", out.path.c_str(), bytes.size());
  }
  describe_modules(o.trace, *loaded, "export");
  return status;
}

}  // namespace

RunFn add_export_command(CLI::App& app) {
  auto opt = std::make_shared<ExportCliOptions>();
  CLI::App* cmd = app.add_subcommand(
      "export", "Write the trace as folded stacks, flamegraphs, an HTML viewer or other tools' formats.");
  add_trace_options(cmd, opt->trace);
  cmd->add_option("--folded", opt->folded,
                  "Folded stacks (root;...;leaf COUNT per line) for FlameGraph or inferno")
      ->type_name("FILE");
  cmd->add_flag("--off-cpu", opt->off_cpu,
                "Stacks where threads were switched out instead of on-CPU samples");
  cmd->add_flag("--no-inline", opt->no_inline, "Fold inlined functions into their callers");
  cmd->add_option("--html", opt->html,
                  "One self-contained HTML viewer (no network): a lane per thread, a flamegraph that follows "
                  "the selected time range, the report's findings and tables")
      ->type_name("FILE");
  CLI::Option* flamegraph =
      cmd->add_option("--flamegraph", opt->flamegraph,
                      "Interactive SVG flamegraph: click to zoom, search, tooltips; frames coloured by kind")
          ->type_name("FILE");
  cmd->add_flag("--inverted", opt->inverted, "With --flamegraph: an icicle graph, stacks merged from the leaf")
      ->needs(flamegraph);
  cmd->add_option("--diff", opt->diff,
                  "With --flamegraph: a differential flamegraph, coloured by each frame's change in share "
                  "against the trace in DIR (red grew, blue shrank)")
      ->type_name("DIR")
      ->needs(flamegraph);
  cmd->add_option("--title", opt->title, "With --flamegraph: the graph's title")->type_name("TEXT")->needs(flamegraph);
  cmd->add_option("--pprof", opt->pprof,
                  "Gzipped pprof profile (go tool pprof, Pyroscope): CPU time per stack and thread")
      ->type_name("FILE");
  cmd->add_option("--chrome", opt->chrome,
                  "Trace Event Format JSON for ui.perfetto.dev or chrome://tracing: threads, polls, spans, samples")
      ->type_name("FILE");
  cmd->add_option("--speedscope", opt->speedscope,
                  "speedscope JSON: one sampled profile per thread, in time order")
      ->type_name("FILE");
  return [opt] { return run_export(*opt); };
}

}  // namespace dial9::cli
