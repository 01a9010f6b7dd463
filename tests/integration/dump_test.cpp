// The real dial9 binary on real files: `dial9 dump`.
#include <catch2/catch.hpp>

#include <sys/stat.h>
#include <unistd.h>

#include <map>
#include <nlohmann/json.hpp>
#include <sstream>

#include "format/trace_writer.h"
#include "tests/support/test_support.h"

using namespace dial9;
using test::run;

namespace {

std::vector<std::string> lines_of(const std::string& s) {
  std::vector<std::string> out;
  std::istringstream in(s);
  for (std::string l; std::getline(in, l);) out.push_back(l);
  return out;
}

std::vector<uint8_t> small_trace() {
  format::TraceWriter w;
  w.clock_sync(1000, format::ClockSync{1700000000000000000ull});
  std::vector<std::pair<std::string, std::string>> meta = {{"service", "demo"}};
  w.segment_metadata(1000, meta);
  const uint64_t chain[] = {0x401000, 0x402000};
  for (int i = 0; i < 50; ++i) {
    format::CpuSample s;
    s.tid = 7;
    s.thread_name = "main";
    w.cpu_sample(2000 + static_cast<uint64_t>(i) * 1000000, s, chain);
    w.poll_start(2500 + static_cast<uint64_t>(i) * 1000000, format::PollStart{0, 0, 1, "loop"});
    w.poll_end(2600 + static_cast<uint64_t>(i) * 1000000, format::PollEnd{0});
  }
  return w.take();
}

}  // namespace

TEST_CASE("dump --format jsonl of the Tokio fixture yields the documented counts") {
  auto path = test::tokio_fixture_path();
  if (!path) DIAL9_SKIP("../shared/fixtures/tokio-demo-trace.bin.gz is absent (not in this checkout)");
  auto r = run({test::dial9_binary(), "dump", "--format", "jsonl", *path});
  REQUIRE(r.exit_code == 0);
  CHECK(r.err.empty());
  std::map<std::string, uint64_t> counts;
  uint64_t span_enter = 0, span_exit = 0;
  for (const auto& line : lines_of(r.out)) {
    auto j = nlohmann::json::parse(line);
    std::string ev = j["event"];
    if (ev.rfind("SpanEnter:", 0) == 0) {
      ++span_enter;
    } else if (ev.rfind("SpanExit:", 0) == 0) {
      ++span_exit;
    } else {
      counts[ev]++;
    }
    REQUIRE(j.contains("timestamp_ns"));
  }
  CHECK(counts == test::tokio_fixture_counts());
  CHECK(span_enter == test::kTokioFixtureSpans);
  CHECK(span_exit == test::kTokioFixtureSpans);
}

TEST_CASE("dump --event filters by schema-name prefix") {
  test::TempDir dir;
  dir.write("t.bin", small_trace());
  auto r = run({test::dial9_binary(), "dump", "--event", "Poll", dir.file("t.bin")});
  REQUIRE(r.exit_code == 0);
  auto lines = lines_of(r.out);
  CHECK(lines.size() == 100);
  for (const auto& l : lines) CHECK_THAT(l, Catch::Contains("  Poll"));
  auto r2 = run({test::dial9_binary(), "dump", "-e", "ClockSync,SegmentMeta", dir.file("t.bin")});
  CHECK(lines_of(r2.out).size() == 2);
}

TEST_CASE("dump reads a directory of segments in segment order, any container") {
  test::TempDir dir;
  auto raw = small_trace();
  dir.write("run.10.bin.zst", test::zstd_compress(raw));
  dir.write("run.2.bin.gz", test::gzip(raw));
  dir.write("run.1.bin", raw);
  dir.write("notes.txt", std::vector<uint8_t>{'h', 'i'});
  auto r = run({test::dial9_binary(), "dump", "--format", "jsonl", "-e", "SegmentMetadata", dir.path()});
  REQUIRE(r.exit_code == 0);
  CHECK(lines_of(r.out).size() == 3);
  test::TempDir empty;
  auto r2 = run({test::dial9_binary(), "dump", empty.path()});
  CHECK(r2.exit_code == 1);
  CHECK_THAT(r2.err, Catch::Contains("holds no trace segments"));
}

TEST_CASE("dump of a truncated trace prints what precedes the cut and warns with the offset") {
  test::TempDir dir;
  auto raw = small_trace();
  auto full = run({test::dial9_binary(), "dump", "--format", "jsonl", [&] {
                     dir.write("full.bin", raw);
                     return dir.file("full.bin");
                   }()});
  REQUIRE(full.exit_code == 0);
  size_t full_lines = lines_of(full.out).size();
  std::vector<uint8_t> cut(raw.begin(), raw.begin() + static_cast<ptrdiff_t>(raw.size() - 5));
  dir.write("cut.bin", cut);
  auto r = run({test::dial9_binary(), "dump", "--format", "jsonl", dir.file("cut.bin")});
  CHECK(r.exit_code == 0);
  CHECK(lines_of(r.out).size() == full_lines - 1);
  CHECK_THAT(r.err, Catch::Contains("cut.bin is truncated at byte"));
  auto gz = test::gzip(raw);
  gz.resize(gz.size() / 2);
  dir.write("cut.bin.gz", gz);
  auto r2 = run({test::dial9_binary(), "dump", dir.file("cut.bin.gz")});
  CHECK(r2.exit_code == 0);
  CHECK_THAT(r2.err, Catch::Contains("truncated at byte") && Catch::Contains("gzip member 1 ends early"));
}

