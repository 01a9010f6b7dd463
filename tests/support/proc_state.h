// What a test can see of a live process from /proc: the facts the agent and
// attach tests compare before and after (threads, handled signals, timers,
// open files); and starting one with its output on a pipe.
#pragma once

#include <fcntl.h>
#include <sys/types.h>
#include <unistd.h>

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

// Starts argv with stdout on a pipe (stderr to /dev/null); returns the pid.
inline pid_t spawn(const std::vector<std::string>& argv, int* out_fd) {
  int p[2];
  if (::pipe2(p, O_CLOEXEC) != 0) return -1;
  pid_t pid = ::fork();
  if (pid == 0) {
    ::dup2(p[1], 1);
    int devnull = ::open("/dev/null", O_WRONLY);
    ::dup2(devnull, 2);
    std::vector<char*> args;
    for (const auto& a : argv) args.push_back(const_cast<char*>(a.c_str()));
    args.push_back(nullptr);
    ::execvp(args[0], args.data());
    ::_exit(127);
  }
  ::close(p[1]);
  *out_fd = p[0];
  return pid;
}

// One line from `fd`, without its newline ("" at end of input): a spawned
// program's "ready" or "listening on PORT".
inline std::string read_line(int fd) {
  std::string line;
  for (char c; ::read(fd, &c, 1) == 1 && c != '\n';) line += c;
  return line;
}

inline std::string read_to_end(int fd) {
  std::string out;
  char buf[4096];
  for (ssize_t n; (n = ::read(fd, buf, sizeof buf)) > 0;) out.append(buf, static_cast<size_t>(n));
  return out;
}

}  // namespace dial9::test
