#include "report/model/trace_model.h"

#include <algorithm>
#include <cstring>
#include <unordered_set>

#include "format/events.h"
#include "format/schemas.h"
#include "format/trace_file.h"
#include "report/event_text.h"

namespace dial9::report {

StringId StringTable::intern(std::string_view s) {
  auto it = ids_.find(std::string(s));
  if (it != ids_.end()) return it->second;
  auto id = static_cast<StringId>(strings_.size());
  strings_.emplace_back(s);
  ids_.emplace(strings_.back(), id);
  return id;
}

StackId StackTable::intern(const uint32_t* ids, size_t n) {
  // FNV-1a over the ids; collisions are resolved by comparing contents.
  uint64_t h = 1469598103934665603ull ^ n;
  for (size_t i = 0; i < n; ++i) h = (h ^ ids[i]) * 1099511628211ull;
  auto [lo, hi] = by_hash_.equal_range(h);
  for (auto it = lo; it != hi; ++it) {
    auto [p, len] = get(it->second);
    if (len == n && std::equal(p, p + n, ids)) return it->second;
  }
  auto id = static_cast<StackId>(size());
  pool_.insert(pool_.end(), ids, ids + n);
  offsets_.push_back(static_cast<uint32_t>(pool_.size()));
  by_hash_.emplace(h, id);
  return id;
}

const std::string& TraceModel::thread_name(uint32_t tid) const {
  static const std::string kEmpty;
  auto it = threads.find(tid);
  return it == threads.end() ? kEmpty : it->second.name;
}

std::string TraceModel::waker_name(uint32_t waker) const {
  if (waker >= wakers.size()) return "";
  const WakerInfo& w = wakers[waker];
  const std::string& recorded = strings.get(w.name);
  if (w.tid == 0) return "interrupt (" + (recorded.empty() ? std::string("idle") : recorded) + ")";
  // The trace's own name for one of its threads may be newer than the
  // waker's comm at the time of the wakeup.
  const std::string& known = thread_name(w.tid);
  return known.empty() ? recorded : known;
}

namespace {

using format::Builtin;

uint8_t narrow_worker(uint64_t w) { return w > 255 ? 255 : static_cast<uint8_t>(w); }

// Builds the model from events, one file after another.
class Builder {
 public:
  Builder(TraceModel& m, StackResolver& r) : m_(m), resolver_(r) {}

