// `dial9 export --pprof/--chrome/--speedscope` on the golden trace, each
// output read back by something other than the code that wrote it: pprof by
// an independent JavaScript decoder (tests/js/check_pprof.js, Datadog's
// pprof-format), the JSON formats checked field by field against their
// documented schemas (the Trace Event Format document; speedscope's
// file-format-schema.json, its required fields written out by hand here).
#include <catch2/catch.hpp>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <map>
#include <set>
#include <sstream>
#include <tuple>

#include <nlohmann/json.hpp>

#include "capture/event_spec.h"
#include "capture/perf_ring.h"
#include "tests/support/perf_available.h"
#include "tests/support/test_support.h"

using namespace dial9::test;
using Json = nlohmann::json;
namespace fs = std::filesystem;

namespace {

// The golden trace samples at 999 Hz: each sample stands for round(1e9/999) ns.
constexpr int64_t kGoldenPeriodNs = 1001001;

Json read_json(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return Json::parse(ss.str());
}

// The report's own figures, to compare the exports against.
Json golden_overview() {
  RunResult rep = run({dial9_binary(), "report", "--format", "json", golden_trace_path()});
  REQUIRE(rep.exit_code == 0);
  return Json::parse(rep.out)["overview"];
}

// Thread names as the trace's ThreadNameEvents give them, by tid.
std::map<uint64_t, std::string> golden_thread_names() {
  RunResult d = run({dial9_binary(), "dump", "--format", "jsonl", "--event", "ThreadName", golden_trace_path()});
  REQUIRE(d.exit_code == 0);
  std::map<uint64_t, std::string> names;
  std::istringstream in(d.out);
  for (std::string line; std::getline(in, line);) {
    Json e = Json::parse(line);
    names[e["tid"].get<uint64_t>()] = e["name"].get<std::string>();
  }
  return names;
}

// Why the pprof decoder cannot run here, or "" when it can.
std::string pprof_decoder_missing() {
  try {
    if (run({"node", "--version"}).exit_code != 0) return "node does not run";
  } catch (const std::exception&) {
    return "node is not installed (./dev setup installs it)";
  }
  if (!fs::exists(std::string(DIAL9_SOURCE_DIR) + "/tests/js/node_modules/pprof-format/package.json")) {
    return "the pprof-format npm module is missing (./dev setup, or npm ci in tests/js)";
  }
  return "";
}

// Decodes a pprof file with tests/js/check_pprof.js; its summary as JSON.
Json decode_pprof(const std::string& path) {
  RunResult r = run({"node", std::string(DIAL9_SOURCE_DIR) + "/tests/js/check_pprof.js", path});
  INFO(r.err);
  REQUIRE(r.exit_code == 0);
  Json j = Json::parse(r.out);
  for (const auto& e : j["errors"]) FAIL_CHECK("pprof: " + e.get<std::string>());
  return j;
}

// The complete ("X") events of each track nest, as the format requires of
// one thread's slices (Perfetto drops those that overlap partially).
void check_slices_nest(const Json& doc) {
  std::map<std::pair<uint64_t, uint64_t>, std::vector<std::tuple<double, double, std::string>>> tracks;
  for (const Json& e : doc["traceEvents"]) {
    if (e["ph"] != "X") continue;
    double ts = e["ts"], dur = e["dur"];
    tracks[{e["pid"], e["tid"]}].emplace_back(ts, ts + dur, e["name"]);
  }
  size_t bad = 0;
  for (auto& [track, slices] : tracks) {
    std::sort(slices.begin(), slices.end(), [](const auto& a, const auto& b) {
      return std::get<0>(a) != std::get<0>(b) ? std::get<0>(a) < std::get<0>(b) : std::get<1>(a) > std::get<1>(b);
    });
    std::vector<double> open;  // ends of the enclosing slices
    for (const auto& [start, end, name] : slices) {
      while (!open.empty() && open.back() <= start) open.pop_back();
      if (!open.empty() && end > open.back() && bad++ < 5) {
        FAIL_CHECK("tid " << track.second << ": " << name << " at " << start << " overlaps its enclosing slice");
      }
      open.push_back(end);
    }
  }
  CHECK(bad == 0);
}

bool contains(const Json& array, const Json& value) {
  return std::find(array.begin(), array.end(), value) != array.end();
}

}  // namespace

