// Real perf events on this machine: sample our own thread and read the ring.
#include <catch2/catch.hpp>

#include <sys/syscall.h>
#include <unistd.h>

#include <time.h>

#include "capture/event_spec.h"
#include "capture/perf_records.h"
#include "capture/perf_ring.h"
#include "tests/support/test_support.h"

using namespace dial9::capture;

namespace {

volatile uint64_t g_sink;

double thread_cpu_ms() {
  timespec t{};
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &t);
  return static_cast<double>(t.tv_sec) * 1e3 + static_cast<double>(t.tv_nsec) / 1e6;
}

// Burns `ms` of this thread's CPU time (not wall time: cpu-clock counts only
// while the thread runs, and a loaded machine may run it a tenth of the
// time).
__attribute__((noinline)) void spin_for(double ms) {
  const double start = thread_cpu_ms();
  while (thread_cpu_ms() - start < ms) {
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
  spin_for(400);
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
  // 400 ms of CPU at 999 Hz is ~400 samples.
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
