// Ranked findings: the few things a person should look at first, each with
// its evidence and a next step. Thresholds are the (and the Tokio
// toolkit's) rules of thumb, named here so a reader can check them.
#include <algorithm>
#include <cinttypes>
#include <cstdio>
#include <initializer_list>
#include <map>
#include <set>
#include <string_view>
#include <unordered_map>

#include "report/analysis/analyses.h"
#include "report/analysis/sched.h"
#include "report/analysis/stacks.h"
#include "format/events.h"

namespace dial9::report {
namespace {

constexpr uint64_t kLongPollWarnNs = 10'000'000;
constexpr uint64_t kLongPollCriticalNs = 50'000'000;
constexpr uint64_t kRunQueueWarnNs = 10'000'000;  // runtime unpark waits (the Tokio toolkit's)
constexpr uint64_t kLockMinNs = 10'000'000;       // lock and I/O waits, and runnable time, worth a finding
constexpr uint64_t kLockSharePct = 5;             // ... as a share of the waiting threads' time
constexpr double kRunnableSharePct = 10;          // a thread runnable this share of its time lacks CPU
constexpr uint64_t kRunQueueP99Ns = 1'000'000;    // run-queue latency p99 that delays work noticeably
constexpr double kDominantPct = 30;
constexpr double kLostWarnPct = 5;

std::string percent(double v) {
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.1f%%", v);
  return buf;
}

std::string at(const TraceModel& m, uint64_t ts) { return "+" + format_duration(ts - m.start_ns); }

bool contains_any(const std::string& fn, std::initializer_list<const char*> needles) {
  for (const char* n : needles) {
    if (fn.find(n) != std::string::npos) return true;
  }
  return false;
}

// Functions that mean a thread is waiting for a lock, in C, C++ and Rust,
// and the RAII wrappers that call them (not the function that took the lock).
bool is_lock_wait(const std::string& fn) {
  return contains_any(fn, {"__lll_lock_wait", "pthread_mutex_lock", "pthread_mutex_timedlock", "pthread_rwlock_",
                           "std::mutex::lock", "std::__mutex_base", "std::shared_mutex", "std::timed_mutex",
                           "std::recursive_mutex", "std::lock_guard", "std::unique_lock", "std::scoped_lock",
                           "futex_wait", "parking_lot::raw_mutex", "parking_lot::raw_rwlock",
                           "std::sys::sync::mutex", "std::sys::sync::rwlock", "std::sync::mutex",
                           "std::sync::rwlock", "sem_wait", "sem_timedwait", "__new_sem_wait"});
}

// Waiting on a condition variable is waiting for a signal (work, an event),
// not for a lock: an idle pool would otherwise look like contention.
bool is_condition_wait(const std::string& fn) {
  return contains_any(fn, {"pthread_cond_", "condition_variable", "std::sys::sync::condvar", "std::sync::condvar",
                           "parking_lot::condvar", "__condvar_"});
}

// The index of the frame that took the lock in a lock-wait stack (the
// first frame rootward of the outermost lock function; frames.size() when
// there is none), or -1 when the stack is not a lock wait.
int lock_caller(const TraceModel& m, const std::vector<const Frame*>& frames) {
  int outermost = -1;
  for (size_t i = 0; i < frames.size(); ++i) {
    const std::string& fn = m.strings.get(frames[i]->function);
    if (is_condition_wait(fn)) return -1;
    if (is_lock_wait(fn)) outermost = static_cast<int>(i);
  }
  return outermost < 0 ? -1 : outermost + 1;
}

// The innermost user-space I/O call of a stack (read, recv, poll, ...),
// or null. Names are compared without glibc's prefixes and suffixes
// (__libc_read, __GI___poll, read_nocancel, pread64).
const Frame* io_call(const TraceModel& m, const std::vector<const Frame*>& frames) {
  static const std::set<std::string, std::less<>> kCalls = {
      "read", "write", "pread", "pwrite", "readv", "writev", "preadv", "pwritev", "recv", "recvfrom", "recvmsg",
      "recvmmsg", "send", "sendto", "sendmsg", "sendmmsg", "poll", "ppoll", "epoll_wait", "epoll_pwait",
      "epoll_pwait2", "select", "pselect", "pselect6", "accept", "accept4", "connect", "fsync", "fdatasync",
      "sync_file_range", "io_getevents", "io_uring_enter", "splice", "sendfile", "open", "openat"};
  for (const Frame* f : frames) {
    if (m.strings.get(f->module) == "[kernel]") continue;
    std::string_view fn = m.strings.get(f->function);
    for (std::string_view prefix : {"__GI_", "__libc_", "__"}) {
      while (fn.substr(0, prefix.size()) == prefix) fn.remove_prefix(prefix.size());
    }
    for (std::string_view suffix : {"_nocancel", "64"}) {
      if (fn.size() > suffix.size() && fn.substr(fn.size() - suffix.size()) == suffix) fn.remove_suffix(suffix.size());
    }
    if (kCalls.count(fn)) return f;
  }
  return nullptr;
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

// Lock contention from switch-out samples alone (no thread states): the
// share of switch-outs inside lock waits.
void lock_contention_by_samples(const TraceModel& m, const ReportOptions& o, std::vector<Finding>& out) {
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
    if (lock_caller(m, frames) < 0) continue;
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

// Time blocked in lock waits, by the function that took the lock. Fires
// when it is at least kLockMinNs and kLockSharePct of the waiting threads'
// recorded time: a few short waits are normal, a thread that spends a
// twentieth of its life queued on one lock is not.
void lock_contention(const TraceModel& m, const ReportOptions& o, const Report& r,
                     const std::vector<BlockedStack>& blocked, const std::map<uint32_t, ThreadTimes>& times,
                     std::vector<Finding>& out) {
  if (blocked.empty()) return lock_contention_by_samples(m, o, out);
  std::vector<const Frame*> frames;
  uint64_t locked = 0;
  std::map<StringId, uint64_t> by_caller;         // the function that took the lock -> ns
  std::map<StringId, const BlockedStack*> top_of;  // its stack with the most time
  std::map<uint32_t, uint64_t> threads;            // tid -> ns waiting
  for (const BlockedStack& b : blocked) {
    expand_stack(m, b.stack, o.inlines, frames);
    int caller = lock_caller(m, frames);
    if (caller < 0) continue;
    StringId fn = caller < static_cast<int>(frames.size()) ? frames[static_cast<size_t>(caller)]->function : 0;
    locked += b.blocked_ns;
    by_caller[fn] += b.blocked_ns;
    if (!top_of.count(fn)) top_of[fn] = &b;  // blocked is sorted by time
    for (const auto& [tid, ns] : b.ns_by_tid) threads[tid] += ns;
  }
  uint64_t span = 0;
  for (const auto& [tid, ns] : threads) {
    auto t = times.find(tid);
    if (t != times.end()) span += t->second.total_ns();
  }
  if (locked < kLockMinNs || locked * 100 < span * kLockSharePct) return;
  auto best = std::max_element(by_caller.begin(), by_caller.end(),
                               [](const auto& a, const auto& b) { return a.second < b.second; });
  const std::string& caller = m.strings.get(best->first);
  const BlockedStack& top = *top_of[best->first];
  Finding f;
  f.severity = Severity::kWarning;
  f.kind = "lock_contention";
  f.title = "Lock contention: " + std::to_string(threads.size()) + " thread(s) waited " + format_duration(locked) +
            " for locks" + (caller.empty() ? "" : ", " + percent(100.0 * best->second / locked) + " of it in " + caller);
  f.evidence = format_duration(locked) + " blocked in lock waits, " + percent(100.0 * locked / std::max<uint64_t>(span, 1)) +
               " of those threads' recorded time (threshold " + format_duration(kLockMinNs) + " and " +
               std::to_string(kLockSharePct) + "%); the stack with the most (" + format_duration(top.blocked_ns) +
               ", " + std::to_string(top.count) + " waits) is below";
  for (const OffCpuStack& row : r.off_cpu) {
    if (row.blocked_ns != top.blocked_ns || row.count != top.count || row.woken_by.empty()) continue;
    const Waker& w = row.woken_by.front();
    // Where the waker released the lock: its first frame past the unlock.
    auto at = std::find_if(w.stack.begin() + static_cast<ptrdiff_t>(w.first_user), w.stack.end(), [](const std::string& fn) {
      return !contains_any(fn, {"unlock", "futex", "__lll_", "wake", "syscall"}) && !is_lock_wait(fn);
    });
    f.evidence += "; woken mostly by " + w.thread + " (" + std::to_string(w.tid) + "), " + std::to_string(w.count) +
                  " times" + (at == w.stack.end() ? "" : ", in " + *at);
    break;
  }
  f.stack = stack_names(m, top.stack, o.inlines);
  f.next = "The lock holder is the waker in the Off-CPU section: shorten what " +
           (caller.empty() ? std::string("the caller") : caller) +
           " does under the lock, or split the data so threads take different locks.";
  out.push_back(std::move(f));
}

// Time blocked on I/O: in state D (uninterruptible, usually disk) when the
// recording told waits apart, else in an I/O call found in the stack.
// Waiting for a socket or in an event loop is often just idleness, so those
// are info; disk waits are warnings. Same thresholds as lock contention.
void io_waits(const TraceModel& m, const ReportOptions& o, const std::vector<BlockedStack>& blocked,
              const std::map<uint32_t, ThreadTimes>& times, std::vector<Finding>& out) {
  std::vector<const Frame*> frames;
  uint64_t disk = 0, calls = 0;
  std::map<uint32_t, uint64_t> disk_threads, call_threads;
  std::map<StringId, uint64_t> by_call;
  const BlockedStack *disk_top = nullptr, *call_top = nullptr;
  for (const BlockedStack& b : blocked) {
    if (b.uninterruptible_ns > 0) {
      disk += b.uninterruptible_ns;
      if (!disk_top || b.uninterruptible_ns > disk_top->uninterruptible_ns) disk_top = &b;
      for (const auto& [tid, ns] : b.ns_by_tid) disk_threads[tid] += ns;
    }
    expand_stack(m, b.stack, o.inlines, frames);
    const Frame* call = io_call(m, frames);
    if (!call || lock_caller(m, frames) >= 0) continue;
    calls += b.blocked_ns;
    by_call[call->function] += b.blocked_ns;
    if (!call_top) call_top = &b;
    for (const auto& [tid, ns] : b.ns_by_tid) call_threads[tid] += ns;
  }
  auto share = [&](const std::map<uint32_t, uint64_t>& th) {
    uint64_t span = 0;
    for (const auto& [tid, ns] : th) {
      auto t = times.find(tid);
      if (t != times.end()) span += t->second.total_ns();
    }
    return span;
  };
  uint64_t disk_span = share(disk_threads);
  if (disk >= kLockMinNs && disk * 100 >= disk_span * kLockSharePct) {
    Finding f;
    f.severity = Severity::kWarning;
    f.kind = "io_wait";
    f.title = "Disk I/O: " + std::to_string(disk_threads.size()) + " thread(s) waited " + format_duration(disk) +
              " in uninterruptible sleep";
    f.evidence = format_duration(disk) + " in state D (uninterruptible, usually disk I/O), " +
                 percent(100.0 * disk / std::max<uint64_t>(disk_span, 1)) + " of those threads' recorded time; the " +
                 "stack with the most is below";
    f.stack = stack_names(m, disk_top->stack, o.inlines);
    f.next = "Move file I/O off latency-critical threads, batch or cache it, or check the device (iostat -x).";
    out.push_back(std::move(f));
    return;  // the I/O calls are most likely the same waits
  }
  uint64_t call_span = share(call_threads);
  if (calls >= kLockMinNs && calls * 100 >= call_span * kLockSharePct) {
    auto best = std::max_element(by_call.begin(), by_call.end(),
                                 [](const auto& a, const auto& b) { return a.second < b.second; });
    Finding f;
    f.severity = Severity::kInfo;
    f.kind = "io_wait";
    f.title = "I/O waits: " + std::to_string(call_threads.size()) + " thread(s) waited " + format_duration(calls) +
              " in I/O calls, most in " + m.strings.get(best->first);
    f.evidence = format_duration(calls) + " blocked under read/write/recv/poll-like calls, " +
                 percent(100.0 * calls / std::max<uint64_t>(call_span, 1)) + " of those threads' recorded time; " +
                 format_duration(best->second) + " in " + m.strings.get(best->first) + "; the stack with the most is below";
    f.stack = stack_names(m, call_top->stack, o.inlines);
    f.next = "Waiting for a peer or an event loop's poll is idle time; waiting on a file or a slow peer on a "
             "request's path is latency: the woken_by lines of the Off-CPU section say who ended the waits.";
    out.push_back(std::move(f));
  }
}

// CPU contention: threads runnable but not running. With thread states or
// schedstat totals, a warning when a thread spent kRunnableSharePct of its
// time runnable (at least kLockMinNs), or when run-queue latency p99 is
// kRunQueueP99Ns or more over at least kLockMinNs of waits. From a runtime's
// unpark records, the Tokio toolkit's rule: p99 over kRunQueueWarnNs.
void cpu_contention(const Report& r, const std::map<uint32_t, ThreadTimes>& times, std::vector<Finding>& out) {
  if (r.sched_latency && r.sched_latency->source.rfind("worker unpark", 0) == 0) {
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
    return;
  }
  uint64_t runnable = 0, total = 0;
  size_t starved = 0;
  double worst_share = 0;
  uint32_t worst = 0;
  for (const auto& [tid, t] : times) {
    runnable += t.runnable_ns;
    total += t.total_ns();
    if (t.total_ns() == 0 || t.runnable_ns < kLockMinNs) continue;
    double share = 100.0 * t.runnable_ns / t.total_ns();
    if (share >= kRunnableSharePct) ++starved;
    if (share > worst_share) worst_share = share, worst = tid;
  }
  const SchedLatency* lat = r.sched_latency ? &*r.sched_latency : nullptr;
  bool tail = lat && lat->overall.count > 0 && lat->overall.p99_ns >= kRunQueueP99Ns && lat->wait_ns >= kLockMinNs;
  if (starved == 0 && !tail) return;
  Finding f;
  f.severity = Severity::kWarning;
  f.kind = "cpu_contention";
  f.title = "CPU contention: threads waited " + format_duration(runnable) + " runnable, for a CPU";
  if (starved) f.title += " (" + std::to_string(starved) + " thread(s) " + percent(kRunnableSharePct) + " or more of their time)";
  else f.title += " (run-queue p99 " + format_duration(lat->overall.p99_ns) + ")";
  f.evidence = percent(100.0 * runnable / std::max<uint64_t>(total, 1)) + " of the threads' recorded time was runnable";
  if (worst_share > 0) f.evidence += "; most: thread " + std::to_string(worst) + ", " + percent(worst_share);
  if (lat && lat->overall.count > 0) {
    f.evidence += "; run-queue latency over " + std::to_string(lat->overall.count) + " waits: p50 " +
                  format_duration(lat->overall.p50_ns) + ", p99 " + format_duration(lat->overall.p99_ns) + ", max " +
                  format_duration(lat->overall.max_ns);
  }
  f.evidence += " (thresholds: " + percent(kRunnableSharePct) + " of a thread's time, or p99 " +
                format_duration(kRunQueueP99Ns) + "; " + (lat ? lat->source : std::string("schedstat totals")) + ")";
  f.next = "More runnable threads than CPUs: check other processes on the machine, CPU quotas (cgroup cpu.max, "
           "container limits) and thread-pool sizes; threads that only wait for CPU add latency, not throughput.";
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
  const std::vector<BlockedStack> blocked = blocked_stacks(m);
  const std::map<uint32_t, ThreadTimes> times = thread_times(m);
  lock_contention(m, o, r, blocked, times, out);
  io_waits(m, o, blocked, times, out);
  cpu_contention(r, times, out);
  lost_and_degraded(r, out);
  dominant_function(r, out);
  // Most severe first; within a severity, the order above (impact).
  std::stable_sort(out.begin(), out.end(),
                   [](const Finding& a, const Finding& b) { return a.severity < b.severity; });
  return out;
}

}  // namespace dial9::report
