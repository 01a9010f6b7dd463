#include <catch2/catch.hpp>

#include <nlohmann/json.hpp>

#include "format/trace_writer.h"
#include "report/event_text.h"
#include "tests/support/test_support.h"

using namespace dial9;
using namespace dial9::format;

namespace {

std::vector<std::pair<std::string, std::string>> render(std::span<const uint8_t> bytes) {
  std::vector<std::pair<std::string, std::string>> out;
  Decoder d;
  d.feed(bytes);
  d.finish();
  Event e;
  while (d.next(e) == Decoder::Step::kEvent) {
    std::string text, json;
    report::render_event_text(e, text);
    report::render_event_json(e, json);
    out.emplace_back(text, json);
  }
  return out;
}

}  // namespace

TEST_CASE("jsonl: schema name, timestamp, fields by name, hex addresses") {
  TraceWriter w;
  const uint64_t chain[] = {0x7fff0010, 0x401000};
  CpuSample s;
  s.worker_id = 1;
  s.tid = 99;
  s.source = 1;
  s.thread_name = "io \"loop\"\n";
  w.cpu_sample(1500000000123, s, chain);
  w.symbol(2, SymbolTableEntry{0x401000, 16, "main", 0, "", 0});
  auto lines = render(w.bytes());
  REQUIRE(lines.size() == 2);
  auto j = nlohmann::json::parse(lines[0].second);
  CHECK(j["event"] == "CpuSampleEvent");
  CHECK(j["timestamp_ns"] == 1500000000123ull);
  CHECK(j["worker_id"] == 1);
  CHECK(j["tid"] == 99);
  CHECK(j["thread_name"] == "io \"loop\"\n");
  CHECK(j["callchain"] == nlohmann::json::array({"0x7fff0010", "0x401000"}));
  CHECK(j["cpu"].is_null());
  auto sym = nlohmann::json::parse(lines[1].second);
  CHECK(sym["addr"] == "0x401000");
  CHECK(sym["size"] == 16);

  // Text: seconds.nanoseconds, aligned name column, quoted strings.
  const std::string& text = lines[0].first;
  CHECK(text.rfind("          1500.000000123  CpuSampleEvent           worker_id=1 ", 0) == 0);
  CHECK_THAT(text, Catch::Contains("thread_name=\"io \\\"loop\\\"\\n\""));
  CHECK_THAT(text, Catch::Contains("callchain=[0x7fff0010,0x401000] cpu=-"));
  CHECK_THAT(lines[1].first, Catch::Contains("addr=0x401000 size=16"));
}

TEST_CASE("jsonl stays valid JSON for any string bytes") {
  std::string nasty = "ok \xff\xfe bad \xc0\xaf overlong \xed\xa0\x80 surrogate \x01 ctl \xe2\x82\xac euro";
  TraceWriter w;
  w.task_spawn(1, TaskSpawn{1, nasty, false});
  auto lines = render(w.bytes());
  REQUIRE(lines.size() == 1);
  auto j = nlohmann::json::parse(lines[0].second);  // throws on invalid UTF-8
  std::string loc = j["spawn_loc"];
  CHECK_THAT(loc, Catch::Contains("\xe2\x82\xac euro"));
  CHECK_THAT(loc, Catch::Contains("\xef\xbf\xbd"));  // U+FFFD replaced the bad bytes
  CHECK_THAT(loc, Catch::Contains("\x01 ctl"));
}

TEST_CASE("metadata maps render as objects") {
  TraceWriter w;
  std::vector<std::pair<std::string, std::string>> meta = {{"service", "api"}, {"pid", "42"}};
  w.segment_metadata(1, meta);
  auto lines = render(w.bytes());
  REQUIRE(lines.size() == 1);
  auto j = nlohmann::json::parse(lines[0].second);
  CHECK(j["entries"]["service"] == "api");
  CHECK(j["entries"]["pid"] == "42");
  CHECK_THAT(lines[0].first, Catch::Contains("entries={\"service\": \"api\", \"pid\": \"42\"}"));
}
