// A program that creates and ends 10,000 threads while `dial9 record`
// records it, with perf events and with the agent's timer sampler: every
// thread reaches the trace (perf), and neither dial9 nor the program holds
// descriptors or timers that grow with the threads that came and went.
// [serial]: the churn keeps both CPUs busy in the kernel for a second, which
// would stretch the timing checks of tests running beside it.
#include <catch2/catch.hpp>

#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <string>
#include <thread>
#include <vector>

#include "tests/support/perf_available.h"
#include "tests/support/proc_state.h"
#include "tests/support/report_json.h"
#include "tests/support/test_support.h"

using namespace dial9::test;

namespace {

size_t count_of(const std::string& text, const std::string& what) {
  size_t n = 0;
  for (size_t at = text.find(what); at != std::string::npos; at = text.find(what, at + 1)) ++n;
  return n;
}

struct Watched {
  int exit_code = -1;
  size_t most_dial9_fds = 0;
  size_t most_target_timers = 0;
  size_t samples_taken = 0;  // how often both were looked at
};

// Runs dial9 with `argv` (its stdout on a pipe, which the program's pid is
// written to by the shell line) and looks at dial9's descriptors and the
// program's timers every 2 ms until dial9 exits.
Watched watch(const std::vector<std::string>& argv, const std::string& pid_file) {
  Watched w;
  int out = -1;
  pid_t dial9 = spawn(argv, &out);
  REQUIRE(dial9 > 0);
  pid_t target = -1;
  for (;;) {
    int status = 0;
    if (::waitpid(dial9, &status, WNOHANG) == dial9) {
      w.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
      break;
    }
    w.most_dial9_fds = std::max(w.most_dial9_fds, fd_targets(dial9).size());
    if (target <= 0) target = std::atoi(read_all(pid_file).c_str());
    if (target > 0) {
      w.most_target_timers =
          std::max(w.most_target_timers, count_of(read_all("/proc/" + std::to_string(target) + "/timers"), "ID:"));
      ++w.samples_taken;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(2));
  }
  ::close(out);
  return w;
}

}  // namespace

TEST_CASE("10,000 threads created and ended while recorded: all traced, no descriptor or timer growth", "[serial]") {
  TempDir tmp;
  const std::string churn = std::string(FIXTURE_THREAD_CHURN) + " 10000 0";
  std::vector<std::vector<std::string>> modes = {{"--sampler", "timer"}};
  if (perf_unavailable().empty()) modes.insert(modes.begin(), std::vector<std::string>{});
  for (const auto& mode : modes) {
    const bool timer = !mode.empty();
    const std::string dir = tmp.file(timer ? "timer" : "perf");
    const std::string pid_file = dir + ".pid";
    std::vector<std::string> argv = {dial9_binary(), "record", "-q", "-o", dir, "--", "sh", "-c",
                                     "echo $$ > " + pid_file + "; exec " + churn};
    argv.insert(argv.begin() + 2, mode.begin(), mode.end());
    Watched w = watch(argv, pid_file);
    INFO((timer ? "timer sampler" : "perf") << ": most dial9 fds " << w.most_dial9_fds << ", most timers "
                                            << w.most_target_timers << ", looked " << w.samples_taken << " times");
    REQUIRE(w.exit_code == 0);
    CHECK(w.samples_taken > 0);
    // dial9's descriptors: per CPU perf rings, the output directory, the
    // agent's socket and one connection; nothing per thread.
    CHECK(w.most_dial9_fds < 64);
    // The fixture runs 4 threads at a time; the agent's rescans may lag
    // by a few quartets, never by thousands.
    CHECK(w.most_target_timers <= 5 + 4 * 30);
    if (!timer) {
      auto report = report_json({dir});
      CHECK(report["overview"]["threads"].get<size_t>() >= 10001);
    }
  }
}
