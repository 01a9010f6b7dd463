// `dial9 doctor`'s decisions (capture/doctor_checks.h), for permission
// combinations this machine cannot produce.
#include <catch2/catch.hpp>

#include <nlohmann/json.hpp>

#include "capture/doctor_checks.h"

using namespace dial9::capture;

TEST_CASE("doctor: perf events ok, degraded to user space, or unavailable") {
  PerfProbe p;
  p.paranoid = 1;
  p.user_ok = p.kernel_ok = true;
  auto c = decide_perf_events(p);
  CHECK(c.status == CheckStatus::ok);
  CHECK(c.fix.empty());
  CHECK(c.required_group == "samples");
  CHECK_THAT(c.detail, Catch::Contains("cpu-clock samples per task (every CPU needs CAP_PERFMON"));
  p.every_cpu_ok = true;
  CHECK_THAT(decide_perf_events(p).detail, Catch::Contains("cpu-clock samples every CPU"));
  CHECK(decide_perf_events(p).status == CheckStatus::ok);  // overhead, not loss: no status of its own
  p.every_cpu_ok = false;

  p.paranoid = 2;
  p.kernel_ok = false;
  c = decide_perf_events(p);
  CHECK(c.status == CheckStatus::degraded);
  CHECK(c.fix == "sudo sysctl kernel.perf_event_paranoid=1");
  CHECK_THAT(c.fallback, Catch::Contains("kernel samples"));

  p.paranoid = 3;
  p.user_ok = false;
  p.user_error = "EACCES";
  c = decide_perf_events(p);
  CHECK(c.status == CheckStatus::unavailable);
  CHECK_THAT(c.fix, Catch::Contains("perf_event_paranoid=2"));
  CHECK_THAT(c.fallback, Catch::Contains("timer sampler"));
  CHECK_THAT(c.detail, Catch::Contains("EACCES"));
  // Without perf events, the agent's timer sampler is what records.
  CHECK_FALSE(basic_recording_works({c}));
  CHECK_FALSE(basic_recording_works({c, decide_agent({false, "libdial9-agent.so is not beside /x"}, false)}));
  auto agent = decide_agent({true, "/usr/lib/dial9/libdial9-agent.so"}, false);
  CHECK(agent.status == CheckStatus::ok);
  CHECK_THAT(agent.detail, Catch::Contains("stands in for perf events"));
  CHECK(basic_recording_works({c, agent}));

  p.paranoid = 2;  // paranoid allows it, so something else is in the way
  CHECK_THAT(decide_perf_events(p).fix, Catch::Contains("seccomp"));
}

TEST_CASE("doctor: kallsyms names the sysctl that hides addresses") {
  KallsymsProbe k{0, 1, true, true};
  CHECK(decide_kallsyms(k).status == CheckStatus::ok);
  k = {0, 2, true, false};
  auto c = decide_kallsyms(k);
  CHECK(c.status == CheckStatus::degraded);
  CHECK_THAT(c.fix, Catch::StartsWith("sudo sysctl kernel.perf_event_paranoid=1"));
  k = {1, 1, true, false};
  CHECK_THAT(decide_kallsyms(k).fix, Catch::Contains("kernel.kptr_restrict=0"));
  CHECK_THAT(decide_kallsyms(k).detail, Catch::Contains("kptr_restrict=1"));
}

TEST_CASE("doctor: tracefs mounted, unreadable, or absent") {
  CHECK(decide_tracefs({"/sys/kernel/tracing", true}).status == CheckStatus::ok);
  CHECK(decide_tracefs({"", false}).fix == "sudo mount -t tracefs nodev /sys/kernel/tracing");
  auto c = decide_tracefs({"/sys/kernel/tracing", false});
  CHECK(c.status == CheckStatus::degraded);
  CHECK_THAT(c.detail, Catch::Contains("sched_switch"));
}

TEST_CASE("doctor: ptrace scope, capability and the target's dumpable flag") {
  PtraceProbe p;
  CHECK(decide_ptrace(p).status == CheckStatus::ok);
  p.ptrace_scope = 1;
  auto c = decide_ptrace(p);
  CHECK(c.status == CheckStatus::unavailable);
  CHECK_THAT(c.fix, Catch::Contains("kernel.yama.ptrace_scope=0"));
  CHECK_THAT(c.fix, Catch::Contains("cap_sys_ptrace"));
  p.cap_sys_ptrace = true;
  CHECK(decide_ptrace(p).status == CheckStatus::ok);
  p.ptrace_scope = 3;
  CHECK(decide_ptrace(p).status == CheckStatus::unavailable);
  p = {};
  p.target_pid = 42;
  p.dumpable = 0;
  c = decide_ptrace(p);
  CHECK(c.status == CheckStatus::unavailable);
  CHECK_THAT(c.detail, Catch::Contains("pid 42 is not dumpable"));
  // Not required: `dial9 record` works without ptrace.
  CHECK(basic_recording_works({c}));
}

