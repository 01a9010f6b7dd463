// The dial9 executable: option parsing and the mapping of outcomes to exit
// codes. Each subcommand lives in its own file (see commands.h).
#include <CLI/CLI.hpp>

#include <cstdio>
#include <map>
#include <string>

#include "cli/commands.h"
#include "cli/exit_codes.h"

#ifndef DIAL9_VERSION
#define DIAL9_VERSION "unknown"
#endif

int main(int argc, char** argv) {
  using namespace dial9::cli;
  CLI::App app{"dial9: a profiler for native Linux programs. Records CPU samples, scheduler "
               "activity and application events into compact trace segments, and turns them "
               "into reports, flamegraphs and an HTML viewer."};
  app.name("dial9");
  app.set_version_flag("-V,--version", "dial9 " DIAL9_VERSION);
  app.require_subcommand(1);
  app.footer("Run 'dial9 COMMAND --help' for a command's options; 'man dial9' for details.");

  std::map<const CLI::App*, RunFn> runs;
  RunFn dump = add_dump_command(app);
  runs[app.get_subcommand("dump")] = std::move(dump);

  // Name an unknown command plainly (CLI11 would only say one is required).
  if (argc > 1 && argv[1][0] != '-') {
    std::string commands;
    bool known = false;
    for (const auto& [sub, run] : runs) {
      known = known || sub->get_name() == argv[1];
      commands += (commands.empty() ? "" : ", ") + sub->get_name();
    }
    if (!known) {
      std::fprintf(stderr, "dial9: unknown command '%s' (commands: %s; see 'dial9 --help')\n",
                   argv[1], commands.c_str());
      return kExitUsage;
    }
  }

  try {
    app.parse(argc, argv);
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
  for (const CLI::App* sub : app.get_subcommands()) {
    auto it = runs.find(sub);
    if (it != runs.end()) return it->second();
  }
  return kExitUsage;
}
