// Subcommands of the dial9 executable, one file each. `add_*` registers the
// subcommand's options on the CLI11 app and returns the run function to call
// when that subcommand was chosen.
#pragma once

#include <functional>

namespace CLI {
class App;
}

namespace dial9::cli {

using RunFn = std::function<int()>;

RunFn add_dump_command(CLI::App& app);

}  // namespace dial9::cli
