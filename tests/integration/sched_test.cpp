// Scheduler capture (issue #6) end to end: the real `dial9 record` on the
// fixtures that block on a lock, a pipe and a timer or wait for a CPU, and
// what `dial9 report --format json` then says (docs/REPORT-JSON.md). Each
// scenario also runs in the degraded modes of the permission ladder, where
// the report must name what is missing instead of showing wrong figures.
// Run alone with: integration_tests "[sched]"
#include <catch2/catch.hpp>

#include <linux/perf_event.h>
#include <spawn.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <functional>
#include <map>
#include <string>
#include <thread>
#include <vector>

#include <nlohmann/json.hpp>

#include "capture/sched_capture.h"
#include "format/events.h"
#include "format/trace_file.h"
#include "tests/support/perf_available.h"
#include "tests/support/report_json.h"
#include "tests/support/test_support.h"

using namespace dial9;
using nlohmann::json;
namespace fs = std::filesystem;

namespace {

// ---- Names the report chooses; adjust here if it renames them. ----------
// findings[].kind raised for CPU contention (REPORT-JSON.md, findings).
constexpr const char* kCpuContentionKind = "cpu_contention";
// Phrases, matched without case, of the notes (overview.degraded,
// overview.sched_notes, off_cpu_notes) that name each missing capability.
constexpr const char* kNoStacksNote = "off-cpu stacks";
constexpr const char* kNoWakersNote = "who woke whom";
constexpr const char* kSchedOffNote = "--no-sched";
// ---------------------------------------------------------------------------

constexpr uint64_t kMs = 1'000'000;

// Why this machine cannot record scheduler activity at all: the weakest
// rung, context-switch records on an event of this thread.
std::string switch_records_unavailable() {
  std::string why = test::software_event_unavailable(PERF_COUNT_SW_DUMMY, 0, -1, true);
  return why.empty() ? why : "perf events unavailable: " + why;
}

// Why the full capture (wakers from every CPU, sched_switch's prev_state)
// cannot run here: it needs root (or CAP_PERFMON) and tracefs.
std::string full_capture_unavailable() {
  if (auto why = switch_records_unavailable(); !why.empty()) return why;
  if (::geteuid() != 0) return "wakeups need root or CAP_PERFMON; these tests run as uid " + std::to_string(::geteuid());
  for (const char* root : {"/sys/kernel/tracing", "/sys/kernel/debug/tracing"}) {
    if (::access((std::string(root) + "/events/sched/sched_waking/id").c_str(), R_OK) == 0) return "";
  }
  return "tracefs is not mounted (mount -t tracefs nodev /sys/kernel/tracing)";
}

int perf_event_paranoid() {
  std::ifstream in("/proc/sys/kernel/perf_event_paranoid");
  int level = 2;
  in >> level;
  return level;
}

bool contains_nocase(std::string hay, std::string needle) {
  auto lower = [](std::string& s) {
    std::transform(s.begin(), s.end(), s.begin(), [](unsigned char c) { return std::tolower(c); });
  };
  lower(hay);
  lower(needle);
  return hay.find(needle) != std::string::npos;
}

// How a scenario is recorded: as root with everything, without tracefs,
// as user nobody, or with --no-sched.
enum class Mode { kFull, kNoTracefs, kNobody, kNoSched };

const char* mode_name(Mode m) {
  switch (m) {
    case Mode::kFull: return "full";
    case Mode::kNoTracefs: return "DIAL9_TEST_NO_TRACEFS=1";
    case Mode::kNobody: return "as user nobody";
    case Mode::kNoSched: return "--no-sched";
  }
  return "";
}

struct Recorded {
  std::string err;                          // record's stderr
  std::map<std::string, std::string> meta;  // the first segment's metadata
  json report;                              // report --format json --top 1000
  std::string notes;                        // every note of the report, one per line

