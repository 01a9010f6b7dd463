// The scheduler side of the report: thread states loaded into intervals,
// running / runnable / blocked per thread, off-CPU stacks weighted by blocked
// time with who woke them, run-queue latency, the lock / I/O / CPU findings,
// and the notes that say which data a recording could not capture. Every
// figure is worked out by hand.
#include <catch2/catch.hpp>

#include <cstdio>
#include <fstream>
#include <map>

#include "format/trace_writer.h"
#include "report/analysis/analyses.h"
#include "report/analysis/sched.h"
#include "report/render/render.h"
#include "tests/support/model_builder.h"
#include "tests/support/test_support.h"

using namespace dial9::report;
using dial9::test::ModelBuilder;
namespace fmt = dial9::format;

namespace {

constexpr uint64_t kMs = 1'000'000;
constexpr uint64_t kUs = 1'000;

const Finding* find_kind(const std::vector<Finding>& f, const std::string& kind) {
  for (const Finding& x : f) {
    if (x.kind == kind) return &x;
  }
  return nullptr;
}

bool contains(const Stack& s, const std::string& fn) { return std::find(s.begin(), s.end(), fn) != s.end(); }

// Names each address by a table and remembers the process each was located
// in, so a test can see that waker stacks are located in the waker's.
class NamedResolver final : public StackResolver {
 public:
  explicit NamedResolver(std::map<uint64_t, std::string> names) : names_(std::move(names)) {}
  void observe(const fmt::Event&) override {}
  uint32_t locate(uint32_t pid, uint64_t addr, bool) override {
    auto [it, added] = ids_.try_emplace({pid, addr}, static_cast<uint32_t>(locs_.size()));
    if (added) locs_.push_back({pid, addr});
    return it->second;
  }
  uint32_t locations() const override { return static_cast<uint32_t>(locs_.size()); }
  void frames(uint32_t loc, std::vector<ResolvedFrame>& out) override {
    ResolvedFrame f;
    f.function = names_[locs_[loc].second];
    f.module = "app";
    out.push_back(f);
  }
  std::vector<std::pair<uint32_t, uint64_t>> locs_;

 private:
  std::map<uint64_t, std::string> names_;
  std::map<std::pair<uint32_t, uint64_t>, uint32_t> ids_;
};

TraceModel load(fmt::TraceWriter& w, StackResolver& r) {
  dial9::test::TempDir dir;
  auto bytes = w.take();
  {
    std::ofstream out(dir.file("t.bin"), std::ios::binary);
    out.write(reinterpret_cast<const char*>(bytes.data()), static_cast<std::streamsize>(bytes.size()));
  }
  auto m = load_trace({dir.file("t.bin")}, r);
  REQUIRE(m);
  return std::move(*m);
}

void meta(fmt::TraceWriter& w, const std::string& sched, const std::string& degraded = "") {
  std::vector<std::pair<std::string, std::string>> entries = {{"sched", sched}};
  if (!degraded.empty()) entries.emplace_back("degraded", degraded);
  w.segment_metadata(0, entries);
}

using TS = fmt::ThreadState;

}  // namespace

