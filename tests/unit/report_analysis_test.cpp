// The report's analyses on small hand-built models: every figure here is
// worked out by hand, so a change in a rule shows up as a failure.
#include <catch2/catch.hpp>

#include "report/analysis/analyses.h"
#include "report/analysis/stats.h"
#include "report/render/render.h"
#include "tests/support/model_builder.h"

using namespace dial9::report;
using dial9::test::ModelBuilder;

namespace {

constexpr uint64_t kMs = 1'000'000;

}  // namespace

TEST_CASE("percentiles use the toolkit's rank rule and are always observed values") {
  std::vector<uint64_t> v = {5, 1, 4, 2, 3};
  LatencyStats s = summarize(v);
  CHECK(s.count == 5);
  CHECK(s.p50_ns == 3);
  CHECK(s.p90_ns == 5);
  CHECK(s.max_ns == 5);
  std::vector<uint64_t> hundred;
  for (uint64_t i = 1; i <= 100; ++i) hundred.push_back(i);
  CHECK(percentile(hundred, 99) == 99);
  CHECK(percentile(hundred, 50) == 50);
  // Rank round(p * n): with 52 values, p99 is the 51st, not the maximum.
  std::vector<uint64_t> fifty_two;
  for (uint64_t i = 1; i <= 52; ++i) fifty_two.push_back(i * 10);
  CHECK(percentile(fifty_two, 99) == 510);
  std::vector<uint64_t> none;
  CHECK(summarize(none).count == 0);
}

TEST_CASE("hot functions: self is the leaf, total counts each function once per stack") {
  ModelBuilder b;
  StackId hot = b.stack({"hash", "lookup", "main"});
  StackId rec = b.stack({"walk", "walk", "walk", "main"});
  for (int i = 0; i < 6; ++i) b.sample(i, 1, hot);
  for (int i = 0; i < 3; ++i) b.sample(10 + i, 1, rec);
  b.sample(20, 1, hot, /*source=*/1);  // off-CPU: not CPU time
  auto hot_fns = hot_functions(b.m, ReportOptions{});
  REQUIRE(hot_fns.size() >= 3);
  CHECK(hot_fns[0].function == "hash");
  CHECK(hot_fns[0].self_samples == 6);
  CHECK(hot_fns[0].self_pct == Approx(66.67).epsilon(0.001));
  CHECK(hot_fns[1].function == "walk");
  CHECK(hot_fns[1].total_samples == 3);  // recursion is not triple-counted
  auto main_row = std::find_if(hot_fns.begin(), hot_fns.end(), [](const auto& h) { return h.function == "main"; });
  REQUIRE(main_row != hot_fns.end());
  CHECK(main_row->self_samples == 0);
  CHECK(main_row->total_pct == Approx(100));
}

TEST_CASE("inlined functions are frames of their own, folded into the caller without inlines") {
  ModelBuilder b;
  StackId s = b.stack({"mix<hash", "main"});
  for (int i = 0; i < 4; ++i) b.sample(i, 1, s);
  ReportOptions with;
  auto a = hot_functions(b.m, with);
  REQUIRE(!a.empty());
  CHECK(a[0].function == "mix");
  ReportOptions without;
  without.inlines = false;
  auto c = hot_functions(b.m, without);
  REQUIRE(!c.empty());
  CHECK(c[0].function == "hash");
  CHECK(std::none_of(c.begin(), c.end(), [](const auto& h) { return h.function == "mix"; }));
}

TEST_CASE("wake-to-poll delay follows the issue's rule") {
  ModelBuilder b;
  // Task 1: woken at 10 ms, polled at 13 ms: 3 ms.
  b.wake(10 * kMs, 1);
  b.poll(0, 1, 13 * kMs, 14 * kMs);
  // Task 2: polled 20–25 ms, woken at 22 ms (during that poll), polled again
  // at 26 ms: measured from the poll's end, 1 ms.
  b.poll(0, 2, 20 * kMs, 25 * kMs);
  b.wake(22 * kMs, 2);
  b.poll(0, 2, 26 * kMs, 27 * kMs);
  // Task 3: a wake 2 s before its poll is unrelated and dropped.
  b.wake(30 * kMs, 3);
  b.poll(1, 3, 2030 * kMs, 2031 * kMs);
  // Task 4: polled again without a new wake: no delay for that poll.
  b.wake(40 * kMs, 4);
  b.poll(1, 4, 42 * kMs, 43 * kMs);
  b.poll(1, 4, 44 * kMs, 45 * kMs);
  std::sort(b.m.polls.begin(), b.m.polls.end(), [](const Poll& x, const Poll& y) { return x.start_ns < y.start_ns; });
  std::sort(b.m.wakes.begin(), b.m.wakes.end(), [](const Wake& x, const Wake& y) { return x.ts < y.ts; });
  auto rt = runtime_analysis(b.m, ReportOptions{});
  REQUIRE(rt);
  CHECK(rt->wake_to_poll.count == 3);
  CHECK(rt->wake_to_poll.p50_ns == 2 * kMs);
  CHECK(rt->wake_to_poll.max_ns == 3 * kMs);
}

