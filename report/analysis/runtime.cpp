// The async-runtime section: per-worker utilization, long polls and what was
// sampled inside them, wake-to-poll delay, poll durations by spawn location,
// and the global queue depth.
#include <algorithm>
#include <map>
#include <unordered_map>

#include "format/events.h"
#include "report/analysis/analyses.h"
#include "report/analysis/stacks.h"
#include "report/analysis/stats.h"

namespace dial9::report {
namespace {

// The worker a sample ran on: the sample says so (the Tokio recorder tags
// its samples), else the thread is known to run that worker.
uint32_t worker_of(const TraceModel& m, const Sample& s) {
  if (s.worker < format::kWorkerBlockingPool) return s.worker;
  auto it = m.threads.find(s.tid);
  return it == m.threads.end() ? 255 : it->second.worker;
}

// Wake-to-poll delay: for each poll, the delay from the task's latest wake
// before it to the poll's start. A wake that came while the task was being
// polled could not be acted on before that poll ended, so the delay counts
// from that poll's end. Each wake is used by one poll; delays outside
// (0, 1 s) are dropped as unrelated (a task woken long ago and polled for
// another reason, or clock noise).
std::vector<uint64_t> wake_to_poll_delays(const TraceModel& m) {
  struct TaskState {
    uint64_t wake = 0;  // latest unused wake, 0 = none
    uint64_t last_poll_start = 0, last_poll_end = 0;
  };
  std::unordered_map<uint64_t, TaskState> tasks;
  std::vector<uint64_t> delays;
  size_t w = 0;
  for (const Poll& p : m.polls) {
    // Apply every wake up to this poll's start, in time order.
    for (; w < m.wakes.size() && m.wakes[w].ts <= p.start_ns; ++w) {
      tasks[m.wakes[w].woken_task].wake = m.wakes[w].ts;
    }
    TaskState& t = tasks[p.task_id];
    if (t.wake != 0) {
      uint64_t from = t.wake;
      if (t.wake >= t.last_poll_start && t.wake <= t.last_poll_end) from = t.last_poll_end;
      if (p.start_ns > from && p.start_ns - from < 1'000'000'000) delays.push_back(p.start_ns - from);
      t.wake = 0;
    }
    t.last_poll_start = p.start_ns;
    t.last_poll_end = p.end_ns;
  }
  return delays;
}

}  // namespace

std::optional<Runtime> runtime_analysis(const TraceModel& m, const ReportOptions& o) {
  if (!m.has_runtime()) return std::nullopt;
  Runtime rt;
  rt.polls = m.polls.size();
  rt.tasks_spawned = m.task_spawns;
  const uint64_t duration = std::max<uint64_t>(1, m.end_ns - m.start_ns);

  std::map<uint32_t, WorkerStats> workers;
  auto worker = [&](uint32_t id) -> WorkerStats& {
    WorkerStats& w = workers[id];
    w.worker_id = id;
    return w;
  };
  for (const Poll& p : m.polls) {
    WorkerStats& w = worker(p.worker);
    ++w.polls;
    w.busy_ns += p.end_ns - p.start_ns;
  }
  // Utilization as the Tokio toolkit defines it: the share of time between
  // an unpark and the next park (active) in active plus parked time. Time
  // before a worker's first park or unpark and after its last is neither.
  struct ParkState {
    uint64_t active = 0, parked = 0, since = 0;
    enum { kUnknown, kActive, kParked } state = kUnknown;
  };
  std::map<uint32_t, ParkState> park_state;
  for (const Park& p : m.parks) {
    WorkerStats& w = worker(p.worker);
    ParkState& s = park_state[p.worker];
    if (!p.unpark) {
      ++w.parks;
      if (s.state == ParkState::kActive) s.active += p.ts - s.since;
      s.state = ParkState::kParked;
    } else {
      if (s.state == ParkState::kParked) s.parked += p.ts - s.since;
      s.state = ParkState::kActive;
    }
    s.since = p.ts;
    if (p.tid) w.tid = p.tid;
  }
  for (const auto& [id, life] : m.worker_lives) {
    WorkerStats& w = worker(id);
    if (w.tid == 0) w.tid = life.tid;
  }
  for (auto& [id, w] : workers) {
    auto s = park_state.find(id);
    if (s != park_state.end() && s->second.state == ParkState::kParked) {
      s->second.parked += m.end_ns - s->second.since;  // parked until the end
    }
    if (s != park_state.end() && s->second.active + s->second.parked > 0) {
      w.active_pct = 100.0 * static_cast<double>(s->second.active) /
                     static_cast<double>(s->second.active + s->second.parked);
    } else {
      // No park records: the share of the worker's life (from its start
      // to its stop, when it said) or else of the trace, spent polling.
      uint64_t life = duration;
      if (auto l = m.worker_lives.find(id); l != m.worker_lives.end()) {
        const uint64_t from = l->second.start_ns ? l->second.start_ns : m.start_ns;
        const uint64_t to = l->second.stop_ns ? l->second.stop_ns : m.end_ns;
        if (to > from) life = to - from;
      }
      w.active_pct = std::min(100.0, 100.0 * static_cast<double>(w.busy_ns) / static_cast<double>(life));
    }
    rt.workers.push_back(w);
  }

  // Long polls, longest first, with the samples taken inside each.
  std::vector<const Poll*> longest;
  for (const Poll& p : m.polls) {
    if (p.end_ns - p.start_ns > o.long_poll_ns) longest.push_back(&p);
  }
  std::sort(longest.begin(), longest.end(), [](const Poll* a, const Poll* b) {
    uint64_t da = a->end_ns - a->start_ns, db = b->end_ns - b->start_ns;
    return da != db ? da > db : a->start_ns < b->start_ns;
  });
  if (longest.size() > o.top) longest.resize(o.top);
  for (const Poll* p : longest) {
    LongPoll lp;
    lp.worker_id = p->worker;
    lp.task_id = p->task_id;
    lp.spawn_loc = m.strings.get(p->spawn_loc);
    lp.start_ns = p->start_ns;
    lp.duration_ns = p->end_ns - p->start_ns;
    // The stack seen most often inside the poll; on a tie, one where the
    // worker was switched out, since that says what the poll waited in.
    struct Seen {
      uint64_t n = 0;
      bool off_cpu = false;
    };
    std::unordered_map<StackId, Seen> stacks;
    auto first = std::lower_bound(m.samples.begin(), m.samples.end(), p->start_ns,
                                  [](const Sample& s, uint64_t ts) { return s.ts < ts; });
    for (auto it = first; it != m.samples.end() && it->ts <= p->end_ns; ++it) {
      if (worker_of(m, *it) != p->worker || it->stack == kNoStack) continue;
      Seen& seen = stacks[it->stack];
      ++seen.n;
      seen.off_cpu = seen.off_cpu || it->source == 1;
      ++lp.samples;
    }
    StackId best = kNoStack;
    bool best_off = false;
    for (const auto& [stack, seen] : stacks) {
      bool better = seen.n != lp.stack_samples ? seen.n > lp.stack_samples
                    : seen.off_cpu != best_off ? seen.off_cpu
                                               : stack < best;
      if (better) lp.stack_samples = seen.n, best = stack, best_off = seen.off_cpu;
    }
    if (best != kNoStack) lp.stack = stack_names(m, best, o.inlines);
    rt.long_polls.push_back(std::move(lp));
  }

  std::vector<uint64_t> delays = wake_to_poll_delays(m);
  rt.wake_to_poll_over_5ms =
      static_cast<uint64_t>(std::count_if(delays.begin(), delays.end(), [](uint64_t d) { return d > kSlowWakeToPollNs; }));
  rt.wake_to_poll = summarize(delays);

  std::map<StringId, std::vector<uint64_t>> by_spawn;
  for (const Poll& p : m.polls) {
    by_spawn[p.spawn_loc].push_back(p.end_ns - p.start_ns);
  }
  for (auto& [loc, d] : by_spawn) rt.polls_by_spawn.push_back({m.strings.get(loc), summarize(d)});
  std::sort(rt.polls_by_spawn.begin(), rt.polls_by_spawn.end(), [](const SpawnPolls& a, const SpawnPolls& b) {
    return a.duration.max_ns != b.duration.max_ns ? a.duration.max_ns > b.duration.max_ns
                                                  : a.spawn_loc < b.spawn_loc;
  });
  if (rt.polls_by_spawn.size() > o.top) rt.polls_by_spawn.resize(o.top);

  std::vector<uint64_t> depths;
  double sum = 0;
  for (const QueueDepth& q : m.queue_depths) depths.push_back(q.global_queue), sum += q.global_queue;
  if (!depths.empty()) {
    LatencyStats s = summarize(depths);
    rt.global_queue = {s.count, sum / static_cast<double>(s.count), static_cast<uint32_t>(s.p50_ns),
                       static_cast<uint32_t>(s.p99_ns), static_cast<uint32_t>(s.max_ns)};
  }
  return rt;
}

}  // namespace dial9::report
