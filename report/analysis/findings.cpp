// Ranked findings: the few things a person should look at first, each with
// its evidence and a next step. Thresholds are the (and the Tokio
// toolkit's) rules of thumb, named here so a reader can check them.
#include <algorithm>
#include <cinttypes>
#include <cstdio>
#include <unordered_map>

#include "report/analysis/analyses.h"
#include "report/analysis/stacks.h"
#include "format/events.h"

namespace dial9::report {
namespace {

constexpr uint64_t kLongPollWarnNs = 10'000'000;
constexpr uint64_t kLongPollCriticalNs = 50'000'000;
constexpr uint64_t kRunQueueWarnNs = 10'000'000;
constexpr double kDominantPct = 30;
constexpr double kLostWarnPct = 5;

std::string percent(double v) {
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.1f%%", v);
  return buf;
}

std::string at(const TraceModel& m, uint64_t ts) { return "+" + format_duration(ts - m.start_ns); }

// Functions that mean a thread is waiting for a lock, in C, C++ and Rust.
bool is_lock_wait(const std::string& fn) {
  static const char* const kNeedles[] = {"__lll_lock_wait", "pthread_mutex_lock", "pthread_rwlock_",
                                         "std::mutex::lock", "std::__mutex_base", "futex_wait",
                                         "parking_lot::raw_mutex", "std::sys::sync::mutex",
                                         "std::sync::mutex", "sem_wait"};
  for (const char* n : kNeedles) {
    if (fn.find(n) != std::string::npos) return true;
  }
  return false;
}

// One finding per poll over 10 ms (critical over 50 ms), longest first, as
// the Tokio toolkit raises them; past kMaxLongPollFindings the rest are
// counted in the last one.
void long_polls(const TraceModel& m, const Report& r, std::vector<Finding>& out) {
  constexpr size_t kMaxLongPollFindings = 5;
  std::vector<const Poll*> slow;
  for (const Poll& p : m.polls) {
    if (p.end_ns - p.start_ns > kLongPollWarnNs) slow.push_back(&p);
  }
  std::sort(slow.begin(), slow.end(), [](const Poll* a, const Poll* b) {
    uint64_t da = a->end_ns - a->start_ns, db = b->end_ns - b->start_ns;
    return da != db ? da > db : a->start_ns < b->start_ns;
  });
  for (size_t i = 0; i < slow.size() && i < kMaxLongPollFindings; ++i) {
    const Poll& p = *slow[i];
    uint64_t d = p.end_ns - p.start_ns;
    Finding f;
    f.severity = d > kLongPollCriticalNs ? Severity::kCritical : Severity::kWarning;
    f.kind = "long_poll";
    f.title = "A poll of task " + std::to_string(p.task_id) + " held worker " + std::to_string(p.worker) +
              " for " + format_duration(d);
    f.evidence = "at " + at(m, p.start_ns) + ", task spawned at " + m.strings.get(p.spawn_loc) +
                 " (threshold 10 ms, critical over 50 ms)";
    if (i + 1 == kMaxLongPollFindings && slow.size() > kMaxLongPollFindings) {
      f.evidence += "; " + std::to_string(slow.size() - kMaxLongPollFindings) + " more polls over 10 ms";
    }
    if (r.runtime) {
      for (const LongPoll& lp : r.runtime->long_polls) {
        if (lp.start_ns == p.start_ns && lp.worker_id == p.worker) f.stack = lp.stack;
      }
    }
    f.next = "Look at what the task does between two awaits (the stack sampled inside the poll); move "
             "blocking or CPU-heavy work to spawn_blocking or split it with yield points.";
    out.push_back(std::move(f));
  }
}

void wake_to_poll(const Report& r, std::vector<Finding>& out) {
  if (!r.runtime || r.runtime->wake_to_poll_over_5ms == 0) return;
  const LatencyStats& s = r.runtime->wake_to_poll;
  Finding f;
  f.severity = s.max_ns > kLongPollCriticalNs ? Severity::kCritical : Severity::kWarning;
  f.kind = "wake_to_poll_delay";
  f.title = std::to_string(r.runtime->wake_to_poll_over_5ms) + " woken tasks waited more than 5 ms to be polled (worst " +
            format_duration(s.max_ns) + ")";
  f.evidence = "wake-to-poll delay over " + std::to_string(s.count) + " wakes: p50 " + format_duration(s.p50_ns) +
               ", p99 " + format_duration(s.p99_ns) + ", max " + format_duration(s.max_ns) +
               " (threshold 5 ms, critical over 50 ms)";
  f.next = "Workers were busy or parked: check long polls and worker utilization; more worker threads "
           "or shorter polls reduce the delay.";
  out.push_back(std::move(f));
}

// Switch-out samples taken on a worker thread while it was polling a task:
// the task blocked the worker in the kernel.
void blocking_on_workers(const TraceModel& m, const ReportOptions& o, std::vector<Finding>& out) {
  std::unordered_map<uint32_t, std::vector<const Poll*>> by_worker;
  for (const Poll& p : m.polls) by_worker[p.worker].push_back(&p);
  std::unordered_map<StackId, uint64_t> stacks;
  uint64_t n = 0;
  for (const Sample& s : m.samples) {
    if (s.source != 1 || s.worker >= format::kWorkerBlockingPool) continue;
    auto it = by_worker.find(s.worker);
    if (it == by_worker.end()) continue;
    const auto& polls = it->second;  // sorted by start
    auto after = std::upper_bound(polls.begin(), polls.end(), s.ts,
                                  [](uint64_t ts, const Poll* p) { return ts < p->start_ns; });
    if (after == polls.begin()) continue;
    const Poll* p = *(after - 1);
    if (s.ts > p->end_ns) continue;
    ++stacks[s.stack];
    ++n;
  }
  if (n == 0) return;
  StackId top = std::max_element(stacks.begin(), stacks.end(), [](const auto& a, const auto& b) {
                  return a.second != b.second ? a.second < b.second : a.first > b.first;
                })->first;
  Finding f;
  f.severity = Severity::kWarning;
  f.kind = "blocking_in_poll";
  f.title = "Runtime workers blocked in the kernel while polling tasks (" + std::to_string(n) + " samples)";
  f.evidence = std::to_string(n) + " switch-out samples were taken on worker threads inside a poll; the most "
               "common stack (" + std::to_string(stacks[top]) + " samples) is below";
  f.stack = stack_names(m, top, o.inlines);
  f.next = "A blocking call (file I/O, a std mutex, DNS, sleep) inside async code stalls every task on that "
           "worker: use the async equivalent or spawn_blocking.";
  out.push_back(std::move(f));
}

void lock_contention(const TraceModel& m, const ReportOptions& o, std::vector<Finding>& out) {
  std::unordered_map<StackId, uint64_t> off;
  uint64_t all = 0;
  for (const Sample& s : m.samples) {
    if (s.source == 1) ++off[s.stack], ++all;
  }
  std::vector<const Frame*> frames;
  uint64_t locked = 0, best = 0;
  StackId top = kNoStack;
  for (const auto& [stack, n] : off) {
    expand_stack(m, stack, o.inlines, frames);
    bool lock = std::any_of(frames.begin(), frames.end(),
                            [&](const Frame* f) { return is_lock_wait(m.strings.get(f->function)); });
    if (!lock) continue;
    locked += n;
    if (n > best || (n == best && stack < top)) best = n, top = stack;
  }
  if (locked == 0 || (locked < 10 && locked * 20 < all)) return;
  Finding f;
  f.severity = Severity::kWarning;
  f.kind = "lock_contention";
  f.title = "Threads waited on locks (" + std::to_string(locked) + " of " + std::to_string(all) +
            " off-CPU samples)";
  f.evidence = "off-CPU stacks inside lock-wait functions; the most common is below (" + std::to_string(best) +
               " samples)";
  f.stack = stack_names(m, top, o.inlines);
  f.next = "Find who holds the lock (the caller frames above); shorten the critical section or shard the data.";
  out.push_back(std::move(f));
}

void cpu_contention(const Report& r, std::vector<Finding>& out) {
  if (!r.sched_latency) return;
  const LatencyStats& s = r.sched_latency->overall;
  if (s.p99_ns <= kRunQueueWarnNs) return;
  Finding f;
  f.severity = Severity::kWarning;
  f.kind = "cpu_contention";
  f.title = "Threads waited " + format_duration(s.p99_ns) + " (p99) for a CPU after being woken";
  f.evidence = "run-queue latency over " + std::to_string(s.count) + " wakeups: p50 " + format_duration(s.p50_ns) +
               ", p99 " + format_duration(s.p99_ns) + ", max " + format_duration(s.max_ns) + " (" +
               r.sched_latency->source + ")";
  f.next = "Too many runnable threads for the CPUs: check other processes on the machine, CPU quotas "
           "(cgroup cpu.max), and the number of worker threads.";
  out.push_back(std::move(f));
}

void dominant_function(const Report& r, std::vector<Finding>& out) {
  if (r.hot_functions.empty() || r.hot_functions.front().self_pct < kDominantPct) return;
  const HotFunction& h = r.hot_functions.front();
  Finding f;
  f.severity = Severity::kInfo;
  f.kind = "dominant_function";
  f.title = h.function + " uses " + percent(h.self_pct) + " of the CPU samples";
  f.evidence = std::to_string(h.self_samples) + " of " + std::to_string(r.overview.cpu_samples) +
               " on-CPU samples are in " + h.function + " (" + h.module +
               (h.file.empty() ? "" : ", " + h.file + ":" + std::to_string(h.line)) + ")";
  f.next = "Speeding up this one function pays off most; `dial9 export --flamegraph` shows who calls it.";
  out.push_back(std::move(f));
}

void lost_and_degraded(const Report& r, std::vector<Finding>& out) {
  const Overview& o = r.overview;
  if (o.lost_pct >= kLostWarnPct) {
    Finding f;
    f.severity = Severity::kWarning;
    f.kind = "lost_samples";
    f.title = percent(o.lost_pct) + " of the samples were lost";
    f.evidence = std::to_string(o.lost_samples) + " samples lost against " +
                 std::to_string(o.cpu_samples + o.offcpu_samples) + " recorded; figures above undercount";
    f.next = "Record with larger rings (--mmap-pages) or a lower rate (-F).";
    out.push_back(std::move(f));
  }
  if (!o.skipped_segments.empty()) {
    Finding f;
    f.severity = Severity::kWarning;
    f.kind = "skipped_segments";
    f.title = std::to_string(o.skipped_segments.size()) + " damaged segment(s) were skipped";
    f.evidence = o.skipped_segments.front().path + ": " + o.skipped_segments.front().reason;
    f.next = "The report covers the remaining segments only.";
    out.push_back(std::move(f));
  }
  for (const auto& d : o.degraded) {
    Finding f;
    f.severity = Severity::kInfo;
    f.kind = "degraded";
    f.title = "The recording was degraded";
    f.evidence = d;
    out.push_back(std::move(f));
  }
}

}  // namespace

std::vector<Finding> findings(const TraceModel& m, const Report& r, const ReportOptions& o) {
  std::vector<Finding> out;
  long_polls(m, r, out);
  blocking_on_workers(m, o, out);
  wake_to_poll(r, out);
  lock_contention(m, o, out);
  cpu_contention(r, out);
  lost_and_degraded(r, out);
  dominant_function(r, out);
  // Most severe first; within a severity, the order above (impact).
  std::stable_sort(out.begin(), out.end(),
                   [](const Finding& a, const Finding& b) { return a.severity < b.severity; });
  return out;
}

}  // namespace dial9::report