TEST_CASE("a long poll carries the stack sampled inside it on its worker") {
  ModelBuilder b;
  StackId inside = b.stack({"read", "handler"});
  StackId other_worker = b.stack({"spin"});
  b.poll(0, 7, 100 * kMs, 160 * kMs, "server.rs:42");
  b.poll(1, 8, 100 * kMs, 101 * kMs);
  b.sample(110 * kMs, 11, inside, 1, /*worker=*/0);
  b.sample(120 * kMs, 11, inside, 0, 0);
  b.sample(130 * kMs, 12, other_worker, 0, 1);
  b.sample(170 * kMs, 11, other_worker, 0, 0);  // after the poll
  auto rt = runtime_analysis(b.m, ReportOptions{});
  REQUIRE(rt);
  REQUIRE(rt->long_polls.size() == 1);  // the 1 ms poll is not longer than 1 ms
  const LongPoll& p = rt->long_polls[0];
  CHECK(p.task_id == 7);
  CHECK(p.spawn_loc == "server.rs:42");
  CHECK(p.duration_ns == 60 * kMs);
  CHECK(p.samples == 2);
  CHECK(p.stack == Stack{"read", "handler"});

  Report r;
  r.runtime = rt;
  auto f = findings(b.m, r, ReportOptions{});
  REQUIRE(!f.empty());
  CHECK(f[0].kind == "long_poll");
  CHECK(f[0].severity == Severity::kCritical);  // over 50 ms
  CHECK(f[0].stack == Stack{"read", "handler"});
  // The switch-out sample inside the poll is a blocking call on a worker.
  CHECK(std::any_of(f.begin(), f.end(), [](const Finding& x) { return x.kind == "blocking_in_poll"; }));
}

TEST_CASE("a poll between 10 and 50 ms is a warning, and short polls raise nothing") {
  ModelBuilder b;
  b.poll(0, 1, 0, 20 * kMs);
  Report r;
  auto f = findings(b.m, r, ReportOptions{});
  REQUIRE(f.size() == 1);
  CHECK(f[0].severity == Severity::kWarning);
  ModelBuilder quiet;
  quiet.poll(0, 1, 0, 9 * kMs);
  CHECK(findings(quiet.m, r, ReportOptions{}).empty());
}

TEST_CASE("lock waits in off-CPU stacks are reported as contention") {
  ModelBuilder b;
  StackId lock = b.stack({"futex_wait", "__lll_lock_wait", "pthread_mutex_lock", "update"});
  StackId io = b.stack({"read", "load"});
  for (int i = 0; i < 12; ++i) b.sample(i, 2, lock, 1);
  for (int i = 0; i < 3; ++i) b.sample(100 + i, 3, io, 1);
  Report r;
  auto f = findings(b.m, r, ReportOptions{});
  auto it = std::find_if(f.begin(), f.end(), [](const Finding& x) { return x.kind == "lock_contention"; });
  REQUIRE(it != f.end());
  CHECK(it->title.find("12 of 15") != std::string::npos);
  CHECK(it->stack.back() == "update");
  auto off = off_cpu_stacks(b.m, ReportOptions{});
  REQUIRE(off.size() == 2);
  CHECK(off[0].count == 12);
  CHECK(off[0].tid == 2);
}

TEST_CASE("lost samples at 5% or more are a warning") {
  Report r;
  r.overview.cpu_samples = 95;
  r.overview.lost_samples = 5;
  r.overview.lost_pct = 5.0;
  TraceModel m;
  auto f = findings(m, r, ReportOptions{});
  REQUIRE(f.size() == 1);
  CHECK(f[0].kind == "lost_samples");
  r.overview.lost_pct = 4.9;
  CHECK(findings(m, r, ReportOptions{}).empty());
}

TEST_CASE("restrict keeps the selected window and threads") {
  ModelBuilder b;
  StackId s = b.stack({"f"});
  b.sample(1 * kMs, 1, s);
  b.sample(5 * kMs, 1, s);
  b.sample(5 * kMs, 2, s);
  b.sample(9 * kMs, 1, s);
  b.m.start_ns = 1 * kMs;
  Selection sel;
  sel.from_ns = 2 * kMs;
  sel.to_ns = 8 * kMs;
  sel.tids = {1};
  restrict(b.m, sel);
  REQUIRE(b.m.samples.size() == 1);
  CHECK(b.m.samples[0].ts == 5 * kMs);
  CHECK(b.m.samples[0].tid == 1);
  CHECK(b.m.start_ns == 2 * kMs);
  CHECK(b.m.end_ns == 8 * kMs);
}

TEST_CASE("text columns shorten C++ names by their parameters first, then keep the tail") {
  CHECK(fit_text("short", 10) == "short");
  CHECK(fit_text("ns::checksum_block(std::vector<unsigned char> const&)", 30) == "ns::checksum_block(...)");
  CHECK(fit_text("ns::f(int) const", 12) == "ns::f(...)");
  CHECK(fit_text("Foo<Bar(int)>::run(std::function<void (int)>)", 40) == "Foo<Bar(int)>::run(...)");
  CHECK(fit_text("/very/long/path/to/source/file.cpp:42", 16) == "...e/file.cpp:42");
  CHECK(fit_text("anything", 0) == "anything");
}

TEST_CASE("text report colours headings and findings by severity only when asked") {
  Report r;
  r.findings.push_back(Finding{Severity::kCritical, "long_poll", "a long poll", "120 ms", {}, ""});
  r.findings.push_back(Finding{Severity::kWarning, "slow_wake", "a slow wake", "6 ms", {}, ""});
  r.findings.push_back(Finding{Severity::kInfo, "dominant", "one function", "60%", {}, ""});
  std::string plain = render_text(r);
  CHECK(plain.find('\033') == std::string::npos);
  std::string colour = render_text(r, true);
  CHECK(colour.find("\033[1mFindings\033[0m\n") != std::string::npos);
  CHECK(colour.find("  \033[1;31m[critical] a long poll\033[0m\n") != std::string::npos);
  CHECK(colour.find("  \033[1;33m[warning] a slow wake\033[0m\n") != std::string::npos);
  CHECK(colour.find("  \033[36m[info] one function\033[0m\n") != std::string::npos);
  CHECK(colour.find("    120 ms\n") != std::string::npos);  // evidence stays plain
}
