// `dial9 export DIR|FILE... OUTPUTS...`: the trace in formats other tools
// and people read. See man/dial9-export.1.
#include <CLI/CLI.hpp>

#include <cstdio>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "base/io.h"
#include "cli/commands.h"
#include "cli/exit_codes.h"
#include "cli/trace_input.h"
#include "report/export/folded.h"

namespace dial9::cli {
namespace {

struct ExportCliOptions {
  TraceArgs trace;
  std::string folded;
  bool off_cpu = false;
  bool no_inline = false;
};

// One requested output: its flag (for messages), its path, and how to make
// its bytes from the loaded trace.
struct Output {
  const char* flag;
  std::string path;
  std::function<std::string(const LoadedTrace&)> render;
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
  if (outputs.empty()) {
    std::fprintf(stderr, "dial9 export: nothing to export: name at least one output, such as --folded FILE "
                         "(see 'dial9 export --help')\n");
    return kExitUsage;
  }
  int code = kExitOk;
  auto loaded = load_selected(o.trace, "export", &code);
  if (!loaded) return code;
  // Each file is written whole or not at all; one that fails does not stop
  // the others.
  int status = kExitOk;
  for (const Output& out : outputs) {
    std::string bytes = out.render(*loaded);
    auto w = write_file_atomic(out.path, {reinterpret_cast<const uint8_t*>(bytes.data()), bytes.size()});
    if (!w) {
      std::fprintf(stderr, "dial9 export: %s: %s\n", out.flag, w.error().message().c_str());
      status = kExitRuntimeError;
      continue;
    }
    std::fprintf(stderr, "dial9 export: wrote %s (%zu bytes)\n", out.path.c_str(), bytes.size());
  }
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
  return [opt] { return run_export(*opt); };
}

}  // namespace dial9::cli
