// `dial9 report` as a user runs it: the real binary on committed traces, the
// Tokio fixture and broken inputs.
#include <catch2/catch.hpp>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>

#include <nlohmann/json.hpp>

#include "tests/support/report_json.h"
#include "tests/support/test_support.h"

using namespace dial9::test;
using nlohmann::json;

namespace {

std::string golden_dir() { return std::string(DIAL9_SOURCE_DIR) + "/tests/golden"; }
// Compares `actual` with the committed file; DIAL9_UPDATE_GOLDEN=1 rewrites
// the file instead (then review the diff and commit it).
void check_golden(const std::string& name, const std::string& actual) {
  std::string path = golden_dir() + "/" + name;
  if (const char* u = std::getenv("DIAL9_UPDATE_GOLDEN"); u && std::string(u) == "1") {
    std::filesystem::create_directories(golden_dir());
    std::ofstream(path, std::ios::binary) << actual;
    return;
  }
  INFO("golden file " << path << " (regenerate with ./dev golden and review the diff)");
  REQUIRE(std::filesystem::exists(path));
  CHECK(actual == read_text_file(path));
}

}  // namespace

TEST_CASE("report of the golden trace matches the committed text, Markdown and JSON") {
  for (const char* format : {"text", "markdown", "json"}) {
    RunResult r = run({dial9_binary(), "report", "--format", format, golden_trace_path()});
    INFO(format << ": " << r.err);
    REQUIRE(r.exit_code == 0);
    check_golden(std::string("report.") + (std::string(format) == "text" ? "txt" : std::string(format) == "json" ? "json" : "md"),
                 r.out);
  }
  RunResult no_inline = run({dial9_binary(), "report", "--no-inline", golden_trace_path()});
  REQUIRE(no_inline.exit_code == 0);
  check_golden("report-no-inline.txt", no_inline.out);
}

TEST_CASE("report of the golden trace: the facts behind the golden files") {
  json j = report_json({golden_trace_path()});
  CHECK(j["dial9_report_version"] == 1);
  CHECK(j["overview"]["command"] == "golden-svc --port 8080");
  CHECK(j["overview"]["lost_samples"] == 3);
  // worker-0 hashes 70% of its samples: the hottest function overall.
  REQUIRE(!j["hot_functions"].empty());
  CHECK(j["hot_functions"][0]["function"] == "golden::cache::hash_key");
  CHECK(j["hot_functions"][0]["file"] == "src/cache.rs");
  CHECK(j["hot_functions"][0]["line"] == 15);
  // The inlined decode_header is a function of its own...
  bool inlined = false;
  for (const auto& h : j["hot_functions"]) inlined = inlined || h["function"] == "golden::http::decode_header";
  CHECK(inlined);
  // ...and folds into parse_request without inlines.
  json folded = report_json({"--no-inline", golden_trace_path()});
  for (const auto& h : folded["hot_functions"]) CHECK(h["function"] != "golden::http::decode_header");
  // The 60 ms poll is the longest, with the read() it blocked in.
  REQUIRE(j["runtime"].is_object());
  REQUIRE(!j["runtime"]["long_polls"].empty());
  const json& lp = j["runtime"]["long_polls"][0];
  CHECK(lp["duration_ns"] == 60'000'000);
  CHECK(lp["spawn_loc"] == "src/db.rs:12:9");
  CHECK(lp["stack"][1] == "read");
  // Findings, most severe first: the long poll is critical.
  REQUIRE(!j["findings"].empty());
  CHECK(j["findings"][0]["severity"] == "critical");
  CHECK(j["findings"][0]["kind"] == "long_poll");
  bool lock = false;
  for (const auto& f : j["findings"]) lock = lock || f["kind"] == "lock_contention";
  CHECK(lock);
  CHECK(j["custom_events"][0]["name"] == "CacheMiss");
  CHECK(j["custom_events"][0]["count"] == 5);
  CHECK(j["spans"][0]["name"] == "handle_request");
  CHECK(j["spans"][0]["count"] == 40);
}

TEST_CASE("report selects threads, processes and time windows") {
  json one = report_json({"--thread", "worker-1", golden_trace_path()});
  REQUIRE(one["threads"].size() == 1);
  CHECK(one["threads"][0]["name"] == "worker-1");
  json window = report_json({"--from", "0.5s", "--to", "+0.6s", golden_trace_path()});
  CHECK(window["overview"]["duration_ns"] == 100'000'000);
  json last = report_json({"--from", "-100ms", golden_trace_path()});
  CHECK(last["overview"]["duration_ns"] == 100'000'000);
}

