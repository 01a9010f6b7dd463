// The configuration meets the command line: `--config FILE` on the commands
// that read configuration, and the configured values given to the options
// the command line left unset (so the command line always wins).
#pragma once

#include <string>
#include <vector>

#include "base/result.h"
#include "cli/config/config.h"
#include "cli/config/keys.h"

namespace CLI {
class App;
}

namespace dial9::cli::config {

// Adds `--config FILE` to `cmd`.
void add_config_option(CLI::App* cmd);

// The value of `cmd`'s --config, or "".
std::string config_flag(const CLI::App& cmd);

// Gives each of `cmd`'s options that the command line did not set the value
// `config` has for its key, through the option's own conversion and checks.
// A key whose excluded partner is on the command line is skipped. Returns one
// line per value applied ("[record] frequency = 499 from ./dial9.toml:3"), or
// an error naming the value's source.
Result<std::vector<std::string>> apply(CLI::App& cmd, Command command, const Config& config);

}  // namespace dial9::cli::config
