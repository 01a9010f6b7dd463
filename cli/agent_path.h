// Where libdial9-agent.so is: beside the dial9 binary (the build tree), or
// where `cmake --install` puts it relative to the binary
// (bin/../lib/dial9/). Checked once per run.
#pragma once

#include <string>

#include "base/result.h"

namespace dial9::cli {

// The agent's absolute path, or why there is none.
Result<std::string> agent_library_path();

// The program's LD_PRELOAD with the agent appended (never replacing what
// the user preloads), or an error when the path cannot go into LD_PRELOAD
// (which splits on spaces and colons).
Result<std::string> preload_with_agent(const char* user_preload, const std::string& agent);

}  // namespace dial9::cli
