// The app API's cost per call (dial9/dial9.h, dial9(3)): a custom event of
// four fields, a span entered and exited (dial9::Span with a field, and
// DIAL9_SCOPE), a poll_begin + poll_end pair and a wake. Run bare, every
// call is one load and one branch; run under `dial9 record` (the agent
// preloaded) the calls record. bench/run_app_api.sh runs both.
//
// Each benchmark reports `per_call`, the CPU time of one API call (a span,
// enter + exit, or a poll, begin + end, is two calls), and items_per_second,
// calls per second. Whether the agent served the calls is in the context
// (dial9_active) and on stderr, so a run is never mistaken for the other.
//
// The agent drops a call's record when the thread's ring (512 KiB) is full,
// and a dropped call costs less than a recorded one. Back to back, the calls
// outrun the agent's draining, so the *Paced benchmarks make a batch of
// calls, timed, then sleep with the timer paused, at a rate the agent keeps
// up with: their per_call is the cost of a call that is recorded. At exit the
// program prints on stderr
//   dial9 bench: N API call(s) in S s of benchmark loops
// every call any run made (Google Benchmark's estimation runs included), and
// the wall time of the timed loops (pauses excluded): with the event count
// `dial9 record` prints, the share dropped and the rate the agent kept up
// with.
//
// Options, beside Google Benchmark's: --wait-active=SECONDS waits up to that
// long for the agent to come alive before measuring (under `dial9 record`
// it does so when it has connected to dial9); it exits 3 if it does not.
#define DIAL9_IMPLEMENTATION
#include <dial9/dial9.h>

#include <benchmark/benchmark.h>

#include <atomic>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string_view>
#include <thread>

