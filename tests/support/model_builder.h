// A TraceModel built by hand for unit tests of analyses and exporters:
// locations are named directly, with no symbolizer involved.
//   location("inner<outer")  one location whose frames are `inner`, inlined
//                            into `outer` (leaf first)
//   location("name@module")  a frame in another module (default "app")
#pragma once

#include <algorithm>
#include <cstdint>
#include <initializer_list>
#include <map>
#include <string>
#include <vector>

#include "report/model/trace_model.h"

namespace dial9::test {

using namespace dial9::report;

struct ModelBuilder {
  TraceModel m;
  std::map<std::string, uint32_t> loc_of;

  uint32_t location(const std::string& spec) {
    auto it = loc_of.find(spec);
    if (it != loc_of.end()) return it->second;
    auto id = static_cast<uint32_t>(m.location_frames.size());
    std::vector<std::string> parts;
    size_t pos = 0;
    while (true) {
      size_t lt = spec.find('<', pos);
      parts.push_back(spec.substr(pos, lt == std::string::npos ? std::string::npos : lt - pos));
      if (lt == std::string::npos) break;
      pos = lt + 1;
    }
    m.location_frames.emplace_back(static_cast<uint32_t>(m.frames.size()), static_cast<uint32_t>(parts.size()));
    for (size_t i = 0; i < parts.size(); ++i) {
      std::string fn = parts[i], module = "app";
      if (size_t at = fn.rfind('@'); at != std::string::npos && at > 0) {
        module = fn.substr(at + 1);
        fn = fn.substr(0, at);
      }
      m.frames.push_back({m.strings.intern(fn), m.strings.intern(module), m.strings.intern("app.cpp"),
                          static_cast<uint32_t>(10 + i), i + 1 < parts.size()});
    }
    loc_of[spec] = id;
    return id;
  }
  // A stack from frames given directly (for names that contain '<' or '@').
  StackId raw_stack(const std::vector<std::string>& leaf_first) {
    std::vector<uint32_t> ids;
    for (const auto& fn : leaf_first) {
      ids.push_back(static_cast<uint32_t>(m.location_frames.size()));
      m.location_frames.emplace_back(static_cast<uint32_t>(m.frames.size()), 1);
      m.frames.push_back({m.strings.intern(fn), m.strings.intern("app"), m.strings.intern(""), 0, false});
    }
    return m.stacks.intern(ids.data(), ids.size());
  }
  StackId stack(std::initializer_list<std::string> leaf_first) {
    std::vector<uint32_t> ids;
    for (const auto& s : leaf_first) ids.push_back(location(s));
    return m.stacks.intern(ids.data(), ids.size());
  }
  void samples(StackId s, int n, uint8_t source = 0) {
    for (int i = 0; i < n; ++i) {
      Sample x;
      x.ts = m.samples.size();
      x.tid = 1;
      x.stack = s;
      x.source = source;
      m.samples.push_back(x);
    }
  }
  void sample(uint64_t ts, uint32_t tid, StackId s, uint8_t source = 0, uint8_t worker = 255) {
    Sample x;
    x.ts = ts;
    x.tid = tid;
    x.stack = s;
    x.source = source;
    x.worker = worker;
    m.samples.push_back(x);
    m.end_ns = std::max(m.end_ns, ts);
  }
  void poll(uint32_t worker, uint64_t task, uint64_t start, uint64_t end, const char* loc = "main.rs:1") {
    Poll p;
    p.worker = worker;
    p.task_id = task;
    p.start_ns = start;
    p.end_ns = end;
    p.ended = true;
    p.spawn_loc = m.strings.intern(loc);
    m.polls.push_back(p);
    m.end_ns = std::max(m.end_ns, end);
  }
  void wake(uint64_t ts, uint64_t task) { m.wakes.push_back({ts, 0, task, 0}); }

  // Scheduler data. A thread's state interval (closed unless flags say),
  // with a blocked interval's stack and the waker that ended it.
  void thread(uint32_t tid, const std::string& name, uint32_t pid = 100) {
    ThreadInfo& t = m.threads[tid];
    t.tid = tid;
    t.pid = pid;
    t.name = name;
  }
  uint32_t waker(uint32_t tid, const std::string& name, uint32_t pid = 100) {
    m.wakers.push_back({pid, tid, m.strings.intern(name)});
    return static_cast<uint32_t>(m.wakers.size() - 1);
  }
  void state(uint32_t tid, uint64_t start, uint64_t end, uint8_t st, StackId stack = kNoStack,
             uint32_t waker_index = kNoWaker, uint8_t flags = 0) {
    m.states.push_back(StateInterval{start, end, tid, stack, waker_index, st, flags});
    m.end_ns = std::max(m.end_ns, end);
  }
  // A blocked wait as the recorder writes it: the switch-out sample, the
  // blocked interval until the wakeup, then runnable for `queued` ns.
  void blocked(uint32_t tid, uint64_t start, uint64_t blocked_ns, StackId stack, uint32_t waker_index,
               uint64_t queued = 0, uint8_t st = 2) {
    sample(start, tid, stack, 1);
    state(tid, start, start + blocked_ns, st, stack, waker_index);
    if (waker_index != kNoWaker) state(tid, start + blocked_ns, start + blocked_ns + queued, 1, kNoStack, waker_index);
  }
  void sched_stat(uint64_t ts, uint32_t tid, uint64_t run, uint64_t wait, uint64_t slices = 0) {
    m.sched_stats.push_back({ts, tid, run, wait, slices});
    m.end_ns = std::max(m.end_ns, ts);
  }
  // Sorts what the loader sorts, for models built out of order.
  void finish() {
    std::stable_sort(m.states.begin(), m.states.end(), [](const StateInterval& a, const StateInterval& b) {
      return a.start_ns != b.start_ns ? a.start_ns < b.start_ns : a.tid < b.tid;
    });
    std::stable_sort(m.samples.begin(), m.samples.end(), [](const Sample& a, const Sample& b) { return a.ts < b.ts; });
  }
};

}  // namespace dial9::test