  bool captured(const std::string& what) const {
    std::string list = "," + meta.at("sched") + ",";
    return list.find("," + what + ",") != std::string::npos;
  }
  const json* thread(const std::string& name) const {
    for (const auto& t : report["threads"]) {
      if (t["name"] == name) return &t;
    }
    return nullptr;
  }
  uint64_t blocked_ns(const std::string& name) const {
    const json* t = thread(name);
    REQUIRE(t != nullptr);
    REQUIRE((*t)["blocked_ns"].is_number());
    return (*t)["blocked_ns"].get<uint64_t>();
  }
};

// Records `fixture` in `mode` into a directory of `tmp` and reports on it.
Recorded record(const test::TempDir& tmp, Mode mode, const char* fixture, std::vector<std::string> flags = {},
                 std::vector<std::string> args = {}) {
  std::string dir = tmp.file(std::string(fs::path(fixture).filename()) + "-" + std::to_string(static_cast<int>(mode)));
  std::vector<std::string> argv;
  if (mode == Mode::kNoTracefs) argv = {"env", "DIAL9_TEST_NO_TRACEFS=1"};
  if (mode == Mode::kNobody) {
    fs::permissions(tmp.path(), fs::perms::all);  // nobody writes the trace here
    argv = {RUN_RESTRICTED, "--user", "nobody", "--"};
  }
  argv.push_back(test::dial9_binary());
  argv.insert(argv.end(), {"record", "-o", dir});
  if (mode == Mode::kNoSched) argv.push_back("--no-sched");
  argv.insert(argv.end(), flags.begin(), flags.end());
  argv.insert(argv.end(), {"--", fixture});
  argv.insert(argv.end(), args.begin(), args.end());
  auto r = test::run(argv);
  INFO(mode_name(mode) << ": " << r.err);
  REQUIRE(r.exit_code == 0);

  Recorded rec;
  rec.err = r.err;
  auto inputs = format::expand_trace_inputs({dir});
  REQUIRE(inputs);
  REQUIRE(!inputs->empty());
  auto sum = format::read_trace_file((*inputs)[0].path, [&](const format::Event& e) {
    if (e.builtin() == format::Builtin::kSegmentMetadata && rec.meta.empty()) {
      format::for_each_metadata(e, [&](std::string_view k, std::string_view v) { rec.meta[std::string(k)] = v; });
    }
  });
  REQUIRE(sum);
  REQUIRE(rec.meta.count("sched") == 1);
  rec.report = test::report_json({"--top", "1000", dir});
  const json& o = rec.report["overview"];
  for (const char* key : {"degraded", "warnings", "sched_notes"}) {
    if (!o.contains(key)) continue;
    for (const auto& n : o[key]) rec.notes += (n.is_string() ? n.get<std::string>() : n.dump()) + "\n";
  }
  if (rec.report.contains("off_cpu_notes")) {
    for (const auto& n : rec.report["off_cpu_notes"]) rec.notes += n.get<std::string>() + "\n";
  }
  return rec;
}

// Frame tests on report stacks (names leaf first; C++ names carry their
// parameter list, so callers are matched by prefix).
using FramePred = std::function<bool(const std::string&)>;
FramePred named(const std::string& prefix) {
  return [prefix](const std::string& f) { return f.rfind(prefix, 0) == 0; };
}
bool is_lock_frame(const std::string& f) {
  return f.find("mutex_lock") != std::string::npos || f.find("lll_lock") != std::string::npos ||
         f.find("futex_wait") != std::string::npos;
}
bool is_read_frame(const std::string& f) {
  return f == "read" || f == "__read" || f.find("libc_read") != std::string::npos;
}
bool is_write_frame(const std::string& f) {
  return f == "write" || f == "__write" || f.find("libc_write") != std::string::npos;
}
bool is_nanosleep_frame(const std::string& f) { return f.find("nanosleep") != std::string::npos; }

// A frame `leaf` somewhere below (leafward of) a frame `caller`.
bool calls(const json& stack, const FramePred& leaf, const FramePred& caller) {
  bool seen_leaf = false;
  for (const auto& f : stack) {
    std::string name = f.get<std::string>();
    if (seen_leaf && caller(name)) return true;
    seen_leaf = seen_leaf || leaf(name);
  }
  return false;
}

std::string stacks_text(const json& off_cpu) {
  std::string s;
  for (const auto& o : off_cpu) s += o.dump() + "\n";
  return s.substr(0, 6000);
}

uint64_t ns(const json& v) { return v.is_number() ? v.get<uint64_t>() : 0; }

// Blocked time and wakers of the off-CPU stacks for which `match` holds.
struct StackShare {
  uint64_t blocked_ns = 0, total_blocked_ns = 0, count = 0;
  std::map<std::string, uint64_t> wakeups_by_waker;  // woken_by thread -> count
  uint64_t wakeups = 0;
};
StackShare share(const json& off_cpu, const std::function<bool(const json&)>& match) {
  StackShare s;
  for (const auto& o : off_cpu) {
    s.total_blocked_ns += ns(o["blocked_ns"]);
    if (!match(o["stack"])) continue;
    s.blocked_ns += ns(o["blocked_ns"]);
    s.count += o["count"].get<uint64_t>();
    for (const auto& w : o["woken_by"]) {
      s.wakeups_by_waker[w["thread"].get<std::string>()] += w["count"].get<uint64_t>();
      s.wakeups += w["count"].get<uint64_t>();
    }
  }
  return s;
}

bool no_wakers_anywhere(const json& off_cpu) {
  return std::all_of(off_cpu.begin(), off_cpu.end(), [](const json& o) { return o["woken_by"].empty(); });
}

// What every degraded mode must get right: the notes name each missing
// capability, nothing missing is made up, and the scheduler figures kept
// are filled in.
void check_degraded_says_what_is_missing(const Recorded& r) {
  INFO("sched: " << r.meta.at("sched") << "\nnotes:\n" << r.notes << "\nrecord said:\n" << r.err);
  CHECK(r.captured("switches"));
  CHECK_FALSE(r.captured("wakers"));
  CHECK(contains_nocase(r.notes, kNoWakersNote));
  CHECK(no_wakers_anywhere(r.report["off_cpu"]));
  if (!r.captured("stacks")) {
    CHECK(contains_nocase(r.notes, kNoStacksNote));
    CHECK(r.report["off_cpu"].empty());
    CHECK(r.report["overview"]["offcpu_samples"] == 0);
  }
}

// ---- The four scenarios, each checked in the mode given. ----------------

// Convoy: most blocked time waits for the lock in update_shared_state, and
// the lock's holders (convoy threads) wake the waiters.
void check_convoy(const Recorded& r, Mode mode) {
  const json& off = r.report["off_cpu"];
  INFO(mode_name(mode) << "\n" << stacks_text(off));
  for (int i = 0; i < 4; ++i) {
    CHECK(r.blocked_ns("convoy-" + std::to_string(i)) > 500 * kMs);  // about three quarters of 1.5 s
  }
  if (!r.captured("stacks")) return;
  auto lock = share(off, [](const json& s) { return calls(s, is_lock_frame, named("update_shared_state")); });
  REQUIRE(lock.total_blocked_ns > 0);
  // The threads' blocked time is on the stacks, none of it twice.
  uint64_t threads_blocked = 0;
  for (const auto& t : r.report["threads"]) threads_blocked += ns(t["blocked_ns"]);
  CHECK(lock.total_blocked_ns <= threads_blocked * 101 / 100);
  CHECK(lock.total_blocked_ns >= threads_blocked * 80 / 100);
  // The lock waits: about 4.5 s of 7.5 (the main thread's join and the
  // holders' sleeps are the rest).
  CHECK(lock.blocked_ns * 2 > lock.total_blocked_ns);
  if (!r.captured("wakers")) return;
  // Each wait for the lock ends when a convoy thread unlocks it.
  uint64_t by_convoy = 0;
  for (const auto& [name, n] : lock.wakeups_by_waker) {
    if (name.rfind("convoy-", 0) == 0) by_convoy += n;
  }
  CHECK(lock.wakeups * 10 >= lock.count * 8);
  CHECK(by_convoy * 10 >= lock.wakeups * 9);
}

// Pipe: the consumer blocks in read() under consume_messages, woken by the
// producer.
void check_pipe(const Recorded& r, Mode mode) {
  const json& off = r.report["off_cpu"];
  INFO(mode_name(mode) << "\n" << stacks_text(off));
  uint64_t consumer_blocked = r.blocked_ns("consumer");
  CHECK(consumer_blocked > 700 * kMs);  // of about 1 s
  if (!r.captured("stacks")) return;
  auto in_read = share(off, [](const json& s) { return calls(s, is_read_frame, named("consume_messages")); });
  CHECK(in_read.blocked_ns >= consumer_blocked * 80 / 100);
  CHECK(in_read.blocked_ns <= consumer_blocked * 101 / 100);
  if (!r.captured("wakers")) return;
  const json* producer = r.thread("producer");
  REQUIRE(producer != nullptr);
  CHECK(in_read.wakeups * 10 >= in_read.count * 8);
  CHECK(in_read.wakeups_by_waker["producer"] * 10 >= in_read.wakeups * 9);
  bool producer_stack = false;
  for (const auto& o : off) {
    if (!calls(o["stack"], is_read_frame, named("consume_messages"))) continue;
    for (const auto& w : o["woken_by"]) {
      if (w["thread"] != "producer") continue;
      CHECK(w["tid"] == (*producer)["tid"]);
      if (!r.captured("waker_stacks")) continue;
      // The producer's write, under its caller: glibc's write has no frame
      // pointer, so this needs the waker's stack unwound like a sample's.
      INFO("producer's waker stack: " << w["stack"].dump());
      producer_stack = producer_stack || calls(w["stack"], is_write_frame, named("produce_messages"));
      // Its kernel frames are named too (root reads /proc/kallsyms).
      if (::geteuid() == 0) {
        for (const auto& f : w["stack"]) CHECK(f.get<std::string>().rfind("0xffff", 0) != 0);
      }
    }
  }
  if (r.captured("waker_stacks")) CHECK(producer_stack);
}

// Oversubscription: eight CPU-bound threads on two CPUs are runnable most
// of the time and blocked next to never; run-queue latency is milliseconds.
void check_oversubscribed(const Recorded& r, Mode mode) {
  INFO(mode_name(mode) << "\nthreads: " << r.report["threads"].dump() << "\nsched_latency: " << r.report["sched_latency"].dump());
  for (int i = 0; i < 8; ++i) {
    const json* t = r.thread("burn-" + std::to_string(i));
    REQUIRE(t != nullptr);
    REQUIRE((*t)["runnable_ns"].is_number());
    CHECK((*t)["runnable_ns"].get<uint64_t>() > 100 * kMs);  // about 1.1 s of 1.5 s
    if ((*t)["blocked_ns"].is_number()) CHECK((*t)["blocked_ns"].get<uint64_t>() < 50 * kMs);
  }
  const json& lat = r.report["sched_latency"];
  if (mode == Mode::kFull) REQUIRE(lat.is_object());
  if (!lat.is_object()) return;  // a degraded mode may have no percentiles, never wrong ones
  const json& overall = lat.contains("overall") ? lat["overall"] : lat;
  CHECK(overall["count"].get<uint64_t>() >= 8);
  CHECK(overall["p99_ns"].get<uint64_t>() >= 1 * kMs);
  if (mode != Mode::kFull) return;
  bool finding = false;
  for (const auto& f : r.report["findings"]) finding = finding || f["kind"] == kCpuContentionKind;
  INFO("findings: " << r.report["findings"].dump());
  CHECK(finding);
}

// Sleep: 20 x nanosleep(50 ms) is one second blocked (within 10%) in
// nanosleep under sleepy_caller; timer interrupts, not threads, wake it.
void check_sleeper(const Recorded& r, Mode mode) {
  const json& off = r.report["off_cpu"];
  INFO(mode_name(mode) << "\n" << stacks_text(off));
  uint64_t blocked = r.blocked_ns("sleeper");
  CHECK(blocked >= 900 * kMs);
  CHECK(blocked <= 1100 * kMs);
  if (!r.captured("stacks")) return;
  auto sleeping = share(off, [](const json& s) { return calls(s, is_nanosleep_frame, named("sleepy_caller")); });
  CHECK(sleeping.blocked_ns >= 900 * kMs);
  CHECK(sleeping.blocked_ns <= 1100 * kMs);
  if (!r.captured("wakers")) return;
  // Each sleep ends by its timer firing: a wakeup from interrupt context
  // (waker tid 0), whatever thread the interrupt happened to land on.
  uint64_t from_interrupts = 0;
  for (const auto& o : off) {
    if (!calls(o["stack"], is_nanosleep_frame, named("sleepy_caller"))) continue;
    for (const auto& w : o["woken_by"]) {
      if (w["tid"] == 0) from_interrupts += w["count"].get<uint64_t>();
    }
  }
  CHECK(sleeping.wakeups <= 22);
  CHECK(from_interrupts * 10 >= sleeping.wakeups * 9);
}

}  // namespace