TEST_CASE("thread states load into intervals: stacks at switch-outs, wakeups, open ends") {
  fmt::TraceWriter w;
  meta(w, "switches,stacks,states,wakers,waker_stacks");
  w.thread_name(1 * kMs, fmt::ThreadName{100, 101, "worker", false});
  // Thread 101: running until 2 ms (its first event is a switch-out, so it
  // was running from the trace start), blocked on a lock until a wakeup by
  // thread 201 of process 200 at 5 ms, runnable until 5.1 ms, then running
  // to the end of the trace.
  fmt::CpuSample off;
  off.tid = 101;
  off.source = 1;
  w.cpu_sample(2 * kMs, off, std::vector<uint64_t>{0x10, 0x20});
  w.thread_state(2 * kMs, fmt::ThreadStateChange{101, TS::kSleeping});
  w.wakeup(5 * kMs, fmt::Wakeup{101, 200, 201, "holder"});
  w.waker_stack(5 * kMs, fmt::WakerStack{101, 200, 201, {}}, std::vector<uint64_t>{0x30});
  w.thread_state(5 * kMs + 100 * kUs, fmt::ThreadStateChange{101, TS::kRunning});
  // Thread 102: its first event is a wakeup (it was blocked, kind unknown),
  // then a preemption; a state past the known ones reads as 5.
  w.wakeup(3 * kMs, fmt::Wakeup{102, 0, 0, "swapper/3"});
  w.thread_state(3 * kMs + 10 * kUs, fmt::ThreadStateChange{102, TS::kRunning});
  w.thread_state(4 * kMs, fmt::ThreadStateChange{102, TS::kRunnable});
  w.thread_state(4 * kMs + 500 * kUs, fmt::ThreadStateChange{102, TS::kRunning});
  w.thread_state(6 * kMs, fmt::ThreadStateChange{102, static_cast<TS>(9)});
  fmt::CpuSample on;
  on.tid = 101;
  w.cpu_sample(10 * kMs, on, std::vector<uint64_t>{0x10});
  NamedResolver r({{0x10, "lock"}, {0x20, "update"}, {0x30, "unlock"}});
  TraceModel m = load(w, r);

  REQUIRE(m.start_ns == 1 * kMs);
  REQUIRE(m.end_ns == 10 * kMs);
  std::vector<StateInterval> t101, t102;
  for (const StateInterval& s : m.states) (s.tid == 101 ? t101 : t102).push_back(s);
  REQUIRE(t101.size() == 4);
  CHECK(t101[0].state == 0);
  CHECK(t101[0].start_ns == 1 * kMs);
  CHECK(t101[0].flags == StateInterval::kOpenStart);
  CHECK(t101[1].state == 2);
  CHECK(t101[1].duration() == 3 * kMs);
  REQUIRE(t101[1].stack != kNoStack);
  CHECK(t101[1].closed());
  REQUIRE(t101[1].waker != kNoWaker);
  CHECK(m.waker_name(t101[1].waker) == "holder");
  CHECK(m.wakers[t101[1].waker].pid == 200);
  CHECK(t101[2].state == 1);
  CHECK(t101[2].waker == t101[1].waker);
  CHECK(t101[2].duration() == 100 * kUs);
  CHECK(t101[3].state == 0);
  CHECK(t101[3].end_ns == 10 * kMs);
  CHECK(t101[3].flags == StateInterval::kOpenEnd);

  REQUIRE(t102.size() == 6);
  CHECK(t102[0].state == 5);
  CHECK(t102[0].start_ns == 1 * kMs);
  CHECK(m.waker_name(t102[0].waker) == "interrupt (swapper/3)");
  CHECK(t102[1].state == 1);
  CHECK(t102[3].state == 1);
  CHECK(t102[3].waker == kNoWaker);  // a preemption
  CHECK(t102[5].state == 5);

  // The waker's stack is located in the waker's process.
  REQUIRE(m.waker_stacks.size() == 1);
  auto [locs, n] = m.stacks.get(m.waker_stacks[0].stack);
  REQUIRE(n == 1);
  CHECK(r.locs_[locs[0]] == std::make_pair(200u, uint64_t{0x30}));
  // Waker threads of other processes are not the trace's threads.
  CHECK(m.threads.count(201) == 0);

  // --from/--to cut intervals; the blocked one loses its wakeup when cut.
  Selection sel;
  sel.from_ns = 3 * kMs;
  sel.to_ns = 4 * kMs;
  sel.tids = {101};
  restrict(m, sel);
  REQUIRE(m.states.size() == 1);
  CHECK(m.states[0].start_ns == 3 * kMs);
  CHECK(m.states[0].end_ns == 4 * kMs);
  CHECK(m.states[0].flags == (StateInterval::kOpenStart | StateInterval::kOpenEnd));
  CHECK(m.states[0].waker == kNoWaker);
  CHECK(m.waker_stacks.empty());
}

