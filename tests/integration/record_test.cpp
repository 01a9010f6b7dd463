// `dial9 record` on small real programs, with real perf events.
#include <catch2/catch.hpp>

#include <signal.h>
#include <spawn.h>
#include <sys/stat.h>
#include <fcntl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <fstream>
#include <future>
#include <thread>
#include <sstream>
#include <algorithm>
#include <cstring>
#include <cmath>

#include <filesystem>
#include <map>
#include <set>

#include "capture/event_spec.h"
#include "capture/perf_ring.h"
#include "format/events.h"
#include "format/trace_file.h"
#include "report/symbols/elf_module.h"
#include "tests/support/report_json.h"
#include "tests/support/perf_available.h"
#include "tests/support/test_support.h"

#include <nlohmann/json.hpp>

using namespace dial9;
using namespace dial9::format;
using dial9::test::report_json;
using dial9::test::perf_unavailable;
namespace fs = std::filesystem;

namespace {

struct Recording {
  uint64_t samples = 0;
  std::map<uint32_t, std::string> thread_names;       // tid -> last name
  std::map<uint32_t, uint64_t> samples_by_tid;
  std::map<std::string, uint64_t> samples_by_sample_name;  // the name each sample carries
  std::map<uint32_t, int64_t> exits;                  // pid -> status
  uint64_t lost = 0;
  std::map<std::string, std::string> meta;
  uint64_t mappings = 0;
  uint64_t mappings_with_build_id = 0;
  std::set<uint32_t> pids;  // of every thread name, thread start and mapping
  std::set<std::string> mapped_paths;
};

Recording read_recording(const std::string& dir) {
  Recording r;
  auto inputs = expand_trace_inputs({dir});
  REQUIRE(inputs);
  for (const auto& in : *inputs) {
    auto sum = read_trace_file(in.path, [&](const Event& e) {
      switch (e.builtin()) {
        case Builtin::kCpuSample: {
          auto s = as_cpu_sample(e);
          ++r.samples;
          ++r.samples_by_tid[s.tid];
          ++r.samples_by_sample_name[s.thread_name ? std::string(*s.thread_name) : std::string()];
          break;
        }
        case Builtin::kThreadName: {
          auto n = as_thread_name(e);
          r.thread_names[n.tid] = std::string(n.name);
          r.pids.insert(n.pid);
          break;
        }
        case Builtin::kThreadStart:
          r.pids.insert(as_thread_start(e).pid);
          break;
        case Builtin::kProcessExit: {
          auto x = as_process_exit(e);
          r.exits[x.pid] = x.status;
          break;
        }
        case Builtin::kLost:
          r.lost += as_lost(e).count;
          break;
        case Builtin::kMapping: {
          auto m = as_mapping(e);
          ++r.mappings;
          if (!m.build_id.empty()) ++r.mappings_with_build_id;
          r.pids.insert(m.pid);
          r.mapped_paths.insert(std::string(m.path));
          break;
        }
        case Builtin::kSegmentMetadata:
          for_each_metadata(e, [&](std::string_view k, std::string_view v) { r.meta[std::string(k)] = v; });
          break;
        default:
          break;
      }
    });
    REQUIRE(sum);
    CHECK_FALSE(sum->truncated);
  }
  return r;
}

// Why dial9 cannot sample every process on a CPU here ("" when it can):
// what the tests of capture/event_spec.h's every-CPU mode need.
std::string every_cpu_unavailable() {
  if (auto why = perf_unavailable(); !why.empty()) return why;
  if (auto why = test::software_event_unavailable(PERF_COUNT_SW_CPU_CLOCK, -1, 0); !why.empty()) {
    return "cannot sample every process on a CPU here: " + why;
  }
  return "";
}

// Starts `argv` (no shell) beside a recording, as a process that is not
// the program; its pid.
pid_t spawn_other(std::vector<std::string> argv) {
  std::vector<char*> args;
  for (std::string& a : argv) args.push_back(a.data());
  args.push_back(nullptr);
  pid_t pid = 0;
  REQUIRE(::posix_spawn(&pid, args[0], nullptr, nullptr, args.data(), environ) == 0);
  return pid;
}

}  // namespace

TEST_CASE("record exits with the program's status and leaves a readable trace") {
  if (auto why = perf_unavailable(); !why.empty()) DIAL9_SKIP(why);
  test::TempDir tmp;
  auto r = test::run({test::dial9_binary(), "record", "-o", tmp.file("t"), "--", "/bin/sh", "-c", "exit 7"});
  CHECK(r.exit_code == 7);
  CHECK_THAT(r.err, Catch::Contains("next: dial9 report " + tmp.file("t")));
  auto rec = read_recording(tmp.file("t"));
  REQUIRE(rec.exits.size() == 1);
  CHECK(rec.exits.begin()->second == 7);
  CHECK(rec.meta["command"] == "/bin/sh -c exit 7");
  CHECK(rec.mappings > 0);
  CHECK(rec.mappings_with_build_id > 0);  // /bin/sh and libc carry build ids
  CHECK(rec.meta["kernel_samples"] == "true");

  // Killed by a signal: 128 + 9, and the trace is still sealed and readable.
  auto k = test::run({test::dial9_binary(), "record", "-q", "-o", tmp.file("k"), FIXTURE_SPIN, "100", "kill"});
  CHECK(k.exit_code == 137);
  CHECK(k.err.empty());  // --quiet
  auto killed = read_recording(tmp.file("k"));
  CHECK(killed.exits.begin()->second == 137);
  CHECK(killed.samples > 20);
  for (const auto& e : fs::directory_iterator(tmp.file("k"))) {
    CHECK(e.path().extension() == ".zst");  // sealed, no .active left
  }
}

