// Where CPU time goes: hot functions and the per-thread table (whose
// scheduler columns come from sched.h). Every analysis first counts samples per unique stack, then
// symbolizes each unique stack once, so the cost grows with unique stacks.
#include <algorithm>
#include <map>
#include <unordered_map>
#include <unordered_set>

#include "report/analysis/analyses.h"
#include "report/analysis/sched.h"
#include "report/analysis/stacks.h"

namespace dial9::report {
namespace {

using FunctionKey = uint64_t;  // function string id << 32 | module string id
FunctionKey key_of(const Frame& f) { return uint64_t{f.function} << 32 | f.module; }

double pct(uint64_t part, uint64_t whole) {
  return whole == 0 ? 0.0 : 100.0 * static_cast<double>(part) / static_cast<double>(whole);
}

// Samples per stack for the samples matching `keep`.
template <typename Pred>
std::unordered_map<StackId, uint64_t> count_stacks(const TraceModel& m, Pred keep) {
  std::unordered_map<StackId, uint64_t> counts;
  for (const Sample& s : m.samples) {
    if (keep(s)) ++counts[s.stack];
  }
  return counts;
}

// Sorted by count (descending), then by key for a stable order.
template <typename K>
std::vector<std::pair<K, uint64_t>> ranked(const std::unordered_map<K, uint64_t>& counts) {
  std::vector<std::pair<K, uint64_t>> v(counts.begin(), counts.end());
  std::sort(v.begin(), v.end(), [](const auto& a, const auto& b) {
    return a.second != b.second ? a.second > b.second : a.first < b.first;
  });
  return v;
}

struct FunctionTally {
  uint64_t self = 0, total = 0;
  const Frame* example = nullptr;  // for module, file and line
  std::map<std::pair<StringId, uint32_t>, uint64_t> self_lines;  // (file, line) → self samples
};

}  // namespace

std::vector<HotFunction> hot_functions(const TraceModel& m, const ReportOptions& o) {
  auto counts = count_stacks(m, [](const Sample& s) { return s.source == 0; });
  uint64_t total_samples = 0;
  std::unordered_map<FunctionKey, FunctionTally> tally;
  std::vector<const Frame*> frames;
  std::unordered_set<FunctionKey> seen;
  for (const auto& [stack, n] : counts) {
    total_samples += n;
    expand_stack(m, stack, o.inlines, frames);
    if (frames.empty()) continue;
    FunctionTally& leaf = tally[key_of(*frames.front())];
    leaf.self += n;
    leaf.self_lines[{frames.front()->file, frames.front()->line}] += n;
    seen.clear();
    for (const Frame* f : frames) {
      FunctionKey k = key_of(*f);
      if (!seen.insert(k).second) continue;  // recursion counts once
      FunctionTally& t = tally[k];
      t.total += n;
      if (!t.example) t.example = f;
    }
  }
  std::vector<HotFunction> out;
  for (const auto& [k, t] : tally) {
    HotFunction h;
    h.function = m.strings.get(t.example->function);
    h.module = m.strings.get(t.example->module);
    // The line where the function spends its own time, else where it calls.
    std::pair<StringId, uint32_t> where{t.example->file, t.example->line};
    uint64_t best = 0;
    for (const auto& [fl, n] : t.self_lines) {
      if (n > best) best = n, where = fl;
    }
    h.file = m.strings.get(where.first);
    h.line = where.second;
    h.self_samples = t.self;
    h.total_samples = t.total;
    h.self_pct = pct(t.self, total_samples);
    h.total_pct = pct(t.total, total_samples);
    out.push_back(std::move(h));
  }
  std::sort(out.begin(), out.end(), [](const HotFunction& a, const HotFunction& b) {
    if (a.self_samples != b.self_samples) return a.self_samples > b.self_samples;
    if (a.total_samples != b.total_samples) return a.total_samples > b.total_samples;
    return a.function < b.function;
  });
  if (out.size() > o.top) out.resize(o.top);
  return out;
}

std::vector<ThreadRow> thread_rows(const TraceModel& m, const ReportOptions& o) {
  struct Tally {
    uint64_t samples = 0;
    std::unordered_map<StackId, uint64_t> stacks;
  };
  std::map<uint32_t, Tally> per_thread;
  uint64_t all = 0;
  for (const Sample& s : m.samples) {
    Tally& t = per_thread[s.tid];  // a thread seen only off-CPU still gets a row
    if (s.source != 0) continue;
    ++t.samples;
    ++t.stacks[s.stack];
    ++all;
  }
  // Runtime workers report their own CPU time and parked time.
  struct WorkerTimes {
    uint64_t first_cpu = 0, last_cpu = 0, parked = 0, waited = 0;
    bool any = false;
    uint64_t park_ts = 0;
    bool parked_now = false;
  };
  std::map<uint32_t, WorkerTimes> times;
  for (const Park& p : m.parks) {
    if (p.tid == 0) continue;
    WorkerTimes& w = times[p.tid];
    if (!w.any) w.first_cpu = p.cpu_time_ns, w.any = true;
    w.last_cpu = std::max(w.last_cpu, p.cpu_time_ns);
    if (!p.unpark) {
      w.park_ts = p.ts, w.parked_now = true;
    } else if (w.parked_now) {
      w.parked += p.ts - w.park_ts;
      w.waited += std::min(p.sched_wait_ns, p.ts - w.park_ts);
      w.parked_now = false;
    }
  }
  std::vector<ThreadRow> rows;
  std::vector<const Frame*> frames;
  auto row_for = [&](uint32_t tid) -> ThreadRow& {
    for (ThreadRow& r : rows) {
      if (r.tid == tid) return r;
    }
    ThreadRow r;
    r.tid = tid;
    r.pid = m.pid_of(tid);
    r.name = m.thread_name(tid);
    rows.push_back(std::move(r));
    return rows.back();
  };
  for (const auto& [tid, t] : per_thread) {
    ThreadRow& r = row_for(tid);
    r.cpu_samples = t.samples;
    r.cpu_pct = pct(t.samples, all);
    std::unordered_map<FunctionKey, uint64_t> self;
    std::unordered_map<FunctionKey, const Frame*> example;
    for (const auto& [stack, n] : t.stacks) {
      expand_stack(m, stack, o.inlines, frames);
      if (frames.empty()) continue;
      self[key_of(*frames.front())] += n;
      example.emplace(key_of(*frames.front()), frames.front());
    }
    if (!self.empty()) r.top_function = m.strings.get(example[ranked(self).front().first]->function);
  }
  for (const auto& [tid, w] : times) {
    ThreadRow& r = row_for(tid);
    r.running_ns = w.last_cpu - w.first_cpu;
    r.runnable_ns = w.waited;
    r.blocked_ns = w.parked - w.waited;
  }
  // Scheduler data, where recorded, is exact and replaces the runtime's.
  for (const auto& [tid, t] : thread_times(m)) {
    ThreadRow& r = row_for(tid);
    r.running_ns = t.running_ns;
    r.runnable_ns = t.runnable_ns;
    r.blocked_ns = t.blocked_ns;
  }
  // Busiest first: by CPU samples, then by time on a CPU (threads a
  // scheduler-only trace has no samples for).
  std::sort(rows.begin(), rows.end(), [](const ThreadRow& a, const ThreadRow& b) {
    if (a.cpu_samples != b.cpu_samples) return a.cpu_samples > b.cpu_samples;
    if (a.running_ns.value_or(0) != b.running_ns.value_or(0)) return a.running_ns.value_or(0) > b.running_ns.value_or(0);
    return a.tid < b.tid;
  });
  if (rows.size() > o.top) rows.resize(o.top);
  return rows;
}

}  // namespace dial9::report
