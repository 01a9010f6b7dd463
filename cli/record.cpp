// `dial9 record [options] [--] PROGRAM [ARGS...]`: launch a program and
// record it until it exits (the recording itself: recording.cpp). See
// man/dial9-record.1.
#include <CLI/CLI.hpp>

#include <memory>
#include <string>
#include <vector>

#include "cli/commands.h"
#include "cli/recording.h"

namespace dial9::cli {

size_t program_start(const CLI::App& cmd, const std::vector<std::string>& args) {
  for (size_t i = 0; i < args.size(); ++i) {
    const std::string& a = args[i];
    if (a == "--") return i;
    if (a.size() < 2 || a[0] != '-') return i;  // the program
    if (a.find('=') != std::string::npos) continue;  // --opt=value
    // An option that takes a value consumes the next argument too, unless
    // the value is glued on (-F99).
    std::string name = a.rfind("--", 0) == 0 ? a.substr(2) : a.substr(1, 1);
    bool glued = a.rfind("--", 0) != 0 && a.size() > 2;
    for (const CLI::Option* opt : cmd.get_options()) {
      bool match = a.rfind("--", 0) == 0 ? opt->check_lname(name) : opt->check_sname(name);
      if (match && opt->get_items_expected_min() > 0 && !glued) ++i;
    }
  }
  return args.size();
}

RunFn add_record_command(CLI::App& app, std::shared_ptr<std::vector<std::string>> program) {
  auto o = std::make_shared<RecordingOptions>();
  CLI::App* cmd = app.add_subcommand("record", "Run a program and record it until it exits.");
  cmd->footer("Usage: dial9 record [OPTIONS] [--] PROGRAM [ARGS...]. Exits with the program's status.");
  auto given = add_recording_options(cmd, *o, Mode::kLaunch);
  return [o, program, given] {
    o->command = *program;
    given();
    return run_recording(*o, Mode::kLaunch);
  };
}

}  // namespace dial9::cli