TEST_CASE("report: bad input gets one clear line and a meaningful exit code") {
  TempDir dir;
  std::filesystem::create_directories(dir.file("empty"));
  RunResult empty = run({dial9_binary(), "report", dir.file("empty")});
  CHECK(empty.exit_code == 1);
  CHECK(empty.err.find("no trace segments") != std::string::npos);
  CHECK(empty.out.empty());

  std::string text = "not a trace\n";
  dir.write("notes.txt", {reinterpret_cast<const uint8_t*>(text.data()), text.size()});
  RunResult junk = run({dial9_binary(), "report", dir.file("notes.txt")});
  CHECK(junk.exit_code == 1);
  CHECK(junk.err.find("not a dial9 trace") != std::string::npos);

  RunResult thread = run({dial9_binary(), "report", "--thread", "nope", golden_trace_path()});
  CHECK(thread.exit_code == 2);
  CHECK(thread.err.find("--thread 'nope'") != std::string::npos);
  CHECK(thread.err.find("worker-0") != std::string::npos);  // names the ones that exist

  RunResult window = run({dial9_binary(), "report", "--from", "yesterday", golden_trace_path()});
  CHECK(window.exit_code == 2);
  CHECK(window.err.find("--from") != std::string::npos);

  RunResult flag = run({dial9_binary(), "report", "--bogus", golden_trace_path()});
  CHECK(flag.exit_code == 2);
}

TEST_CASE("report skips a corrupt segment among good ones, names it and counts it") {
  TempDir dir;
  auto good = read_file_bytes(golden_trace_path());
  dir.write("run.0.bin", good);
  std::vector<uint8_t> bad = {'g', 'a', 'r', 'b', 'a', 'g', 'e', '!'};
  dir.write("run.1.bin", bad);
  RunResult r = run({dial9_binary(), "report", "--format", "json", dir.path()});
  INFO(r.err);
  REQUIRE(r.exit_code == 0);
  CHECK(r.err.find("run.1.bin") != std::string::npos);
  json j = json::parse(r.out);
  CHECK(j["overview"]["segments"] == 1);
  REQUIRE(j["overview"]["skipped_segments"].size() == 1);
  CHECK(j["overview"]["skipped_segments"][0]["path"].get<std::string>().find("run.1.bin") != std::string::npos);
  bool finding = false;
  for (const auto& f : j["findings"]) finding = finding || f["kind"] == "skipped_segments";
  CHECK(finding);
}

