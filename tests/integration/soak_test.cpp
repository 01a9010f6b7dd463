// The soak (#11): `dial9 attach` recording a busy service for 10 minutes
// (DIAL9_SOAK_SECONDS) with small segments and a retention budget. Not in
// the default suite ([soak]); `./dev soak` runs it and prints the figures
// docs/BENCHMARKS.md quotes.
//
// The service is the Asio echo server of examples/ under four connections
// of load: CPU samples, scheduler events and app API events (its handlers'
// spawns, polls and wakes) at a high rate. Every 5 s the test reads
// dial9's resident memory and descriptors and the directory's size. It
// asserts that the directory never outgrows the budget plus one segment,
// that memory and descriptors stop growing after the first quarter, that
// every segment left decodes, and that the server served on unharmed.
#include <catch2/catch.hpp>

#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <string>
#include <thread>
#include <vector>

#include "tests/support/proc_state.h"
#include "tests/support/report_json.h"
#include "tests/support/test_support.h"

using namespace dial9::test;
namespace fs = std::filesystem;

namespace {

constexpr uint64_t kSegmentBytes = 1 << 20;
constexpr uint64_t kBudgetBytes = 8 << 20;

struct Reading {
  double at_s = 0;
  uint64_t rss_kib = 0;
  size_t fds = 0;
  uint64_t dir_bytes = 0;
  size_t segments = 0;
};

uint64_t dir_bytes(const std::string& dir, size_t* files) {
  uint64_t total = 0;
  *files = 0;
  std::error_code ec;
  for (const auto& e : fs::directory_iterator(dir, ec)) {
    std::error_code size_ec;  // a segment may be renamed or deleted meanwhile
    uint64_t n = e.file_size(size_ec);
    if (!size_ec) {
      total += n;
      ++*files;
    }
  }
  return total;
}

uint64_t most(const std::vector<Reading>& rs, size_t from, size_t to, uint64_t Reading::*field) {
  uint64_t m = 0;
  for (size_t i = from; i < to && i < rs.size(); ++i) m = std::max(m, rs[i].*field);
  return m;
}

}  // namespace

TEST_CASE("soak: continuous attach to a loaded service stays within budget, with flat memory and descriptors", "[soak]") {
  const char* env = std::getenv("DIAL9_SOAK_SECONDS");
  const int seconds = env && std::atoi(env) > 0 ? std::atoi(env) : 600;
  // About 12 MiB are written a minute here: less would not fill the budget,
  // and the retention check below would fail for want of data.
  INFO("DIAL9_SOAK_SECONDS=" << seconds << ": a soak needs at least 60 s");
  REQUIRE(seconds >= 60);
  TempDir tmp;
  int server_out = -1;
  const pid_t server = spawn({EXAMPLE_ECHO_SERVER, "--port", "0", "--threads", "2", "--slow-every", "50"}, &server_out);
  REQUIRE(server > 0);
  const std::string line = read_line(server_out);
  REQUIRE(line.rfind("listening on ", 0) == 0);
  const std::string port = line.substr(13);
  RunResult load;
  std::thread loader([&] {
    load = run({EXAMPLE_LOAD_GEN, "--port", port, "--connections", "4", "--duration", std::to_string(seconds + 3)});
  });
  std::this_thread::sleep_for(std::chrono::seconds(1));

  const std::string dir = tmp.file("t"), pid_file = tmp.file("pid");
  RunResult rec;
  std::thread recorder([&] {
    rec = run({"sh", "-c",
               "echo $$ > " + pid_file + "; exec " + dial9_binary() + " attach --max-file-size " +
                   std::to_string(kSegmentBytes >> 20) + "MiB --max-total-size " + std::to_string(kBudgetBytes >> 20) +
                   "MiB --duration " + std::to_string(seconds) + "s -o " + dir + " " + std::to_string(server)});
  });
  pid_t dial9 = -1;
  for (int i = 0; i < 500 && dial9 <= 0; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
    dial9 = std::atoi(read_all(pid_file).c_str());
  }
  REQUIRE(dial9 > 0);
  const auto start = std::chrono::steady_clock::now();
  std::vector<Reading> readings;
  for (;;) {
    std::this_thread::sleep_for(std::chrono::seconds(5));
    if (status_field(dial9, "State").empty()) break;  // dial9 is gone
    Reading r;
    r.at_s = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    r.rss_kib = std::strtoull(status_field(dial9, "VmRSS").c_str(), nullptr, 10);
    r.fds = fd_targets(dial9).size();
    r.dir_bytes = dir_bytes(dir, &r.segments);
    if (r.rss_kib == 0) break;  // exiting
    readings.push_back(r);
  }
  recorder.join();
  loader.join();
  INFO(rec.err);
  REQUIRE(rec.exit_code == 0);
  REQUIRE(readings.size() >= 4);

  const size_t n = readings.size(), quarter = n / 4;
  uint64_t dir_max = most(readings, 0, n, &Reading::dir_bytes);
  uint64_t rss_early = most(readings, 0, quarter + 1, &Reading::rss_kib);
  uint64_t rss_late = most(readings, quarter + 1, n, &Reading::rss_kib);
  size_t fds_early = 0, fds_late = 0;
  for (size_t i = 0; i < n; ++i) {
    size_t& m = i <= quarter ? fds_early : fds_late;
    m = std::max(m, readings[i].fds);
  }
  // "dial9 attach: N segment(s), SIZE in DIR": how many were sealed in all.
  size_t at = rec.err.find(" segment(s), ");
  size_t line_start = at == std::string::npos ? 0 : rec.err.rfind(": ", at) + 2;
  const unsigned long sealed = at == std::string::npos ? 0 : std::stoul(rec.err.substr(line_start, at - line_start));
  char summary[512];
  std::snprintf(summary, sizeof summary,
                "soak: %d s of attach, %lu segments sealed, %zu readings; directory at most %.1f MiB (budget %llu MiB + one %llu MiB segment); "
                "dial9 RSS at most %.1f MiB in the first quarter, %.1f MiB after; descriptors at most %zu, then %zu",
                seconds, sealed, n, static_cast<double>(dir_max) / (1 << 20), static_cast<unsigned long long>(kBudgetBytes >> 20),
                static_cast<unsigned long long>(kSegmentBytes >> 20), static_cast<double>(rss_early) / 1024,
                static_cast<double>(rss_late) / 1024, fds_early, fds_late);
  std::printf("%s\n%s", summary, rec.err.c_str());
  INFO(summary);

  CHECK(dir_max <= kBudgetBytes + kSegmentBytes + (256 << 10));
  CHECK(rss_late <= rss_early + rss_early / 10 + 2048);  // flat: within 10% + 2 MiB of the early peak
  CHECK(fds_late <= fds_early);
  // Retention really worked: more was sealed than the budget holds.
  CHECK(sealed > kBudgetBytes / kSegmentBytes);
  auto report = report_json({dir});
  CHECK(report["overview"]["skipped_segments"].empty());
  CHECK(report["overview"]["cpu_samples"].get<uint64_t>() > 0);
  // The server is unharmed: it answers until the load ends, then stops
  // cleanly on Ctrl-C.
  CHECK(load.exit_code == 0);
  ::kill(server, SIGINT);
  std::string rest = read_to_end(server_out);
  ::close(server_out);
  int status = 0;
  REQUIRE(::waitpid(server, &status, 0) == server);
  CHECK(WIFEXITED(status));
  CHECK(WEXITSTATUS(status) == 0);
  CHECK_THAT(rest, Catch::Contains("served "));
}
