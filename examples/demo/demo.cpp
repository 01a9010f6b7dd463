// dial9's demo service: a small program with three classic performance
// problems, for `./dev demo` and for trying dial9 by hand.
//
//  - a CPU hot spot: `checksum_block` dominates the worker threads' time;
//  - a mutex convoy: four workers take one lock to update shared stats;
//  - a blocking call on an event-loop thread: `event_loop` handles ticks
//    but sometimes calls `slow_lookup`, which sleeps while holding the loop.
//
// Build with frame pointers (the CMake target does) so stacks are complete:
//   dial9 record -- ./build/examples/demo/dial9-demo 2
#include <pthread.h>

#include <atomic>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <mutex>
#include <thread>
#include <vector>

namespace {

std::mutex g_stats_mu;
uint64_t g_stats_total = 0;
std::atomic<bool> g_stop{false};

__attribute__((noinline)) uint64_t checksum_block(const std::vector<uint8_t>& block) {
  uint64_t h = 1469598103934665603ull;
  for (uint8_t b : block) h = (h ^ b) * 1099511628211ull;
  return h;
}

__attribute__((noinline)) void record_stats(uint64_t value) {
  std::lock_guard<std::mutex> lk(g_stats_mu);  // the convoy: every worker, every block
  // Some work under the lock, so the others queue behind it.
  for (int i = 0; i < 2000; ++i) g_stats_total = g_stats_total * 31 + (value >> (i % 56));
}

void worker(int id) {
  pthread_setname_np(pthread_self(), ("worker-" + std::to_string(id)).c_str());
  std::vector<uint8_t> block(64 * 1024);
  for (size_t i = 0; i < block.size(); ++i) block[i] = static_cast<uint8_t>(i * 31 + id);
  while (!g_stop) {
    uint64_t h = checksum_block(block);
    record_stats(h);
    block[h % block.size()] ^= 1;
  }
}

__attribute__((noinline)) void slow_lookup() {
  std::this_thread::sleep_for(std::chrono::milliseconds(20));  // blocks the loop
}

__attribute__((noinline)) void handle_tick(int n) {
  if (n % 10 == 0) slow_lookup();
}

void event_loop() {
  pthread_setname_np(pthread_self(), "event-loop");
  for (int n = 0; !g_stop; ++n) {
    handle_tick(n);
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
}

}  // namespace

int main(int argc, char** argv) {
  double seconds = argc > 1 ? std::atof(argv[1]) : 2.0;
  std::vector<std::thread> threads;
  for (int i = 0; i < 4; ++i) threads.emplace_back(worker, i);
  threads.emplace_back(event_loop);
  std::this_thread::sleep_for(std::chrono::duration<double>(seconds));
  g_stop = true;
  for (auto& t : threads) t.join();
  std::printf("dial9-demo: done (stats %llu)\n", static_cast<unsigned long long>(g_stats_total));
  return 0;
}
