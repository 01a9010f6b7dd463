// Starting a program suspended, so the recorder can arm its perf events on
// the program's pid before its first instruction.
//
// How: Boost.Process starts the dial9 binary itself as a trampoline (argv[1]
// = kTrampolineArg). The trampoline blocks until start() says go, then execs
// the program in the same process. Events opened on the trampoline's pid
// with enable_on_exec begin counting at that exec. (Boost.Process waits in
// its constructor until the child's exec succeeded, so the child cannot wait
// for the parent between fork and exec; the trampoline's own exec is what
// Boost waits for.) spawn() returns once the trampoline has finished
// loading and blocks for go (it says so on the status pipe), so events
// opened on its pid, or on every CPU, see nothing of dial9 but its last
// steps to the program's exec. If the program cannot be executed, the trampoline
// reports errno through a close-on-exec pipe and exits 127; start() returns
// "cannot run './foo': No such file or directory", distinct from the
// program running and exiting.
#pragma once

#include <sys/types.h>

#include <string>
#include <utility>
#include <vector>

#include "base/result.h"
#include "base/unique_fd.h"

namespace dial9::inject {

inline constexpr const char* kTrampolineArg = "__dial9-launch-trampoline";

struct LaunchSpec {
  std::vector<std::string> argv;  // argv[0] is searched in PATH like execvp
  // Set in the program's environment (added to, or replacing, the
  // recorder's own variables of the same name).
  std::vector<std::pair<std::string, std::string>> env;
};

class SuspendedProcess {
 public:
  // Starts the trampoline (`self_exe`, normally /proc/self/exe).
  static Result<SuspendedProcess> spawn(const LaunchSpec& spec, const std::string& self_exe);
  SuspendedProcess(SuspendedProcess&&) noexcept;
  SuspendedProcess& operator=(SuspendedProcess&&) = delete;
  SuspendedProcess(const SuspendedProcess&) = delete;
  SuspendedProcess& operator=(const SuspendedProcess&) = delete;
  // A process never started is killed and reaped; a started one is left to
  // run (its parent reaps it).
  ~SuspendedProcess();

  pid_t pid() const { return pid_; }
  // Lets it exec the program and waits for the outcome of the exec. On
  // failure the trampoline has exited and been reaped.
  Result<void> start();

 private:
  SuspendedProcess(pid_t pid, UniqueFd go, UniqueFd status, std::string program);
  pid_t pid_ = -1;
  UniqueFd go_;      // write end: one byte lets the trampoline exec
  UniqueFd status_;  // read end: a ready byte, then EOF on successful exec, else errno
  std::string program_;
  bool started_ = false;
};

// The trampoline's main (argv[1] == kTrampolineArg). Never returns on
// success.
int run_trampoline(int argc, char** argv);

}  // namespace dial9::inject
