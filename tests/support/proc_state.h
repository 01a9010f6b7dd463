// What a test can see of a live process from /proc: the facts the agent and
// attach tests compare before and after (threads, handled signals, timers,
// open files).
#pragma once

#include <sys/types.h>

#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "base/proc_maps.h"

namespace dial9::test {

inline std::string read_all(const std::string& path) {
  std::ifstream in(path);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

// A /proc/PID/status field ("SigCgt", "Threads").
inline std::string status_field(pid_t pid, const std::string& field) {
  return dial9::status_field(read_all("/proc/" + std::to_string(pid) + "/status"), field);
}

// What the process's fds point at ("socket:[123]", "/dev/null", ...).
inline std::vector<std::string> fd_targets(pid_t pid) {
  namespace fs = std::filesystem;
  std::vector<std::string> out;
  std::error_code ec;
  for (const auto& e : fs::directory_iterator("/proc/" + std::to_string(pid) + "/fd", ec)) {
    out.push_back(fs::read_symlink(e.path(), ec).string());
  }
  if (ec) out.push_back("error: " + ec.message());
  return out;
}

// The names of the process's threads, one per thread.
inline std::vector<std::string> thread_names(pid_t pid) {
  namespace fs = std::filesystem;
  std::vector<std::string> out;
  std::error_code ec;
  for (const auto& e : fs::directory_iterator("/proc/" + std::to_string(pid) + "/task", ec)) {
    std::string n = read_all(e.path().string() + "/comm");
    if (!n.empty() && n.back() == '\n') n.pop_back();
    out.push_back(n);
  }
  return out;
}

}  // namespace dial9::test
