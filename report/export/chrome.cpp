#include "report/export/chrome.h"

#include <algorithm>
#include <cstdlib>
#include <map>
#include <set>
#include <unordered_map>

#include <nlohmann/json.hpp>

#include "report/analysis/stacks.h"

namespace dial9::report {
namespace {

using Json = nlohmann::json;

// Made-up tracks: far above any Linux tid (pid_max is at most 2^22), so
// they cannot collide with a real thread.
constexpr uint32_t kWorkerTrackBase = 0x7fff0000;
constexpr uint32_t kSpanTrackBase = 0x7ffe0000;  // span tracks, numbered in order of use

class Writer {
 public:
  Writer(const TraceModel& m, const ChromeTraceOptions& o) : m_(m), o_(o) {}

  std::string run() {
    main_pid_ = main_pid();
    for (const auto& [tid, t] : m_.threads) {
      if (t.worker != 255 && !worker_tid_.count(t.worker)) worker_tid_[t.worker] = tid;
    }
    out_ = "{\"traceEvents\":[";
    metadata();
    polls();
    parks();
    spans();
    samples();
    out_ += "],\"stackFrames\":";
    out_ += dump(stack_frames_);
    out_ += ",\"displayTimeUnit\":\"ms\",\"otherData\":";
    out_ += dump(other_data());
    out_ += "}\n";
    return std::move(out_);
  }

 private:
  // Invalid UTF-8 is replaced, never an exception.
  static std::string dump(const Json& j) { return j.dump(-1, ' ', false, Json::error_handler_t::replace); }

  // Events are written as they are made, not kept as one document: a trace
  // has millions of samples, and a JSON tree costs far more than its text.
  void add(const Json& e) {
    if (events_ > 0) out_ += ',';
    out_ += dump(e);
    ++events_;
  }

  // The process of a thread; threads whose process the trace never gave
  // (the Tokio recorder's, say) belong to the traced process.
  uint32_t pid_of(uint32_t tid) const {
    auto it = m_.threads.find(tid);
    return it == m_.threads.end() || it->second.pid == 0 ? main_pid_ : it->second.pid;
  }

  double us(uint64_t ns) const { return ns > m_.start_ns ? static_cast<double>(ns - m_.start_ns) / 1000.0 : 0.0; }

  uint32_t main_pid() const {
    if (auto it = m_.metadata.find("pid"); it != m_.metadata.end()) {
      char* end = nullptr;
      unsigned long v = std::strtoul(it->second.c_str(), &end, 10);
      if (end != it->second.c_str() && *end == '\0' && v > 0 && v <= UINT32_MAX) return static_cast<uint32_t>(v);
    }
    if (!m_.processes.empty()) return m_.processes.begin()->first;
    for (const auto& [tid, t] : m_.threads) {
      if (t.pid != 0) return t.pid;
    }
    if (!m_.threads.empty()) return m_.threads.begin()->first;
    return 1;
  }

  Json other_data() const {
    Json d = {{"exporter", "dial9"}};
    for (const auto& [k, v] : m_.metadata) d[k] = v;
    return d;
  }

  void meta(const char* what, uint32_t pid, uint32_t tid, const std::string& name) {
    add({{"ph", "M"}, {"name", what}, {"ts", 0}, {"pid", pid}, {"tid", tid}, {"args", {{"name", name}}}});
  }

  // The track of a runtime worker: the thread that ran it, else a made-up one.
  std::pair<uint32_t, uint32_t> worker_track(uint32_t worker) {
    if (auto it = worker_tid_.find(worker); it != worker_tid_.end()) {
      return {pid_of(it->second), it->second};
    }
    uint32_t tid = kWorkerTrackBase + std::min<uint32_t>(worker, 0xfffe);
    if (made_up_.insert(tid).second) meta("thread_name", main_pid_, tid, "worker " + std::to_string(worker));
    return {main_pid_, tid};
  }

  void metadata() {
    std::set<uint32_t> pids;
    for (const auto& [pid, p] : m_.processes) pids.insert(pid);
    for (const auto& [tid, t] : m_.threads) pids.insert(pid_of(tid));
    for (uint32_t pid : pids) {
      std::string name;
      if (auto it = m_.processes.find(pid); it != m_.processes.end()) name = it->second.command;
      if (name.empty() && pid == main_pid_) {
        if (auto it = m_.metadata.find("command"); it != m_.metadata.end()) name = it->second;
      }
      if (name.empty()) name = "pid " + std::to_string(pid);
      meta("process_name", pid, 0, name);
    }
    for (const auto& [tid, t] : m_.threads) {
      if (!t.name.empty()) meta("thread_name", pid_of(tid), tid, t.name);
    }
  }

  void slice(const std::string& name, const char* cat, uint64_t start, uint64_t end, std::pair<uint32_t, uint32_t> track,
             Json args) {
    double ts = us(start);
    double dur = end > start ? us(end) - ts : 0.0;
    add({{"ph", "X"},
                       {"name", name},
                       {"cat", cat},
                       {"ts", ts},
                       {"dur", std::max(dur, 0.0)},
                       {"pid", track.first},
                       {"tid", track.second},
                       {"args", std::move(args)}});
  }

  void polls() {
    for (const Poll& p : m_.polls) {
      const std::string& loc = m_.strings.get(p.spawn_loc);
      Json args = {{"task_id", p.task_id}, {"worker", p.worker}, {"spawn_location", loc}};
      if (!p.ended) args["end"] = "inferred (no PollEnd)";
      slice(loc.empty() ? "poll" : "poll " + loc, "poll", p.start_ns, p.end_ns, worker_track(p.worker), std::move(args));
    }
  }