// The figures the Tokio project's own analysis toolkit (dial9-viewer's
// trace_analysis.js and analyze.js, run under node on the same file) reports
// for the fixture. Percentiles are the exact values at the toolkit's ranks;
// the toolkit prints HdrHistogram bucket bounds within 0.1% of them.
TEST_CASE("report of the Tokio fixture agrees with the Tokio toolkit") {
  auto fixture = tokio_fixture_path();
  if (!fixture) DIAL9_SKIP("../shared/fixtures is not beside the checkout");
  json j = report_json({*fixture});
  const json& o = j["overview"];
  CHECK(o["command"] == "metrics-service");
  CHECK(o["cpu_samples"] == 72);
  CHECK(o["offcpu_samples"] == 6877);

  const json& rt = j["runtime"];
  REQUIRE(rt.is_object());
  CHECK(rt["polls"] == 36801);
  REQUIRE(rt["workers"].size() == 2);
  CHECK(rt["workers"][0]["tid"] == 31710);
  CHECK(rt["workers"][0]["polls"] == 18365);
  CHECK(rt["workers"][0]["parks"] == 3110);
  CHECK(rt["workers"][0]["active_pct"].get<double>() == Approx(14.725711606878442).epsilon(1e-9));
  CHECK(rt["workers"][1]["tid"] == 31711);
  CHECK(rt["workers"][1]["polls"] == 18436);
  CHECK(rt["workers"][1]["parks"] == 3194);
  CHECK(rt["workers"][1]["active_pct"].get<double>() == Approx(13.801250889728348).epsilon(1e-9));

  // The four polls over 1 ms, longest first, with the samples inside them.
  const json& lp = rt["long_polls"];
  REQUIRE(lp.size() == 4);
  const uint64_t durations[] = {50280303, 47674756, 38924605, 5715593};
  const uint64_t tasks[] = {112, 121, 3, 3};
  const uint64_t starts[] = {503229939817263, 503229942422840, 503226599921335, 503226130657934};
  const uint64_t samples[] = {1, 1, 3, 1};
  for (size_t i = 0; i < 4; ++i) {
    INFO("long poll " << i);
    CHECK(lp[i]["duration_ns"] == durations[i]);
    CHECK(lp[i]["task_id"] == tasks[i]);
    CHECK(lp[i]["start_ns"] == starts[i]);
    CHECK(lp[i]["samples"] == samples[i]);
  }
  CHECK(lp[0]["spawn_loc"] == "examples/metrics-service/src/axum_traced.rs:173:32");
  // What the longest poll was blocked in, symbolized from the trace's table
  // with inlined frames innermost first: the toolkit's 157 frames (their
  // joined names hash to the same sha256 it prints), a socket() call
  // waiting in the kernel for an RCU grace period to grow the fd table.
  const json& stack = lp[0]["stack"];
  REQUIRE(stack.size() == 157);
  CHECK(stack[0] == "__schedule");
  CHECK(stack[5] == "synchronize_rcu");
  CHECK(stack[7] == "expand_files");
  CHECK(stack[13] == "__GI___socket");
  CHECK(stack[14] == "core::result::Result<T,E>::map_err");
  CHECK(stack[15] == "hyper_util::client::legacy::connect::http::connect");
  CHECK(stack[156] == "start_thread");
  CHECK(lp[1]["stack"].size() == 152);
  CHECK(lp[2]["stack"][0] == "jent_keccakp_1600");  // the CPU-bound third poll
  CHECK(lp[3]["stack"][4] == "wait_for_completion_killable");
  CHECK(lp[2]["spawn_loc"] == "examples/metrics-service/src/main.rs:220:14");

  const json& w2p = rt["wake_to_poll"];
  CHECK(w2p["count"] == 33480);
  CHECK(w2p["p50_ns"] == 8930);
  CHECK(w2p["p90_ns"] == 370981);
  CHECK(w2p["p99_ns"] == 1153193);
  CHECK(w2p["max_ns"] == 47676316);
  CHECK(rt["wake_to_poll_over_5ms"] == 41);

  // Poll durations by spawn location, by maximum.
  const json& by_spawn = rt["polls_by_spawn"];
  REQUIRE(by_spawn.size() == 5);
  CHECK(by_spawn[0]["spawn_loc"] == "examples/metrics-service/src/axum_traced.rs:173:32");
  CHECK(by_spawn[0]["count"] == 33473);
  CHECK(by_spawn[0]["p50_ns"] == 10300);
  CHECK(by_spawn[0]["p99_ns"] == 208471);
  CHECK(by_spawn[0]["max_ns"] == 50280303);
  CHECK(by_spawn[3]["spawn_loc"] == "examples/metrics-service/src/main.rs:242:24");
  CHECK(by_spawn[3]["p99_ns"] == 222170);
  CHECK(rt["global_queue"]["count"] == 464);
  CHECK(rt["global_queue"]["max"] == 0);

  // Spans by name, first enter to last exit.
  std::map<std::string, json> spans;
  for (const auto& s : j["spans"]) spans[s["name"]] = s;
  CHECK(spans["record_metric"]["count"] == 8027);
  CHECK(spans["record_metric"]["p50_ns"] == 2350);
  CHECK(spans["record_metric"]["max_ns"] == 2147235);
  CHECK(spans["query_metric"]["count"] == 1842);
  CHECK(spans["query_metric"]["p50_ns"] == 66189422);
  CHECK(spans["query_metric"]["p99_ns"] == 287396006);
  CHECK(spans["put_aggregate"]["count"] == 16);
  CHECK(spans["flush_to_ddb"]["count"] == 5);
  CHECK(spans["flush_to_ddb"]["max_ns"] == 550634862);

  // The toolkit's red flags: one critical and two warning long polls, and
  // 41 slow wakes with the worst at 47.7 ms.
  std::vector<std::pair<std::string, std::string>> long_poll_findings;
  bool slow_wakes = false;
  for (const auto& f : j["findings"]) {
    if (f["kind"] == "long_poll") long_poll_findings.emplace_back(f["severity"], f["title"]);
    if (f["kind"] == "wake_to_poll_delay") {
      slow_wakes = true;
      CHECK(f["severity"] == "warning");
      CHECK(f["title"].get<std::string>().find("41 woken tasks") == 0);
    }
  }
  CHECK(slow_wakes);
  REQUIRE(long_poll_findings.size() == 3);
  CHECK(long_poll_findings[0].first == "critical");
  CHECK(long_poll_findings[0].second.find("task 112") != std::string::npos);
  CHECK(long_poll_findings[1].first == "warning");
  CHECK(long_poll_findings[2].first == "warning");
  CHECK(j["findings"][0]["kind"] == "long_poll");
}

TEST_CASE("report and doctor colour only a terminal, and never with NO_COLOR or TERM=dumb") {
  if (run({"script", "--version"}).exit_code != 0) DIAL9_SKIP("script (util-linux) is not installed");
  const std::string esc = "\033[";
  // `script` gives the command a pseudo-terminal for standard output.
  auto on_tty = [](const std::string& env, const std::string& args) {
    return run({"script", "-qec", "env " + env + " " + dial9_binary() + " " + args, "/dev/null"});
  };
  const std::string report = "report " + golden_trace_path();
  RunResult tty = on_tty("-u NO_COLOR TERM=xterm", report);
  REQUIRE(tty.exit_code == 0);
  CHECK(tty.out.find(esc + "1mOverview" + esc + "0m") != std::string::npos);
  CHECK(tty.out.find(esc + "1;31m[critical]") != std::string::npos);  // the golden trace has critical findings
  CHECK(on_tty("NO_COLOR=1 TERM=xterm", report).out.find(esc) == std::string::npos);
  CHECK(on_tty("-u NO_COLOR TERM=dumb", report).out.find(esc) == std::string::npos);
  RunResult piped = run({"env", "-u", "NO_COLOR", "TERM=xterm", dial9_binary(), "report", golden_trace_path()});
  CHECK(piped.out.find(esc) == std::string::npos);

  RunResult doctor = on_tty("-u NO_COLOR TERM=xterm", "doctor");
  CHECK(doctor.out.find(esc + "32mok" + esc + "0m") != std::string::npos);
  CHECK(on_tty("NO_COLOR=1", "doctor").out.find(esc) == std::string::npos);
}