TEST_CASE("doctor: target seccomp modes") {
  CHECK(decide_seccomp(0, -1).status == CheckStatus::ok);
  CHECK(decide_seccomp(7, 0).status == CheckStatus::ok);
  CHECK(decide_seccomp(7, 1).status == CheckStatus::unavailable);
  CHECK(decide_seccomp(7, 2).status == CheckStatus::degraded);
}

TEST_CASE("doctor: ring pages per CPU from perf_event_mlock_kb and RLIMIT_MEMLOCK") {
  MlockProbe m;
  m.mlock_kb = 516;
  m.rlimit_memlock = 0;
  m.cpus = 4;
  CHECK(ring_pages_per_cpu(m) == 128);
  CHECK(decide_mlock(m).status == CheckStatus::ok);
  m.rlimit_memlock = 4 * 4096 * 64;  // 64 more pages per CPU
  CHECK(ring_pages_per_cpu(m) == 192);
  m.mlock_kb = 64;
  m.rlimit_memlock = 0;
  auto c = decide_mlock(m);
  CHECK(ring_pages_per_cpu(m) == 15);
  CHECK(c.status == CheckStatus::degraded);
  CHECK_THAT(c.fix, Catch::Contains("kernel.perf_event_mlock_kb=516"));
  m.mlock_kb = 0;
  CHECK(decide_mlock(m).status == CheckStatus::unavailable);
  m.privileged = true;
  CHECK(decide_mlock(m).status == CheckStatus::ok);
  m.privileged = false;
  m.rlimit_memlock = UINT64_MAX;
  CHECK(decide_mlock(m).status == CheckStatus::ok);
}

TEST_CASE("doctor: hardware PMU") {
  CHECK(decide_pmu({true, true, ""}).status == CheckStatus::ok);
  auto c = decide_pmu({false, false, "ENOENT"});
  CHECK(c.status == CheckStatus::degraded);
  CHECK_THAT(c.detail, Catch::Contains("absent"));
  CHECK_THAT(c.fallback, Catch::Contains("cpu-clock"));
}

TEST_CASE("doctor: text is aligned and JSON is well-formed") {
  std::vector<Check> checks{decide_tracefs({"", false}), decide_seccomp(7, 2),
                            decide_kallsyms({1, 1, true, false})};
  checks[0].detail = "quote \" backslash \\ tab \t";
  auto text = render_checks_text(checks);
  CHECK_THAT(text, Catch::StartsWith("tracefs   degraded     quote"));
  CHECK_THAT(text, Catch::Contains("\nseccomp   degraded     pid 7"));
  CHECK_THAT(text, Catch::Contains("\n          fix: sudo mount -t tracefs"));
  auto j = nlohmann::json::parse(render_checks_json(checks));
  REQUIRE(j["checks"].size() == 3);
  CHECK(j["checks"][0]["detail"] == checks[0].detail);
  CHECK(j["checks"][1]["status"] == "degraded");
  for (const auto& c : j["checks"]) {
    for (const char* k : {"name", "status", "detail", "fallback", "fix"}) CHECK(c.contains(k));
  }
}

TEST_CASE("doctor: debug info of the target's main binary") {
  CHECK(decide_debug_info({}).status == CheckStatus::ok);
  CHECK(decide_debug_info({7, "", false, ""}).status == CheckStatus::degraded);
  CHECK(decide_debug_info({7, "/bin/x", true, ""}).status == CheckStatus::ok);
  CHECK(decide_debug_info({7, "/bin/x", false, "/usr/lib/debug/.build-id/ab/cd.debug"}).status == CheckStatus::ok);
  auto c = decide_debug_info({7, "/bin/x", false, ""});
  CHECK(c.status == CheckStatus::degraded);
  CHECK_THAT(c.fallback, Catch::Contains("no source lines"));
  CHECK_THAT(c.fix, Catch::Contains("DEBUGINFOD_URLS"));
}
