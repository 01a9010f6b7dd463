// The pprof, Chrome trace and speedscope exporters on small hand-built
// models: hostile names, made-up tracks, merged runs, the sample period.
// (Their output on a real trace, read back by independent decoders, is in
// tests/integration/tool_exports_test.cpp.)
#include <catch2/catch.hpp>

#include <nlohmann/json.hpp>

#include "report/export/chrome.h"
#include "report/export/pprof.h"
#include "report/export/sample_period.h"
#include "report/export/speedscope.h"
#include "tests/support/test_support.h"

using namespace dial9::report;
using Json = nlohmann::json;

namespace {

constexpr uint64_t kMs = 1'000'000;

// Not UTF-8: a lone continuation byte, a truncated sequence, an overlong '/'.
const std::string kHostile = "bad\x80name\xc3(\"quoted\"\n\xc0\xaf;end";
const std::string kReplacement = "\xef\xbf\xbd";

struct ModelBuilder {
  TraceModel m;
  ModelBuilder() { m.start_ns = 1000 * kMs; }

  // One location per call, its frames leaf first; every frame but the last
  // is inlined into the next.
  uint32_t location(std::initializer_list<std::string> leaf_first) {
    auto id = static_cast<uint32_t>(m.location_frames.size());
    m.location_frames.emplace_back(static_cast<uint32_t>(m.frames.size()), static_cast<uint32_t>(leaf_first.size()));
    uint32_t i = 0;
    for (const auto& name : leaf_first) {
      m.frames.push_back({m.strings.intern(name), m.strings.intern("app"), m.strings.intern("app.cpp"), 10 + i,
                          i + 1 < leaf_first.size()});
      ++i;
    }
    return id;
  }
  StackId stack(std::initializer_list<uint32_t> locations_leaf_first) {
    std::vector<uint32_t> ids(locations_leaf_first);
    return m.stacks.intern(ids.data(), ids.size());
  }
  void sample(uint64_t ts, uint32_t tid, StackId s, uint8_t source = 0) {
    Sample x;
    x.ts = m.start_ns + ts;
    x.tid = tid;
    x.stack = s;
    x.source = source;
    m.samples.push_back(x);
    m.end_ns = std::max(m.end_ns, x.ts);
  }
  void thread(uint32_t tid, const std::string& name, uint32_t worker = 255) {
    m.threads[tid] = {1, tid, name, worker};
  }
};

size_t count(const std::string& haystack, const std::string& needle) {
  size_t n = 0;
  for (size_t pos = haystack.find(needle); pos != std::string::npos; pos = haystack.find(needle, pos + 1)) ++n;
  return n;
}

}  // namespace

TEST_CASE("the sample period comes from frequency_hz, or a period of a software clock") {
  TraceModel m;
  CHECK_FALSE(sample_period_ns(m));
  m.metadata["frequency_hz"] = "999";
  CHECK(sample_period_ns(m) == 1001001);
  m.metadata = {{"period", "250000"}, {"event", "cpu-clock"}};
  CHECK(sample_period_ns(m) == 250000);
  m.metadata["event"] = "cycles";  // a count of cycles is not a time
  CHECK_FALSE(sample_period_ns(m));
  m.metadata = {{"frequency_hz", "lots"}};
  CHECK_FALSE(sample_period_ns(m));
  m.metadata = {{"frequency_hz", "0"}};
  CHECK_FALSE(sample_period_ns(m));
}

TEST_CASE("hostile names stay valid JSON in Chrome and speedscope exports, and UTF-8 in pprof") {
  ModelBuilder b;
  b.thread(7, kHostile);
  StackId s = b.stack({b.location({kHostile, "outer"}), b.location({"main"})});
  b.sample(1 * kMs, 7, s);
  b.m.spans.push_back({b.m.strings.intern(kHostile), b.m.start_ns, b.m.start_ns + kMs, kMs, 1, 255});

  for (const std::string& out : {chrome_trace(b.m), speedscope_json(b.m)}) {
    INFO(out);
    Json j;
    REQUIRE_NOTHROW(j = Json::parse(out));  // nlohmann rejects invalid UTF-8
    CHECK(out.find(kReplacement) != std::string::npos);
    CHECK(out.find("\\\"quoted\\\"") != std::string::npos);
  }
  std::string p = pprof_profile(b.m);
  CHECK(p.find("bad\x80") == std::string::npos);
  CHECK(p.find("bad" + kReplacement + "name" + kReplacement + "(\"quoted\"\n" + kReplacement + kReplacement + ";end") !=
        std::string::npos);
  // Valid multi-byte names pass through unchanged.
  ModelBuilder v;
  v.sample(0, 1, v.stack({v.location({"größe_€_𝄞"})}));
  CHECK(pprof_profile(v.m).find("größe_€_𝄞") != std::string::npos);
}