TEST_CASE("export --pprof decodes independently: report totals, functions, inlined calls as lines") {
  if (auto why = pprof_decoder_missing(); !why.empty()) DIAL9_SKIP(why);
  TempDir dir;
  RunResult r = run({dial9_binary(), "export", golden_trace_path(), "--pprof", dir.file("cpu.pb.gz")});
  INFO(r.err);
  REQUIRE(r.exit_code == 0);
  Json overview = golden_overview();
  const auto cpu_samples = overview["cpu_samples"].get<int64_t>();

  Json p = decode_pprof(dir.file("cpu.pb.gz"));
  INFO(p.dump());
  CHECK(p["sample_types"] == Json::parse(R"([["samples","count"],["cpu","nanoseconds"]])"));
  CHECK(p["period_type"] == Json::parse(R"(["cpu","nanoseconds"])"));
  CHECK(p["period"] == kGoldenPeriodNs);
  CHECK(p["totals"]["samples/count"] == cpu_samples);
  CHECK(p["totals"]["cpu/nanoseconds"] == cpu_samples * kGoldenPeriodNs);
  for (const char* fn : {"main", "golden::server::serve", "golden::http::parse_request",
                         "golden::http::decode_header", "golden::codec::compress"}) {
    CHECK(contains(p["functions"], fn));
  }
  CHECK(contains(p["files"], "src/http.rs"));
  // decode_header is inlined into parse_request: one location, two lines,
  // the inlined (innermost) call first.
  CHECK(contains(p["inlined_locations"], Json::parse(R"(["golden::http::decode_header","golden::http::parse_request"])")));
  CHECK(p["label_keys"] == Json::parse(R"(["thread","tid"])"));
  // The golden trace names its addresses from its own symbol table and
  // records no mappings: one mapping per module name.
  REQUIRE(p["mappings"].size() >= 1);
  CHECK(p["mappings"][0]["has_inline_frames"] == true);
  CHECK(p["duration_nanos"] == overview["duration_ns"]);

  // Off-CPU: waits and the time blocked in them (the golden trace has
  // thread states), kernel frames included.
  REQUIRE(run({dial9_binary(), "export", golden_trace_path(), "--off-cpu", "--pprof", dir.file("off.pb.gz")}).exit_code == 0);
  Json off = decode_pprof(dir.file("off.pb.gz"));
  CHECK(off["sample_types"] == Json::parse(R"([["waits","count"],["off_cpu","nanoseconds"]])"));
  CHECK(off["totals"]["waits/count"] == overview["offcpu_samples"]);
  CHECK(off["totals"]["off_cpu/nanoseconds"] == 258'800'000);
  CHECK(contains(off["functions"], "__schedule"));
  CHECK(contains(off["functions"], "pthread_mutex_lock"));

  // --no-inline: no location has more than one line, decode_header is gone;
  // the selection applies.
  REQUIRE(run({dial9_binary(), "export", golden_trace_path(), "--no-inline", "--thread", "worker-1", "--pprof",
               dir.file("ni.pb.gz")})
              .exit_code == 0);
  Json ni = decode_pprof(dir.file("ni.pb.gz"));
  CHECK(ni["inlined_locations"].empty());
  CHECK_FALSE(contains(ni["functions"], "golden::http::decode_header"));
  CHECK(ni["totals"]["samples/count"] == 500);
}

TEST_CASE("export --pprof of a real recording has the mapped files, their ranges and build ids") {
  if (auto why = pprof_decoder_missing(); !why.empty()) DIAL9_SKIP(why);
  if (auto why = perf_unavailable(); !why.empty()) DIAL9_SKIP("perf events unavailable: " + why);
  TempDir dir;
  RunResult rec = run({dial9_binary(), "record", "-q", "-e", "cpu-clock", "-o", dir.file("t"), FIXTURE_SPIN, "300"});
  INFO(rec.err);
  REQUIRE(rec.exit_code == 0);
  RunResult r = run({dial9_binary(), "export", dir.file("t"), "--pprof", dir.file("cpu.pb.gz")});
  INFO(r.err);
  REQUIRE(r.exit_code == 0);
  RunResult rep = run({dial9_binary(), "report", "--format", "json", dir.file("t")});
  REQUIRE(rep.exit_code == 0);
  Json p = decode_pprof(dir.file("cpu.pb.gz"));
  INFO(p.dump());
  CHECK(p["totals"]["samples/count"] == Json::parse(rep.out)["overview"]["cpu_samples"]);
  CHECK(contains(p["functions"], "spin_cpu(double)"));
  bool fixture = false;
  for (const Json& m : p["mappings"]) {
    if (m["filename"] != FIXTURE_SPIN) continue;
    fixture = true;
    CHECK(m["memory_limit"].get<double>() > m["memory_start"].get<double>());
    CHECK(m["build_id"].get<std::string>().size() == 40);  // GNU build ids are 20 bytes of SHA-1
    CHECK(m["has_functions"] == true);
  }
  CHECK(fixture);
}

