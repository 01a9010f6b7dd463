// Writes tests/data/golden.bin: a small, deterministic trace of a made-up
// async service that exercises every report section (CPU samples with a
// symbol table including an inlined frame, off-CPU samples in a lock and in
// a long poll, polls, wakes, parks, spans, a custom event, lost samples, and
// scheduler data: thread states with a lock convoy woken by its holder, a
// disk wait woken by an interrupt, preemptions, waker stacks and schedstat
// totals).
// The report golden test renders it; its expected outputs are in
// tests/golden/. Regenerate both with `./dev golden`.
#include <cstdio>
#include <string>
#include <vector>

#include "format/trace_writer.h"

using namespace dial9::format;

namespace {

constexpr uint64_t kMs = 1'000'000;
constexpr uint64_t kT0 = 1'000'000'000'000;  // trace clock at the start
constexpr uint32_t kPid = 4242;

// Code addresses of the made-up binary, libc and kernel.
enum : uint64_t {
  kMain = 0x401000,
  kServe = 0x401100,
  kParse = 0x401200,
  kParseInlined = 0x401210,  // decode_header inlined into parse_request
  kHash = 0x401300,
  kCompress = 0x401400,
  kLoadConfig = 0x401500,
  kUpdateStats = 0x401600,
  kLllLockWait = 0x7f0000001000,
  kMutexLock = 0x7f0000002000,
  kRead = 0x7f0000003000,
  kMutexUnlock = 0x7f0000004000,
  kSchedule = 0xffffffff81000100,
  kFutexWait = 0xffffffff81000200,
};

void span(TraceWriter& w, bool enter, uint64_t ts, uint64_t worker, uint64_t id) {
  static const FieldDef kEnter[] = {{"worker_id", static_cast<uint8_t>(FieldType::kVarint)},
                                    {"span_id", static_cast<uint8_t>(FieldType::kVarint)},
                                    {"parent_span_id", static_cast<uint8_t>(static_cast<uint8_t>(FieldType::kVarint) | kOptionalBit)},
                                    {"span_name", static_cast<uint8_t>(FieldType::kPooledString)}};
  static const FieldDef kExit[] = {{"worker_id", static_cast<uint8_t>(FieldType::kVarint)},
                                   {"span_id", static_cast<uint8_t>(FieldType::kVarint)},
                                   {"span_name", static_cast<uint8_t>(FieldType::kPooledString)}};
  uint16_t type = enter ? w.schema(SchemaDef{"SpanEnter:golden::server::handle:src/server.rs:30", true, kEnter})
                        : w.schema(SchemaDef{"SpanExit:golden::server::handle:src/server.rs:30", true, kExit});
  uint32_t name = w.string("handle_request");
  Encoder& e = w.encoder();
  e.begin_event(type, ts);
  e.put_varint(worker);
  e.put_varint(id);
  if (enter) e.put_absent();
  e.put_pool_ref(name);
}

void cache_miss(TraceWriter& w, uint64_t ts, uint64_t key) {
  static const FieldDef kFields[] = {{"key", static_cast<uint8_t>(FieldType::kVarint)}};
  uint16_t type = w.schema(SchemaDef{"CacheMiss", true, kFields});
  w.encoder().begin_event(type, ts);
  w.encoder().put_varint(key);
}

void sample(TraceWriter& w, uint64_t ts, uint32_t tid, uint8_t worker, uint8_t source,
            std::vector<uint64_t> chain) {
  CpuSample s;
  s.worker_id = worker;
  s.tid = tid;
  s.source = source;
  w.cpu_sample(ts, s, chain);
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 2) {
    std::fprintf(stderr, "usage: %s OUT.bin\n", argv[0]);
    return 2;
  }
  TraceWriter w;
  w.clock_sync(kT0, ClockSync{1'779'000'000'000'000'000});
  std::vector<std::pair<std::string, std::string>> meta = {
      {"command", "golden-svc --port 8080"}, {"pid", std::to_string(kPid)}, {"event", "cpu-clock"},
      {"frequency_hz", "999"}, {"degraded", "no kernel stacks in the made-up recorder"},
      {"sched", "switches,stacks,states,wakers,waker_stacks,schedstat"}};
  w.segment_metadata(kT0, meta);
  w.thread_name(kT0, ThreadName{kPid, kPid, "golden-svc", false});
  w.thread_name(kT0, ThreadName{kPid, kPid + 1, "worker-0", false});
  w.thread_name(kT0, ThreadName{kPid, kPid + 2, "worker-1", false});
  w.thread_name(kT0, ThreadName{kPid, kPid + 3, "stats", false});

