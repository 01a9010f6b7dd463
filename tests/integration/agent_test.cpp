// The in-process agent (libdial9-agent.so) under `dial9 record`: preloaded
// after the user's own LD_PRELOAD, its timer sampler standing in when perf
// events are denied, and nothing of it left in a program it stopped in.
#include <catch2/catch.hpp>

#include <signal.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <set>
#include <sstream>
#include <thread>
#include <vector>

#include <nlohmann/json.hpp>

#include "tests/support/perf_available.h"
#include "tests/support/proc_state.h"
#include "tests/support/report_json.h"
#include "tests/support/test_support.h"

using namespace dial9::test;
namespace fs = std::filesystem;


TEST_CASE("with perf events denied, record falls back to the timer sampler and still finds the hot function") {
  TempDir out;
  auto r = run({RUN_RESTRICTED, "--deny-perf", "--", dial9_binary(), "record", "-o", out.file("t"), "--",
                FIXTURE_HOT_COLD, "2000"});
  INFO(r.err);
  REQUIRE(r.exit_code == 0);
  CHECK_THAT(r.err, Catch::Contains("perf events are denied"));
  CHECK_THAT(r.err, Catch::Contains("sampling with the in-process timer sampler instead"));
  CHECK_THAT(r.err, Catch::Contains("timer sampler: 1 process(es), signal SIGURG"));
  auto report = report_json({out.file("t")});
  auto hot = report["hot_functions"];
  REQUIRE(!hot.empty());
  CHECK(hot[0]["function"] == "hot_function()");
  CHECK(hot[0]["self_pct"].get<double>() > 50);
  CHECK(report["overview"]["cpu_samples"].get<uint64_t>() > 100);
  CHECK(report["overview"]["event"].get<std::string>().find("timer sampler") != std::string::npos);
  // The report says why there is no scheduler data.
  CHECK(report.dump().find("no scheduler capture with the timer sampler") != std::string::npos);
}

// [serial]: the timer sampler counts thread CPU time, and the fixtures burn
// for a fixed wall-clock time: beside another test a starved thread takes
// too few samples to show.
TEST_CASE("record --sampler timer samples every thread of the program under its own name", "[serial]") {
  TempDir out;
  auto r = run({dial9_binary(), "record", "--sampler", "timer", "-o", out.file("t"), "--", FIXTURE_NAMED_THREADS});
  INFO(r.err);
  REQUIRE(r.exit_code == 0);
  auto threads = report_json({out.file("t")})["threads"];
  std::set<std::string> names;
  for (const auto& t : threads) {
    if (t["cpu_samples"].get<uint64_t>() > 0) names.insert(t["name"].get<std::string>());
  }
  for (int i = 0; i < 8; ++i) CHECK(names.count("worker-" + std::to_string(i)) == 1);
  CHECK(names.count("dial9-agent") == 0);  // the agent's own thread is not the program's
}

TEST_CASE("the agent is appended to the user's LD_PRELOAD, told to sample only with the timer sampler, and --no-agent leaves the environment alone") {
  TempDir out;
  const std::string script =
      "echo \"$LD_PRELOAD|${DIAL9_INTERNAL_AGENT_SOCKET:+socket}|$DIAL9_INTERNAL_AGENT_SAMPLER\"";
  auto with = run({"env", "LD_PRELOAD=libm.so.6", dial9_binary(), "record", "-q", "--no-sched", "-o", out.file("a"),
                   "--", "sh", "-c", script});
  INFO(with.err);
  REQUIRE(with.exit_code == 0);
  CHECK(with.out.rfind("libm.so.6:/", 0) == 0);
  // Perf samples: the agent is preloaded and told the socket for the app
  // API, but not to sample: in a program without the API it stays inert.
  CHECK_THAT(with.out, Catch::EndsWith("libdial9-agent.so|socket|\n"));
  auto timer = run({"env", "LD_PRELOAD=libm.so.6", dial9_binary(), "record", "-q", "--sampler", "timer", "-o",
                    out.file("c"), "--", "sh", "-c", script});
  REQUIRE(timer.exit_code == 0);
  CHECK(timer.out.rfind("libm.so.6:/", 0) == 0);
  CHECK_THAT(timer.out, Catch::EndsWith("libdial9-agent.so|socket|timer\n"));
  auto without = run({"env", "LD_PRELOAD=libm.so.6", dial9_binary(), "record", "-q", "--no-sched", "--no-agent", "-o",
                      out.file("b"), "--", "sh", "-c", script});
  REQUIRE(without.exit_code == 0);
  CHECK(without.out == "libm.so.6||\n");
}

