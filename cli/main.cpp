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
  runs[app.get_subcommand("dump")] = dump;

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