TEST_CASE("a mutex convoy: blocked time on the lock stack, woken by the holder, a lock contention finding") {
  ModelBuilder b;
  b.m.metadata["sched"] = "switches,stacks,states,wakers,waker_stacks,schedstat";
  StackId lock = b.stack({"futex_wait@[kernel]", "__lll_lock_wait", "pthread_mutex_lock", "update_shared_state",
                          "worker", "start_thread"});
  StackId idle = b.stack({"futex_wait@[kernel]", "pthread_cond_wait", "wait_for_work", "start_thread"});
  StackId unlock = b.stack({"try_to_wake_up@[kernel]", "__lll_unlock_wake", "pthread_mutex_unlock",
                            "update_shared_state", "worker"});
  b.thread(10, "holder");
  for (uint32_t t = 11; t <= 14; ++t) b.thread(t, "waiter-" + std::to_string(t));
  b.thread(15, "pool");
  uint32_t holder = b.waker(10, "holder");
  // Each of four waiters: 100 waits of 2 ms, each followed by 0.5 ms of
  // running; the holder's stack was sampled at every 10th wakeup, stamped a
  // few microseconds before it (as perf's two events are).
  for (uint32_t t = 11; t <= 14; ++t) {
    uint64_t ts = 0;
    for (int i = 0; i < 100; ++i) {
      b.blocked(t, ts, 2 * kMs, lock, holder, 20 * kUs);
      if (i % 10 == 0) b.m.waker_stacks.push_back({ts + 2 * kMs - 5 * kUs, t, 10, unlock});
      b.state(t, ts + 2 * kMs + 20 * kUs, ts + 2500 * kUs, 0);
      ts += 2500 * kUs;
    }
  }
  // An idle pool thread waits on a condition variable all along: not a lock.
  b.blocked(15, 0, 250 * kMs, idle, kNoWaker);
  b.state(10, 0, 250 * kMs, 0);
  b.finish();

  Report r = build_report(b.m);
  REQUIRE(r.off_cpu.size() == 2);
  const OffCpuStack& top = r.off_cpu[0];
  CHECK(top.blocked_ns == 4 * 100 * 2 * kMs);
  CHECK(top.count == 400);
  CHECK(contains(top.stack, "pthread_mutex_lock"));
  CHECK(contains(top.stack, "update_shared_state"));
  REQUIRE(top.woken_by.size() == 1);
  CHECK(top.woken_by[0].thread == "holder");
  CHECK(top.woken_by[0].tid == 10);
  CHECK(top.woken_by[0].count == 400);
  CHECK(top.woken_by[0].stack ==
        Stack{"try_to_wake_up", "__lll_unlock_wake", "pthread_mutex_unlock", "update_shared_state", "worker"});
  CHECK(top.woken_by[0].first_user == 1);
  CHECK(r.off_cpu[1].blocked_ns == 250 * kMs);
  CHECK(r.off_cpu[1].woken_by.empty());

  // Threads: each waiter 200 ms blocked, 2 ms runnable, 48 ms running.
  auto row = std::find_if(r.threads.begin(), r.threads.end(), [](const ThreadRow& t) { return t.tid == 12; });
  REQUIRE(row != r.threads.end());
  CHECK(row->blocked_ns == 200 * kMs);
  CHECK(row->runnable_ns == 2 * kMs);
  CHECK(row->running_ns == 48 * kMs);

  const Finding* f = find_kind(r.findings, "lock_contention");
  REQUIRE(f);
  CHECK(f->title.find("4 thread(s)") != std::string::npos);
  CHECK(f->title.find("update_shared_state") != std::string::npos);
  CHECK(f->evidence.find("woken mostly by holder (10), 400 times, in update_shared_state") != std::string::npos);
  CHECK(contains(f->stack, "pthread_mutex_lock"));
  CHECK(r.overview.sched_notes.empty());
  CHECK(r.off_cpu_notes.empty());

  // The text report says who woke whom, with the waker's stack.
  std::string text = render_text(r);
  CHECK(text.find("woken 400x by holder (10), at:\n      __lll_unlock_wake\n") != std::string::npos);
  CHECK(text.find("800 ms blocked, 400 waits") != std::string::npos);
}

TEST_CASE("sleeping 20 x 50 ms is 1 s blocked under the caller, woken by a timer interrupt") {
  ModelBuilder b;
  b.m.metadata["sched"] = "switches,stacks,states,wakers,waker_stacks,schedstat";
  StackId sleep = b.stack({"hrtimer_nanosleep@[kernel]", "clock_nanosleep", "nanosleep", "sleepy_loop", "main"});
  b.thread(7, "sleeper");
  uint32_t timer = b.waker(0, "swapper/1", 0);
  uint64_t ts = 0;
  for (int i = 0; i < 20; ++i) {
    b.blocked(7, ts, 50 * kMs, sleep, timer, 10 * kUs);
    b.state(7, ts + 50 * kMs + 10 * kUs, ts + 50 * kMs + 110 * kUs, 0);
    ts += 50 * kMs + 110 * kUs;
  }
  b.finish();
  Report r = build_report(b.m);
  REQUIRE(r.off_cpu.size() == 1);
  CHECK(r.off_cpu[0].blocked_ns == 1000 * kMs);
  CHECK(contains(r.off_cpu[0].stack, "sleepy_loop"));
  REQUIRE(r.off_cpu[0].woken_by.size() == 1);
  CHECK(r.off_cpu[0].woken_by[0].thread == "interrupt (swapper/1)");
  CHECK(r.off_cpu[0].woken_by[0].tid == 0);
  REQUIRE(r.sched_latency);
  CHECK(r.sched_latency->source == "switch and wakeup events");
  CHECK(r.sched_latency->overall.count == 20);
  CHECK(r.sched_latency->overall.p99_ns == 10 * kUs);
  // Calm: sleeping is neither contention nor I/O.
  CHECK_FALSE(find_kind(r.findings, "lock_contention"));
  CHECK_FALSE(find_kind(r.findings, "io_wait"));
  CHECK_FALSE(find_kind(r.findings, "cpu_contention"));
}