TEST_CASE("when recording stops, the agent leaves the running program as it found it") {
  // A program that outlives the recording (--duration): once dial9 is gone
  // its agent must have deleted its timers, restored the signal, closed its
  // socket and ended its thread, and the program goes on and exits normally.
  TempDir out;
  pid_t pid = -1;
  std::thread recorder([&] {
    // The program's output goes elsewhere: run() reads dial9's until EOF.
    auto r = run({dial9_binary(), "record", "-q", "--sampler", "timer", "--duration", "1s", "-o", out.file("t"), "--",
                  "sh", "-c", "echo $$ > " + out.file("pid") + "; exec " + std::string(FIXTURE_SPIN) + " 4000 >/dev/null 2>&1"});
    CHECK(r.exit_code == 0);
  });
  for (int i = 0; i < 100 && (pid <= 0 || status_field(pid, "Name") != "fixture_spin"); ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
    std::ifstream(out.file("pid")) >> pid;
  }
  REQUIRE(pid > 0);
  // While recording: the agent's thread, its timer and its handler.
  std::this_thread::sleep_for(std::chrono::milliseconds(500));
  const std::string threads_while = status_field(pid, "Threads");
  const std::string timers_while = read_all("/proc/" + std::to_string(pid) + "/timers");
  recorder.join();
  // Stopped: within a second nothing of it is left.
  std::string threads, timers, caught;
  std::vector<std::string> fds;
  for (int i = 0; i < 50; ++i) {
    threads = status_field(pid, "Threads");
    timers = read_all("/proc/" + std::to_string(pid) + "/timers");
    caught = status_field(pid, "SigCgt");
    fds = fd_targets(pid);
    if (threads == "1" && timers.empty()) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  CHECK(threads_while == "2");
  CHECK_THAT(timers_while, Catch::Contains("signal: 23/"));  // SIGURG
  CHECK(threads == "1");
  CHECK(timers.empty());
  CHECK((std::stoull(caught, nullptr, 16) & (1ull << (SIGURG - 1))) == 0);
  // The socket and the eventfd are closed.
  INFO("state: " << status_field(pid, "State"));
  CHECK(!fds.empty());
  for (const std::string& f : fds) {
    INFO(f);
    CHECK(f.rfind("socket:", 0) != 0);
    CHECK(f.find("eventfd") == std::string::npos);
  }
  CHECK(status_field(pid, "State").rfind("Z", 0) != 0);  // still running, unharmed
  ::kill(pid, SIGTERM);
}

TEST_CASE("the agent's thread does not keep alive a program whose main thread ended with pthread_exit") {
  // Its other threads end after the main one: the process must end with
  // them, as it would without the agent (timeout 60 turns a hang into 124).
  TempDir out;
  for (const char* sampler : {"perf", "timer"}) {
    if (std::string(sampler) == "perf" && !perf_unavailable().empty()) continue;
    auto r = run({"timeout", "60", dial9_binary(), "record", "-q", "--sampler", sampler, "-o", out.file(sampler), "--",
                  FIXTURE_PIPE_PAIR, "200", "main-exits"});
    INFO(sampler << ": " << r.err);
    CHECK(r.exit_code == 0);
  }
}

TEST_CASE("the timer sampler follows threads that come and go, and keeps no timer of an ended one", "[serial]") {
  // 120 threads, 4 at a time, each burning 30 ms of CPU (about 7 samples at
  // 250 Hz): sampled from their first milliseconds (the pthread_create
  // hook), and the timers of ended threads are deleted (the process never
  // holds many more timers than threads, as the rescans find them gone).
  TempDir out;
  pid_t pid = -1;
  size_t most_timers = 0;
  std::thread recorder([&] {
    auto r = run({dial9_binary(), "record", "-q", "--sampler", "timer", "-o", out.file("t"), "--", "sh", "-c",
                  "echo $$ > " + out.file("pid") + "; exec " + std::string(FIXTURE_THREAD_CHURN) + " 120 30"});
    CHECK(r.exit_code == 0);
  });
  for (int i = 0; i < 400; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
    if (pid <= 0) std::ifstream(out.file("pid")) >> pid;
    if (pid <= 0) continue;
    std::string timers = read_all("/proc/" + std::to_string(pid) + "/timers");
    size_t n = 0;
    for (size_t at = timers.find("ID:"); at != std::string::npos; at = timers.find("ID:", at + 1)) ++n;
    most_timers = std::max(most_timers, n);
    if (status_field(pid, "State").empty()) break;  // gone
  }
  recorder.join();
  // 4 workers and the main thread; a rescan is at most ~100 ms behind, in
  // which ~25 quartets come and go.
  CHECK(most_timers >= 1);
  CHECK(most_timers <= 5 + 4 * 30);
  auto report = report_json({"--top", "1000", out.file("t")});
  size_t sampled_threads = 0;
  for (const auto& t : report["threads"]) sampled_threads += t["cpu_samples"].get<uint64_t>() > 0;
  INFO(report["overview"].dump());
  // 3.6 s of CPU at up to 250 Hz. On a loaded machine the agent's thread
  // arms new threads later (in wall time), so the bound leaves room: a
  // sampler that armed only at its 100 ms rescans would miss many of
  // these 30 ms threads (they live 60 ms or so of wall time).
  CHECK(sampled_threads >= 72);
}