TEST_CASE("the output directory deleted while recording: one clear line, exit 1, the program runs on") {
  if (auto why = perf_unavailable(); !why.empty()) DIAL9_SKIP(why);
  test::TempDir tmp;
  const std::string out = tmp.file("t");
  const std::string done = tmp.file("done");
  auto recording = std::async(std::launch::async, [&] {
    return test::run({test::dial9_binary(), "record", "-q", "--rotation-period", "200ms", "-o", out, "--", "/bin/sh",
                      "-c", std::string(FIXTURE_SPIN) + " 1500 && echo finished > " + done});
  });
  // Once the first segment is open, the directory goes.
  bool active = false;
  for (int i = 0; i < 500 && !active; ++i) {
    std::error_code ec;
    for (const auto& e : fs::directory_iterator(out, ec)) active = active || e.path().extension() == ".active";
    if (!active) std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  REQUIRE(active);
  std::this_thread::sleep_for(std::chrono::milliseconds(300));
  fs::remove_all(out);
  auto r = recording.get();
  INFO(r.err);
  CHECK(r.exit_code == 1);
  const std::string line = "the output directory '" + out + "' was deleted while recording";
  size_t at = r.err.find(line);
  CHECK(at != std::string::npos);
  CHECK(r.err.find(line, at + 1) == std::string::npos);  // once
  CHECK(r.err.find("next: dial9 report") == std::string::npos);
  CHECK_FALSE(fs::exists(out));  // nothing recreated
  CHECK(test::read_text_file(done) == "finished\n");  // the program ran to its end
}

TEST_CASE("a full disk while recording: one clear line, exit 1, sealed segments readable, the program runs on") {
  if (auto why = perf_unavailable(); !why.empty()) DIAL9_SKIP(why);
  test::TempDir tmp;
  const std::string mnt = tmp.file("small");
  test::SmallDisk disk(mnt, "64k");
  if (!disk.skip_reason().empty()) DIAL9_SKIP(disk.skip_reason());
  const std::string out = mnt + "/t", done = tmp.file("done");
  // Uncompressed 200 ms segments of ~12 KiB: the fifth or sixth finds the
  // disk full.
  auto r = test::run({test::dial9_binary(), "record", "-q", "--rotation-period", "200ms", "--compression", "none", "-o",
                      out, "--", "/bin/sh", "-c", std::string(FIXTURE_SPIN) + " 2500 && echo finished > " + done});
  INFO(r.err);
  CHECK(r.exit_code == 1);
  CHECK(std::count(r.err.begin(), r.err.end(), '\n') == 1);
  CHECK_THAT(r.err, Catch::Contains("No space left on device") && Catch::Contains("free space on that filesystem"));
  CHECK(test::read_text_file(done) == "finished\n");  // the program ran to its end
  auto report = report_json({out});
  CHECK(report["overview"]["segments"].get<int>() >= 2);
  CHECK(report["overview"]["skipped_segments"].empty());
  CHECK(report["overview"]["cpu_samples"].get<uint64_t>() > 200);
}

// Both ways of following the program (capture/event_spec.h,
// side_band_every_cpu): a per-task event with scheduler capture, the
// process tree of every CPU's records without it (where allowed).
TEST_CASE("record follows every thread, with its name, and child processes") {
  if (auto why = perf_unavailable(); !why.empty()) DIAL9_SKIP(why);
  const bool no_sched = GENERATE(false, true);
  INFO((no_sched ? "--no-sched" : "with scheduler capture"));
  test::TempDir tmp;
  auto record = [&](std::vector<std::string> args) {
    args.insert(args.begin(), {test::dial9_binary(), "record", "-q", "-e", "cpu-clock"});
    if (no_sched) args.insert(args.begin() + 2, "--no-sched");
    return test::run(args);
  };
  auto r = record({"-o", tmp.file("t"), FIXTURE_NAMED_THREADS});
  REQUIRE(r.exit_code == 0);
  auto rec = read_recording(tmp.file("t"));
  std::set<std::string> named;
  for (const auto& [tid, n] : rec.samples_by_tid) {
    auto it = rec.thread_names.find(tid);
    if (it != rec.thread_names.end() && it->second.rfind("worker-", 0) == 0 && n >= 5) named.insert(it->second);
  }
  CHECK(named.size() == 8);
  // Each sample carries its thread's name as it was when sampled: workers
  // rename themselves first thing, so nearly all their samples say worker-N
  // (records of different CPUs must be merged in time order for this).
  uint64_t worker_samples = 0, worker_named = 0;
  for (const auto& [tid, n] : rec.samples_by_tid) {
    if (rec.thread_names[tid].rfind("worker-", 0) == 0) worker_samples += n;
  }
  for (const auto& [name, n] : rec.samples_by_sample_name) {
    if (name.rfind("worker-", 0) == 0) worker_named += n;
  }
  CHECK(worker_named >= worker_samples * 95 / 100);

  auto f = record({"-o", tmp.file("f"), FIXTURE_FORK_EXEC, FIXTURE_SPIN});
  REQUIRE(f.exit_code == 0);
  auto forked = read_recording(tmp.file("f"));
  std::map<std::string, uint64_t> by_name;
  for (const auto& [tid, n] : forked.samples_by_tid) by_name[forked.thread_names[tid]] += n;
  INFO("samples by name: " << by_name.size());
  // Names as the kernel keeps them: at most 15 characters.
  CHECK(by_name["fixture_fork_ex"] > 50);
  CHECK(by_name["fixture_spin"] > 50);  // the exec'd child, renamed by its exec
  CHECK(forked.exits.size() == 1);      // the launched program's exit status
  // Where every CPU may be sampled, so it was (and without scheduler
  // capture the threads and processes above came from every CPU too).
  if (every_cpu_unavailable().empty()) {
    CHECK(rec.meta["sample_scope"] == "cpu");
    CHECK(forked.meta["sample_scope"] == "cpu");
  }
}

namespace {

// Runs `dial9 record ARGS` (shell words) and stops dial9 for 0.4 s, 0.2 s
// in, like a recorder starved of CPU: small rings overflow meanwhile and
// the kernel counts what it drops.
test::RunResult record_starved(const std::string& args) {
  return test::run({"/bin/sh", "-c", "'" + test::dial9_binary() + "' record " + args +
                                         " & p=$!; sleep 0.2; kill -STOP $p; sleep 0.4; kill -CONT $p; wait $p"});
}

}  // namespace

TEST_CASE("a tiny ring loses samples and says so, and recorded + lost adds up") {
  if (auto why = perf_unavailable(); !why.empty()) DIAL9_SKIP(why);
  // Exact accounting needs a counter-overflow event (a timer-driven one like
  // task-clock folds late timer interrupts into one sample), so: the PMU's
  // instructions on a fixed amount of work, counted first by perf stat.
  const std::string work = "work:4000";  // about 24e9 user instructions
  auto stat = test::run({"/usr/bin/perf", "stat", "-x,", "-e", "instructions:u", FIXTURE_SPIN, work});
  if (stat.exit_code != 0) DIAL9_SKIP("perf stat is not available: " + stat.err.substr(0, 200));
  if (stat.err.find("not supported") != std::string::npos || stat.err.find("not counted") != std::string::npos) {
    DIAL9_SKIP("no hardware PMU here (perf stat: instructions not supported)");
  }
  uint64_t instructions = std::strtoull(stat.err.substr(stat.err.rfind('\n', stat.err.size() - 2) + 1).c_str(), nullptr, 10);
  REQUIRE(instructions > 1000000000ull);
  const uint64_t expected = 10000;  // ~10k samples/s: under the kernel's sample-rate limit
  const uint64_t period = instructions / expected;
  // 1-page rings, dial9 starved meanwhile.
  test::TempDir tmp;
  auto r = record_starved("-e instructions -c " + std::to_string(period) + " --mmap-pages 1 --no-kernel -o '" +
                          tmp.file("t") + "' '" FIXTURE_SPIN "' " + work);
  REQUIRE(r.exit_code == 0);
  auto rec = read_recording(tmp.file("t"));
  INFO("recorded " << rec.samples << " lost " << rec.lost << "\n" << r.err);
  CHECK(rec.lost > 1000);
  CHECK_THAT(r.err, Catch::Contains("samples were lost") && Catch::Contains("--mmap-pages 4"));
  double total = static_cast<double>(rec.samples + rec.lost);
  CHECK(total > static_cast<double>(expected) * 0.95);
  CHECK(total < static_cast<double>(expected) * 1.05);
}

TEST_CASE("a tiny ring loses page-fault samples and says so, and recorded + lost adds up, with no PMU") {
  if (auto why = perf_unavailable(); !why.empty()) DIAL9_SKIP(why);
  // The test above without a hardware PMU: a software event that counts
  // (one sample per page fault with -c 1), on a fixture that makes a known
  // number of faults. What starting the program faults (dial9's
  // trampoline, the dynamic loader, the agent) is measured first, on a
  // ring large enough to lose nothing.
  test::TempDir tmp;
  auto record = [&](const std::string& dir, const char* pages, const std::string& arg) {
    auto r = record_starved(std::string("-e page-faults -c 1 --call-graph fp --no-kernel --mmap-pages ") + pages + " -o '" +
                            dir + "' '" FIXTURE_SPIN "' " + arg);
    REQUIRE(r.exit_code == 0);
    return r.err;
  };
  record(tmp.file("base"), "256", "faults:0");
  auto base = read_recording(tmp.file("base"));
  REQUIRE(base.lost == 0);
  REQUIRE(base.samples > 10);
  const uint64_t faults = 4000;
  // 1-page rings, dial9 starved meanwhile.
  const std::string err = record(tmp.file("t"), "1", "faults:" + std::to_string(faults));
  auto rec = read_recording(tmp.file("t"));
  INFO("start-up " << base.samples << ", recorded " << rec.samples << " lost " << rec.lost << "\n" << err);
  CHECK(rec.lost > 1000);
  CHECK_THAT(err, Catch::Contains("samples were lost") && Catch::Contains("--mmap-pages 4"));
  const double expected = static_cast<double>(base.samples + faults);
  const double total = static_cast<double>(rec.samples + rec.lost);
  CHECK(total > expected - 0.05 * faults);
  CHECK(total < expected + 0.05 * faults);
}

TEST_CASE("record refuses bad input with one line, the right code, and nothing left behind") {
  test::TempDir tmp;
  std::string out = tmp.file("out");
  auto check = [&](std::vector<std::string> args, int code, const std::string& says) {
    std::vector<std::string> argv = {test::dial9_binary(), "record", "-o", out};
    argv.insert(argv.end(), args.begin(), args.end());
    auto r = test::run(argv);
    INFO(r.err);
    CHECK(r.exit_code == code);
    CHECK(std::count(r.err.begin(), r.err.end(), '\n') == 1);
    CHECK_THAT(r.err, Catch::Contains(says));
    CHECK_FALSE(fs::exists(out));
  };
  check({"--", tmp.file("no-such-program")}, 2, "cannot run '" + tmp.file("no-such-program") + "': No such file or directory");
  tmp.write("not-exec.sh", std::vector<uint8_t>{'#', '!', '/', 'b', 'i', 'n', '/', 's', 'h', '\n'});
  check({tmp.file("not-exec.sh")}, 2, "Permission denied");
  check({"-F", "0", "true"}, 2, "positive");
  check({"-F", "-5", "true"}, 2, "-F");
  check({"-e", "cyclez", "true"}, 2, "unknown event 'cyclez'; closest known events: cycles");
  check({"--mmap-pages", "3", "true"}, 2, "power of two");
  check({"--call-graph", "lbr", "true"}, 2, "--call-graph: expected fp, auto, dwarf or dwarf,BYTES");
  check({"--call-graph", "dwarf,100000", "true"}, 2, "--call-graph: expected");
  check({"--max-file-size", "lots", "true"}, 2, "is not a size");
  check({"--max-file-size", "2GiB", "--max-total-size", "1GiB", "true"}, 2, "must not exceed --max-total-size");
  check({}, 2, "no program to record");
  // -o naming a file: usage; an unwritable directory: a runtime error.
  tmp.write("a-file", std::vector<uint8_t>{'x'});
  auto r = test::run({test::dial9_binary(), "record", "-o", tmp.file("a-file"), "true"});
  CHECK(r.exit_code == 2);
  CHECK_THAT(r.err, Catch::Contains("is not a directory"));
  if (::geteuid() != 0) {
    auto u = test::run({test::dial9_binary(), "record", "-o", "/proc/nope/x", "true"});
    CHECK(u.exit_code == 1);
  } else {
    // root writes anywhere; /proc is the one place it still cannot create.
    auto u = test::run({test::dial9_binary(), "record", "-o", "/proc/dial9-test", "true"});
    CHECK(u.exit_code == 1);
    CHECK_THAT(u.err, Catch::Contains("cannot create"));
  }
}

TEST_CASE("record with a duration stops recording and leaves the program running") {
  if (auto why = perf_unavailable(); !why.empty()) DIAL9_SKIP(why);
  test::TempDir tmp;
  auto r = test::run({test::dial9_binary(), "record", "--duration", "300ms", "-o", tmp.file("t"), FIXTURE_SPIN, "3000"});
  CHECK(r.exit_code == 0);
  CHECK_THAT(r.err, Catch::Contains("goes on running (pid "));
  auto rec = read_recording(tmp.file("t"));
  CHECK(rec.samples > 50);
  CHECK(rec.exits.empty());
  // The program is alive; end it ourselves.
  auto pos = r.err.find("goes on running (pid ");
  pid_t pid = std::atoi(r.err.c_str() + pos + 21);
  REQUIRE(pid > 0);
  CHECK(::kill(pid, 0) == 0);
  ::kill(pid, SIGKILL);
}

namespace {

// Starts `dial9 record -o DIR spin MS` as a terminal would (default signal
// dispositions; a shell's background job would ignore SIGINT), stderr to a file.
pid_t start_recording(const std::string& dir, const std::string& err_file, const char* ms) {
  pid_t pid = fork();
  if (pid == 0) {
    int fd = ::open(err_file.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
    ::dup2(fd, 2);
    execl(test::dial9_binary().c_str(), "dial9", "record", "-o", dir.c_str(), FIXTURE_SPIN, ms, static_cast<char*>(nullptr));
    _exit(127);
  }
  return pid;
}

// The recorded program: dial9's only child.
pid_t child_of(pid_t parent) {
  std::ifstream in("/proc/" + std::to_string(parent) + "/task/" + std::to_string(parent) + "/children");
  pid_t c = 0;
  in >> c;
  return c;
}

int wait_status(pid_t pid) {
  int st = 0;
  ::waitpid(pid, &st, 0);
  return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
}

}  // namespace

TEST_CASE("Ctrl-C reaches the program, and a second one to dial9 stops recording") {
  if (auto why = perf_unavailable(); !why.empty()) DIAL9_SKIP(why);
  test::TempDir tmp;
  // What a terminal does on Ctrl-C: SIGINT to dial9 and to the program.
  // The program dies of it; dial9 records until then and exits 130.
  pid_t d = start_recording(tmp.file("a"), tmp.file("a.err"), "5000");
  std::this_thread::sleep_for(std::chrono::milliseconds(400));
  pid_t c = child_of(d);
  REQUIRE(c > 0);
  ::kill(d, SIGINT);
  ::kill(c, SIGINT);
  CHECK(wait_status(d) == 130);
  auto err = test::read_file_bytes(tmp.file("a.err"));
  CHECK_THAT(std::string(err.begin(), err.end()), Catch::Contains("press Ctrl-C again"));
  auto rec = read_recording(tmp.file("a"));
  REQUIRE(rec.exits.size() == 1);
  CHECK(rec.exits.begin()->second == 130);

  // Twice to dial9 alone: recording stops, the program keeps running.
  d = start_recording(tmp.file("b"), tmp.file("b.err"), "5000");
  std::this_thread::sleep_for(std::chrono::milliseconds(400));
  c = child_of(d);
  REQUIRE(c > 0);
  ::kill(d, SIGINT);
  std::this_thread::sleep_for(std::chrono::milliseconds(300));
  ::kill(d, SIGINT);
  CHECK(wait_status(d) == 0);
  CHECK(::kill(c, 0) == 0);  // still running
  ::kill(c, SIGKILL);
  err = test::read_file_bytes(tmp.file("b.err"));
  CHECK_THAT(std::string(err.begin(), err.end()), Catch::Contains("goes on running (pid " + std::to_string(c) + ")"));
  CHECK(read_recording(tmp.file("b")).samples > 50);
}

namespace {

// Among the samples whose leaf user frame is in `module` (memcpy has many
// names: the ifunc variant, or libc.so.6+0x... without libc's symbol table),
// how many name `caller` as the first frame outside it.
struct CallerShare {
  uint64_t in_module = 0, with_caller = 0;
};
CallerShare caller_share(const std::vector<test::SymbolizedSample>& samples, const std::string& module,
                         const std::string& caller) {
  CallerShare c;
  for (const auto& s : samples) {
    size_t i = 0;
    while (i < s.modules.size() && s.modules[i] == "[kernel]") ++i;
    if (i == s.modules.size() || s.modules[i] != module) continue;
    ++c.in_module;
    while (i < s.modules.size() && s.modules[i] == module) ++i;
    if (i < s.frames.size() && s.frames[i].rfind(caller, 0) == 0) ++c.with_caller;
  }
  return c;
}

}  // namespace

TEST_CASE("stacks through glibc's memcpy keep its caller, with CFI unwinding") {
  if (auto why = perf_unavailable(); !why.empty()) DIAL9_SKIP("perf events unavailable: " + why);
  test::TempDir out;
  // Frame pointers alone lose memcpy's caller; auto and dwarf must keep it.
  std::map<std::string, CallerShare> by_mode;
  for (std::string mode : {"fp", "auto", "dwarf"}) {
    std::string dir = out.file(mode);
    auto r = test::run({test::dial9_binary(), "record", "-q", "-e", "cpu-clock", "--call-graph", mode, "-o", dir,
                        "--", FIXTURE_MEMCPY_LOOP, "1500"});
    INFO(r.err);
    REQUIRE(r.exit_code == 0);
    by_mode[mode] = caller_share(test::symbolized_samples(dir), "libc.so.6", "consume_messages(");
  }
  for (const auto& [mode, c] : by_mode) {
    INFO(mode << ": " << c.with_caller << " of " << c.in_module << " samples in libc name consume_messages");
    REQUIRE(c.in_module >= 200);
    if (mode == "fp") {
      CHECK(c.with_caller < c.in_module / 2);
    } else {
      CHECK(c.with_caller >= c.in_module * 95 / 100);
    }
  }
}

// Sampling every CPU (capture/event_spec.h, cpu_wide_sampling_suits) takes
// every process's samples; only the program's may reach the trace, and
// none of dial9's launcher before the program's exec.
TEST_CASE("cpu-clock samples every CPU where allowed, and the trace keeps only the program's samples") {
  if (auto why = every_cpu_unavailable(); !why.empty()) DIAL9_SKIP(why);
  // A busy process that is not the program, on the CPUs meanwhile.
  const pid_t other = spawn_other({FIXTURE_SPIN, "1500"});
  test::TempDir tmp;
  auto r = test::run({test::dial9_binary(), "record", "-v", "-e", "cpu-clock", "-o", tmp.file("t"), "--", FIXTURE_SPIN,
                      "500"});
  int status = 0;
  ::waitpid(other, &status, 0);
  INFO(r.err);
  REQUIRE(r.exit_code == 0);
  CHECK_THAT(r.err, Catch::Contains("samples: cpu-clock (type 1, config 0), 999 Hz") &&
                        Catch::Contains("every process on every CPU, the program's kept"));
  CHECK_THAT(r.err, Catch::Contains("perf event: the program's threads, mappings and switches: dummy"));
  auto rec = read_recording(tmp.file("t"));
  REQUIRE(rec.exits.size() == 1);
  const uint32_t program = rec.exits.begin()->first;  // single-threaded: its one tid
  INFO("sampled threads: " << rec.samples_by_tid.size() << ", program " << program << ", other " << other);
  CHECK(rec.samples_by_tid.size() == 1);
  CHECK(rec.samples_by_tid.count(program) == 1);
  CHECK_FALSE(rec.samples_by_tid.count(static_cast<uint32_t>(other)));
  CHECK(rec.samples > 250);  // 500 ms of CPU at 999 Hz, sharing 2 CPUs with the other
  CHECK(rec.meta["sample_scope"] == "cpu");
  // None from before the program's exec, when the pid was still dial9's
  // launcher (in its execve call).
  uint64_t exec_ns = UINT64_MAX, first_sample_ns = UINT64_MAX;
  auto inputs = expand_trace_inputs({tmp.file("t")});
  REQUIRE(inputs);
  for (const auto& in : *inputs) {
    auto sum = read_trace_file(in.path, [&](const Event& e) {
      if (e.builtin() == Builtin::kThreadName && as_thread_name(e).exec && as_thread_name(e).pid == program) {
        exec_ns = std::min(exec_ns, e.timestamp_ns);
      } else if (e.builtin() == Builtin::kCpuSample) {
        first_sample_ns = std::min(first_sample_ns, e.timestamp_ns);
      }
    });
    REQUIRE(sum);
  }
  REQUIRE(exec_ns != UINT64_MAX);
  CHECK(first_sample_ns >= exec_ns);
}

// Without scheduler capture the side band (mmap, comm, fork and exit
// records) comes from every CPU too (capture/event_spec.h,
// side_band_every_cpu): the trace keeps the program's process tree, and
// nothing of dial9's launcher, still loading its own libraries when the
// events open.
TEST_CASE("sampling every CPU without scheduler capture keeps the program's process tree and nothing else") {
  if (auto why = every_cpu_unavailable(); !why.empty()) DIAL9_SKIP(why);
  // Another process tree starting programs meanwhile: forks, execs, mappings.
  const pid_t other = spawn_other({"/bin/sh", "-c", "while :; do /bin/true; done"});
  test::TempDir tmp;
  // A launcher slow to load, still mapping dial9's binary 100 ms in (a
  // test hook in inject/launch.cpp): dial9 must wait for it.
  auto r = test::run({"env", "DIAL9_TEST_LAUNCHER_SLOW=1", test::dial9_binary(), "record", "-v", "--no-sched", "-e",
                      "cpu-clock", "-o", tmp.file("t"), "--", FIXTURE_FORK_EXEC, FIXTURE_SPIN});
  ::kill(other, SIGKILL);
  int status = 0;
  ::waitpid(other, &status, 0);
  INFO(r.err);
  REQUIRE(r.exit_code == 0);
  CHECK_THAT(r.err, Catch::Contains("perf event: samples, threads and mappings: cpu-clock") &&
                        Catch::Contains("the program's process tree kept"));
  CHECK_THAT(r.err, !Catch::Contains("dummy"));
  auto rec = read_recording(tmp.file("t"));
  REQUIRE(rec.exits.size() == 1);
  const uint32_t program = rec.exits.begin()->first;
  std::string pids, paths;
  for (uint32_t p : rec.pids) pids += std::to_string(p) + " ";
  for (const auto& p : rec.mapped_paths) paths += p + " ";
  INFO("pids: " << pids << "(program " << program << "), mapped: " << paths);
  // The program and the child it forked, which execs the spinner.
  CHECK(rec.pids.size() == 2);
  CHECK(rec.pids.count(program) == 1);
  CHECK(rec.mapped_paths.count(std::filesystem::canonical(FIXTURE_SPIN).string()) == 1);
  CHECK(rec.mapped_paths.count("/usr/bin/true") == 0);
  // Nothing of the launcher (dial9 itself) before the program's exec.
  CHECK(rec.mapped_paths.count(std::filesystem::canonical(test::dial9_binary()).string()) == 0);
  std::set<std::string> names;
  for (const auto& [tid, n] : rec.thread_names) names.insert(n);
  CHECK(names == std::set<std::string>{"fixture_fork_ex", "fixture_spin"});
}

// The process tree from every CPU, when a full ring lost a child's fork
// record: the child is found in /proc once it shows up, not dropped.
TEST_CASE("a child whose fork record was lost is still recorded, from every CPU without scheduler capture") {
  if (auto why = every_cpu_unavailable(); !why.empty()) DIAL9_SKIP(why);
  // Busy processes on both CPUs fill the 1-page rings within milliseconds
  // once dial9 is stopped; the program forks the spinner only then (when
  // the file `go` appears), and the spinner runs on after dial9 resumes.
  const std::vector<pid_t> others = {spawn_other({FIXTURE_SPIN, "3000"}), spawn_other({FIXTURE_SPIN, "3000"})};
  test::TempDir tmp;
  const std::string started = tmp.file("started"), go = tmp.file("go");
  const std::string program = "touch '" + started + "'; while [ ! -e '" + go + "' ]; do sleep 0.01; done; exec '" +
                              FIXTURE_SPIN + "' 600 & wait";
  auto r = test::run(
      {"/bin/sh", "-c",
       "'" + test::dial9_binary() + "' record -v --no-sched -e cpu-clock --call-graph fp --mmap-pages 1 -o '" +
           tmp.file("t") + "' /bin/sh -c \"" + program + "\" & p=$!; while [ ! -e '" + started +
           "' ]; do sleep 0.01; done; kill -STOP $p; sleep 0.2; touch '" + go + "'; sleep 0.3; kill -CONT $p; wait $p"});
  for (pid_t p : others) {
    ::kill(p, SIGKILL);
    ::waitpid(p, nullptr, 0);
  }
  INFO(r.err);
  REQUIRE(r.exit_code == 0);
  auto rec = read_recording(tmp.file("t"));
  REQUIRE(rec.lost > 0);
  // The child was found through /proc, so its fork record was lost.
  CHECK(test::number_before(r.err, " process(es) of the program found in /proc after lost records") >= 1);
  uint64_t child_samples = 0;
  for (const auto& [tid, n] : rec.samples_by_tid) {
    CHECK(std::find(others.begin(), others.end(), static_cast<pid_t>(tid)) == others.end());
    if (rec.thread_names[tid] == "fixture_spin") child_samples += n;  // named from /proc
  }
  CHECK(child_samples >= 100);  // 0 when the child is dropped
  CHECK(rec.mapped_paths.count(std::filesystem::canonical(FIXTURE_SPIN).string()) == 1);  // mapped from /proc
}

// [serial]: two recordings compared to 5 points; CPU contention from tests
// running beside it skews timer-based sampling between the two runs.
TEST_CASE("the hot function is the top self function, with the share perf report measures", "[serial]") {
  if (auto why = perf_unavailable(); !why.empty()) DIAL9_SKIP("perf events unavailable: " + why);
  if (::access("/usr/bin/perf", X_OK) != 0) DIAL9_SKIP("the perf tool is not installed (Debian package linux-perf)");
  test::TempDir out;
  // perf's figure: hot_function's self share, from its own report.
  auto p = test::run({"perf", "record", "-q", "-F", "999", "-e", "cpu-clock", "-g", "-o", out.file("perf.data"), "--",
                      FIXTURE_HOT_COLD, "2000"});
  REQUIRE(p.exit_code == 0);
  auto rep = test::run({"perf", "report", "-i", out.file("perf.data"), "--stdio", "--no-children", "--sort", "symbol",
                        "-g", "none"});
  REQUIRE(rep.exit_code == 0);
  double perf_pct = -1;
  std::istringstream lines(rep.out);
  for (std::string line; std::getline(lines, line);) {
    if (line.find("hot_function") != std::string::npos && line.find('%') != std::string::npos) {
      perf_pct = std::stod(line.substr(0, line.find('%')));
    }
  }
  INFO(rep.out);
  REQUIRE(perf_pct > 0);

  auto r = test::run({test::dial9_binary(), "record", "-q", "-F", "999", "-e", "cpu-clock", "-o", out.file("d"), "--",
                      FIXTURE_HOT_COLD, "2000"});
  REQUIRE(r.exit_code == 0);
  // dial9's figure: what `dial9 report` says, as a user reads it.
  auto hot = report_json({out.file("d")})["hot_functions"];
  REQUIRE(!hot.empty());
  double dial9_pct = hot[0]["self_pct"].get<double>();
  INFO("perf: " << perf_pct << "%, dial9: " << dial9_pct << "%");
  CHECK(hot[0]["function"] == "hot_function()");
  CHECK(hot[0]["module"] == fs::path(FIXTURE_HOT_COLD).filename().string());
  CHECK(std::abs(dial9_pct - perf_pct) <= 5.0);
}

TEST_CASE("report of a recording: inlined calls are frames of their own, with file and line") {
  if (auto why = perf_unavailable(); !why.empty()) DIAL9_SKIP("perf events unavailable: " + why);
  test::TempDir out;
  auto r = test::run({test::dial9_binary(), "record", "-q", "-e", "cpu-clock", "-o", out.file("d"), "--",
                      FIXTURE_INLINES, "400000000"});
  INFO(r.err);
  REQUIRE(r.exit_code == 0);
  auto find = [](const nlohmann::json& hot, const std::string& prefix) -> const nlohmann::json* {
    for (const auto& h : hot) {
      if (h["function"].get<std::string>().rfind(prefix, 0) == 0) return &h;
    }
    return nullptr;
  };
  auto with = report_json({"--top", "50", out.file("d")})["hot_functions"];
  INFO(with.dump(1));
  const auto* outer = find(with, "fixture_inlines::outer");
  const auto* middle = find(with, "fixture_inlines::middle");
  const auto* leaf = find(with, "fixture_inlines::leaf");
  REQUIRE(outer);
  REQUIRE(middle);
  REQUIRE(leaf);
  CHECK((*outer)["total_pct"].get<double>() > 90);
  const auto* step = find(with, "fixture_inlines::step");
  REQUIRE(step);
  // Where in the loop the samples land depends on the CPU, so the test checks
  // the nesting rather than a share: step() is called only from the inlined
  // leaf (under the inlined middle), so every sample in step counts for leaf
  // and middle too. The lambda's two calls of leaf are the only slack.
  double step_total = (*step)["total_pct"].get<double>();
  CHECK(step_total > 2);
  CHECK((*leaf)["total_pct"].get<double>() >= step_total - 0.5);
  CHECK((*middle)["total_pct"].get<double>() >= (*leaf)["total_pct"].get<double>() - 0.5);
  CHECK((*outer)["file"].get<std::string>().find("inlines.cpp") != std::string::npos);
  CHECK((*outer)["line"].get<int>() > 0);

  auto without = report_json({"--top", "50", "--no-inline", out.file("d")})["hot_functions"];
  CHECK(find(without, "fixture_inlines::middle") == nullptr);
  CHECK(find(without, "fixture_inlines::leaf") == nullptr);
  REQUIRE(find(without, "fixture_inlines::outer"));
  CHECK((*find(without, "fixture_inlines::outer"))["total_pct"].get<double>() > 90);
}

TEST_CASE("report of a stripped binary finds its debug file by debuglink and by --debug-dir") {
  if (auto why = perf_unavailable(); !why.empty()) DIAL9_SKIP("perf events unavailable: " + why);
  test::TempDir out;
  auto names = [&](const std::string& binary, std::vector<std::string> extra) {
    std::string dir = out.file(fs::path(binary).filename().string());
    auto r = test::run({test::dial9_binary(), "record", "-q", "-e", "cpu-clock", "-o", dir, "--", binary, "200000000"});
    INFO(r.err);
    REQUIRE(r.exit_code == 0);
    extra.push_back(dir);
    std::set<std::string> fns;
    nlohmann::json j = report_json(extra);  // a named object: the loop must not outlive it
    for (const auto& h : j["hot_functions"]) fns.insert(h["function"].get<std::string>());
    return fns;
  };
  auto has_outer = [](const std::set<std::string>& fns) {
    return std::any_of(fns.begin(), fns.end(), [](const std::string& f) { return f.rfind("fixture_inlines::outer", 0) == 0; });
  };
  // Stripped, with a .gnu_debuglink naming the debug file beside it.
  CHECK(has_outer(names(std::string(FIXTURE_INLINES) + ".stripped", {"--top", "50"})));
  // Stripped without a debuglink: found by build id, only in --debug-dir.
  std::string nolink = std::string(FIXTURE_INLINES) + ".nolink";
  CHECK_FALSE(has_outer(names(nolink, {"--top", "50"})));
  auto module = report::ElfModule::open(std::string(FIXTURE_INLINES) + ".debug");
  REQUIRE(module);
  std::string debug_path = report::debug_file_path(out.file("debug"), (*module)->build_id());
  fs::create_directories(fs::path(debug_path).parent_path());
  fs::copy_file(std::string(FIXTURE_INLINES) + ".debug", debug_path);
  CHECK(has_outer(names(nolink, {"--top", "50", "--debug-dir", out.file("debug")})));
  // --verbose says where the symbols came from, and why not without the dir.
  std::string trace = out.file(fs::path(nolink).filename().string());
  auto with = test::run({test::dial9_binary(), "report", "-v", "--debug-dir", out.file("debug"), trace});
  REQUIRE(with.exit_code == 0);
  CHECK_THAT(with.err, Catch::Contains("module " + nolink) && Catch::Contains("with " + debug_path));
  auto without = test::run({test::dial9_binary(), "report", "--verbose", trace});
  REQUIRE(without.exit_code == 0);
  CHECK_THAT(without.err, Catch::Contains("module " + nolink));
  CHECK_THAT(without.err, !Catch::Contains(debug_path));
  CHECK_THAT(without.err, Catch::Contains(" segment(s) (0 skipped): "));
}

TEST_CASE("each later segment carries the threads and mappings, so it symbolizes alone") {
  if (auto why = perf_unavailable(); !why.empty()) DIAL9_SKIP("perf events unavailable: " + why);
  test::TempDir out;
  std::string dir = out.file("d");
  auto r = test::run({test::dial9_binary(), "record", "-q", "-e", "cpu-clock", "--rotation-period", "1s", "-o", dir,
                      "--", FIXTURE_HOT_COLD, "3000"});
  INFO(r.err);
  REQUIRE(r.exit_code == 0);
  auto inputs = expand_trace_inputs({dir});
  REQUIRE(inputs);
  REQUIRE(inputs->size() >= 3);
  // Keep only the last segment but one (the last may hold only the exit).
  std::string kept = (*inputs)[inputs->size() - 2].path;
  for (const auto& in : *inputs) {
    if (in.path != kept) fs::remove(in.path);
  }
  auto samples = test::symbolized_samples(dir);
  REQUIRE(samples.size() >= 100);
  uint64_t hot = 0, named = 0;
  for (const auto& s : samples) {
    if (!s.frames.empty() && s.frames.front() == "hot_function()") ++hot;
    if (s.thread_name == "fixture_hot_col") ++named;
  }
  INFO(samples.size() << " samples, " << hot << " in hot_function()");
  CHECK(hot > samples.size() / 2);
  CHECK(named == samples.size());
}

TEST_CASE("without permission for perf events, record says why and how to fix it") {
  if (auto why = perf_unavailable(); !why.empty()) DIAL9_SKIP("perf events unavailable: " + why);
  test::TempDir out;
  // Blocked by seccomp, as in a container, with perf sampling demanded (the
  // default falls back to the timer sampler: agent_test.cpp): one line
  // naming seccomp, exit 1, and the program is not left behind running.
  auto r = test::run({RUN_RESTRICTED, "--deny-perf", "--", test::dial9_binary(), "record", "--sampler", "perf", "-o",
                      out.file("s"), "--", FIXTURE_SPIN, "100"});
  INFO(r.err);
  CHECK(r.exit_code == 1);
  CHECK_THAT(r.err, Catch::Contains("blocked by seccomp"));
  CHECK_THAT(r.err, Catch::Contains("allow it in the seccomp profile"));
  CHECK(std::count(r.err.begin(), r.err.end(), '\n') == 1);
  CHECK_FALSE(fs::exists(out.file("s")));

  if (::geteuid() != 0) DIAL9_SKIP("the tests as another user need root to switch to 'nobody'");
  fs::permissions(out.path(), fs::perms::all);
  std::ifstream paranoid_file("/proc/sys/kernel/perf_event_paranoid");
  int paranoid = 2;
  paranoid_file >> paranoid;
  if (paranoid > 2) DIAL9_SKIP("kernel.perf_event_paranoid > 2: unprivileged users cannot sample at all");
  // An ordinary user: when kernel samples are not permitted (paranoid 2),
  // user space is still recorded, and stderr and the metadata say what was
  // lost and the fix.
  auto u = test::run({RUN_RESTRICTED, "--user", "nobody", "--", test::dial9_binary(), "record", "-e", "cpu-clock",
                      "-o", out.file("u"), "--", FIXTURE_SPIN, "300"});
  INFO(u.err);
  REQUIRE(u.exit_code == 0);
  auto rec = read_recording(out.file("u"));
  CHECK(rec.samples > 100);
  if (paranoid >= 1) {
    // Sampling every CPU is not allowed: per task instead, said by -v only
    // (nothing is lost but speed).
    CHECK_THAT(u.err, !Catch::Contains("every CPU"));
    auto v = test::run({RUN_RESTRICTED, "--user", "nobody", "--", test::dial9_binary(), "record", "-v", "-e",
                        "cpu-clock", "--no-sched", "-o", out.file("v"), "--", FIXTURE_SPIN, "100"});
    INFO(v.err);
    CHECK(v.exit_code == 0);
    CHECK_THAT(v.err, Catch::Contains("samples per task, not every CPU: sampling every CPU needs CAP_PERFMON"));
    CHECK(read_recording(out.file("v")).meta["sample_scope"] == "task");
  }
  if (paranoid >= 2) {
    CHECK_THAT(u.err, Catch::Contains("kernel samples and kernel stacks are off"));
    CHECK_THAT(u.err, Catch::Contains("sysctl kernel.perf_event_paranoid=1"));
    CHECK_THAT(rec.meta["degraded"], Catch::Contains("perf_event_paranoid"));
    CHECK(rec.meta["kernel_samples"] == "false");
  }
  // The locked-memory budget: rings larger than an unprivileged user may
  // lock fail with the exact fixes, and nothing is left behind.
  auto m = test::run({RUN_RESTRICTED, "--user", "nobody", "--memlock", "0", "--", test::dial9_binary(), "record",
                      "--mmap-pages", "4096", "-o", out.file("m"), "--", FIXTURE_SPIN, "100"});
  INFO(m.err);
  CHECK(m.exit_code == 1);
  CHECK_THAT(m.err, Catch::Contains("locked-memory budget"));
  CHECK_THAT(m.err, Catch::Contains("perf_event_mlock_kb"));
  CHECK_FALSE(fs::exists(out.file("m")));
  // Rings dial9 chose itself (dwarf's 256 pages) shrink to fit instead,
  // and say so with the fix.
  auto d = test::run({RUN_RESTRICTED, "--user", "nobody", "--memlock", "0", "--", test::dial9_binary(), "record",
                      "--call-graph", "dwarf", "-o", out.file("d"), "--", FIXTURE_SPIN, "200"});
  INFO(d.err);
  REQUIRE(d.exit_code == 0);
  CHECK_THAT(d.err, Catch::Contains("perf rings shrunk to 128 pages per CPU"));
  CHECK_THAT(d.err, Catch::Contains("kernel.perf_event_mlock_kb="));
  auto drec = read_recording(out.file("d"));
  CHECK(drec.meta["mmap_pages"] == "128");
  CHECK_THAT(drec.meta["degraded"], Catch::Contains("perf rings shrunk"));
}

TEST_CASE("a module over --max-debug-info is named without lines in the trace, and the report adds them") {
  if (auto why = perf_unavailable(); !why.empty()) DIAL9_SKIP("perf events unavailable: " + why);
  test::TempDir out;
  std::string copy = out.file("hot_cold_copy");
  fs::copy_file(FIXTURE_HOT_COLD, copy);
  auto r = test::run({test::dial9_binary(), "record", "-v", "--max-debug-info", "1", "-e", "cpu-clock", "-o",
                      out.file("d"), "--", copy, "1000"});
  INFO(r.err);
  REQUIRE(r.exit_code == 0);
  CHECK(r.err.find("symbols: " + copy + ": ") != std::string::npos);
  CHECK(r.err.find("over --max-debug-info 1:") != std::string::npos);
  CHECK(r.err.find("module(s) named without source lines") != std::string::npos);
  // In the trace: hot_function's entries carry its name and no source place.
  size_t entries = 0, with_file = 0;
  auto inputs = expand_trace_inputs({out.file("d")});
  REQUIRE(inputs);
  for (const auto& in : *inputs) {
    auto sum = read_trace_file(in.path, [&](const Event& e) {
      if (e.builtin() != Builtin::kSymbolTableEntry) return;
      auto s = as_symbol_table_entry(e);
      if (s.symbol_name != "hot_function()") return;
      ++entries;
      with_file += !s.source_file.empty();
    });
    REQUIRE(sum);
  }
  CHECK(entries > 0);
  CHECK(with_file == 0);
  // The report, with the binary still there, adds the lines...
  auto j = report_json({out.file("d")});
  REQUIRE(!j["hot_functions"].empty());
  CHECK(j["hot_functions"][0]["function"] == "hot_function()");
  CHECK(j["hot_functions"][0]["file"].get<std::string>().find("hot_cold.cpp") != std::string::npos);
  // ...and without it, the trace's name stands.
  fs::remove(copy);
  j = report_json({out.file("d")});
  REQUIRE(!j["hot_functions"].empty());
  CHECK(j["hot_functions"][0]["function"] == "hot_function()");
  CHECK(j["hot_functions"][0]["file"] == "");

  auto bad = test::run({test::dial9_binary(), "record", "--max-debug-info", "lots", "-o", out.file("bad"), "--", "true"});
  CHECK(bad.exit_code == 2);
  CHECK(bad.err.find("--max-debug-info") != std::string::npos);
  CHECK_FALSE(fs::exists(out.file("bad")));
}

TEST_CASE("sealed segments carry their symbol table: a deleted binary and the kernel still have names") {
  if (auto why = perf_unavailable(); !why.empty()) DIAL9_SKIP("perf events unavailable: " + why);
  test::TempDir out;
  std::string copy = out.file("hot_cold_copy");
  fs::copy_file(FIXTURE_HOT_COLD, copy);
  auto r = test::run({test::dial9_binary(), "record", "-q", "-e", "cpu-clock", "-o", out.file("d"), "--", copy, "1000"});
  INFO(r.err);
  REQUIRE(r.exit_code == 0);
  fs::remove(copy);  // nothing left to read symbols from but the trace

  auto j = report_json({out.file("d")});
  REQUIRE(!j["hot_functions"].empty());
  CHECK(j["hot_functions"][0]["function"] == "hot_function()");
  CHECK(j["hot_functions"][0]["file"].get<std::string>().find("hot_cold.cpp") != std::string::npos);

  // Every callchain address the machine could name is in the table; kernel
  // ones too when /proc/kallsyms shows this user real addresses.
  std::set<uint64_t> table, kernel_addrs;
  auto inputs = expand_trace_inputs({out.file("d")});
  REQUIRE(inputs);
  for (const auto& in : *inputs) {
    auto sum = read_trace_file(in.path, [&](const Event& e) {
      if (e.builtin() == Builtin::kSymbolTableEntry) table.insert(as_symbol_table_entry(e).addr);
      if (e.builtin() == Builtin::kCpuSample) {
        auto chain = as_cpu_sample(e).callchain;
        for (uint32_t i = 0; i < chain.size(); ++i) {
          if (chain[i] >> 63) kernel_addrs.insert(chain[i]);
        }
      }
    });
    REQUIRE(sum);
  }
  CHECK(table.size() >= 5);
  std::ifstream kallsyms("/proc/kallsyms");
  std::string first;
  std::getline(kallsyms, first);
  if (first.rfind("0000000000000000", 0) == 0 || kernel_addrs.empty()) return;  // nothing to check here
  size_t named = 0;
  for (uint64_t a : kernel_addrs) named += table.count(a);
  INFO(named << " of " << kernel_addrs.size() << " kernel addresses named");
  CHECK(named * 10 >= kernel_addrs.size() * 9);
}
