// Compatibility with the Tokio recorder: its real trace in ../shared/fixtures
// decodes to exactly the counts FORMAT.md lists, and truncating it anywhere
// never crashes and is always reported.
#include <catch2/catch.hpp>

#include <map>
#include <random>
#include <set>

#include "format/events.h"
#include "format/trace_file.h"
#include "tests/support/test_support.h"

using namespace dial9;
using namespace dial9::format;

TEST_CASE("the Tokio fixture decodes to the documented counts") {
  auto path = test::tokio_fixture_path();
  if (!path) DIAL9_SKIP("../shared/fixtures/tokio-demo-trace.bin.gz is absent (not in this checkout)");
  std::map<std::string, uint64_t> counts;
  uint64_t context_switch_samples = 0, span_enters = 0, span_exits = 0;
  std::set<uint64_t> symbol_addrs;
  std::set<std::string> callsites;
  std::map<std::string, std::string> meta;
  std::map<uint64_t, std::set<std::string>> worker_thread_names;
  auto sum = read_trace_file(*path, [&](const Event& e) {
    switch (e.builtin()) {
      case Builtin::kSpanEnter:
      case Builtin::kSpanExit: {
        auto s = as_span(e);
        (s.enter ? span_enters : span_exits)++;
        callsites.insert(std::string(s.callsite));
        return;
      }
      case Builtin::kCpuSample: {
        auto c = as_cpu_sample(e);
        if (c.source == static_cast<uint8_t>(SampleSource::kContextSwitch)) ++context_switch_samples;
        if (c.thread_name && c.worker_id < 254) {
          worker_thread_names[c.worker_id].insert(std::string(*c.thread_name));
        }
        break;
      }
      case Builtin::kSymbolTableEntry:
        symbol_addrs.insert(as_symbol_table_entry(e).addr);
        break;
      case Builtin::kSegmentMetadata:
        for_each_metadata(e, [&](std::string_view k, std::string_view v) { meta[std::string(k)] = v; });
        break;
      default:
        break;
    }
    counts[e.name()]++;
  });
  REQUIRE(sum.has_value());
  CHECK(sum->compression == Compression::kGzip);
  CHECK_FALSE(sum->truncated);
  CHECK(sum->diagnostic_count == 0);
  CHECK(sum->stats.bytes == 4047237);
  CHECK(sum->stats.streams == 14);
  CHECK(counts == test::tokio_fixture_counts());
  CHECK(context_switch_samples == 6877);
  CHECK(symbol_addrs.size() == 394);
  CHECK(callsites.size() == 5);
  CHECK(span_enters == test::kTokioFixtureSpans);
  CHECK(span_exits == test::kTokioFixtureSpans);
  CHECK(meta["service"] == "metrics-service");
  CHECK(meta["worker_threads"] == "2");
  REQUIRE(worker_thread_names.size() == 2);
  for (const auto& [worker, names] : worker_thread_names) {
    INFO("worker " << worker);
    CHECK(names == std::set<std::string>{"tokio-rt-worker"});
  }
}

TEST_CASE("the fixture cut at every offset of its first 64 KiB and 1,000 random ones") {
  auto path = test::tokio_fixture_path();
  if (!path) DIAL9_SKIP("../shared/fixtures/tokio-demo-trace.bin.gz is absent (not in this checkout)");
  const auto gz = test::read_file_bytes(*path);
  std::vector<size_t> cuts;
  for (size_t i = 0; i < (64u << 10); ++i) cuts.push_back(i);
  std::mt19937_64 rng(20261122);
  std::uniform_int_distribution<size_t> pick(1, gz.size() - 1);
  for (int i = 0; i < 1000; ++i) cuts.push_back(pick(rng));
  size_t failures = 0;
  for (size_t cut : cuts) {
    uint64_t events = 0;
    auto r = read_trace_bytes({gz.data(), cut}, "cut", [&](const Event&) { ++events; });
    // An empty file is refused with an error; every other prefix decodes
    // what it can and says it was cut.
    bool ok = cut == 0 ? !r.has_value() : (r.has_value() && r->truncated);
    if (!ok && ++failures <= 5) FAIL_CHECK("cut at " << cut << " not reported as truncated");
  }
  CHECK(failures == 0);
}

TEST_CASE("the decompressed fixture cut at every offset of its first 64 KiB") {
  auto path = test::tokio_fixture_path();
  if (!path) DIAL9_SKIP("../shared/fixtures/tokio-demo-trace.bin.gz is absent (not in this checkout)");
  const auto raw = test::gunzip(test::read_file_bytes(*path));
  REQUIRE(raw.size() == 4047237);
  size_t last_events = 0, boundaries = 0;
  for (size_t cut = 1; cut <= (64u << 10); ++cut) {
    Decoder d;
    d.feed({raw.data(), cut});
    d.finish();
    Event e;
    size_t events = 0;
    while (d.next(e) == Decoder::Step::kEvent) ++events;
    INFO("cut at " << cut);
    // Either the cut is reported, or it fell exactly between two frames and
    // everything before it was decoded.
    if (d.truncated()) {
      REQUIRE(d.truncated_at() < cut);
    } else {
      REQUIRE(d.stats().bytes == cut);
      ++boundaries;
    }
    REQUIRE(d.stats().corrupt_frames == 0);
    REQUIRE(events >= last_events);
    last_events = events;
  }
  CHECK(boundaries > 100);
  CHECK(boundaries < 20000);
}
