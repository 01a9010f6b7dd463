// The scheduler sections: threads' running / runnable / blocked time (used by
// thread_rows), off-CPU stacks weighted by blocked time with who woke them,
// run-queue latency, and the notes that say which of it the recording could
// not capture.
#include "report/analysis/sched.h"

#include <algorithm>
#include <initializer_list>
#include <set>

#include "report/analysis/analyses.h"
#include "report/analysis/stacks.h"
#include "report/analysis/stats.h"

namespace dial9::report {
namespace {

// The first `degraded` note that mentions one of `keys`, from its first
// ": " on (the notes read "<what is off>: <why>; fix: <how>"), so a sched
// note can say why without repeating what.
std::string reason(const TraceModel& m, std::initializer_list<const char*> keys) {
  for (const std::string& d : m.degraded) {
    for (const char* k : keys) {
      if (d.find(k) == std::string::npos) continue;
      size_t colon = d.find(": ");
      return colon == std::string::npos ? d : d.substr(colon + 2);
    }
  }
  return "";
}

std::string with_reason(std::string what, const std::string& why) {
  return why.empty() ? what : what + ": " + why;
}

// A waker stack belongs to the wakeup of its thread nearest in time, within
// kWakerStackSlackNs. FORMAT.md gives both the wakeup's time, but a
// recorder that takes them from two perf events without pairing them (as
// dial9 did before it paired them) stamps them apart by a few
// microseconds; a thread's wakeups are further apart than that, since it
// runs in between.
constexpr uint64_t kWakerStackSlackNs = 1'000'000;

const WakerStackRecord* nearest_waker_stack(const std::vector<const WakerStackRecord*>& by_time, uint64_t ts) {
  auto it = std::lower_bound(by_time.begin(), by_time.end(), ts,
                             [](const WakerStackRecord* w, uint64_t t) { return w->ts < t; });
  const WakerStackRecord* best = nullptr;
  uint64_t best_gap = kWakerStackSlackNs + 1;
  if (it != by_time.end() && (*it)->ts - ts < best_gap) best = *it, best_gap = (*it)->ts - ts;
  if (it != by_time.begin() && ts - (*(it - 1))->ts < best_gap) best = *(it - 1);
  return best;
}

}  // namespace

SchedCapture sched_capture(const TraceModel& m) {
  SchedCapture c;
  auto it = m.metadata.find("sched");
  if (it == m.metadata.end()) return c;
  c.known = true;
  const std::string& v = it->second;
  size_t pos = 0;
  while (pos <= v.size()) {
    size_t end = v.find(',', pos);
    std::string item = v.substr(pos, end == std::string::npos ? std::string::npos : end - pos);
    item.erase(0, item.find_first_not_of(' '));
    item.erase(item.find_last_not_of(' ') + 1);
    if (item == "off") c.off = true;
    else if (item == "switches") c.switches = true;
    else if (item == "stacks") c.stacks = true;
    else if (item == "states") c.states = true;
    else if (item == "wakers") c.wakers = true;
    else if (item == "waker_stacks") c.waker_stacks = true;
    else if (item == "schedstat") c.schedstat = true;
    if (end == std::string::npos) break;
    pos = end + 1;
  }
  auto sampler = m.metadata.find("sampler");
  c.timer_sampler = sampler != m.metadata.end() && sampler->second == "timer";
  return c;
}

std::vector<SchedNote> sched_notes(const TraceModel& m) {
  std::vector<SchedNote> out;
  const SchedCapture c = sched_capture(m);
  if (!c.known) {
    // An older or Tokio trace: say something only when it has no scheduler
    // data of any kind.
    bool any = !m.states.empty() || !m.sched_stats.empty() || !m.parks.empty() ||
               std::any_of(m.samples.begin(), m.samples.end(), [](const Sample& s) { return s.source == 1; });
    if (!any) {
      out.push_back({"", "no scheduler data in this trace: running, runnable and blocked times, off-CPU time and "
                         "run-queue latency are unknown"});
    }
    return out;
  }
  if (c.off && c.timer_sampler) {
    out.push_back({"", "no scheduler capture with the timer sampler (perf events were denied, or --sampler timer): "
                       "no thread states, off-CPU time, wakers or run-queue latency"});
    return out;
  }
  if (c.off) {
    out.push_back({"", "scheduler capture was off (dial9 record --no-sched): no thread states, off-CPU time, "
                       "wakers or run-queue latency"});
    return out;
  }
  if (!c.switches) {
    std::string what = c.schedstat ? "thread states not recorded (running and runnable times come from schedstat "
                                     "totals; blocked time, off-CPU stacks and latency percentiles are unknown)"
                                   : "thread states not recorded (no running, runnable or blocked times, off-CPU "
                                     "stacks or run-queue latency)";
    out.push_back({"", with_reason(what, reason(m, {"switch", "scheduler"}))});
    return out;
  }
  if (!c.stacks) {
    out.push_back({"off_cpu", with_reason("off-CPU stacks not recorded (blocked time is known per thread, not per "
                                          "stack)",
                                          reason(m, {"off-CPU stacks"}))});
  }
  if (!c.states) {
    out.push_back({"", with_reason("waits not told apart (sleeping, disk I/O, stopped: I/O waits are found by "
                                   "their stacks only)",
                                   reason(m, {"not split", "uninterruptible"}))});
  }
  if (!c.wakers) {
    out.push_back({"off_cpu", with_reason("who woke whom not recorded (woken_by is empty; run-queue latency "
                                          "counts preemptions only)",
                                          reason(m, {"woke", "wakeup"}))});
  } else {
    if (!c.waker_stacks) {
      out.push_back({"off_cpu", with_reason("waker stacks not recorded (woken_by names the wakers without their "
                                            "stacks)",
                                            reason(m, {"waker stacks"}))});
    }
    if (auto missed = waits_without_wakeup(m); missed.waits > 0 && missed.missed * 100 >= missed.waits * kMissedWakeupNotePct) {
      out.push_back({"off_cpu", std::to_string(missed.missed) + " of " + std::to_string(missed.waits) +
                                    " waits ended without a recorded wakeup, so woken_by and wakeup latency "
                                    "leave them out: the kernel did not hand their sched_waking events to perf "
                                    "(some kernels miss timer wakeups on an idle CPU)"});
    }
  }
  if (m.lost_sched_events > 0) {
    out.push_back({"", std::to_string(m.lost_sched_events) +
                           " scheduler events lost (the kernel's rings were full): thread states, off-CPU time "
                           "and wakers around them are approximate; fix: record with larger rings "
                           "(--mmap-pages)"});
  }
  return out;
}

WaitsWithoutWakeup waits_without_wakeup(const TraceModel& m) {
  WaitsWithoutWakeup w;
  for (const StateInterval& s : m.states) {
    if (!s.blocked() || !s.closed()) continue;
    ++w.waits;
    if (s.waker == kNoWaker) ++w.missed;
  }
  return w;
}

std::vector<std::string> off_cpu_notes(const TraceModel& m) {
  std::vector<std::string> out;
  for (SchedNote& n : sched_notes(m)) {
    if (n.section == "off_cpu") out.push_back(std::move(n.text));
  }
  return out;
}

std::map<uint32_t, ThreadTimes> thread_times(const TraceModel& m) {
  std::map<uint32_t, ThreadTimes> out;
  for (const StateInterval& s : m.states) {
    ThreadTimes& t = out[s.tid];
    if (s.state == 0) t.running_ns += s.duration();
    else if (s.state == 1) t.runnable_ns += s.duration();
    else t.blocked_ns = t.blocked_ns.value_or(0) + s.duration();
  }
  // A thread with intervals but no blocked one was never blocked.
  for (auto& [tid, t] : out) t.blocked_ns = t.blocked_ns.value_or(0);
  std::map<uint32_t, std::pair<const SchedStatRecord*, const SchedStatRecord*>> span;  // first, last
  for (const SchedStatRecord& r : m.sched_stats) {
    auto [it, added] = span.try_emplace(r.tid, &r, &r);
    if (!added) it->second.second = &r;
  }
  for (const auto& [tid, fl] : span) {
    if (fl.first == fl.second || out.count(tid)) continue;
    ThreadTimes t;
    // Totals only grow; a smaller later value is a reused tid.
    t.running_ns = fl.second->run_ns - std::min(fl.first->run_ns, fl.second->run_ns);
    t.runnable_ns = fl.second->wait_ns - std::min(fl.first->wait_ns, fl.second->wait_ns);
    out[tid] = t;
  }
  return out;
}

std::vector<BlockedStack> blocked_stacks(const TraceModel& m) {
  std::unordered_map<StackId, BlockedStack> by_stack;
  for (const StateInterval& s : m.states) {
    if (!s.blocked() || s.stack == kNoStack) continue;
    BlockedStack& b = by_stack[s.stack];
    b.stack = s.stack;
    b.blocked_ns += s.duration();
    if (s.state == 3) b.uninterruptible_ns += s.duration();
    if (!(s.flags & StateInterval::kOpenStart)) ++b.count;
    b.ns_by_tid[s.tid] += s.duration();
    if (s.waker != kNoWaker) ++b.wakeups[s.waker];
  }
  std::vector<BlockedStack> out;
  out.reserve(by_stack.size());
  for (auto& [id, b] : by_stack) out.push_back(std::move(b));
  std::sort(out.begin(), out.end(), [](const BlockedStack& a, const BlockedStack& b) {
    return a.blocked_ns != b.blocked_ns ? a.blocked_ns > b.blocked_ns : a.stack < b.stack;
  });
  return out;
}

namespace {

template <typename K>
K most(const std::unordered_map<K, uint64_t>& counts) {
  K best{};
  uint64_t n = 0;
  for (const auto& [k, c] : counts) {
    if (c > n || (c == n && k < best)) best = k, n = c;
  }
  return best;
}

// Off-CPU stacks from switch-out samples alone (a trace without thread
// states, such as the Tokio recorder's): ranked by count, no durations.
std::vector<OffCpuStack> off_cpu_by_samples(const TraceModel& m, const ReportOptions& o) {
  std::unordered_map<StackId, std::unordered_map<uint32_t, uint64_t>> by_stack;
  std::unordered_map<StackId, uint64_t> totals;
  for (const Sample& s : m.samples) {
    if (s.source != 1) continue;
    ++by_stack[s.stack][s.tid];
    ++totals[s.stack];
  }
  std::vector<std::pair<StackId, uint64_t>> ranked(totals.begin(), totals.end());
  std::sort(ranked.begin(), ranked.end(), [](const auto& a, const auto& b) {
    return a.second != b.second ? a.second > b.second : a.first < b.first;
  });
  std::vector<OffCpuStack> out;
  for (const auto& [stack, n] : ranked) {
    if (out.size() == o.top) break;
    OffCpuStack row;
    row.count = n;
    row.tid = most(by_stack[stack]);
    row.thread = m.thread_name(row.tid);
    row.stack = stack_names(m, stack, o.inlines);
    out.push_back(std::move(row));
  }
  return out;
}

}  // namespace

std::vector<OffCpuStack> off_cpu_stacks(const TraceModel& m, const ReportOptions& o) {
  std::vector<BlockedStack> blocked = blocked_stacks(m);
  if (blocked.empty()) return off_cpu_by_samples(m, o);
  if (blocked.size() > o.top) blocked.resize(o.top);
  // Sampled waker stacks by woken thread, in time order, so each is
  // credited to the wait its wakeup ended.
  std::unordered_map<uint32_t, std::vector<const WakerStackRecord*>> waker_stacks_of;
  for (const WakerStackRecord& w : m.waker_stacks) waker_stacks_of[w.tid].push_back(&w);
  std::unordered_map<StackId, size_t> row_of;
  for (size_t i = 0; i < blocked.size(); ++i) row_of[blocked[i].stack] = i;
  // Per row, per waker tid: sampled stacks counted.
  std::vector<std::map<uint32_t, std::unordered_map<StackId, uint64_t>>> sampled(blocked.size());
  for (const StateInterval& s : m.states) {
    if (!s.blocked() || s.waker == kNoWaker || s.stack == kNoStack) continue;
    auto row = row_of.find(s.stack);
    if (row == row_of.end()) continue;
    const uint32_t waker_tid = m.wakers[s.waker].tid;
    auto list = waker_stacks_of.find(s.tid);
    if (list == waker_stacks_of.end()) continue;
    const WakerStackRecord* w = nearest_waker_stack(list->second, s.end_ns);
    if (w && w->waker_tid == waker_tid && w->stack != kNoStack) ++sampled[row->second][waker_tid][w->stack];
  }
  std::vector<OffCpuStack> out;
  std::vector<const Frame*> frames;
  for (size_t i = 0; i < blocked.size(); ++i) {
    const BlockedStack& b = blocked[i];
    OffCpuStack row;
    row.blocked_ns = b.blocked_ns;
    row.count = b.count;
    row.tid = most(b.ns_by_tid);
    row.thread = m.thread_name(row.tid);
    row.stack = stack_names(m, b.stack, o.inlines);
    // Wakers grouped by thread (interrupts on every CPU are one waker, tid
    // 0), named after their most frequent entry.
    struct Group {
      uint64_t count = 0;
      std::unordered_map<uint32_t, uint64_t> entries;
    };
    std::map<uint32_t, Group> groups;
    for (const auto& [waker, n] : b.wakeups) {
      Group& g = groups[m.wakers[waker].tid];
      g.count += n;
      g.entries[waker] += n;
    }
    for (const auto& [tid, g] : groups) {
      Waker w;
      w.tid = tid;
      w.thread = m.waker_name(most(g.entries));
      w.count = g.count;
      auto s = sampled[i].find(tid);
      if (s != sampled[i].end() && !s->second.empty()) {
        const StackId id = most(s->second);
        w.stack = stack_names(m, id, o.inlines);
        // The waker's own code starts below the kernel's wakeup path.
        expand_stack(m, id, o.inlines, frames);
        auto user = std::find_if(frames.begin(), frames.end(),
                                 [&](const Frame* f) { return m.strings.get(f->module) != "[kernel]"; });
        w.first_user = user == frames.end() ? 0 : static_cast<size_t>(user - frames.begin());
      }
      row.woken_by.push_back(std::move(w));
    }
    std::sort(row.woken_by.begin(), row.woken_by.end(), [](const Waker& x, const Waker& y) {
      return x.count != y.count ? x.count > y.count : x.tid < y.tid;
    });
    constexpr size_t kMaxWakers = 5;
    if (row.woken_by.size() > kMaxWakers) row.woken_by.resize(kMaxWakers);
    out.push_back(std::move(row));
  }
  return out;
}

std::optional<SchedLatency> sched_latency(const TraceModel& m, const ReportOptions& o) {
  auto finish = [&](SchedLatency& s) {
    std::sort(s.per_thread.begin(), s.per_thread.end(), [](const ThreadLatency& a, const ThreadLatency& b) {
      if (a.stats.p99_ns != b.stats.p99_ns) return a.stats.p99_ns > b.stats.p99_ns;
      if (a.wait_ns != b.wait_ns) return a.wait_ns > b.wait_ns;
      return a.tid < b.tid;
    });
    if (s.per_thread.size() > o.top) s.per_thread.resize(o.top);
  };
  auto from_waits = [&](std::map<uint32_t, std::vector<uint64_t>>& per_thread, std::string source) {
    SchedLatency s;
    s.source = std::move(source);
    std::vector<uint64_t> all;
    for (auto& [tid, v] : per_thread) {
      ThreadLatency t;
      t.tid = tid;
      t.name = m.thread_name(tid);
      for (uint64_t w : v) t.wait_ns += w;
      s.wait_ns += t.wait_ns;
      all.insert(all.end(), v.begin(), v.end());
      t.stats = summarize(v);
      s.per_thread.push_back(std::move(t));
    }
    s.overall = summarize(all);
    finish(s);
    return s;
  };

  // Run-queue latency from thread states: every runnable interval that
  // began with a wakeup or a preemption and ended when the thread ran.
  // Intervals cut by the window or the selection are left out: their
  // length is not a wait's.
  std::map<uint32_t, std::vector<uint64_t>> waits;
  bool woken = false;
  for (const StateInterval& s : m.states) {
    if (s.state != 1 || !s.closed()) continue;
    waits[s.tid].push_back(s.duration());
    woken = woken || s.waker != kNoWaker;
  }
  if (!waits.empty()) {
    const SchedCapture c = sched_capture(m);
    bool with_wakeups = woken || (c.known && c.wakers) || !m.wakers.empty();
    return from_waits(waits, with_wakeups ? "switch and wakeup events"
                                          : "switch events (preemptions only; wakeups not recorded)");
  }

  // Without scheduler events, a runtime's unpark records still say how long
  // each worker waited in the run queue after it was woken.
  for (const Park& p : m.parks) {
    if (p.unpark) waits[p.tid].push_back(p.sched_wait_ns);
  }
  if (!waits.empty()) return from_waits(waits, "worker unpark run-queue wait (sched_wait_ns)");

  // Else the kernel's totals: how long each thread waited, not how the
  // waits were distributed.
  SchedLatency s;
  s.source = "schedstat totals (no distribution)";
  for (const auto& [tid, t] : thread_times(m)) {
    if (t.blocked_ns) continue;  // from intervals, which had no runnable one
    ThreadLatency row;
    row.tid = tid;
    row.name = m.thread_name(tid);
    row.wait_ns = t.runnable_ns;
    s.wait_ns += t.runnable_ns;
    s.per_thread.push_back(std::move(row));
  }
  if (s.per_thread.empty()) return std::nullopt;
  finish(s);
  return s;
}

}  // namespace dial9::report
