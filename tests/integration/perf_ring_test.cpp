// Real perf events on this machine: sample our own thread and read the ring.
#include <catch2/catch.hpp>

#include <sys/syscall.h>
#include <unistd.h>

#include <chrono>

#include "capture/event_spec.h"
#include "capture/perf_records.h"
#include "capture/perf_ring.h"
#include "tests/support/test_support.h"

using namespace dial9::capture;

namespace {

volatile uint64_t g_sink;

__attribute__((noinline)) void spin_for(std::chrono::milliseconds d) {
  auto until = std::chrono::steady_clock::now() + d;
  while (std::chrono::steady_clock::now() < until) {
    for (int i = 0; i < 1000; ++i) g_sink = g_sink + static_cast<uint64_t>(i);
  }
}

}  // namespace

TEST_CASE("cpu-clock samples of this thread arrive through the ring, with callchains") {
  SamplingSpec spec;
  spec.event = "cpu-clock";
  spec.frequency_hz = 999;
  spec.inherit = false;
  spec.kernel = false;
  auto attr = build_attr(spec);
  REQUIRE(attr);
  attr->disabled = 1;
  auto ring = PerfRing::open(*attr, 0, -1, 64);
  if (!ring) DIAL9_SKIP(ring.error().message());
  REQUIRE(ring->enable());
  spin_for(std::chrono::milliseconds(400));
  REQUIRE(ring->disable());
  const uint32_t tid = static_cast<uint32_t>(::syscall(SYS_gettid));
  size_t samples = 0, ours = 0, with_chain = 0, spinning = 0;
  ParsedRecord r;
  ring->drain([&](std::span<const uint8_t> rec) {
    REQUIRE(parse_record(rec, attr->sample_type, r));
    if (r.kind != RecordKind::kSample) return;
    ++samples;
    if (r.tid == tid && r.pid == static_cast<uint32_t>(::getpid())) ++ours;
    if (!r.callchain.empty()) ++with_chain;
    CHECK(r.kernel_frames == 0);  // kernel excluded
    // Sampled in (or returning into) the spin loop or the clock it calls.
    auto fn = reinterpret_cast<uint64_t>(&spin_for);
    for (uint64_t a : r.callchain) {
      if (a >= fn && a < fn + 512) {
        ++spinning;
        break;
      }
    }
  });
  INFO("samples " << samples << " ours " << ours << " with chain " << with_chain << " in spin_for " << spinning);
  // 400 ms at 999 Hz is ~400 samples; allow a loaded machine its share.
  CHECK(samples >= 100);
  CHECK(ours == samples);
  CHECK(with_chain == samples);
  CHECK(spinning >= samples / 2);
}

TEST_CASE("a permission error explains the fix") {
  CHECK_THAT(explain_perf_open_error(EACCES), Catch::Contains("perf_event_paranoid") && Catch::Contains("CAP_PERFMON"));
  CHECK_THAT(explain_perf_open_error(ENOENT), Catch::Contains("cpu-clock"));
  CHECK_THAT(explain_perf_open_error(ENOSYS), Catch::Contains("seccomp"));
}