TEST_CASE("pprof_gz is pprof_profile gzipped") {
  ModelBuilder b;
  b.sample(0, 1, b.stack({b.location({"leaf", "caller"})}));
  auto gz = pprof_gz(b.m);
  REQUIRE(gz);
  std::vector<uint8_t> raw = dial9::test::gunzip({reinterpret_cast<const uint8_t*>(gz->data()), gz->size()});
  CHECK(std::string(raw.begin(), raw.end()) == pprof_profile(b.m));
}

TEST_CASE("Chrome trace: workers without a thread and spans outside workers get named tracks of their own") {
  ModelBuilder b;
  b.thread(10, "w0", 0);
  b.m.polls.push_back({b.m.start_ns + kMs, b.m.start_ns + 2 * kMs, 5, 0, b.m.strings.intern("a.rs:1"), true});
  b.m.polls.push_back({b.m.start_ns + kMs, b.m.start_ns + 3 * kMs, 6, 3, 0, false});  // worker 3: no thread
  b.m.spans.push_back({b.m.strings.intern("loose"), b.m.start_ns, b.m.start_ns + kMs, kMs, 1, 255});
  b.m.end_ns = b.m.start_ns + 3 * kMs;
  Json j = Json::parse(chrome_trace(b.m));
  std::map<std::string, uint64_t> track;  // thread_name -> tid
  std::vector<Json> slices;
  for (const Json& e : j["traceEvents"]) {
    if (e["name"] == "thread_name") track[e["args"]["name"]] = e["tid"];
    if (e["ph"] == "X") slices.push_back(e);
  }
  REQUIRE(slices.size() == 3);
  CHECK(slices[0]["tid"] == 10);
  CHECK(slices[0]["name"] == "poll a.rs:1");
  CHECK(slices[0]["ts"] == 1000.0);
  CHECK(slices[0]["dur"] == 1000.0);
  CHECK(slices[1]["tid"] == track.at("worker 3"));
  CHECK(slices[1]["name"] == "poll");
  CHECK(slices[1]["args"].contains("end"));  // inferred, and says so
  CHECK(slices[2]["tid"] == track.at("spans"));
  CHECK(track.at("worker 3") != 10);
  CHECK(track.at("spans") != track.at("worker 3"));
}

TEST_CASE("speedscope: runs of one stack merge, weights follow the period, frames are shared") {
  ModelBuilder b;
  b.m.metadata["frequency_hz"] = "1000";
  b.thread(1, "main");
  uint32_t main_loc = b.location({"main"});
  StackId a = b.stack({b.location({"inl", "f"}), main_loc});
  StackId c = b.stack({b.location({"g"}), main_loc});
  for (uint64_t t : {1, 2, 3}) b.sample(t * kMs, 1, a);
  b.sample(4 * kMs, 1, c);
  b.sample(5 * kMs, 1, a);
  b.sample(6 * kMs, 2, c);  // another thread, no name
  b.sample(7 * kMs, 1, c, 1);  // off-CPU: left out

  Json j = Json::parse(speedscope_json(b.m));
  std::vector<std::string> names;
  for (const Json& f : j["shared"]["frames"]) names.push_back(f["name"]);
  CHECK(names == std::vector<std::string>{"main", "f", "inl", "g"});
  REQUIRE(j["profiles"].size() == 2);
  const Json& p = j["profiles"][0];
  CHECK(p["name"] == "main (tid 1)");
  CHECK(p["unit"] == "nanoseconds");
  CHECK(p["samples"] == Json::parse("[[0,1,2],[0,3],[0,1,2]]"));
  CHECK(p["weights"] == Json::parse("[3000000,1000000,1000000]"));
  CHECK(p["endValue"] == 5000000);
  CHECK(j["profiles"][1]["name"] == "thread (tid 2)");

  SpeedscopeOptions off;
  off.weight.off_cpu = true;
  off.inlines = false;
  Json o = Json::parse(speedscope_json(b.m, off));
  REQUIRE(o["profiles"].size() == 1);
  CHECK(o["profiles"][0]["unit"] == "none");
  CHECK(o["profiles"][0]["weights"] == Json::parse("[1]"));
}

TEST_CASE("pprof without a time period has only samples/count, and no-inline drops inlined lines") {
  ModelBuilder b;
  b.sample(0, 1, b.stack({b.location({"inl", "f"})}));
  PprofOptions o;
  o.inlines = false;
  std::string with = pprof_profile(b.m), without = pprof_profile(b.m, o);
  CHECK(count(with, "inl") == 1);
  CHECK(count(without, "inl") == 0);
  CHECK(count(with, "nanoseconds") == 0);
  b.m.metadata["frequency_hz"] = "100";
  CHECK(count(pprof_profile(b.m), "nanoseconds") == 1);
}