namespace {

// A scenario: a fixture, its record flags, and what its report must show.
struct Scenario {
  const char* fixture;
  std::vector<std::string> flags;
  void (*check)(const Recorded&, Mode);
  std::vector<std::string> args = {};  // the fixture's
};
const Scenario kConvoy{FIXTURE_MUTEX_CONVOY, {}, check_convoy};
const Scenario kPipe{FIXTURE_PIPE_PAIR, {}, check_pipe};
const Scenario kOversubscribed{FIXTURE_OVERSUBSCRIBE, {}, check_oversubscribed};
const Scenario kSleeper{FIXTURE_SLEEPER, {}, check_sleeper};
// The pipe pair once its main thread has ended with pthread_exit: the
// process and its mappings live on with the other two threads.
const Scenario kPipeMainExits{FIXTURE_PIPE_PAIR, {}, check_pipe, {"1000", "main-exits"}};

void run_full(const Scenario& s) {
  test::TempDir tmp;
  s.check(record(tmp, Mode::kFull, s.fixture, s.flags, s.args), Mode::kFull);
}

// Every scenario in a degraded mode: the notes name what is missing, and
// what is kept is right.
void run_degraded(Mode m, bool expect_stacks) {
  test::TempDir tmp;
  for (const Scenario* s : {&kConvoy, &kPipe, &kOversubscribed, &kSleeper}) {
    Recorded r = record(tmp, m, s->fixture, s->flags, s->args);
    INFO(s->fixture);
    CHECK(r.captured("stacks") == expect_stacks);
    check_degraded_says_what_is_missing(r);
    s->check(r, m);
  }
}

}  // namespace