  // A worker's parked time: from each park to the unpark that follows it.
  void parks() {
    std::vector<const Park*> sorted;
    for (const Park& p : m_.parks) sorted.push_back(&p);
    std::stable_sort(sorted.begin(), sorted.end(), [](const Park* a, const Park* b) { return a->ts < b->ts; });
    std::unordered_map<uint32_t, const Park*> parked;
    for (const Park* p : sorted) {
      if (!p->unpark) {
        parked[p->worker] = p;
        continue;
      }
      auto it = parked.find(p->worker);
      if (it == parked.end()) continue;
      const Park* from = it->second;
      parked.erase(it);
      slice("parked", "park", from->ts, p->ts, worker_track(p->worker),
            {{"worker", p->worker}, {"sched_wait_ns", p->sched_wait_ns}});
    }
  }

  // Spans get tracks of their own beside their worker's thread: a span runs
  // from its first enter to its last exit, across polls, parks and other
  // spans, and the slices of one track must nest (Perfetto drops those that
  // do not). Each span goes to the worker's first span track where it nests,
  // a new one when none has room. `start` never decreases between calls.
  std::pair<uint32_t, uint32_t> span_track(uint32_t worker, uint64_t start, uint64_t end) {
    std::vector<SpanLane>& lanes = span_lanes_[worker];
    uint32_t pid = worker == 255 ? main_pid_ : worker_track(worker).first;
    for (size_t i = 0;; ++i) {
      if (i == lanes.size()) {
        // By worker number: runtimes give all their worker threads one name.
        std::string name = worker == 255 ? "spans" : "worker " + std::to_string(worker) + " spans";
        if (i > 0) name += " " + std::to_string(i + 1);
        lanes.push_back({{}, next_span_tid_++});
        meta("thread_name", pid, lanes.back().tid, name);
      }
      SpanLane& lane = lanes[i];
      while (!lane.open_ends.empty() && lane.open_ends.back() <= start) lane.open_ends.pop_back();
      if (lane.open_ends.empty() || end <= lane.open_ends.back()) {
        lane.open_ends.push_back(end);
        return {pid, lane.tid};
      }
    }
  }

  void spans() {
    for (const SpanRecord& s : m_.spans) {
      std::pair<uint32_t, uint32_t> track = span_track(s.worker, s.start_ns, std::max(s.start_ns, s.end_ns));
      slice(m_.strings.get(s.name), "span", s.start_ns, s.end_ns, track,
            {{"busy_ns", s.busy_ns}, {"segments", s.segments}});
    }
  }

  // The stackFrames id of a stack's leaf and the leaf's name, adding its
  // frames (root first, each naming its parent) the first time a path is
  // seen; "" for a stack without frames.
  const std::pair<std::string, std::string>& stack_id(StackId stack) {
    if (auto it = stack_ids_.find(stack); it != stack_ids_.end()) return it->second;
    expand_stack(m_, stack, o_.inlines, frames_);
    std::string parent, leaf;
    for (auto f = frames_.rbegin(); f != frames_.rend(); ++f) {
      auto [it, fresh] = nodes_.try_emplace({parent, (*f)->function}, "");
      if (fresh) {
        it->second = std::to_string(nodes_.size());
        Json node = {{"name", m_.strings.get((*f)->function)}, {"category", m_.strings.get((*f)->module)}};
        if (!parent.empty()) node["parent"] = parent;
        stack_frames_[it->second] = std::move(node);
      }
      parent = it->second;
      leaf = m_.strings.get((*f)->function);
    }
    return stack_ids_[stack] = {parent, leaf.empty() ? "[no stack]" : leaf};
  }

  void samples() {
    const std::pair<std::string, std::string> no_stack = {"", "[no stack]"};
    for (const Sample& s : m_.samples) {
      const auto& [sf, name] = s.stack == kNoStack ? no_stack : stack_id(s.stack);
      Json e = {{"ph", "i"},
                {"s", "t"},
                {"name", s.source == 1 ? "switch-out: " + name : name},
                {"cat", s.source == 1 ? "off-cpu" : "cpu"},
                {"ts", us(s.ts)},
                {"pid", pid_of(s.tid)},
                {"tid", s.tid}};
      if (!sf.empty()) e["sf"] = sf;
      if (s.cpu != UINT16_MAX) e["args"] = {{"cpu", s.cpu}};
      add(e);
    }
  }

  const TraceModel& m_;
  const ChromeTraceOptions& o_;
  uint32_t main_pid_ = 0;
  std::map<uint32_t, uint32_t> worker_tid_;
  std::set<uint32_t> made_up_;
  struct SpanLane {
    std::vector<uint64_t> open_ends;  // the ends of the spans open on it, innermost last
    uint32_t tid;
  };
  std::map<uint32_t, std::vector<SpanLane>> span_lanes_;  // by worker (255: none)
  uint32_t next_span_tid_ = kSpanTrackBase;
  std::string out_;
  size_t events_ = 0;
  Json stack_frames_ = Json::object();
  std::map<std::pair<std::string, StringId>, std::string> nodes_;
  std::unordered_map<StackId, std::pair<std::string, std::string>> stack_ids_;
  std::vector<const Frame*> frames_;
};

}  // namespace

std::string chrome_trace(const TraceModel& m, const ChromeTraceOptions& o) { return Writer(m, o).run(); }

}  // namespace dial9::report
