// `dial9 doctor` on this machine: what it reports must match what the test
// can see for itself, and run as `nobody` it must report the degraded paths.
#include <catch2/catch.hpp>

#include <unistd.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <map>
#include <string>

#include <nlohmann/json.hpp>

#include "tests/support/test_support.h"

using namespace dial9;
namespace fs = std::filesystem;

namespace {

struct Found {
  std::string status, detail, fallback, fix;
};

std::map<std::string, Found> parse_checks(const std::string& out) {
  auto j = nlohmann::json::parse(out);
  std::map<std::string, Found> m;
  for (const auto& c : j.at("checks")) {
    m[c.at("name")] = {c.at("status"), c.at("detail"), c.at("fallback"), c.at("fix")};
  }
  return m;
}

int read_int(const std::string& path, int fallback) {
  std::ifstream f(path);
  int v = fallback;
  f >> v;
  return f ? v : fallback;
}

}  // namespace

TEST_CASE("doctor reports this machine's facts, as text and JSON") {
  auto r = test::run({test::dial9_binary(), "doctor", "--format", "json", std::to_string(::getpid())});
  INFO(r.out << r.err);
  auto checks = parse_checks(r.out);
  for (const char* name : {"perf_events", "agent", "kallsyms", "tracefs", "ptrace", "seccomp", "mlock", "pmu", "debug_info"}) {
    CHECK(checks.count(name) == 1);
  }
  int paranoid = read_int("/proc/sys/kernel/perf_event_paranoid", -100);
  CHECK_THAT(checks["perf_events"].detail,
             Catch::Contains("kernel.perf_event_paranoid=" + std::to_string(paranoid)));
  // Exit 0 exactly when perf events can be opened at all.
  CHECK((r.exit_code == 0) ==
        (checks["perf_events"].status != "unavailable" || checks["agent"].status != "unavailable"));
  CHECK_THAT(checks["seccomp"].detail, Catch::Contains("pid " + std::to_string(::getpid())));
  CHECK_THAT(checks["debug_info"].detail, Catch::StartsWith(fs::read_symlink("/proc/self/exe").string()));

  bool tracefs = fs::exists("/sys/kernel/tracing/events") || fs::exists("/sys/kernel/debug/tracing/events");
  if (!tracefs) CHECK(checks["tracefs"].status == "degraded");
  if (!fs::exists("/sys/bus/event_source/devices/cpu")) {
    CHECK(checks["pmu"].status == "degraded");
    CHECK_THAT(checks["pmu"].detail, Catch::Contains("absent"));
  } else if (checks["pmu"].status == "ok") {
    // What the test can confirm: dial9 opened `cycles`, which needs the PMU.
    CHECK_THAT(checks["pmu"].detail, Catch::Contains("cycles works"));
  }

  if (::geteuid() != 0) DIAL9_SKIP("the facts for root (perf, kallsyms, ptrace) need root");
  CHECK(r.exit_code == 0);
  CHECK(checks["perf_events"].status == "ok");
  CHECK(checks["ptrace"].status == "ok");
  CHECK(checks["mlock"].status == "ok");
  std::ifstream ks("/proc/kallsyms");
  std::string first;
  std::getline(ks, first);
  CHECK(checks["kallsyms"].status == (first.rfind("0000000000000000 ", 0) == 0 ? "degraded" : "ok"));

  // Text: one aligned line per check, fixes indented below.
  auto t = test::run({test::dial9_binary(), "doctor"});
  CHECK(t.exit_code == 0);
  CHECK_THAT(t.out, Catch::StartsWith("perf_events  ok "));
  CHECK_THAT(t.out, Catch::Contains("\npmu          "));
  if (!tracefs) CHECK_THAT(t.out, Catch::Contains("\n             fix: sudo mount -t tracefs"));

  // --quiet leaves out what is ok but keeps the exit status.
  auto q = test::run({test::dial9_binary(), "doctor", "--quiet", "--format", "json"});
  CHECK(q.exit_code == 0);
  auto problems = parse_checks(q.out);
  CHECK(problems.count("perf_events") == 0);
  for (const auto& [name, c] : problems) CHECK(c.status != "ok");
}

TEST_CASE("doctor refuses a process that does not exist, in one line") {
  auto r = test::run({test::dial9_binary(), "doctor", "999999999"});
  CHECK(r.exit_code == 2);
  CHECK(r.err == "dial9 doctor: no process 999999999 (ps -p 999999999 shows whether it still runs)\n");
  CHECK(r.out.empty());
  auto f = test::run({test::dial9_binary(), "doctor", "--format", "yaml"});
  CHECK(f.exit_code == 2);
}

TEST_CASE("doctor as an ordinary user, and with perf_event_open blocked") {
  if (::geteuid() != 0) DIAL9_SKIP("the tests as another user need root to switch to 'nobody'");
  auto d = test::run({RUN_RESTRICTED, "--deny-perf", "--", test::dial9_binary(), "doctor", "--format", "json"});
  INFO(d.out << d.err);
  // The agent's timer sampler stands in, so a basic recording still works.
  CHECK(d.exit_code == 0);
  auto denied = parse_checks(d.out);
  CHECK(denied["perf_events"].status == "unavailable");
  CHECK_THAT(denied["perf_events"].detail, Catch::Contains("seccomp"));
  CHECK_THAT(denied["perf_events"].fallback, Catch::Contains("timer sampler"));
  CHECK(denied["agent"].status == "ok");
  CHECK_THAT(denied["agent"].detail, Catch::Contains("stands in for perf events"));

  auto u = test::run({RUN_RESTRICTED, "--user", "nobody", "--", test::dial9_binary(), "doctor", "--format", "json"});
  INFO(u.out << u.err);
  auto checks = parse_checks(u.out);
  int paranoid = read_int("/proc/sys/kernel/perf_event_paranoid", -100);
  if (paranoid > 2) DIAL9_SKIP("kernel.perf_event_paranoid > 2: nobody cannot sample at all");
  CHECK(u.exit_code == 0);
  if (paranoid == 2) {
    CHECK(checks["perf_events"].status == "degraded");
    CHECK_THAT(checks["perf_events"].fallback, Catch::Contains("kernel samples and kernel stacks are off"));
    CHECK(checks["perf_events"].fix == "sudo sysctl kernel.perf_event_paranoid=1");
    // kptr_restrict=0 still hides /proc/kallsyms from users while paranoid > 1.
    CHECK(checks["kallsyms"].status == "degraded");
    CHECK_THAT(checks["kallsyms"].detail, Catch::Contains("hides kernel addresses"));
  } else {
    std::printf("DIAL9_SKIP: kernel.perf_event_paranoid=%d, not 2: the nobody degraded path is not shown\n", paranoid);
  }
  CHECK_THAT(checks["ptrace"].detail, Catch::Contains("no CAP_SYS_PTRACE"));
}