TEST_CASE("sched: a mutex convoy blocks on the lock and the lock holders wake it", "[sched]") {
  if (auto why = full_capture_unavailable(); !why.empty()) DIAL9_SKIP(why);
  run_full(kConvoy);
}

TEST_CASE("sched: a pipe consumer blocks in read, woken by the producer's write", "[sched]") {
  if (auto why = full_capture_unavailable(); !why.empty()) DIAL9_SKIP(why);
  run_full(kPipe);
}

TEST_CASE("sched: stacks stay complete after the main thread ends with pthread_exit", "[sched]") {
  if (auto why = full_capture_unavailable(); !why.empty()) DIAL9_SKIP(why);
  run_full(kPipeMainExits);
}

TEST_CASE("sched: eight CPU-bound threads on two CPUs wait for a CPU, and the report finds it", "[sched]") {
  if (auto why = full_capture_unavailable(); !why.empty()) DIAL9_SKIP(why);
  run_full(kOversubscribed);
}

TEST_CASE("sched: nanosleep(50 ms) 20 times is one second blocked under its caller", "[sched]") {
  if (auto why = full_capture_unavailable(); !why.empty()) DIAL9_SKIP(why);
  run_full(kSleeper);
}

TEST_CASE("sched without tracefs: switch-out stacks but no wakers, and the report says so", "[sched]") {
  if (auto why = switch_records_unavailable(); !why.empty()) DIAL9_SKIP(why);
  if (perf_event_paranoid() > 1 && ::geteuid() != 0) DIAL9_SKIP("switch-out stacks need kernel.perf_event_paranoid <= 1 or root");
  // Stacks from the context-switches event instead of sched_switch.
  run_degraded(Mode::kNoTracefs, true);
}

