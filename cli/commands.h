// Subcommands of the dial9 executable, one file each. `add_*` registers the
// subcommand's options on the CLI11 app and returns the run function to call
// when that subcommand was chosen.
#pragma once

#include <cstddef>
#include <functional>
#include <memory>
#include <string>
#include <vector>

namespace CLI {
class App;
}

namespace dial9::cli {

using RunFn = std::function<int()>;

RunFn add_dump_command(CLI::App& app);
RunFn add_report_command(CLI::App& app);
RunFn add_export_command(CLI::App& app);
// `dial9 doctor [PID]` (cli/doctor.cpp).
RunFn add_doctor_command(CLI::App& app);
// `dial9 config show|default` (cli/config_command.cpp); reads `app`'s
// options for the defaults and descriptions it prints.
RunFn add_config_command(CLI::App& app);
// `program` is filled by main() with what follows the options (see
// program_start), since the program's own options must not reach CLI11.
RunFn add_record_command(CLI::App& app, std::shared_ptr<std::vector<std::string>> program);
// `dial9 attach PID` (cli/attach.cpp).
RunFn add_attach_command(CLI::App& app);
// Where the program starts in `dial9 record`'s arguments: the first
// non-option argument, or `--` (which is dropped).
size_t program_start(const CLI::App& record, const std::vector<std::string>& args);

}  // namespace dial9::cli
