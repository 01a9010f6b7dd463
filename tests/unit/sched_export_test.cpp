// Exports of a trace with thread states: off-CPU stacks weighted by blocked
// nanoseconds (and saying so), and the HTML viewer's thread-state lanes, as
// exact intervals or, past the cap, as time per bin.
#include <catch2/catch.hpp>

#include <nlohmann/json.hpp>

#include "report/export/flamegraph.h"
#include "report/export/folded.h"
#include "report/export/html.h"
#include "report/export/speedscope.h"
#include "tests/support/model_builder.h"

using namespace dial9::report;
using dial9::test::ModelBuilder;
using Json = nlohmann::json;

namespace {

constexpr uint64_t kMs = 1'000'000;

// Thread 1 blocks twice on a lock (3 ms, then 5 ms) and once in read (1 ms);
// one on-CPU sample.
ModelBuilder blocked_model() {
  ModelBuilder b;
  b.thread(1, "t");
  StackId lock = b.stack({"pthread_mutex_lock", "update", "main"});
  StackId io = b.stack({"read", "load", "main"});
  uint32_t other = b.waker(2, "other");
  b.state(1, 0, 1 * kMs, 0);
  b.blocked(1, 1 * kMs, 3 * kMs, lock, other);
  b.state(1, 4 * kMs, 5 * kMs, 0);
  b.blocked(1, 5 * kMs, 5 * kMs, lock, other);
  b.state(1, 10 * kMs, 11 * kMs, 0);
  b.blocked(1, 11 * kMs, 1 * kMs, io, other);
  b.state(1, 12 * kMs, 20 * kMs, 0);
  b.sample(15 * kMs, 1, b.stack({"work", "main"}));
  b.finish();
  return b;
}

Json embedded_data(const std::string& html) {
  const std::string open = "<script type=\"application/json\" id=\"dial9-data\">";
  size_t a = html.find(open);
  REQUIRE(a != std::string::npos);
  a += open.size();
  return Json::parse(html.substr(a, html.find("</script>", a) - a));
}

}  // namespace

TEST_CASE("off-CPU exports weigh stacks by blocked ns when the trace has thread states") {
  ModelBuilder b = blocked_model();
  CHECK(off_cpu_by_time(b.m));
  FoldedOptions f;
  f.weight.off_cpu = true;
  CHECK(folded_stacks(b.m, f) == "main;load;read 1000000\nmain;update;pthread_mutex_lock 8000000\n");
  CHECK(folded_stacks(b.m) == "main;work 1\n");  // on-CPU is still samples

  SpeedscopeOptions s;
  s.weight.off_cpu = true;
  Json j = Json::parse(speedscope_json(b.m, s));
  REQUIRE(j["profiles"].size() == 1);
  CHECK(j["profiles"][0]["unit"] == "nanoseconds");
  CHECK(j["profiles"][0]["endValue"] == 9 * kMs);
  CHECK(j["name"].get<std::string>().find("blocked time") != std::string::npos);

  FlamegraphOptions g;
  g.weight.off_cpu = true;
  std::string svg = flamegraph_svg(b.m, g);
  CHECK(svg.find("weighted by blocked time; 9.00 ms blocked in all") != std::string::npos);
  CHECK(svg.find("data-unit=\"ns blocked\"") != std::string::npos);
}

TEST_CASE("without thread states, off-CPU exports count switch-outs and say so") {
  ModelBuilder b;
  b.sample(1, 1, b.stack({"epoll_wait", "park"}), 1);
  b.sample(2, 1, b.stack({"epoll_wait", "park"}), 1);
  CHECK_FALSE(off_cpu_by_time(b.m));
  FoldedOptions f;
  f.weight.off_cpu = true;
  CHECK(folded_stacks(b.m, f) == "park;epoll_wait 2\n");
  FlamegraphOptions g;
  g.weight.off_cpu = true;
  CHECK(flamegraph_svg(b.m, g).find("weighted by samples (switch-outs), not by time") != std::string::npos);
}

TEST_CASE("the HTML viewer gets thread-state intervals, merged, or time per bin past its cap") {
  ModelBuilder b = blocked_model();
  b.m.start_ns = 0;
  Report r;
  HtmlOptions o;
  o.bins = 20;  // 1 ms bins
  Json d = embedded_data(html_viewer(b.m, r, o));
  CHECK(d["off_unit"] == "ns");
  // The flamegraph's off-CPU weights are blocked ns, in the bin each wait began.
  uint64_t off = 0;
  for (const auto& w : d["off"]) {
    for (size_t i = 2; i < w.size(); i += 2) off += w[i].get<uint64_t>();
  }
  CHECK(off == 9 * kMs);
  // [lane, start, dur, state, waker]: runnable intervals of zero length
  // (no queueing in this model) are kept, running runs are not split.
  REQUIRE(d["states"].size() == 10);
  CHECK(d["states"][0] == Json::array({0, 0, 1 * kMs, 0, -1}));
  const Json& blocked = d["states"][1];
  CHECK(blocked[2] == 3 * kMs);
  CHECK(blocked[3] == 2);
  CHECK(d["names"][blocked[4].get<size_t>()] == "other");
  CHECK(d["states_total"] == 10);
  REQUIRE(d["state_bins"].size() == 1);
  // Bin 1 (about 1-2 ms; bins are 1 ms + 1 ns so the last covers the end): blocked all of it.
  const Json& bins = d["state_bins"][0];
  bool saw = false;
  for (size_t i = 1; i + 3 < bins.size(); i += 4) {
    if (bins[i] == 1) saw = bins[i + 1] == 0 && bins[i + 2] == 0 && bins[i + 3] == kMs + 1;
  }
  CHECK(saw);

  o.max_intervals = 5;
  d = embedded_data(html_viewer(b.m, r, o));
  CHECK(d["states"].empty());
  CHECK(d["states_total"] == 10);
  uint64_t sum = 0;
  const Json& capped = d["state_bins"][0];
  for (size_t i = 1; i + 3 < capped.size(); i += 4) {
    sum += capped[i + 1].get<uint64_t>() + capped[i + 2].get<uint64_t>() + capped[i + 3].get<uint64_t>();
  }
  CHECK(sum == 20 * kMs);
}