  void on_event(const format::Event& e) {
    resolver_.observe(e);
    // The trace's extent is that of its activity: clock anchors, metadata
    // and symbol tables are stamped when written, not when things happened.
    const Builtin kind = e.builtin();
    if (e.timestamp_ns != 0 && kind != Builtin::kClockSync && kind != Builtin::kSegmentMetadata &&
        kind != Builtin::kSymbolTableEntry) {
      if (!seen_time_ || e.timestamp_ns < m_.start_ns) m_.start_ns = e.timestamp_ns;
      if (!seen_time_ || e.timestamp_ns > m_.end_ns) m_.end_ns = e.timestamp_ns;
      seen_time_ = true;
    }
    const uint64_t ts = e.timestamp_ns;
    switch (e.builtin()) {
      case Builtin::kCpuSample: {
        auto s = format::as_cpu_sample(e);
        Sample out;
        out.ts = ts;
        out.tid = s.tid;
        out.source = s.source;
        out.worker = narrow_worker(s.worker_id);
        out.cpu = s.cpu && *s.cpu < UINT16_MAX ? static_cast<uint16_t>(*s.cpu) : UINT16_MAX;
        out.stack = intern_stack(m_.pid_of(s.tid), s.callchain);
        m_.samples.push_back(out);
        ThreadInfo& t = thread(s.tid);
        if (s.thread_name && !s.thread_name->empty() && t.name.empty()) t.name = *s.thread_name;
        if (out.worker < format::kWorkerBlockingPool) t.worker = out.worker;
        break;
      }
      case Builtin::kPollStart: {
        auto p = format::as_poll_start(e);
        worker_events_.push_back({ts, static_cast<uint32_t>(p.worker_id), WorkerEvent::kPollStart, p.task_id,
                                  m_.strings.intern(p.spawn_loc)});
        break;
      }
      case Builtin::kPollEnd:
        worker_events_.push_back(
            {ts, static_cast<uint32_t>(format::as_poll_end(e).worker_id), WorkerEvent::kPollEnd, 0, 0});
        break;
      case Builtin::kWakeEvent: {
        auto w = format::as_wake_event(e);
        m_.wakes.push_back({ts, w.waker_task_id, w.woken_task_id, w.target_worker});
        break;
      }
      case Builtin::kWorkerPark: {
        auto p = format::as_worker_park(e);
        m_.parks.push_back({ts, static_cast<uint32_t>(p.worker_id), p.tid, false, p.cpu_time_ns, 0});
        worker_events_.push_back({ts, static_cast<uint32_t>(p.worker_id), WorkerEvent::kPark, 0, 0});
        if (p.tid) thread(p.tid).worker = static_cast<uint32_t>(p.worker_id);
        break;
      }
      case Builtin::kWorkerUnpark: {
        auto p = format::as_worker_unpark(e);
        m_.parks.push_back(
            {ts, static_cast<uint32_t>(p.worker_id), p.tid, true, p.cpu_time_ns, p.sched_wait_ns});
        worker_events_.push_back({ts, static_cast<uint32_t>(p.worker_id), WorkerEvent::kUnpark, 0, 0});
        if (p.tid) thread(p.tid).worker = static_cast<uint32_t>(p.worker_id);
        break;
      }
      case Builtin::kWorkerStart:
      case Builtin::kWorkerStop: {
        auto w = format::as_worker_life(e);
        auto& life = m_.worker_lives[static_cast<uint32_t>(w.worker_id)];
        (e.builtin() == Builtin::kWorkerStart ? life.start_ns : life.stop_ns) = ts;
        if (w.tid) life.tid = w.tid;
        if (w.tid) thread(w.tid).worker = static_cast<uint32_t>(w.worker_id);
        break;
      }
      case Builtin::kQueueSample:
        m_.queue_depths.push_back({ts, format::as_queue_sample(e).global_queue});
        break;
      case Builtin::kTaskDump: {
        auto d = format::as_task_dump(e);
        // Task dumps have no thread: their frames are located in the
        // process the trace is about (the first one seen, if any).
        m_.task_dumps.push_back({ts, d.task_id, intern_stack(main_pid(), d.callchain)});
        break;
      }
      case Builtin::kSpanEnter:
      case Builtin::kSpanExit: {
        auto s = format::as_span(e);
        span_events_.push_back({ts, s.span_id, s.enter ? SpanStep::kEnter : SpanStep::kExit,
                                m_.strings.intern(s.span_name), narrow_worker(s.worker_id)});
        break;
      }
      case Builtin::kSpanClose:
        span_events_.push_back({ts, format::as_span_close(e).span_id, SpanStep::kClose, 0, 255});
        break;
      case Builtin::kSegmentMetadata:
        format::for_each_metadata(e, [&](std::string_view k, std::string_view v) {
          if (k == "degraded") {
            add_degraded(v);
          } else {
            m_.metadata.emplace(std::string(k), std::string(v));
          }
        });
        break;
      case Builtin::kClockSync:
        if (!m_.clock_sync) m_.clock_sync = {{ts, format::as_clock_sync(e).realtime_ns}};
        break;
      case Builtin::kThreadName: {
        auto t = format::as_thread_name(e);
        ThreadInfo& info = thread(t.tid);
        info.pid = t.pid;
        info.name = t.name;
        if (t.pid == t.tid) process(t.pid);
        if (t.exec || (t.pid == t.tid && process(t.pid).command.empty())) process(t.pid).command = t.name;
        break;
      }
      case Builtin::kThreadStart: {
        auto t = format::as_thread_start(e);
        ThreadInfo& info = thread(t.tid);
        info.pid = t.pid;
        info.start_ns = ts;
        if (info.name.empty()) info.name = m_.thread_name(t.ptid);
        if (t.pid == t.tid) {
          ProcessInfo& p = process(t.pid);
          if (p.command.empty()) p.command = process(t.ppid).command;
        }
        break;
      }
      case Builtin::kThreadExit:
        thread(format::as_thread_exit(e).tid).exit_ns = ts;
        break;
      case Builtin::kThreadState: {
        auto t = format::as_thread_state(e);
        // A reader treats states past the known ones as "blocked, kind unknown".
        auto state = static_cast<uint8_t>(t.state);
        sched_steps_.push_back({ts, t.tid, kNoWaker, state > 5 ? uint8_t{5} : state});
        break;
      }
      case Builtin::kWakeup: {
        auto w = format::as_wakeup(e);
        sched_steps_.push_back({ts, w.tid, waker_index(w.waker_pid, w.waker_tid, w.waker_name), SchedStep::kWakeup});
        break;
      }
      case Builtin::kWakerStack: {
        auto w = format::as_waker_stack(e);
        // The waker's frames belong to its own process, which may not be
        // the traced one.
        m_.waker_stacks.push_back({ts, w.tid, w.waker_tid, intern_stack(w.waker_pid, w.callchain)});
        break;
      }
      case Builtin::kSchedStat: {
        auto st = format::as_sched_stat(e);
        m_.sched_stats.push_back({ts, st.tid, st.run_ns, st.wait_ns, st.timeslices});
        ThreadInfo& t = thread(st.tid);
        if (t.pid == 0) t.pid = st.pid;
        break;
      }
      case Builtin::kProcessExit: {
        auto x = format::as_process_exit(e);
        process(x.pid).exit_status = x.status;
        break;
      }
      case Builtin::kTaskSpawn:
        ++m_.task_spawns;
        break;
      case Builtin::kLost: {
        auto l = format::as_lost(e);
        bool sched = l.source == static_cast<uint8_t>(format::LostSource::kSchedRing);
        (sched ? m_.lost_sched_events : m_.lost_samples) += l.count;
        break;
      }
      case Builtin::kNone:
        ++m_.custom_events[e.name()];
        if (e.schema->has_timestamp && m_.custom_event_records.size() < kMaxCustomEventRecords) {
          std::string fields;
          render_event_fields(e, fields);
          if (fields.size() > kMaxCustomEventText) fields.resize(kMaxCustomEventText);
          m_.custom_event_records.push_back({ts, m_.strings.intern(e.name()), m_.strings.intern(fields)});
        }
        break;
      default:
        break;
    }
  }

