// A CPU-bound program with realistic stacks, for the segment benchmark:
//   workload THREADS SECONDS
// Each thread serves "requests" through one of 8 handlers whose call paths
// are 10-20 frames deep with a few data-dependent branches, so a profile has
// hundreds of distinct stacks rather than one or millions. Build with frame
// pointers and without inlining so perf's -g callchains are complete.
#include <atomic>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <thread>
#include <vector>

namespace {

volatile uint64_t g_sink;
using Fn = void (*)(int depth, uint32_t path);
extern Fn kTable[16];

__attribute__((noinline)) void leaf_work(uint32_t path) {
  for (uint32_t i = 0; i < 2000 + (path & 0xff); ++i) g_sink = g_sink + i;
}

#define DIAL9_STEP(N)                                                   \
  __attribute__((noinline)) void step##N(int depth, uint32_t path) {    \
    if (depth == 0) {                                                   \
      leaf_work(path);                                                  \
      return;                                                           \
    }                                                                   \
    /* Every fourth level branches on two bits of the request's path. */ \
    uint32_t pick = depth % 4 == 0 ? (path >> (depth % 16)) & 3 : 0;   \
    kTable[(N + 1 + pick) % 16](depth - 1, path);                        \
    g_sink = g_sink + 1;                                                \
  }
DIAL9_STEP(0) DIAL9_STEP(1) DIAL9_STEP(2) DIAL9_STEP(3) DIAL9_STEP(4) DIAL9_STEP(5)
DIAL9_STEP(6) DIAL9_STEP(7) DIAL9_STEP(8) DIAL9_STEP(9) DIAL9_STEP(10) DIAL9_STEP(11)
DIAL9_STEP(12) DIAL9_STEP(13) DIAL9_STEP(14) DIAL9_STEP(15)
#undef DIAL9_STEP

Fn kTable[16] = {step0, step1, step2,  step3,  step4,  step5,  step6,  step7,
                 step8, step9, step10, step11, step12, step13, step14, step15};

__attribute__((noinline)) void serve(uint32_t handler, uint32_t request) {
  kTable[handler * 2](static_cast<int>(8 + handler), request);
}

}  // namespace

int main(int argc, char** argv) {
  int threads = argc > 1 ? std::atoi(argv[1]) : 64;
  double seconds = argc > 2 ? std::atof(argv[2]) : 5;
  std::atomic<bool> stop{false};
  std::vector<std::thread> pool;
  for (int t = 0; t < threads; ++t) {
    pool.emplace_back([&, t] {
      uint32_t x = 2463534242u + static_cast<uint32_t>(t);
      while (!stop.load(std::memory_order_relaxed)) {
        x ^= x << 13;
        x ^= x >> 17;
        x ^= x << 5;
        serve(static_cast<uint32_t>(t) % 8, x);
      }
    });
  }
  std::this_thread::sleep_for(std::chrono::duration<double>(seconds));
  stop = true;
  for (auto& th : pool) th.join();
  std::printf("%llu\n", static_cast<unsigned long long>(g_sink));
  return 0;
}