TEST_CASE("dump refuses what is not a trace with one line and exit 1") {
  test::TempDir dir;
  std::string text = "just some text\n";
  dir.write("notes.txt", std::vector<uint8_t>(text.begin(), text.end()));
  auto r = run({test::dial9_binary(), "dump", dir.file("notes.txt")});
  CHECK(r.exit_code == 1);
  CHECK(r.out.empty());
  CHECK(lines_of(r.err).size() == 1);
  CHECK_THAT(r.err, Catch::Contains("notes.txt': not a dial9 trace: expected a TRC stream"));
  auto missing = run({test::dial9_binary(), "dump", dir.file("missing.bin")});
  CHECK(missing.exit_code == 1);
  CHECK_THAT(missing.err, Catch::Contains("cannot open") && Catch::Contains("No such file"));
  dir.write("empty.bin", std::vector<uint8_t>{});
  auto empty = run({test::dial9_binary(), "dump", dir.file("empty.bin")});
  CHECK(empty.exit_code == 1);
  CHECK_THAT(empty.err, Catch::Contains("is empty"));
}

TEST_CASE("usage errors exit 2 with one line naming the fix") {
  auto r = run({test::dial9_binary(), "dump", "--no-such-flag", "x"});
  CHECK(r.exit_code == 2);
  CHECK(lines_of(r.err).size() == 1);
  CHECK_THAT(r.err, Catch::Contains("--no-such-flag") && Catch::Contains("dial9 dump --help"));
  auto r2 = run({test::dial9_binary(), "dump", "--format", "xml", "x"});
  CHECK(r2.exit_code == 2);
  auto r3 = run({test::dial9_binary(), "dump"});
  CHECK(r3.exit_code == 2);
  auto r4 = run({test::dial9_binary(), "frobnicate"});
  CHECK(r4.exit_code == 2);
  CHECK(r4.err == "dial9: unknown command 'frobnicate' (commands: record, attach, report, export, dump, doctor, config; see 'dial9 --help')\n");
  auto help = run({test::dial9_binary(), "dump", "--help"});
  CHECK(help.exit_code == 0);
  for (const char* opt : {"--format", "--event"}) CHECK_THAT(help.out, Catch::Contains(opt));
  auto version = run({test::dial9_binary(), "--version"});
  CHECK(version.exit_code == 0);
  CHECK_THAT(version.out, Catch::StartsWith("dial9 "));
}

TEST_CASE("the README demo trace in tests/data dumps cleanly") {
  auto r = run({test::dial9_binary(), "dump", std::string(DIAL9_SOURCE_DIR) + "/tests/data/demo.bin.zst"});
  REQUIRE(r.exit_code == 0);
  CHECK(r.err.empty());
  CHECK(lines_of(r.out).size() > 100);
  CHECK_THAT(r.out, Catch::Contains("CpuSampleEvent"));
}

namespace {

// A one-stream segment whose clock anchor says it started at `realtime_ns`.
std::vector<uint8_t> segment_starting_at(uint64_t realtime_ns, uint64_t task) {
  format::TraceWriter w;
  w.clock_sync(1000, format::ClockSync{realtime_ns});
  w.task_terminate(2000, format::TaskTerminate{task});
  return w.take();
}

}  // namespace

TEST_CASE("dump of a directory: ordered by recorded start time, damaged segments skipped") {
  test::TempDir dir;
  // Names sort the other way round from the start times.
  dir.write("a.1.bin", segment_starting_at(3'000'000'000, 3));
  dir.write("b.1.bin", segment_starting_at(1'000'000'000, 1));
  dir.write("a.2.bin.zst", test::zstd_compress(segment_starting_at(2'000'000'000, 2)));
  // A crashed writer's unfinished segment: read as a truncated one.
  auto cut = segment_starting_at(4'000'000'000, 4);
  format::TraceWriter more;
  more.task_terminate(3000, format::TaskTerminate{5});
  cut.insert(cut.end(), more.bytes().begin(), more.bytes().end() - 2);
  dir.write("a.3.bin.active", cut);
  // A dangling symlink with a segment's name is passed over.
  REQUIRE(::symlink((dir.path() + "/nowhere").c_str(), dir.file("zz.9.bin").c_str()) == 0);
  // Garbage under a segment's name.
  std::string junk = "this is not a trace";
  dir.write("a.9.bin.zst", std::vector<uint8_t>(junk.begin(), junk.end()));
  auto r = run({test::dial9_binary(), "dump", "--format", "jsonl", "-e", "TaskTerminate", dir.path()});
  CHECK(r.exit_code == 0);
  std::vector<uint64_t> order;
  for (const auto& l : lines_of(r.out)) order.push_back(nlohmann::json::parse(l)["task_id"]);
  CHECK(order == std::vector<uint64_t>{1, 2, 3, 4});
  CHECK_THAT(r.err, Catch::Contains("warning: skipping segment '" + dir.file("a.9.bin.zst") + "'"));
  CHECK_THAT(r.err, Catch::Contains("a.3.bin.active is truncated"));
  // Named explicitly, the same junk file is an error.
  auto named = run({test::dial9_binary(), "dump", dir.file("a.9.bin.zst")});
  CHECK(named.exit_code == 1);
}
