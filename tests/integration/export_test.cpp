// `dial9 export` as a user runs it: outputs written whole, filters shared
// with report, clear errors.
#include <catch2/catch.hpp>

#include <filesystem>
#include <fstream>
#include <sstream>

#include <nlohmann/json.hpp>

#include "tests/support/test_support.h"

using namespace dial9::test;
namespace fs = std::filesystem;

namespace {

// Sum of the counts of folded lines, and the lines.
uint64_t folded_total(const std::string& text, std::vector<std::string>* lines = nullptr) {
  uint64_t total = 0;
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);) {
    total += std::stoull(line.substr(line.rfind(' ') + 1));
    if (lines) lines->push_back(line);
  }
  return total;
}

}  // namespace

TEST_CASE("export --folded sums to the report's sample count, with kernel and inline marks") {
  TempDir dir;
  RunResult r = run({dial9_binary(), "export", golden_trace_path(), "--folded", dir.file("on.folded")});
  INFO(r.err);
  REQUIRE(r.exit_code == 0);
  RunResult rep = run({dial9_binary(), "report", "--format", "json", golden_trace_path()});
  REQUIRE(rep.exit_code == 0);
  auto j = nlohmann::json::parse(rep.out);
  std::vector<std::string> lines;
  CHECK(folded_total(read_text_file(dir.file("on.folded")), &lines) == j["overview"]["cpu_samples"].get<uint64_t>());
  CHECK(std::find(lines.begin(), lines.end(),
                  "main;golden::server::serve;golden::http::parse_request;golden::http::decode_header_[i] 250") !=
        lines.end());

  // Off-CPU stacks weighted by blocked ns (the golden trace has thread
  // states), adding up to the report's off-CPU time; kernel frames marked;
  // --no-inline folds decode_header.
  REQUIRE(run({dial9_binary(), "export", golden_trace_path(), "--off-cpu", "--folded", dir.file("off.folded")}).exit_code == 0);
  std::string off = read_text_file(dir.file("off.folded"));
  uint64_t blocked = 0;
  for (const auto& o : j["off_cpu"]) blocked += o["blocked_ns"].get<uint64_t>();
  CHECK(folded_total(off) == blocked);
  CHECK(off.find("pthread_mutex_lock;__lll_lock_wait;futex_wait_[k];__schedule_[k] 200000000") != std::string::npos);
  REQUIRE(run({dial9_binary(), "export", golden_trace_path(), "--no-inline", "--folded", dir.file("ni.folded")}).exit_code == 0);
  CHECK(read_text_file(dir.file("ni.folded")).find("decode_header") == std::string::npos);

  // The report's filters apply.
  REQUIRE(run({dial9_binary(), "export", golden_trace_path(), "--thread", "worker-1", "--folded", dir.file("w1.folded")})
              .exit_code == 0);
  CHECK(folded_total(read_text_file(dir.file("w1.folded"))) == 500);
}

TEST_CASE("export: no output, an unwritable output and a bad trace fail clearly, leaving no partial file") {
  TempDir dir;
  RunResult none = run({dial9_binary(), "export", golden_trace_path()});
  CHECK(none.exit_code == 2);
  CHECK(none.err.find("nothing to export") != std::string::npos);

  RunResult missing_dir = run({dial9_binary(), "export", golden_trace_path(), "--folded", dir.file("no/such/dir/x")});
  CHECK(missing_dir.exit_code == 1);
  CHECK(missing_dir.err.find("--folded") != std::string::npos);
  CHECK(missing_dir.err.find("does not exist") != std::string::npos);

  std::string junk = "not a trace";
  dir.write("junk.bin", {reinterpret_cast<const uint8_t*>(junk.data()), junk.size()});
  RunResult bad = run({dial9_binary(), "export", dir.file("junk.bin"), "--folded", dir.file("out.folded")});
  CHECK(bad.exit_code == 1);
  CHECK_FALSE(fs::exists(dir.file("out.folded")));
  // Nothing but the inputs is left in the directory: no temporary files.
  size_t files = 0;
  for (const auto& e : fs::directory_iterator(dir.path())) files += e.path().filename() != "junk.bin";
  CHECK(files == 0);
}

TEST_CASE("export writes through devices and symlinks instead of replacing them") {
  TempDir dir;
  REQUIRE(run({dial9_binary(), "export", golden_trace_path(), "--folded", "/dev/null"}).exit_code == 0);
  CHECK(fs::is_character_file("/dev/null"));
  std::string target = dir.file("target.folded");
  { std::ofstream(target) << "old"; }
  fs::create_symlink(target, dir.file("link.folded"));
  REQUIRE(run({dial9_binary(), "export", golden_trace_path(), "--folded", dir.file("link.folded")}).exit_code == 0);
  CHECK(fs::is_symlink(dir.file("link.folded")));
  CHECK(read_text_file(target).find("golden::cache::hash_key") != std::string::npos);
}

TEST_CASE("a full disk on standard output or an output file is an error, with one line (report, dump, doctor, export)") {
  if (!fs::exists("/dev/full")) DIAL9_SKIP("/dev/full does not exist here");
  const std::string trace = golden_trace_path();
  RunResult rep = run({"sh", "-c", "\"$0\" report \"$1\" > /dev/full", dial9_binary(), trace});
  CHECK(rep.exit_code == 1);
  CHECK(rep.err.find("No space left on device") != std::string::npos);
  RunResult dump = run({"sh", "-c", "\"$0\" dump \"$1\" > /dev/full", dial9_binary(), trace});
  CHECK(dump.exit_code == 1);
  CHECK(dump.err.find("No space left on device") != std::string::npos);
  RunResult doc = run({"sh", "-c", "\"$0\" doctor > /dev/full", dial9_binary()});
  CHECK(doc.exit_code == 1);
  CHECK(doc.err.find("No space left on device") != std::string::npos);
  RunResult exp = run({dial9_binary(), "export", trace, "--folded", "/dev/full"});
  CHECK(exp.exit_code == 1);
  CHECK(exp.err.find("--folded") != std::string::npos);
}