TEST_CASE("sched as an unprivileged user: blocked and runnable time without stacks or wakers, and the report says so",
          "[sched]") {
  if (auto why = switch_records_unavailable(); !why.empty()) DIAL9_SKIP(why);
  if (::geteuid() != 0) DIAL9_SKIP("the tests as another user need root to switch to 'nobody'");
  int paranoid = perf_event_paranoid();
  if (paranoid > 2) DIAL9_SKIP("kernel.perf_event_paranoid > 2: unprivileged users cannot record at all");
  // At paranoid 2 the lowest perf rung: switch records only. At 1 and
  // below the context-switches event gives stacks too.
  run_degraded(Mode::kNobody, paranoid <= 1);
}

TEST_CASE("record --no-sched records no scheduler data, and the report says so", "[sched]") {
  if (auto why = switch_records_unavailable(); !why.empty()) DIAL9_SKIP(why);
  test::TempDir tmp;
  for (const char* fixture : {FIXTURE_PIPE_PAIR, FIXTURE_OVERSUBSCRIBE}) {
    Recorded r = record(tmp, Mode::kNoSched, fixture);
    INFO(fixture << "\nnotes:\n" << r.notes << "\nthreads: " << r.report["threads"].dump());
    CHECK(r.meta.at("sched") == "off");
    CHECK(contains_nocase(r.notes, kSchedOffNote));
    CHECK(r.report["off_cpu"].empty());
    CHECK(r.report["overview"]["offcpu_samples"] == 0);
    CHECK(r.report["sched_latency"].is_null());
    REQUIRE(!r.report["threads"].empty());
    for (const auto& t : r.report["threads"]) {
      CHECK(t["running_ns"].is_null());
      CHECK(t["runnable_ns"].is_null());
      CHECK(t["blocked_ns"].is_null());
    }
    for (const auto& f : r.report["findings"]) CHECK(f["kind"] != kCpuContentionKind);
  }
}