TEST_CASE("export --chrome follows the Trace Event Format: threads named, slices on their workers") {
  TempDir dir;
  RunResult r = run({dial9_binary(), "export", golden_trace_path(), "--chrome", dir.file("trace.json")});
  INFO(r.err);
  REQUIRE(r.exit_code == 0);
  Json overview = golden_overview();
  Json doc = read_json(dir.file("trace.json"));
  REQUIRE(doc.is_object());
  REQUIRE(doc["traceEvents"].is_array());
  const Json& frames = doc["stackFrames"];
  REQUIRE(frames.is_object());
  const double duration_us = overview["duration_ns"].get<double>() / 1000.0;

  std::map<uint64_t, std::string> thread_names;  // from thread_name metadata
  std::map<uint64_t, uint64_t> worker_tid;       // from the polls' args
  std::map<std::string, size_t> by_cat;
  size_t instants = 0;
  for (const Json& e : doc["traceEvents"]) {
    INFO(e.dump());
    // Fields every event has: ph, name, pid, tid; ts (microseconds) on all
    // but metadata, which may have it.
    REQUIRE(e["ph"].is_string());
    REQUIRE(e["name"].is_string());
    REQUIRE(e["pid"].is_number_unsigned());
    REQUIRE(e["tid"].is_number_unsigned());
    const std::string ph = e["ph"];
    if (ph == "M") {
      CHECK((e["name"] == "process_name" || e["name"] == "thread_name"));
      REQUIRE(e["args"]["name"].is_string());
      if (e["name"] == "thread_name") thread_names[e["tid"]] = e["args"]["name"];
      continue;
    }
    REQUIRE(e["ts"].is_number());
    CHECK(e["ts"].get<double>() >= 0);
    CHECK(e["ts"].get<double>() <= duration_us);
    if (ph == "X") {
      REQUIRE(e["dur"].is_number());
      CHECK(e["dur"].get<double>() >= 0);
      CHECK(e["ts"].get<double>() + e["dur"].get<double>() <= duration_us);
      REQUIRE(e["cat"].is_string());
      ++by_cat[e["cat"]];
      if (e["cat"] == "poll") worker_tid[e["args"]["worker"]] = e["tid"];
    } else {
      REQUIRE(ph == "i");
      CHECK(e["s"] == "t");  // thread-scoped
      ++instants;
      if (e.contains("sf")) {
        REQUIRE(frames.contains(e["sf"].get<std::string>()));
        const std::string leaf = frames[e["sf"].get<std::string>()]["name"];
        CHECK(e["name"].get<std::string>().find(leaf) != std::string::npos);
      }
    }
  }
  // Every stack frame names its parent, and the parent exists.
  for (const auto& [id, f] : frames.items()) {
    CHECK(f["name"].is_string());
    if (f.contains("parent")) CHECK(frames.contains(f["parent"].get<std::string>()));
  }
  check_slices_nest(doc);
  // Metadata names are the trace's thread names; the made-up tracks (tids
  // past any Linux tid) name their worker's spans.
  auto names = golden_thread_names();
  for (const auto& [tid, name] : names) CHECK(thread_names[tid] == name);
  for (const auto& [tid, name] : thread_names) {
    if (names.count(tid) == 0) {
      CHECK(tid >= 0x7ffe0000);
      CHECK(name.find("spans") != std::string::npos);
    }
  }
  // Each runtime worker's polls are on the thread that ran it.
  CHECK(thread_names[worker_tid[0]] == "worker-0");
  CHECK(thread_names[worker_tid[1]] == "worker-1");
  CHECK(by_cat["poll"] == 42);  // the golden trace's PollStart events
  CHECK(by_cat["span"] == 40);
  CHECK(by_cat["park"] == 5);
  CHECK(instants == overview["cpu_samples"].get<size_t>() + overview["offcpu_samples"].get<size_t>());
}