  void finish() {
    pair_polls();
    pair_spans();
    auto by_ts = [](const auto& a, const auto& b) { return a.ts < b.ts; };
    std::stable_sort(m_.samples.begin(), m_.samples.end(), by_ts);
    std::stable_sort(m_.wakes.begin(), m_.wakes.end(), by_ts);
    std::stable_sort(m_.parks.begin(), m_.parks.end(), by_ts);
    std::stable_sort(m_.queue_depths.begin(), m_.queue_depths.end(), by_ts);
    std::stable_sort(m_.task_dumps.begin(), m_.task_dumps.end(), by_ts);
    std::stable_sort(m_.waker_stacks.begin(), m_.waker_stacks.end(), by_ts);
    std::stable_sort(m_.sched_stats.begin(), m_.sched_stats.end(), by_ts);
    std::stable_sort(m_.polls.begin(), m_.polls.end(),
                     [](const Poll& a, const Poll& b) { return a.start_ns < b.start_ns; });
    std::stable_sort(m_.spans.begin(), m_.spans.end(),
                     [](const SpanRecord& a, const SpanRecord& b) { return a.start_ns < b.start_ns; });
    build_states();  // after the samples are sorted
    // The recorded command line names the launched process best (thread
    // events carry only the 15-character comm).
    auto pid = m_.metadata.find("pid"), command = m_.metadata.find("command");
    if (pid != m_.metadata.end() && command != m_.metadata.end()) {
      process(static_cast<uint32_t>(std::strtoul(pid->second.c_str(), nullptr, 10))).command =
          command->second;
    }
  }