TEST_CASE("waits whose wakeup the kernel did not deliver are counted and said, from 5% of the waits") {
  for (int missed : {0, 1, 2, 5}) {
    ModelBuilder b;
    b.m.metadata["sched"] = "switches,stacks,states,wakers,waker_stacks,schedstat";
    StackId sleep = b.stack({"hrtimer_nanosleep@[kernel]", "nanosleep", "sleepy_loop"});
    b.thread(7, "sleeper");
    uint32_t timer = b.waker(0, "swapper/1", 0);
    uint64_t ts = 0;
    for (int i = 0; i < 20; ++i) {
      b.blocked(7, ts, 50 * kMs, sleep, i < missed ? kNoWaker : timer, 10 * kUs);
      ts += 50 * kMs + 10 * kUs;
      b.state(7, ts, ts + 100 * kUs, 0);
      ts += 100 * kUs;
    }
    b.finish();
    auto w = waits_without_wakeup(b.m);
    CHECK(w.waits == 20);
    CHECK(w.missed == static_cast<uint64_t>(missed));
    Report r = build_report(b.m);
    INFO("missed " << missed);
    // One wait in 20 is 5%: said from there on.
    if (missed == 0) CHECK(r.off_cpu_notes.empty());
    if (missed == 1 || missed == 5) {
      REQUIRE(r.off_cpu_notes.size() == 1);
      CHECK(r.off_cpu_notes[0].find(std::to_string(missed) + " of 20 waits ended without a recorded wakeup") == 0);
    }
    // The blocked time is all there, whoever woke it.
    REQUIRE(r.off_cpu.size() == 1);
    CHECK(r.off_cpu[0].blocked_ns == 1000 * kMs);
  }
}

TEST_CASE("lost scheduler events are counted apart from lost samples and said") {
  fmt::TraceWriter w;
  meta(w, "switches,stacks,states,wakers,waker_stacks,schedstat");
  w.lost(5, fmt::Lost{static_cast<uint8_t>(fmt::LostSource::kRingFull), 0, 3});
  w.lost(6, fmt::Lost{static_cast<uint8_t>(fmt::LostSource::kSchedRing), 1, 40});
  w.lost(7, fmt::Lost{static_cast<uint8_t>(fmt::LostSource::kSchedRing), 0, 2});
  NamedResolver names({});
  TraceModel m = load(w, names);
  CHECK(m.lost_samples == 3);
  CHECK(m.lost_sched_events == 42);
  Report r = build_report(m);
  CHECK(r.overview.lost_samples == 3);
  CHECK(r.overview.lost_sched_events == 42);
  bool said = false;
  for (const auto& n : r.overview.sched_notes) said = said || n.find("42 scheduler events lost") == 0;
  CHECK(said);
}