TEST_CASE("export --speedscope has the file format's required fields, one sampled profile per thread") {
  TempDir dir;
  RunResult r = run({dial9_binary(), "export", golden_trace_path(), "--speedscope", dir.file("prof.json")});
  INFO(r.err);
  REQUIRE(r.exit_code == 0);
  Json overview = golden_overview();
  Json doc = read_json(dir.file("prof.json"));

  // FileFormat.File: $schema, shared.frames, profiles; name, exporter and
  // activeProfileIndex are optional but typed.
  CHECK(doc["$schema"] == "https://www.speedscope.app/file-format-schema.json");
  const Json& frames = doc["shared"]["frames"];
  REQUIRE(frames.is_array());
  for (const Json& f : frames) {
    INFO(f.dump());
    CHECK(f["name"].is_string());  // Frame: name required; file, line, col optional
    if (f.contains("file")) CHECK(f["file"].is_string());
    if (f.contains("line")) CHECK(f["line"].is_number_unsigned());
  }
  CHECK(doc["name"].is_string());
  CHECK(doc["exporter"].is_string());
  CHECK(doc["activeProfileIndex"].is_number_unsigned());
  REQUIRE(doc["profiles"].is_array());
  REQUIRE(!doc["profiles"].empty());

  std::set<std::string> profile_names;
  uint64_t total = 0;
  bool inlined_path = false;
  for (const Json& p : doc["profiles"]) {
    // SampledProfile: type, name, unit, startValue, endValue, samples, weights.
    CHECK(p["type"] == "sampled");
    REQUIRE(p["name"].is_string());
    profile_names.insert(p["name"]);
    CHECK(p["unit"] == "nanoseconds");  // the golden trace gives a frequency
    const std::set<std::string> units = {"none", "nanoseconds", "microseconds", "milliseconds", "seconds", "bytes"};
    CHECK(units.count(p["unit"].get<std::string>()) == 1);
    REQUIRE(p["startValue"].is_number());
    REQUIRE(p["endValue"].is_number());
    REQUIRE(p["samples"].is_array());
    REQUIRE(p["weights"].is_array());
    REQUIRE(p["samples"].size() == p["weights"].size());
    uint64_t sum = 0;
    for (const Json& w : p["weights"]) sum += w.get<uint64_t>();
    CHECK(p["endValue"].get<uint64_t>() - p["startValue"].get<uint64_t>() == sum);
    total += sum;
    for (const Json& s : p["samples"]) {
      REQUIRE(s.is_array());
      std::vector<std::string> names;
      for (const Json& i : s) {
        REQUIRE(i.is_number_unsigned());
        REQUIRE(i.get<size_t>() < frames.size());
        names.push_back(frames[i.get<size_t>()]["name"]);
      }
      // Root first.
      CHECK((names.front() == "main" || names.front() == "pthread_mutex_lock"));
      inlined_path = inlined_path || names == std::vector<std::string>{"main", "golden::server::serve",
                                                                       "golden::http::parse_request",
                                                                       "golden::http::decode_header"};
    }
  }
  CHECK(inlined_path);
  CHECK(total == overview["cpu_samples"].get<uint64_t>() * kGoldenPeriodNs);
  CHECK(profile_names.count("worker-0 (tid 4243)") == 1);
  CHECK(profile_names.count("worker-1 (tid 4244)") == 1);
}

TEST_CASE("export --chrome of the Tokio recorder's trace: every poll and span, slices that nest") {
  auto fixture = tokio_fixture_path();
  if (!fixture) DIAL9_SKIP("the Tokio recorder's fixture (../shared/fixtures) is not here");
  TempDir dir;
  RunResult r = run({dial9_binary(), "export", *fixture, "--chrome", dir.file("trace.json")});
  INFO(r.err);
  REQUIRE(r.exit_code == 0);
  Json doc = read_json(dir.file("trace.json"));
  std::map<std::string, size_t> by_cat;
  for (const Json& e : doc["traceEvents"]) {
    if (e["ph"] == "X") ++by_cat[e["cat"]];
  }
  // Every poll start and every span instance.
  CHECK(by_cat["poll"] == tokio_fixture_counts().at("PollStartEvent"));
  CHECK(by_cat["span"] > 0);
  check_slices_nest(doc);
}
