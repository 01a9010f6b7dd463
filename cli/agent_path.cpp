#include "cli/agent_path.h"

#include <unistd.h>

#include <filesystem>

#ifndef DIAL9_AGENT_INSTALLED
#define DIAL9_AGENT_INSTALLED "../lib/dial9/libdial9-agent.so"
#endif

namespace dial9::cli {

Result<std::string> agent_library_path() {
  namespace fs = std::filesystem;
  std::error_code ec;
  fs::path exe = fs::read_symlink("/proc/self/exe", ec);
  if (ec) return fail("cannot find the dial9 binary to find libdial9-agent.so beside it: " + ec.message());
  for (const fs::path& p : {exe.parent_path() / "libdial9-agent.so", exe.parent_path() / DIAL9_AGENT_INSTALLED}) {
    fs::path c = fs::weakly_canonical(p, ec);
    if (!ec && ::access(c.c_str(), R_OK) == 0) return c.string();
  }
  return fail("libdial9-agent.so is not beside " + exe.string() + " nor in " +
              (exe.parent_path() / DIAL9_AGENT_INSTALLED).lexically_normal().string() + "; reinstall dial9");
}

Result<std::string> preload_with_agent(const char* user_preload, const std::string& agent) {
  if (agent.find_first_of(" :") != std::string::npos) {
    return fail("the agent's path '" + agent + "' has a space or a colon, which LD_PRELOAD cannot hold");
  }
  std::string user = user_preload ? user_preload : "";
  return user.empty() ? agent : user + ":" + agent;
}

}  // namespace dial9::cli