TEST_CASE("preemptions alone give run-queue latency, and missing wakers are said, with the reason") {
  ModelBuilder b;
  b.m.metadata["sched"] = "switches,stacks,schedstat";
  b.m.degraded = {"who woke whom, and run-queue latency after wakeups, are not recorded: tracefs is not mounted; "
                  "fix: run dial9 as root",
                  "off-CPU waits are not split into sleeping / uninterruptible (I/O) / stopped: tracefs is not "
                  "mounted"};
  // Eight CPU-bound threads on two CPUs: each runs 2 ms, then waits 6 ms
  // (one of them 9 ms every 10th time).
  for (uint32_t t = 1; t <= 8; ++t) {
    uint64_t ts = 0;
    for (int i = 0; i < 100; ++i) {
      uint64_t wait = i % 10 == 9 && t == 8 ? 9 * kMs : 6 * kMs;
      b.state(t, ts, ts + 2 * kMs, 0);
      b.state(t, ts + 2 * kMs, ts + 2 * kMs + wait, 1);
      ts += 2 * kMs + wait;
    }
  }
  b.finish();
  Report r = build_report(b.m);
  REQUIRE(r.sched_latency);
  CHECK(r.sched_latency->source == "switch events (preemptions only; wakeups not recorded)");
  CHECK(r.sched_latency->overall.count == 800);
  CHECK(r.sched_latency->overall.p50_ns == 6 * kMs);
  CHECK(r.sched_latency->overall.max_ns == 9 * kMs);
  CHECK(r.sched_latency->per_thread.front().tid == 8);  // the worst p99 first
  CHECK(r.sched_latency->per_thread.front().stats.p99_ns == 9 * kMs);
  for (const ThreadRow& t : r.threads) CHECK(t.runnable_ns.value_or(0) >= 600 * kMs);
  const Finding* f = find_kind(r.findings, "cpu_contention");
  REQUIRE(f);
  CHECK(f->title.find("8 thread(s)") != std::string::npos);
  // What is missing, and why.
  REQUIRE(r.overview.sched_notes.size() == 2);
  CHECK(r.overview.sched_notes[0].find("waits not told apart") == 0);
  CHECK(r.overview.sched_notes[1] ==
        "who woke whom not recorded (woken_by is empty; run-queue latency counts preemptions only): tracefs is "
        "not mounted; fix: run dial9 as root");
  REQUIRE(r.off_cpu_notes.size() == 1);
  CHECK(r.off_cpu_notes[0].find("who woke whom not recorded") == 0);
  std::string text = render_text(r);
  CHECK(text.find("Missing    who woke whom not recorded") != std::string::npos);
}

TEST_CASE("schedstat totals alone: running and runnable per thread, blocked unknown, no distribution") {
  ModelBuilder b;
  b.m.metadata["sched"] = "schedstat";
  b.m.degraded = {"context-switch events are off: kernel.perf_event_paranoid is 3; fix: sudo sysctl "
                  "kernel.perf_event_paranoid=1"};
  b.thread(1, "main");
  b.thread(2, "busy");
  b.sched_stat(0, 1, 10 * kMs, 1 * kMs, 5);
  b.sched_stat(1000 * kMs, 1, 30 * kMs, 2 * kMs, 15);
  b.sched_stat(0, 2, 0, 0, 0);
  b.sched_stat(500 * kMs, 2, 400 * kMs, 300 * kMs, 200);
  b.sched_stat(1000 * kMs, 2, 600 * kMs, 400 * kMs, 300);
  b.sched_stat(1000 * kMs, 3, 5, 5, 5);  // one record: no span, no row
  Report r = build_report(b.m);
  REQUIRE(r.threads.size() == 2);
  CHECK(r.threads[0].tid == 2);
  CHECK(r.threads[0].running_ns == 600 * kMs);
  CHECK(r.threads[0].runnable_ns == 400 * kMs);
  CHECK_FALSE(r.threads[0].blocked_ns);
  CHECK(r.threads[1].running_ns == 20 * kMs);
  CHECK(r.threads[1].runnable_ns == 1 * kMs);
  REQUIRE(r.sched_latency);
  CHECK(r.sched_latency->source == "schedstat totals (no distribution)");
  CHECK(r.sched_latency->overall.count == 0);
  CHECK(r.sched_latency->wait_ns == 401 * kMs);
  CHECK(r.sched_latency->per_thread.front().tid == 2);
  REQUIRE(r.overview.sched_notes.size() == 1);
  CHECK(r.overview.sched_notes[0].find("thread states not recorded (running and runnable times come from "
                                       "schedstat totals") == 0);
  CHECK(r.overview.sched_notes[0].find("kernel.perf_event_paranoid is 3") != std::string::npos);
  // 40% runnable is CPU contention even without a distribution.
  const Finding* f = find_kind(r.findings, "cpu_contention");
  REQUIRE(f);
  CHECK(f->evidence.find("schedstat totals") != std::string::npos);
  std::string text = render_text(r);
  CHECK(text.find("schedstat totals (no distribution)") != std::string::npos);
  std::string json = render_json(r);
  CHECK(json.find("\"blocked_ns\": null") != std::string::npos);
}