  // One second of 1 ms samples. worker-0 hashes most of the time,
  // worker-1 parses (through the inlined decode_header) and compresses,
  // the stats thread waits for a lock.
  for (uint64_t i = 0; i < 1000; ++i) {
    uint64_t ts = kT0 + i * kMs;
    // From 900 to 960 ms worker-0 is blocked in read() (the long poll).
    bool blocked = i >= 900 && i < 960;
    if (!blocked && i % 10 < 7) sample(w, ts, kPid + 1, 0, 0, {kHash, kServe, kMain});
    else if (!blocked && i % 10 < 9) sample(w, ts, kPid + 1, 0, 0, {kParse, kServe, kMain});
    if (i % 4 == 0) sample(w, ts + 100, kPid + 2, 1, 0, {kParseInlined, kServe, kMain});
    else if (i % 4 == 1) sample(w, ts + 100, kPid + 2, 1, 0, {kCompress, kServe, kMain});
    if (i % 50 == 0) sample(w, ts + 200, kPid, 255, 0, {kLoadConfig, kMain});
    if (i % 20 == 0) {
      // The stats thread blocks on the lock worker-1 holds, for 4 ms, and
      // runs 20-69 us after worker-1 wakes it.
      sample(w, ts + 300, kPid + 3, 255, 1,
             {kSchedule, kFutexWait, kLllLockWait, kMutexLock, kUpdateStats, kMain});
      w.thread_state(ts + 300, ThreadStateChange{kPid + 3, ThreadState::kSleeping});
      w.wakeup(ts + 300 + 4 * kMs, Wakeup{kPid + 3, kPid, kPid + 2, "worker-1"});
      if (i % 100 == 0) {
        w.waker_stack(ts + 300 + 4 * kMs, WakerStack{kPid + 3, kPid, kPid + 2, {}},
                      std::vector<uint64_t>{kMutexUnlock, kCompress, kServe, kMain});
      }
      w.thread_state(ts + 300 + 4 * kMs + 20'000 + i * 50, ThreadStateChange{kPid + 3, ThreadState::kRunning});
    }
    if (i % 100 == 2) {
      // worker-1 is preempted for 1.0-1.8 ms every 100 ms.
      w.thread_state(ts + 150'000, ThreadStateChange{kPid + 2, ThreadState::kRunnable});
      w.thread_state(ts + 150'000 + kMs + i * 900, ThreadStateChange{kPid + 2, ThreadState::kRunning});
    }
  }
  // Scheduler states from the start; the main thread has schedstat totals only.
  for (uint32_t tid = kPid + 1; tid <= kPid + 3; ++tid) w.thread_state(kT0, ThreadStateChange{tid, ThreadState::kRunning});
  w.sched_stat(kT0, SchedStat{kPid, kPid, 5 * kMs, 100'000, 10});
  w.sched_stat(kT0 + 1000 * kMs, SchedStat{kPid, kPid, 25 * kMs, 600'000, 60});
  Lost lost;
  lost.count = 3;
  w.lost(kT0 + 500 * kMs, lost);

  // The runtime: short polls on both workers, one 60 ms poll that blocks in
  // read() on worker 0, and one 15 ms poll on worker 1.
  TaskSpawn spawn{7, "src/server.rs:88:5", false};
  w.task_spawn(kT0, spawn);
  uint64_t span_id = 1;
  for (uint64_t i = 0; i < 40; ++i) {
    uint64_t ts = kT0 + 100 * kMs + i * 20 * kMs;
    uint64_t worker = i % 2;
    uint64_t task = 10 + i % 5;
    w.wake_event(ts - (i % 5 == 0 ? 7 * kMs : 200'000), WakeEvent{1, task, static_cast<uint8_t>(worker)});
    w.poll_start(ts, PollStart{worker, 0, task, "src/server.rs:88:5"});
    span(w, true, ts + 10'000, worker, span_id);
    span(w, false, ts + 10'000 + (i + 1) * 20'000, worker, span_id);
    ++span_id;
    w.poll_end(ts + 1 * kMs, PollEnd{worker});
  }
  w.wake_event(kT0 + 899 * kMs, WakeEvent{1, 7, 0});
  w.poll_start(kT0 + 900 * kMs, PollStart{0, 0, 7, "src/db.rs:12:9"});
  // Inside it, worker-0 waits 58.8 ms on the disk in read(), until an
  // interrupt wakes it.
  sample(w, kT0 + 900 * kMs + 200'000, kPid + 1, 0, 1, {kSchedule, kRead, kLoadConfig, kMain});
  w.thread_state(kT0 + 900 * kMs + 200'000, ThreadStateChange{kPid + 1, ThreadState::kUninterruptible});
  w.wakeup(kT0 + 959 * kMs, Wakeup{kPid + 1, 0, 0, "swapper/2"});
  w.thread_state(kT0 + 959 * kMs + 100'000, ThreadStateChange{kPid + 1, ThreadState::kRunning});
  w.poll_end(kT0 + 960 * kMs, PollEnd{0});
  w.poll_start(kT0 + 970 * kMs, PollStart{1, 0, 11, "src/server.rs:88:5"});
  w.poll_end(kT0 + 985 * kMs, PollEnd{1});
  for (uint64_t i = 0; i < 5; ++i) {
    uint32_t tid = static_cast<uint32_t>(kPid + 1 + i % 2);
    uint64_t ts = kT0 + (150 + i * 150) * kMs;
    w.worker_park(ts, WorkerPark{i % 2, 0, (i + 1) * 100 * kMs, tid});
    w.worker_unpark(ts + 5 * kMs, WorkerUnpark{i % 2, 0, (i + 1) * 100 * kMs, (i + 1) * 100'000, tid});
    w.queue_sample(ts, QueueSample{static_cast<uint8_t>(i)});
    cache_miss(w, ts, i);
  }

  // The symbol table, as a recorder appends it when it seals a segment.
  struct Sym {
    uint64_t addr;
    const char* name;
    uint64_t depth;
    const char* file;
    uint64_t line;
  };
  const Sym syms[] = {
      {kMain, "main", 0, "src/main.rs", 12},
      {kServe, "golden::server::serve", 0, "src/server.rs", 40},
      {kParse, "golden::http::parse_request", 0, "src/http.rs", 77},
      {kParseInlined, "golden::http::parse_request", 0, "src/http.rs", 80},
      {kParseInlined, "golden::http::decode_header", 1, "src/http.rs", 120},
      {kHash, "golden::cache::hash_key", 0, "src/cache.rs", 15},
      {kCompress, "golden::codec::compress", 0, "src/codec.rs", 200},
      {kLoadConfig, "golden::config::load_config", 0, "src/config.rs", 9},
      {kUpdateStats, "golden::stats::update_stats", 0, "src/stats.rs", 31},
      {kLllLockWait, "__lll_lock_wait", 0, "", 0},
      {kMutexLock, "pthread_mutex_lock", 0, "", 0},
      {kRead, "read", 0, "", 0},
      {kMutexUnlock, "pthread_mutex_unlock", 0, "", 0},
      {kSchedule, "__schedule", 0, "", 0},
      {kFutexWait, "futex_wait", 0, "", 0},
  };
  for (const Sym& s : syms) {
    SymbolTableEntry e;
    e.addr = s.addr;
    e.size = 16;
    e.symbol_name = s.name;
    e.inline_depth = s.depth;
    e.source_file = s.file;
    e.source_line = s.line;
    w.symbol(kT0 + 1000 * kMs, e);
  }
  auto bytes = w.take();
  std::FILE* f = std::fopen(argv[1], "wb");
  if (!f || std::fwrite(bytes.data(), 1, bytes.size(), f) != bytes.size() || std::fclose(f) != 0) {
    std::perror(argv[1]);
    return 1;
  }
  return 0;
}