TEST_CASE("record --verbose names each perf event it opened and says how the recorder kept up", "[sched]") {
  if (auto why = full_capture_unavailable(); !why.empty()) DIAL9_SKIP(why);
  test::TempDir tmp;
  auto run_record = [&](const std::string& dir, std::vector<std::string> flags) {
    std::vector<std::string> argv = {test::dial9_binary(), "record", "-e", "cpu-clock", "-o", tmp.file(dir)};
    argv.insert(argv.end(), flags.begin(), flags.end());
    argv.insert(argv.end(), {"--", FIXTURE_PIPE_PAIR, "200"});
    auto r = test::run(argv);
    INFO(r.err);
    REQUIRE(r.exit_code == 0);
    return r.err;
  };
  std::string v = run_record("v", {"-v", "--waker-stacks", "4"});
  INFO(v);
  CHECK_THAT(v, Catch::Contains("perf event: samples: cpu-clock (type 1, config 0), 999 Hz, callchains"));
  CHECK_THAT(v, Catch::Contains("perf event: switch-out stacks: sched:sched_switch"));
  CHECK_THAT(v, Catch::Contains("perf event: wakeups, every CPU: sched:sched_waking"));
  CHECK_THAT(v, Catch::Contains("perf event: waker stacks, every CPU: sched:sched_waking") &&
                    Catch::Contains("every 4 events"));
  CHECK_THAT(v, Catch::Contains("wakeup filter: "));
  CHECK_THAT(v, Catch::Contains("controller: ") && Catch::Contains("records held between the rings and the trace"));
  std::string plain = run_record("plain", {});
  CHECK_THAT(plain, !Catch::Contains("perf event:") && !Catch::Contains("controller: "));
}