 private:
  ThreadInfo& thread(uint32_t tid) {
    ThreadInfo& t = m_.threads[tid];
    t.tid = tid;
    return t;
  }
  ProcessInfo& process(uint32_t pid) {
    ProcessInfo& p = m_.processes[pid];
    p.pid = pid;
    if (main_pid_ == 0) main_pid_ = pid;
    return p;
  }
  uint32_t main_pid() const { return main_pid_; }

  StackId intern_stack(uint32_t pid, format::StackView chain) {
    if (chain.empty()) return kNoStack;
    ids_.resize(chain.size());
    for (uint32_t i = 0; i < chain.size(); ++i) ids_[i] = resolver_.locate(pid, chain[i], i > 0);
    return m_.stacks.intern(ids_.data(), ids_.size());
  }

  // A recorder writes each worker's events from its own buffer, so a
  // worker's timeline can be split across streams that interleave in the
  // file: pair only after a stable sort by time. The rules are the Tokio
  // toolkit's: a PollStart or a park while a poll is open ends it there (an
  // inferred end); an unpark while a poll is open, or a poll still open at
  // the end, means its end was lost, and the poll is dropped.
  void pair_polls() {
    std::stable_sort(worker_events_.begin(), worker_events_.end(),
                     [](const WorkerEvent& a, const WorkerEvent& b) { return a.ts < b.ts; });
    std::unordered_map<uint32_t, Poll> open;
    for (const WorkerEvent& e : worker_events_) {
      auto it = open.find(e.worker);
      switch (e.kind) {
        case WorkerEvent::kPollStart: {
          if (it != open.end()) {
            it->second.end_ns = e.ts;
            m_.polls.push_back(it->second);
          }
          Poll p;
          p.start_ns = p.end_ns = e.ts;
          p.task_id = e.task;
          p.worker = e.worker;
          p.spawn_loc = e.spawn_loc;
          open[e.worker] = p;
          break;
        }
        case WorkerEvent::kPollEnd:
        case WorkerEvent::kPark:
          if (it != open.end()) {
            it->second.end_ns = e.ts;
            it->second.ended = e.kind == WorkerEvent::kPollEnd;
            m_.polls.push_back(it->second);
            open.erase(it);
          }
          break;
        case WorkerEvent::kUnpark:
          if (it != open.end()) open.erase(it);
          break;
      }
    }
    worker_events_.clear();
    worker_events_.shrink_to_fit();
  }

  // A span lives from its first enter to its last exit (awaits included),
  // and ends at its SpanCloseEvent, after which its id may be reused; busy
  // time is the sum of its enter–exit segments. An enter while the span is
  // entered, or an exit while it is not, is ignored.
  void pair_spans() {
    std::stable_sort(span_events_.begin(), span_events_.end(),
                     [](const SpanStep& a, const SpanStep& b) { return a.ts < b.ts; });
    struct Open {
      SpanRecord rec;
      uint64_t entered_at = 0;
      bool entered = false;
      bool any_exit = false;
    };
    std::unordered_map<uint64_t, Open> open;
    auto finish_span = [&](Open& o) {
      if (o.any_exit) m_.spans.push_back(o.rec);
    };
    for (const SpanStep& s : span_events_) {
      auto it = open.find(s.span_id);
      if (s.kind == SpanStep::kEnter) {
        if (it == open.end()) {
          Open o;
          o.rec.name = s.name;
          o.rec.start_ns = o.rec.end_ns = s.ts;
          o.rec.worker = s.worker;
          it = open.emplace(s.span_id, o).first;
        }
        if (!it->second.entered) it->second.entered = true, it->second.entered_at = s.ts;
      } else if (s.kind == SpanStep::kExit) {
        if (it == open.end() || !it->second.entered) continue;
        Open& o = it->second;
        o.entered = false;
        o.any_exit = true;
        o.rec.end_ns = s.ts;
        o.rec.busy_ns += s.ts - o.entered_at;
        ++o.rec.segments;
      } else if (it != open.end()) {
        finish_span(it->second);
        open.erase(it);
      }
    }
    for (auto& [id, o] : open) finish_span(o);
    span_events_.clear();
    span_events_.shrink_to_fit();
  }