namespace {

using Clock = std::chrono::steady_clock;

// Every API call made, and the wall time of the timed loops (thread 0's), ns.
std::atomic<uint64_t> g_calls{0};
std::atomic<uint64_t> g_loop_ns{0};

// Sets the counters every benchmark reports; `calls` calls per iteration,
// API calls unless `api` is false. `timed_ns`: the wall time of this
// thread's timed loop.
void per_call(benchmark::State& state, int calls, uint64_t timed_ns, bool api = true) {
  if (api) {
    g_calls.fetch_add(static_cast<uint64_t>(state.iterations()) * static_cast<uint64_t>(calls),
                      std::memory_order_relaxed);
    if (state.thread_index() == 0) g_loop_ns.fetch_add(timed_ns, std::memory_order_relaxed);
  }
  state.SetItemsProcessed(state.iterations() * calls);
  // Per thread: summed over threads, then averaged (kAvgThreads).
  state.counters["per_call"] = benchmark::Counter(
      calls, benchmark::Counter::kIsIterationInvariantRate | benchmark::Counter::kAvgThreads | benchmark::Counter::kInvert);
}

uint64_t ns_since(Clock::time_point t0) {
  return static_cast<uint64_t>(std::chrono::duration_cast<std::chrono::nanoseconds>(Clock::now() - t0).count());
}

// The paced form of a benchmark: each iteration makes state.range(0) steps
// of `step` (each `calls` API calls), timed, then sleeps state.range(1) us
// with the timer paused, so the agent's thread drains the ring before it
// fills. A fixed number of iterations (the timed CPU time is small next to
// the sleeps, so Google Benchmark's min_time would run for long).
template <typename Step>
void paced(benchmark::State& state, int calls, Step step, bool api = true) {
  const int64_t batch = state.range(0);
  const auto pause = std::chrono::microseconds(state.range(1));
  uint64_t i = static_cast<uint64_t>(state.thread_index()) << 48, timed_ns = 0;
  for (auto _ : state) {
    const auto t0 = Clock::now();
    for (int64_t k = 0; k < batch; ++k) {
      step(i++);
      benchmark::ClobberMemory();
    }
    timed_ns += ns_since(t0);
    state.PauseTiming();
    std::this_thread::sleep_for(pause);
    state.ResumeTiming();
  }
  per_call(state, calls * static_cast<int>(batch), timed_ns, api);
}
// 1000 calls, then 1 ms asleep: at most ~1 M records/s (2 M calls/s for spans).
#define PACED(fn) BENCHMARK(fn)->Args({1000, 5000})->Iterations(200)

// u64, u16, a ~10-byte string, bool: a typical request event.
dial9::EventType<uint64_t, uint16_t, std::string_view, bool> request_done("BenchRequest",
                                                                          {"id", "status", "path", "ok"});

constexpr std::string_view kPaths[2] = {"/api/users", "/api/items"};

void emit_event(uint64_t i) {
  request_done.emit(i, static_cast<uint16_t>(200 + (i & 7)), kPaths[i & 1], (i & 3) != 0);
}

void BM_Event(benchmark::State& state) {
  const auto t0 = Clock::now();
  uint64_t i = static_cast<uint64_t>(state.thread_index()) << 48;
  for (auto _ : state) {
    emit_event(i);
    ++i;
    benchmark::ClobberMemory();
  }
  per_call(state, 1, ns_since(t0));
}
BENCHMARK(BM_Event);
BENCHMARK(BM_Event)->Threads(2);

void BM_EventPaced(benchmark::State& state) { paced(state, 1, [](uint64_t i) { emit_event(i); }); }
PACED(BM_EventPaced);
PACED(BM_EventPaced)->Threads(2);

// This machine's floor under a recorded call, no dial9 involved: stamp a
// 64-byte record (what BenchRequest takes in the agent's ring) with the
// CPU's counter and write it into a 512 KiB ring (the agent's size), in the
// paced pattern.
// After each sleep the ring's lines are cold, as the agent's are.
struct FloorRing {
  uint64_t head = 0;
  alignas(64) uint8_t data[512 * 1024];
};
FloorRing* const g_floor = new FloorRing;

uint64_t counter() {
#if defined(__x86_64__)
  return __builtin_ia32_rdtsc();
#else
  return static_cast<uint64_t>(Clock::now().time_since_epoch().count());
#endif
}

void floor_record(uint64_t i) {
  const uint64_t rec[8] = {1, counter(), i, 200 + (i & 7), 10, 0, 0, (i & 3) != 0};
  std::memcpy(g_floor->data + g_floor->head % sizeof g_floor->data, rec, sizeof rec);
  g_floor->head += sizeof rec;
}

void BM_RingFloorPaced(benchmark::State& state) { paced(state, 1, floor_record, /*api=*/false); }
PACED(BM_RingFloorPaced);

// The same event through the C calls, its values made before the call as
// plain C code makes them: without the agent the stores are most of the cost
// (dial9(3) suggests making them inside `if (dial9_active())`).
const dial9_field c_fields[] = {{"id", DIAL9_U64}, {"status", DIAL9_U16}, {"path", DIAL9_STRING}, {"ok", DIAL9_BOOL}};
dial9_event_type c_request_done = DIAL9_EVENT_TYPE("BenchRequestC", c_fields);

void emit_event_c(uint64_t i) {
  const std::string_view path = kPaths[i & 1];
  dial9_value v[4] = {dial9_uint(i), dial9_uint(200 + (i & 7)), dial9_absent(), dial9_bool((i & 3) != 0)};
  v[2].present = 1;
  v[2].v.s.ptr = path.data();
  v[2].v.s.len = path.size();
  dial9_emit(&c_request_done, v, 4);
}

void BM_EventC(benchmark::State& state) {
  const auto t0 = Clock::now();
  uint64_t i = 0;
  for (auto _ : state) {
    emit_event_c(i);
    ++i;
    benchmark::ClobberMemory();
  }
  per_call(state, 1, ns_since(t0));
}
BENCHMARK(BM_EventC);

void BM_EventCPaced(benchmark::State& state) { paced(state, 1, [](uint64_t i) { emit_event_c(i); }); }
PACED(BM_EventCPaced);

dial9::SpanSite handle_site("bench_handle", {"path"});

void span(uint64_t i) {
  dial9::Span span(handle_site, {kPaths[i & 1]});
  benchmark::DoNotOptimize(span.id());
}

void BM_Span(benchmark::State& state) {
  const auto t0 = Clock::now();
  uint64_t i = 0;
  for (auto _ : state) {
    span(i);
    ++i;
  }
  per_call(state, 2, ns_since(t0));  // enter + exit
}
BENCHMARK(BM_Span);

void BM_SpanPaced(benchmark::State& state) { paced(state, 2, [](uint64_t i) { span(i); }); }
PACED(BM_SpanPaced);

void scope(uint64_t) {
  DIAL9_SCOPE("bench_scope");
  benchmark::ClobberMemory();
}

void BM_Scope(benchmark::State& state) {
  const auto t0 = Clock::now();
  for (auto _ : state) scope(0);
  per_call(state, 2, ns_since(t0));  // enter + exit
}
BENCHMARK(BM_Scope);

void BM_ScopePaced(benchmark::State& state) { paced(state, 2, [](uint64_t i) { scope(i); }); }
PACED(BM_ScopePaced);

void poll(uint64_t i) {
  dial9_poll_begin((i & 1023) + 1, __FILE__, __LINE__, 1, 0);
  dial9_poll_end();
}

// worker_start and worker_stop are two calls more than the loop's.
void BM_Poll(benchmark::State& state) {
  dial9_worker_start(0);
  const auto t0 = Clock::now();
  uint64_t i = 0;
  for (auto _ : state) {
    poll(i);
    ++i;
    benchmark::ClobberMemory();
  }
  const uint64_t timed_ns = ns_since(t0);
  dial9_worker_stop();
  g_calls.fetch_add(2, std::memory_order_relaxed);
  per_call(state, 2, timed_ns);  // begin + end
}
BENCHMARK(BM_Poll);

void BM_PollPaced(benchmark::State& state) {
  dial9_worker_start(0);
  paced(state, 2, [](uint64_t i) { poll(i); });
  dial9_worker_stop();
  g_calls.fetch_add(2, std::memory_order_relaxed);
}
PACED(BM_PollPaced);

void wake(uint64_t i) { dial9_wake((i & 1023) + 1, (i & 1023) + 2, 255); }

void BM_Wake(benchmark::State& state) {
  const auto t0 = Clock::now();
  uint64_t i = 0;
  for (auto _ : state) {
    wake(i);
    ++i;
    benchmark::ClobberMemory();
  }
  per_call(state, 1, ns_since(t0));
}
BENCHMARK(BM_Wake);

void BM_WakePaced(benchmark::State& state) { paced(state, 1, [](uint64_t i) { wake(i); }); }
PACED(BM_WakePaced);

// Takes --wait-active=SECONDS out of argv; -1 when absent.
double take_wait_active(int& argc, char** argv) {
  constexpr std::string_view kFlag = "--wait-active=";
  double seconds = -1;
  int out = 1;
  for (int in = 1; in < argc; ++in) {
    std::string_view arg = argv[in];
    if (arg.substr(0, kFlag.size()) == kFlag) {
      seconds = std::strtod(argv[in] + kFlag.size(), nullptr);
    } else {
      argv[out++] = argv[in];
    }
  }
  argc = out;
  argv[argc] = nullptr;
  return seconds;
}

}  // namespace

int main(int argc, char** argv) {
  const double wait = take_wait_active(argc, argv);
  if (wait >= 0) {
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::duration<double>(wait);
    while (!dial9::active() && std::chrono::steady_clock::now() < deadline) {
      std::this_thread::sleep_for(std::chrono::milliseconds(5));
    }
    if (!dial9::active()) {
      std::fprintf(stderr, "dial9 active: no (not within %.1f s)\n", wait);
      return 3;
    }
  }
  const bool active = dial9::active();
  std::fprintf(stderr, "dial9 active: %s (%s)\n", active ? "yes" : "no", active ? "with agent" : "without agent");
  benchmark::AddCustomContext("dial9_active", active ? "yes" : "no");
  benchmark::Initialize(&argc, argv);
  if (benchmark::ReportUnrecognizedArguments(argc, argv)) return 1;
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  std::fprintf(stderr, "dial9 bench: %llu API call(s) in %.6f s of benchmark loops\n",
               static_cast<unsigned long long>(g_calls.load()), static_cast<double>(g_loop_ns.load()) / 1e9);
  return 0;
}