TEST_CASE("disk waits and I/O calls are I/O findings, said apart") {
  ModelBuilder b;
  b.m.metadata["sched"] = "switches,stacks,states,wakers,waker_stacks,schedstat";
  StackId disk = b.stack({"io_schedule@[kernel]", "__libc_pread64", "load_block", "main"});
  uint32_t irq = b.waker(0, "swapper/0", 0);
  b.thread(1, "loader");
  for (int i = 0; i < 10; ++i) {
    b.blocked(1, i * 10 * kMs, 8 * kMs, disk, irq, 0, /*D*/ 3);
    b.state(1, i * 10 * kMs + 8 * kMs, (i + 1) * 10 * kMs, 0);
  }
  b.finish();
  Report r = build_report(b.m);
  const Finding* f = find_kind(r.findings, "io_wait");
  REQUIRE(f);
  CHECK(f->severity == Severity::kWarning);
  CHECK(f->title.find("Disk I/O") == 0);
  CHECK(f->title.find("80.0 ms") != std::string::npos);

  // A consumer waiting on a pipe: an I/O call, told by the stack.
  ModelBuilder c;
  StackId pipe = c.stack({"pipe_read@[kernel]", "__GI___libc_read", "consume", "main"});
  uint32_t producer = c.waker(3, "producer");
  c.thread(2, "consumer");
  for (int i = 0; i < 10; ++i) {
    c.blocked(2, i * 10 * kMs, 9 * kMs, pipe, producer);
    c.state(2, i * 10 * kMs + 9 * kMs, (i + 1) * 10 * kMs, 0);
  }
  c.finish();
  r = build_report(c.m);
  f = find_kind(r.findings, "io_wait");
  REQUIRE(f);
  CHECK(f->severity == Severity::kInfo);
  CHECK(f->title.find("most in __GI___libc_read") != std::string::npos);
  REQUIRE(r.off_cpu.size() == 1);
  CHECK(r.off_cpu[0].woken_by.at(0).thread == "producer");
}

TEST_CASE("calm scheduler data raises no scheduler finding") {
  ModelBuilder b;
  b.m.metadata["sched"] = "switches,stacks,states,wakers,waker_stacks,schedstat";
  StackId lock = b.stack({"__lll_lock_wait", "pthread_mutex_lock", "update", "main"});
  uint32_t other = b.waker(2, "other");
  // 1 s of mostly running, three 1 ms lock waits, short queueing.
  uint64_t ts = 0;
  for (int i = 0; i < 3; ++i) {
    b.state(1, ts, ts + 300 * kMs, 0);
    b.blocked(1, ts + 300 * kMs, 1 * kMs, lock, other, 30 * kUs);
    ts += 301 * kMs + 30 * kUs;
  }
  b.state(1, ts, 1000 * kMs, 0);
  b.finish();
  Report r = build_report(b.m);
  CHECK_FALSE(find_kind(r.findings, "lock_contention"));
  CHECK_FALSE(find_kind(r.findings, "cpu_contention"));
  CHECK_FALSE(find_kind(r.findings, "io_wait"));
  REQUIRE(r.off_cpu.size() == 1);
  CHECK(r.off_cpu[0].blocked_ns == 3 * kMs);
}

TEST_CASE("traces that do not say what scheduler data they have: silent unless there is none") {
  ModelBuilder tokio;  // switch-out samples, no thread states: counts, no durations
  StackId s = tokio.stack({"epoll_wait", "park"});
  tokio.sample(1, 1, s, 1);
  Report r = build_report(tokio.m);
  CHECK(r.overview.sched_notes.empty());
  REQUIRE(r.off_cpu.size() == 1);
  CHECK_FALSE(r.off_cpu[0].blocked_ns);
  CHECK(r.off_cpu[0].count == 1);

  ModelBuilder bare;
  bare.sample(1, 1, bare.stack({"f"}));
  r = build_report(bare.m);
  REQUIRE(r.overview.sched_notes.size() == 1);
  CHECK(r.overview.sched_notes[0].find("no scheduler data") == 0);

  bare.m.metadata["sched"] = "off";
  r = build_report(bare.m);
  REQUIRE(r.overview.sched_notes.size() == 1);
  CHECK(r.overview.sched_notes[0].find("--no-sched") != std::string::npos);
  CHECK(render_json(r).find("\"sched\": \"off\"") != std::string::npos);
}

TEST_CASE("the sched metadata is read item by item") {
  TraceModel m;
  CHECK_FALSE(sched_capture(m).known);
  m.metadata["sched"] = "switches, wakers,schedstat";
  SchedCapture c = sched_capture(m);
  CHECK(c.known);
  CHECK(c.switches);
  CHECK(c.wakers);
  CHECK(c.schedstat);
  CHECK_FALSE(c.stacks);
  CHECK_FALSE(c.off);
}