  uint32_t waker_index(uint32_t pid, uint32_t tid, std::string_view name) {
    StringId n = m_.strings.intern(name);
    auto [it, added] = waker_ids_.try_emplace(uint64_t{tid} << 32 | n, static_cast<uint32_t>(m_.wakers.size()));
    if (added) m_.wakers.push_back({pid, tid, n});
    return it->second;
  }

  // Turns each thread's state changes and wakeups into intervals. A state
  // lasts until the thread's next change; a wakeup ends a blocked state and
  // starts a runnable one (FORMAT.md). Before a thread's first event its
  // state is known only when that event implies it: a switch-out means it
  // was running, a wakeup that it was blocked (kind unknown); a switch-in
  // says nothing (it may have been runnable or blocked). The last state
  // lasts until the thread exited, else to the end of the trace. A blocked
  // state's stack is the switch-out sample written at the same time.
  void build_states() {
    std::stable_sort(sched_steps_.begin(), sched_steps_.end(), [](const SchedStep& a, const SchedStep& b) {
      return a.tid != b.tid ? a.tid < b.tid : a.ts < b.ts;
    });
    std::vector<uint32_t> off;  // source-1 samples by (tid, ts); samples are sorted by ts
    for (uint32_t i = 0; i < m_.samples.size(); ++i) {
      if (m_.samples[i].source == 1) off.push_back(i);
    }
    std::stable_sort(off.begin(), off.end(),
                     [&](uint32_t a, uint32_t b) { return m_.samples[a].tid < m_.samples[b].tid; });
    size_t next_off = 0;
    auto stack_at = [&](uint32_t tid, uint64_t ts) {
      auto before = [&](const Sample& s) { return s.tid != tid ? s.tid < tid : s.ts < ts; };
      while (next_off < off.size() && before(m_.samples[off[next_off]])) ++next_off;
      if (next_off < off.size() && m_.samples[off[next_off]].tid == tid && m_.samples[off[next_off]].ts == ts) {
        return m_.samples[off[next_off]].stack;
      }
      return kNoStack;
    };
    m_.states.reserve(sched_steps_.size() + sched_steps_.size() / 8);
    for (size_t a = 0; a < sched_steps_.size();) {
      const uint32_t tid = sched_steps_[a].tid;
      size_t b = a;
      while (b < sched_steps_.size() && sched_steps_[b].tid == tid) ++b;
      ThreadInfo& info = thread(tid);
      const uint64_t window_start = std::max(m_.start_ns, info.start_ns);
      bool open = false;
      StateInterval cur;
      auto close = [&](uint64_t end, uint8_t flags) {
        cur.end_ns = std::max(end, cur.start_ns);
        cur.flags |= flags;
        m_.states.push_back(cur);
      };
      auto begin = [&](uint64_t ts, uint8_t state, uint32_t waker, uint8_t flags) {
        cur = StateInterval{};
        cur.start_ns = ts;
        cur.tid = tid;
        cur.state = state;
        cur.waker = waker;
        cur.flags = flags;
        if (state >= 2 && !(flags & StateInterval::kOpenStart)) cur.stack = stack_at(tid, ts);
        open = true;
      };
      const SchedStep& first = sched_steps_[a];
      if (first.ts > window_start) {
        if (first.state == SchedStep::kWakeup) {
          begin(window_start, 5, first.waker, StateInterval::kOpenStart);
        } else if (first.state != 0) {
          begin(window_start, 0, kNoWaker, StateInterval::kOpenStart);
        }
      }
      for (size_t i = a; i < b; ++i) {
        const SchedStep& s = sched_steps_[i];
        if (s.state == SchedStep::kWakeup) {
          // A wakeup matters only to a blocked thread (the recorder writes
          // none for others, but a trace may hold a late one).
          if (!open || cur.state < 2) continue;
          cur.waker = s.waker;
          close(s.ts, 0);
          begin(s.ts, 1, s.waker, 0);
        } else {
          if (open) close(s.ts, 0);
          begin(s.ts, s.state, kNoWaker, 0);
        }
      }
      if (open) close(info.exit_ns >= cur.start_ns && info.exit_ns != 0 ? info.exit_ns : m_.end_ns, StateInterval::kOpenEnd);
      a = b;
    }
    sched_steps_.clear();
    sched_steps_.shrink_to_fit();
    std::sort(m_.states.begin(), m_.states.end(), [](const StateInterval& x, const StateInterval& y) {
      return x.start_ns != y.start_ns ? x.start_ns < y.start_ns : x.tid < y.tid;
    });
  }