// The wakeup filter admits a window of ids after the target's newest thread
// (for threads it has not reported yet), so a busy process started just
// after the target, a load generator say, has its wakeups recorded by the
// kernel and dropped by dial9. dial9 must leave such a thread out of the
// filter once it has seen it, not pay for its every wakeup. [serial]: a
// test beside it would start processes in the same window of ids, whose
// wakeups the count would include.
TEST_CASE("sched: the wakeup filter leaves out another process's threads once seen", "[sched][serial]") {
  if (auto why = full_capture_unavailable(); !why.empty()) DIAL9_SKIP(why);
  test::TempDir tmp;
  test::RunResult rec;
  std::thread recorder([&] {
    rec = test::run({test::dial9_binary(), "record", "-v", "-e", "cpu-clock", "-o", tmp.file("t"), "--",
                     FIXTURE_SLEEPER, "30"});
  });
  // Not dial9's: started next, so its ids fall in the filter's window.
  // 800 ms of the pipe pair: about 160 wakeups of its consumer by its
  // producer and 160 of the producer by its timer.
  std::this_thread::sleep_for(std::chrono::milliseconds(200));
  pid_t other = 0;
  char arg[] = "800";
  char* argv[] = {const_cast<char*>(FIXTURE_PIPE_PAIR), arg, nullptr};
  int spawned = ::posix_spawn(&other, FIXTURE_PIPE_PAIR, nullptr, nullptr, argv, environ);
  int status = 0;
  if (spawned == 0) ::waitpid(other, &status, 0);
  recorder.join();
  REQUIRE(spawned == 0);
  INFO(rec.err);
  REQUIRE(rec.exit_code == 0);
  // "recording PROGRAM ARGS (pid N) into DIR"
  size_t at = rec.err.find(") into ");
  at = at == std::string::npos ? at : rec.err.rfind("(pid ", at);
  REQUIRE(at != std::string::npos);
  const long target = std::strtol(rec.err.c_str() + at + 5, nullptr, 10);
  // The sleeper's thread is target + 1; the window's 64 ids follow it.
  if (other <= target || other + 2 > target + 1 + static_cast<long>(capture::kNewThreadWindow)) {
    DIAL9_SKIP("other processes took the ids after the target's (target " + std::to_string(target) + ", pipe pair " +
               std::to_string(other) + "), so the pipe pair is outside the wakeup filter's window");
  }
  const long dropped = test::number_before(rec.err, " wakeup(s) of other processes' threads dropped");
  const long rebuilds = test::number_before(rec.err, " wakeup filter rebuild(s)");
  CHECK(rebuilds >= 1);
  // Before it is left out, a thread's wakeups pass until the next drain
  // (100 ms) rebuilds the filter: a few dozen, not all of them.
  CHECK(dropped >= 0);
  CHECK(dropped < 100);
}

// Eight CPU-bound threads on two CPUs are preempted hundreds of times and
// block next to never: the kernel must not take a stack at each
// preemption (a callchain and a stack copy that dial9 would then drop),
// only at the few blocking switch-outs.
TEST_CASE("sched: preempted switch-outs take no stack, blocking ones do", "[sched]") {
  if (auto why = full_capture_unavailable(); !why.empty()) DIAL9_SKIP(why);
  test::TempDir tmp;
  auto r = test::run({test::dial9_binary(), "record", "-v", "-e", "cpu-clock", "-o", tmp.file("t"), "--",
                      FIXTURE_OVERSUBSCRIBE});
  INFO(r.err);
  REQUIRE(r.exit_code == 0);
  CHECK_THAT(r.err, Catch::Contains("switch-out filter: prev_state & 255"));
  const long switches = test::number_before(r.err, " switch-outs, ");
  const long blocking = test::number_before(r.err, " off-CPU stacks");
  const long taken = test::number_before(r.err, " switch-out stack(s) taken");
  CHECK(switches > 200);
  CHECK(blocking >= 0);
  CHECK(taken >= blocking);
  CHECK(taken < switches / 4);
}

// sched_yield gives the CPU up without blocking: the thread stays on the
// run queue (the kernel's switch record marks it preempted), and
// sched_switch reports it running, so the switch-out filter takes no
// stack there either. Runnable, never blocked.
TEST_CASE("sched: threads that call sched_yield wait for a CPU, they do not block", "[sched]") {
  if (auto why = full_capture_unavailable(); !why.empty()) DIAL9_SKIP(why);
  test::TempDir tmp;
  Recorded r = record(tmp, Mode::kFull, FIXTURE_OVERSUBSCRIBE, {}, {"1000", "yield"});
  INFO("threads: " << r.report["threads"].dump());
  for (int i = 0; i < 8; ++i) {
    const json* t = r.thread("burn-" + std::to_string(i));
    REQUIRE(t != nullptr);
    REQUIRE((*t)["runnable_ns"].is_number());
    CHECK((*t)["runnable_ns"].get<uint64_t>() > 100 * kMs);
    if ((*t)["blocked_ns"].is_number()) CHECK((*t)["blocked_ns"].get<uint64_t>() < 50 * kMs);
  }
}
