// Writes a synthetic trace for bench/run_html.sh: SAMPLES CPU samples (one in
// ten off-CPU) spread evenly over SECONDS on 16 threads, each stack drawn at
// random from UNIQUE stacks of 5–24 frames over 2000 named functions, then
// the symbol table. Unlike copies of one recording, which repeat the same
// timestamps, every time bin of such a trace holds many distinct stacks:
// the case that makes `dial9 export --html` largest.
//   make_wide_trace OUT.bin SAMPLES UNIQUE SECONDS
#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <random>
#include <string>
#include <vector>

#include "format/trace_writer.h"

using namespace dial9::format;

int main(int argc, char** argv) {
  if (argc != 5) {
    std::fprintf(stderr, "usage: %s OUT.bin SAMPLES UNIQUE SECONDS\n", argv[0]);
    return 2;
  }
  const uint64_t samples = std::strtoull(argv[2], nullptr, 10);
  const uint64_t unique = std::max<uint64_t>(1, std::strtoull(argv[3], nullptr, 10));
  const uint64_t span_ns = std::strtoull(argv[4], nullptr, 10) * 1'000'000'000;
  constexpr uint64_t kT0 = 1'000'000'000'000;
  constexpr uint32_t kPid = 100, kThreads = 16, kFunctions = 2000;
  constexpr uint64_t kBase = 0x400000;
  TraceWriter w;
  for (uint32_t t = 0; t < kThreads; ++t) {
    w.thread_name(kT0, ThreadName{kPid, kPid + t, "thread-" + std::to_string(t), false});
  }
  std::mt19937_64 rng(42);  // fixed: every run writes the same trace
  std::vector<std::vector<uint64_t>> stacks(unique);
  for (auto& s : stacks) {
    for (uint64_t depth = 5 + rng() % 20, i = 0; i < depth; ++i) s.push_back(kBase + (rng() % kFunctions) * 16);
  }
  const uint64_t step = samples ? std::max<uint64_t>(1, span_ns / samples) : 1;
  for (uint64_t i = 0; i < samples; ++i) {
    CpuSample s;
    s.tid = kPid + static_cast<uint32_t>(i % kThreads);
    s.source = i % 10 == 0 ? 1 : 0;
    w.cpu_sample(kT0 + i * step, s, stacks[rng() % unique]);
  }
  for (uint32_t k = 0; k < kFunctions; ++k) {
    std::string name = "bench::module" + std::to_string(k % 37) + "::function_" + std::to_string(k);
    SymbolTableEntry e;
    e.addr = kBase + k * 16;
    e.size = 16;
    e.symbol_name = name;
    w.symbol(kT0 + samples * step, e);
  }
  auto bytes = w.take();
  std::FILE* f = std::fopen(argv[1], "wb");
  if (!f || std::fwrite(bytes.data(), 1, bytes.size(), f) != bytes.size() || std::fclose(f) != 0) {
    std::perror(argv[1]);
    return 1;
  }
  return 0;
}