  void add_degraded(std::string_view all) {
    // Segments repeat the recording's notes, joined by "; ".
    size_t pos = 0;
    while (pos <= all.size()) {
      size_t end = all.find("; ", pos);
      std::string note(all.substr(pos, end == std::string_view::npos ? std::string_view::npos : end - pos));
      if (!note.empty() && std::find(m_.degraded.begin(), m_.degraded.end(), note) == m_.degraded.end()) {
        m_.degraded.push_back(note);
      }
      if (end == std::string_view::npos) break;
      pos = end + 2;
    }
  }

  TraceModel& m_;
  StackResolver& resolver_;
  bool seen_time_ = false;
  uint32_t main_pid_ = 0;
  std::vector<uint32_t> ids_;
  struct WorkerEvent {
    uint64_t ts;
    uint32_t worker;
    enum Kind : uint8_t { kPollStart, kPollEnd, kPark, kUnpark } kind;
    uint64_t task;
    StringId spawn_loc;
  };
  struct SpanStep {
    uint64_t ts;
    uint64_t span_id;
    enum Kind : uint8_t { kEnter, kExit, kClose } kind;
    StringId name;
    uint8_t worker;
  };
  // A ThreadStateEvent (state) or WakeupEvent (kWakeup, with its waker),
  // made into intervals by finish().
  struct SchedStep {
    uint64_t ts;
    uint32_t tid;
    uint32_t waker;
    uint8_t state;
    static constexpr uint8_t kWakeup = 255;
  };
  std::vector<SchedStep> sched_steps_;
  std::unordered_map<uint64_t, uint32_t> waker_ids_;  // (tid, name) -> index in wakers
  std::vector<WorkerEvent> worker_events_;  // paired into polls by finish()
  std::vector<SpanStep> span_events_;       // paired into spans by finish()
};

}  // namespace

Result<TraceModel> load_trace(const std::vector<std::string>& inputs, StackResolver& resolver,
                              const LoadOptions& options) {
  auto files = format::expand_trace_inputs(inputs);
  if (!files) return fail(files.error());
  TraceModel model;
  Builder builder(model, resolver);
  auto warn = [&](std::string msg) {
    if (options.warn) options.warn(msg);
    model.warnings.push_back(std::move(msg));
  };
  size_t done = 0;
  for (const format::TraceInput& input : *files) {
    if (options.progress) options.progress("reading", done++, files->size());
    if (!input.duplicate_of.empty()) {
      std::string why = "the same bytes as " + input.duplicate_of + " (a copy)";
      if (options.warn) options.warn("skipping segment " + input.path + ": " + why);
      model.skipped.push_back({input.path, std::move(why)});
      continue;
    }
    auto sum = format::read_trace_file(input.path, [&](const format::Event& e) { builder.on_event(e); });
    if (!sum) {
      if (!input.from_directory) return fail(sum.error());
      model.skipped.push_back({input.path, sum.error().message()});
      if (options.warn) options.warn("skipping segment " + sum.error().message());
      continue;
    }
    ++model.segments;
    uint64_t corrupt = 0;
    for (const auto& d : sum->diagnostics) corrupt += d.kind == format::Diagnostic::Kind::kCorrupt;
    if (corrupt > 0 || sum->diagnostic_count > sum->diagnostics.size()) {
      warn(input.path + ": " + std::to_string(sum->stats.corrupt_frames) +
           " corrupt frame(s) skipped; the events around them were kept");
    }
    if (!sum->container_error.empty()) {
      warn(input.path + ": " + sum->container_error + "; the events before it were kept");
    }
    if (sum->truncated) {
      warn(input.path + " is truncated (" + sum->truncation + "); the events before the cut were kept");
    }
  }
  if (model.segments == 0) {
    return fail("none of the inputs could be read (" + std::to_string(model.skipped.size()) +
                        " damaged segment(s) skipped)");
  }
  builder.finish();
  std::vector<ResolvedFrame> named;
  model.location_frames.reserve(resolver.locations());
  for (uint32_t loc = 0; loc < resolver.locations(); ++loc) {
    if (options.progress && loc % 4096 == 0) options.progress("symbolizing", loc, resolver.locations());
    named.clear();
    resolver.frames(loc, named);
    model.location_frames.emplace_back(model.frames.size(), named.size());
    for (const ResolvedFrame& f : named) {
      model.frames.push_back({model.strings.intern(f.function), model.strings.intern(f.module),
                              model.strings.intern(f.file), f.line, f.inlined});
    }
  }
  return model;
}

void restrict(TraceModel& m, const Selection& sel) {
  const uint64_t from = sel.from_ns.value_or(0);
  const uint64_t to = sel.to_ns.value_or(UINT64_MAX);
  auto in_time = [&](uint64_t ts) { return ts >= from && ts <= to; };
  auto thread_ok = [&](uint32_t tid) {
    if (!sel.tids.empty() && std::find(sel.tids.begin(), sel.tids.end(), tid) == sel.tids.end()) return false;
    if (!sel.pids.empty() &&
        std::find(sel.pids.begin(), sel.pids.end(), m.pid_of(tid)) == sel.pids.end()) {
      return false;
    }
    return true;
  };
  std::erase_if(m.samples, [&](const Sample& s) { return !in_time(s.ts) || !thread_ok(s.tid); });
  std::erase_if(m.parks, [&](const Park& p) { return !in_time(p.ts) || (p.tid && !thread_ok(p.tid)); });
  // Runtime records have no thread of their own: keep those of the selected
  // threads' workers.
  std::unordered_set<uint32_t> workers;
  bool all_workers = sel.tids.empty() && sel.pids.empty();
  for (const auto& [tid, t] : m.threads) {
    if (t.worker < 255 && thread_ok(tid)) workers.insert(t.worker);
  }
  auto worker_ok = [&](uint32_t w) { return all_workers || workers.count(w) > 0; };
  std::erase_if(m.polls, [&](const Poll& p) { return !in_time(p.start_ns) || !worker_ok(p.worker); });
  std::erase_if(m.wakes, [&](const Wake& w) { return !in_time(w.ts); });
  std::erase_if(m.queue_depths, [&](const QueueDepth& q) { return !in_time(q.ts); });
  std::erase_if(m.spans, [&](const SpanRecord& s) { return !in_time(s.start_ns) || !worker_ok(s.worker); });
  std::erase_if(m.task_dumps, [&](const TaskDumpRecord& d) { return !in_time(d.ts); });
  std::erase_if(m.custom_event_records, [&](const CustomEventRecord& c) { return !in_time(c.ts); });
  std::erase_if(m.states, [&](const StateInterval& s) {
    return !thread_ok(s.tid) || s.end_ns < from || s.start_ns > to || (s.end_ns == from && s.start_ns < from);
  });
  for (StateInterval& s : m.states) {
    if (s.start_ns < from) s.start_ns = from, s.flags |= StateInterval::kOpenStart;
    if (s.end_ns > to) {
      s.end_ns = to;
      s.flags |= StateInterval::kOpenEnd;
      if (s.blocked()) s.waker = kNoWaker;  // its wakeup is outside the selection
    }
  }
  std::erase_if(m.waker_stacks, [&](const WakerStackRecord& w) { return !in_time(w.ts) || !thread_ok(w.tid); });
  std::erase_if(m.sched_stats, [&](const SchedStatRecord& s) { return !in_time(s.ts) || !thread_ok(s.tid); });
  if (sel.from_ns) m.start_ns = std::max(m.start_ns, *sel.from_ns);
  if (sel.to_ns) m.end_ns = std::min(m.end_ns, *sel.to_ns);
  if (!sel.tids.empty() || !sel.pids.empty()) {
    std::erase_if(m.threads, [&](const auto& kv) { return !thread_ok(kv.first); });
  }
}

}  // namespace dial9::report
