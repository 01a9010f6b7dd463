// The dial9 executable: option parsing and the mapping of outcomes to exit
// codes. Each subcommand lives in its own file (see commands.h).
#include <CLI/CLI.hpp>

#include <cstdio>
#include <cstring>
#include <algorithm>
#include <map>
#include <memory>
#include <vector>
#include <string>

#include "capture/event_spec.h"
#include "cli/commands.h"
#include "cli/config/apply.h"
#include "dial9_revision.h"
#include "format/frame_codec.h"
#include "report/symbols/elf_module.h"
#include "cli/exit_codes.h"
#include "inject/launch.h"

#ifndef DIAL9_BUILD_TYPE
#define DIAL9_BUILD_TYPE "unknown"
#endif
#ifndef DIAL9_VERSION
#define DIAL9_VERSION "unknown"
#endif

namespace {

// Loads the configuration layers and gives the options the command line left
// unset their configured values; with --verbose, says which it applied.
int apply_configuration(CLI::App& cmd, dial9::cli::config::Command command) {
  using namespace dial9::cli;
  std::string who = "dial9 " + cmd.get_name();
  auto c = config::load(config::config_flag(cmd));
  if (!c) {
    std::fprintf(stderr, "%s: %s\n", who.c_str(), c.error().message().c_str());
    return kExitUsage;
  }
  auto applied = config::apply(cmd, command, *c);
  if (!applied) {
    std::fprintf(stderr, "%s: %s\n", who.c_str(), applied.error().message().c_str());
    return kExitUsage;
  }
  const CLI::Option* verbose = cmd.get_option_no_throw("--verbose");
  if (verbose && verbose->count() && verbose->as<bool>()) {
    for (const auto& line : *applied) std::fprintf(stderr, "%s: config: %s\n", who.c_str(), line.c_str());
  }
  return kExitOk;
}

}  // namespace

int main(int argc, char** argv) {
  using namespace dial9::cli;
  // `dial9 record` starts the program through dial9 itself (inject/launch.h).
  if (argc > 1 && std::strcmp(argv[1], dial9::inject::kTrampolineArg) == 0) {
    return dial9::inject::run_trampoline(argc, argv);
  }
  CLI::App app{"dial9: a profiler for native Linux programs. Records CPU samples, scheduler "
               "activity and application events into compact trace segments, and turns them "
               "into reports, flamegraphs and an HTML viewer."};
  app.name("dial9");
  // Version, the commit and build type, and the libraries that shape what
  // dial9 can read and name: what a bug report needs.
  app.set_version_flag("-V,--version", std::string("dial9 " DIAL9_VERSION " (") + DIAL9_REVISION + ", " +
                                           DIAL9_BUILD_TYPE + " build)\n" +
                                           dial9::format::compression_library_versions() + ", " +
                                           dial9::capture::pfm_library_version() + ", " +
                                           dial9::report::elfutils_version() + ", CLI11 " CLI11_VERSION);
  app.require_subcommand(1);
  app.footer("Run 'dial9 COMMAND --help' for a command's options; 'man dial9' for details.");

  std::map<const CLI::App*, RunFn> runs;
  auto program = std::make_shared<std::vector<std::string>>();
  RunFn record = add_record_command(app, program);
  runs[app.get_subcommand("record")] = std::move(record);
  RunFn attach = add_attach_command(app);
  runs[app.get_subcommand("attach")] = std::move(attach);
  RunFn report = add_report_command(app);
  runs[app.get_subcommand("report")] = std::move(report);
  RunFn exp = add_export_command(app);
  runs[app.get_subcommand("export")] = std::move(exp);
  RunFn dump = add_dump_command(app);
  runs[app.get_subcommand("dump")] = std::move(dump);
  RunFn doctor = add_doctor_command(app);
  runs[app.get_subcommand("doctor")] = std::move(doctor);
  RunFn config = add_config_command(app);
  runs[app.get_subcommand("config")] = std::move(config);
  // The commands whose options have configuration keys (cli/config/).
  const std::map<std::string, dial9::cli::config::Command> configurable = {
      {"record", dial9::cli::config::kRecord},
      {"attach", dial9::cli::config::kAttach},
      {"report", dial9::cli::config::kReport},
      {"export", dial9::cli::config::kExport}};
  for (const auto& [name, bit] : configurable) dial9::cli::config::add_config_option(app.get_subcommand(name));

  // Name an unknown command plainly (CLI11 would only say one is required).
  if (argc > 1 && argv[1][0] != '-') {
    std::string commands;
    bool known = false;
    for (const CLI::App* sub : app.get_subcommands([](CLI::App*) { return true; })) {  // in order added
      known = known || sub->get_name() == argv[1];
      commands += (commands.empty() ? "" : ", ") + sub->get_name();
    }
    if (!known) {
      std::fprintf(stderr, "dial9: unknown command '%s' (commands: %s; see 'dial9 --help')\n",
                   argv[1], commands.c_str());
      return kExitUsage;
    }
  }

  // An option before any command: dial9's own are --help and --version.
  if (argc > 1 && argv[1][0] == '-') {
    std::string a = argv[1];
    if (a != "-h" && a != "--help" && a != "-V" && a != "--version") {
      std::fprintf(stderr, "dial9: unknown option '%s' (options go after the command: dial9 COMMAND [OPTIONS]; see "
                   "'dial9 --help')\n", argv[1]);
      return kExitUsage;
    }
  }

  // `dial9 record [options] PROGRAM [args]`: only the options are dial9's.
  std::vector<std::string> args(argv + 1, argv + argc);
  if (!args.empty() && args[0] == "record") {
    std::vector<std::string> rest(args.begin() + 1, args.end());
    size_t at = program_start(*app.get_subcommand("record"), rest);
    program->assign(rest.begin() + static_cast<ptrdiff_t>(at), rest.end());
    if (!program->empty() && program->front() == "--") program->erase(program->begin());
    args.resize(1 + at);
  }
  try {
    // CLI11 parses a reversed vector (it pops from the back).
    std::reverse(args.begin(), args.end());
    app.parse(args);
  } catch (const CLI::CallForHelp& e) {
    return app.exit(e);
  } catch (const CLI::CallForAllHelp& e) {
    return app.exit(e);
  } catch (const CLI::CallForVersion& e) {
    return app.exit(e);
  } catch (const CLI::ParseError& e) {
    // One line that names the problem and where to look, exit 2.
    std::string where = "dial9";
    for (const CLI::App* sub : app.get_subcommands()) where += " " + sub->get_name();
    std::fprintf(stderr, "%s: %s (see '%s --help')\n", where.c_str(), e.what(), where.c_str());
    return kExitUsage;
  }
  for (CLI::App* sub : app.get_subcommands()) {
    auto it = runs.find(sub);
    if (it == runs.end()) continue;
    if (auto c = configurable.find(sub->get_name()); c != configurable.end()) {
      if (int code = apply_configuration(*sub, c->second); code != kExitOk) return code;
    }
    return it->second();
  }
  return kExitUsage;
}
