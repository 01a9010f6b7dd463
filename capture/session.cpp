#include "capture/session.h"

#include <signal.h>
#include <fcntl.h>
#include <sys/epoll.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/signalfd.h>
#include <sys/syscall.h>
#include <sys/timerfd.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <fstream>
#include <map>
#include <set>
#include <unordered_map>
#include <unordered_set>

#include "base/elf_file.h"
#include "base/proc_maps.h"
#include "base/unique_fd.h"
#include "capture/perf_records.h"
#include "format/decoder.h"
#include "format/events.h"
#include "format/segment_writer.h"
#include "format/trace_writer.h"

namespace dial9::capture {
namespace {

uint64_t mono_ns() {
  timespec t{};
  clock_gettime(CLOCK_MONOTONIC, &t);
  return static_cast<uint64_t>(t.tv_sec) * 1000000000u + static_cast<uint64_t>(t.tv_nsec);
}

int paranoid_level() {
  std::ifstream in("/proc/sys/kernel/perf_event_paranoid");
  int v = 2;
  in >> v;
  return v;
}

// A running process as the kernel would have reported it had it been
// recorded from its start: its threads (tid, name) and executable file
// mappings, with build ids. What attach writes first, and what a process
// found after lost records gets.
struct ProcessView {
  std::vector<std::pair<uint32_t, std::string>> threads;
  struct Map {
    MapsEntry entry;
    std::vector<uint8_t> build_id;
  };
  std::vector<Map> maps;
  // The maps as events of process `pid`, viewing `maps`: valid while it lives.
  std::vector<format::Mapping> mappings(uint32_t pid) const {
    std::vector<format::Mapping> out;
    for (const Map& m : maps) {
      out.push_back(format::Mapping{pid, m.entry.start, m.entry.end - m.entry.start, m.entry.offset, m.entry.path,
                                    m.build_id, true});
    }
    return out;
  }
};

Result<ProcessView> view_process(pid_t pid, const std::vector<pid_t>& tids) {
  ProcessView view;
  for (pid_t tid : tids) view.threads.emplace_back(static_cast<uint32_t>(tid), thread_comm(pid, tid));
  auto maps = read_maps(pid);
  if (!maps) return fail(maps.error());
  std::map<std::string, std::vector<uint8_t>> ids;
  const std::string root = "/proc/" + std::to_string(pid) + "/task/" + std::to_string(address_space_thread(pid)) + "/root";
  for (MapsEntry& m : *maps) {
    if (!m.exec || m.path.empty()) continue;
    if (m.path.front() != '/' && m.path != "[vdso]") continue;
    auto id = ids.find(m.path);
    if (id == ids.end()) {
      std::vector<uint8_t> build_id;
      if (m.path.front() == '/') {
        // The path as the target sees it (its mount namespace), else as dial9 does.
        auto elf = ElfFile::open(root + m.path);
        if (!elf) elf = ElfFile::open(m.path);
        if (elf) build_id = elf->build_id();
      }
      id = ids.emplace(m.path, std::move(build_id)).first;
    }
    view.maps.push_back({std::move(m), id->second});
  }
  return view;
}

// The live threads and executable mappings of the recorded processes: what
// the unwinder resolves addresses against, and the preamble of each new
// segment (SegmentWriter::set_preamble), so a segment read alone still knows
// every thread's name and process and can be symbolized.
class ProcessState {
 public:
  void thread(uint64_t ts, uint32_t pid, uint32_t tid, const std::string& name) {
    threads_[tid] = Thread{ts, pid, name};
    live_[pid].insert(tid);
    changed_ = true;
  }
  void started(uint32_t pid, uint32_t tid) { live_[pid].insert(tid); }
  void map(uint64_t ts, const format::Mapping& m) {
    spaces_.map(m, ts);
    changed_ = true;
  }
  void fork(uint32_t parent, uint32_t child) {
    spaces_.fork(parent, child);
    changed_ = true;
  }
  // After an exec the process has one thread, whose tid is the pid: the
  // kernel reports no exit for a non-leader thread that called exec and
  // took over the leader's tid.
  void exec(uint32_t pid) {
    spaces_.exec(pid);
    auto live = live_.find(pid);
    if (live != live_.end()) {
      for (uint32_t tid : live->second) {
        if (tid != pid) threads_.erase(tid);
      }
      live->second = {pid};
    }
    changed_ = true;
  }
  // The process's mappings go with its last thread, not its main one: a
  // main thread may end with pthread_exit and leave the others running.
  void exit(uint32_t pid, uint32_t tid) {
    threads_.erase(tid);
    auto live = live_.find(pid);
    if (live != live_.end()) live->second.erase(tid);
    if (live == live_.end() || live->second.empty()) {
      spaces_.exit(pid);
      if (live != live_.end()) live_.erase(live);
    }
    changed_ = true;
  }
  const format::AddressSpaces& spaces() const { return spaces_; }
  // Whether `pid` is one of the recorded processes and has a live thread
  // (its pid may be reused by another process after its last one).
  bool has_process(uint32_t pid) const { return live_.count(pid) != 0; }
  bool changed() const { return changed_; }
  template <typename Fn>
  void for_each_thread(Fn&& fn) const {
    for (const auto& [tid, t] : threads_) fn(t.pid, tid);
  }
  std::vector<uint8_t> encode() {
    changed_ = false;
    format::TraceWriter w;
    for (const auto& [tid, t] : threads_) w.thread_name(t.ts, format::ThreadName{t.pid, tid, t.name, false});
    spaces_.for_each([&](uint32_t pid, const format::MappedFile& f) {
      w.mapping(f.ts, format::Mapping{pid, f.start, f.end - f.start, f.file_offset, *f.path, *f.build_id, true});
    });
    return std::vector<uint8_t>(w.bytes().begin(), w.bytes().end());
  }

 private:
  struct Thread {
    uint64_t ts;
    uint32_t pid;
    std::string name;
  };
  std::map<uint32_t, Thread> threads_;
  std::unordered_map<uint32_t, std::unordered_set<uint32_t>> live_;  // threads by process
  format::AddressSpaces spaces_;
  bool changed_ = false;
};

// Converts perf records to TRC events and collects them into batches.
// Raw-record fields of the scheduler tracepoints, when they are recorded.
struct SchedFields {
  std::optional<TracepointField> prev_state;  // sched_switch
  std::optional<TracepointField> woken_pid;   // sched_waking
  std::optional<TracepointField> waking_flags;  // its common_flags (irq context bits)
};

class Converter {
 public:
  Converter(StackUnwinder* unwinder, SchedFields fields) : unwinder_(unwinder), fields_(std::move(fields)) {}

  // Records of the scheduler's rings.
  void on_switch_out_sample(ParsedRecord& r) {
    // Kept until the switch record that follows it says whether the thread
    // blocked (only then is the stack written, and unwound).
    keep(pending_[r.tid], r);
  }

  // A sched_waking record: from the every-wakeup event, or (`with_stack`)
  // from the one-in-N event with the waker's stack. The two records of one
  // wakeup are paired (same_wakeup) so the stack is written at the
  // wakeup's time, and only for a wakeup that was written.
  void on_waking(ParsedRecord& r, bool with_stack, SessionResult& res) {
    if (!fields_.woken_pid) return;
    auto woken = read_raw_field(r.raw, *fields_.woken_pid);
    if (!woken || *woken <= 0) return;
    // Let through by the filter's window, but not the target's: another
    // process's thread, left out of the next filter.
    if (!live_.count(static_cast<uint32_t>(*woken))) {
      if (!with_stack) ++res.outsider_wakeups;
      if (std::find(outsiders_.begin(), outsiders_.end(), static_cast<uint32_t>(*woken)) == outsiders_.end()) {
        outsiders_.push_back(static_cast<uint32_t>(*woken));
        live_changed_ = true;
      }
    }
    // In interrupt context the current thread is a bystander, not the waker.
    const char* irq = nullptr;
    if (fields_.waking_flags) {
      if (auto flags = read_raw_field(r.raw, *fields_.waking_flags)) irq = interrupt_context(static_cast<uint64_t>(*flags));
    }
    const WakingHit hit{r.time, r.cpu, static_cast<uint32_t>(*woken), irq ? 0 : r.tid};
    WakingSlot& slot = waking_[r.cpu];
    if (with_stack) {
      if (slot.last && same_wakeup(*slot.last, hit)) {
        if (slot.last_written) write_waker_stack(r, *slot.last, irq != nullptr, res);
        slot.last.reset();
      } else {
        // Its wakeup's record is still to come.
        keep(slot.stack, r);
        slot.stack_hit = hit;
      }
      return;
    }
    bool written = write_wakeup(r, hit, irq, res);
    if (slot.stack_hit && same_wakeup(*slot.stack_hit, hit)) {
      if (written) write_waker_stack(slot.stack, hit, irq != nullptr, res);
      slot.stack_hit.reset();
      slot.last.reset();
    } else {
      slot.last = hit;
      slot.last_written = written;
    }
  }

  // Samples come from every process on each CPU (Session::cpu_wide_): keep
  // those of the program's processes, from the launched program's exec on.
  // `side_band_too` (side_band_every_cpu): so do the mmap, comm, fork and
  // exit records; keep those of the program's process tree. A full ring
  // may have lost a child process's fork record: after a loss,
  // `find_descendant(pid)` looks a process not known up (in /proc), and
  // gives it as attach would when it descends from the program. Asked once
  // per process.
  void keep_program_only(bool side_band_too, std::function<std::optional<ProcessView>(uint32_t pid)> find_descendant) {
    program_only_ = true;
    tree_only_ = side_band_too;
    find_descendant_ = std::move(find_descendant);
  }

  void on_record(ParsedRecord& r, SessionResult& res) {
    using namespace format;
    // The in-process agent's own thread is dial9's, not the program's: its
    // samples and its waits for the next batch are not recorded.
    if ((r.kind == RecordKind::kSwitch || r.kind == RecordKind::kSample) && agent_threads_.count(r.tid)) return;
    if (r.kind == RecordKind::kLost) side_band_lost_ = true;
    if (r.kind == RecordKind::kExit && r.pid == r.tid) not_descendants_.erase(r.pid);  // the pid is free again
    if (r.kind == RecordKind::kSample) {
      if (program_only_ && (!follows(r.pid, r.tid, r.time, res) || r.pid == before_exec_)) return;
    } else if (tree_only_ && !in_program_tree(r, res)) {
      return;
    } else if (r.pid == before_exec_ && r.kind != RecordKind::kLost && r.kind != RecordKind::kLostSamples &&
               r.kind != RecordKind::kThrottle && r.kind != RecordKind::kUnthrottle) {
      // Any side-band record of the pid proves the exec, even if COMM_EXEC
      // was lost: a per-task side band counts from the exec (enable_on_exec),
      // and one from every CPU sees the launcher only once it has loaded
      // and waits to exec (inject/launch.h), when it maps nothing.
      before_exec_ = 0;
    }
    switch (r.kind) {
      case RecordKind::kSwitch:
        on_switch(r, res);
        break;
      case RecordKind::kSample:
        write_sample(r, r.time, SampleSource::kPeriodic, res);
        if (res.samples == 0) res.first_sample_ns = r.time;
        ++res.samples;
        see(r.pid, r.tid, res);
        break;
      case RecordKind::kComm:
        if (r.name == format::agent::kAgentThreadName) agent_threads_.insert(r.tid);
        names_[r.tid] = r.name;
        if (r.misc & PERF_RECORD_MISC_COMM_EXEC) state_.exec(r.pid);
        state_.thread(r.time, r.pid, r.tid, r.name);
        w_.thread_name(r.time, ThreadName{r.pid, r.tid, r.name, (r.misc & PERF_RECORD_MISC_COMM_EXEC) != 0});
        see(r.pid, r.tid, res);
        break;
      case RecordKind::kFork: {
        live_.insert(r.tid);
        live_changed_ = true;
        // A new thread starts with its creator's name until it sets one.
        auto parent = names_.find(r.ptid);
        if (parent != names_.end()) names_[r.tid] = parent->second;
        if (r.pid == r.tid) state_.fork(r.ppid, r.pid);
        state_.started(r.pid, r.tid);
        if (parent != names_.end()) state_.thread(r.time, r.pid, r.tid, parent->second);
        w_.thread_start(r.time, ThreadStart{r.pid, r.tid, r.ppid, r.ptid});
        see(r.pid, r.tid, res);
        break;
      }
      case RecordKind::kExit:
        live_.erase(r.tid);
        live_changed_ = true;
        states_.erase(r.tid);
        pending_.erase(r.tid);
        state_.exit(r.pid, r.tid);
        w_.thread_exit(r.time, ThreadExit{r.pid, r.tid});
        break;
      case RecordKind::kMmap: {
        Mapping m{r.pid, r.addr, r.len, r.pgoff, r.name, r.build_id, (r.prot & PROT_EXEC) != 0};
        state_.map(r.time, m);
        w_.mapping(r.time, m);
        break;
      }
      case RecordKind::kLost:
      case RecordKind::kLostSamples: {
        uint8_t source = static_cast<uint8_t>(r.kind == RecordKind::kLost ? LostSource::kRingFull : LostSource::kKernel);
        w_.lost(r.time, Lost{source, r.cpu, r.lost});
        res.lost += r.lost;
        if (r.kind == RecordKind::kLost) lost_by_cpu_[r.cpu] += r.lost;
        break;
      }
      case RecordKind::kThrottle:
      case RecordKind::kUnthrottle:
        w_.throttle(r.time, Throttle{r.cpu, r.kind == RecordKind::kThrottle});
        if (r.kind == RecordKind::kThrottle) ++res.throttles;
        break;
      case RecordKind::kOther:
        return;
    }
    count(r.time);
  }

  // Losses on a scheduler ring: counted apart from samples.
  void sched_lost(const ParsedRecord& r, SessionResult& res) {
    if (r.kind != RecordKind::kLost && r.kind != RecordKind::kLostSamples) return;
    w_.lost(r.time, format::Lost{static_cast<uint8_t>(format::LostSource::kSchedRing), r.cpu, r.lost});
    res.sched_lost += r.lost;
    count(r.time);
  }

  // An agent's batch from process `pid`: its samples are counted, its
  // thread names and mappings join the state each segment's preamble
  // carries. False when the stream does not decode cleanly (it is then not
  // written). first/last: the batch's time range.
  bool on_agent_batch(std::span<const uint8_t> stream, uint32_t pid, SessionResult& res, uint64_t& first, uint64_t& last) {
    using namespace format;
    Decoder dec;
    dec.feed(stream);
    dec.finish();
    Event e;
    first = UINT64_MAX;
    last = 0;
    while (dec.next(e) == Decoder::Step::kEvent) {
      if (e.timestamp_ns) {
        first = std::min(first, e.timestamp_ns);
        last = std::max(last, e.timestamp_ns);
      }
      switch (e.builtin()) {
        case Builtin::kCpuSample:
          if (res.first_sample_ns == 0 || e.timestamp_ns < res.first_sample_ns) res.first_sample_ns = e.timestamp_ns;
          ++res.samples;
          see(pid, as_cpu_sample(e).tid, res);
          break;
        case Builtin::kThreadName: {
          ThreadName n = as_thread_name(e);
          names_[n.tid] = std::string(n.name);
          state_.thread(e.timestamp_ns, n.pid, n.tid, std::string(n.name));
          break;
        }
        case Builtin::kMapping:
          state_.map(e.timestamp_ns, as_mapping(e));
          break;
        default:
          break;
      }
    }
    if (first == UINT64_MAX) first = last = 0;
    return dec.diagnostic_count() == 0 && !dec.truncated() && dec.saw_header();
  }

  // A name known before the kernel reports it (the program at exec).
  void name(uint32_t tid, std::string n) { names_[tid] = std::move(n); }
  void launched(uint32_t pid) {
    // dial9's launcher runs as the program's pid until its exec.
    before_exec_ = pid;
    state_.started(pid, pid);
    live_.insert(pid);
    live_changed_ = true;
  }
  // A running process found by attach: its threads and executable mappings,
  // written as the kernel would have reported them had it been recorded
  // from its start.
  void attached(uint64_t ts, uint32_t pid, const std::vector<std::pair<uint32_t, std::string>>& threads,
                const std::vector<format::Mapping>& maps, SessionResult& res) {
    for (const auto& [tid, name] : threads) {
      names_[tid] = name;
      state_.thread(ts, pid, tid, name);
      live_.insert(tid);
      w_.thread_name(ts, format::ThreadName{pid, tid, name, false});
      see(pid, tid, res);
    }
    live_changed_ = true;
    for (const format::Mapping& m : maps) {
      state_.map(ts, m);
      w_.mapping(ts, m);
    }
    count(ts);
  }
  // What the wakeup filter is built from, when it changed since the last
  // call: the target's live threads, and the other processes' threads its
  // window let through. Outsiders at or below the newest live thread are
  // forgotten: the window starts above it.
  bool wakeup_filter_changed(std::vector<uint32_t>& live, std::vector<uint32_t>& outsiders) {
    if (!live_changed_) return false;
    live_changed_ = false;
    live.assign(live_.begin(), live_.end());
    const uint32_t newest = live.empty() ? 0 : *std::max_element(live.begin(), live.end());
    std::erase_if(outsiders_, [&](uint32_t tid) { return tid <= newest; });
    outsiders = outsiders_;
    return true;
  }

  // The kernel's run and wait totals of every known thread of the target.
  void sched_stats(uint64_t ts) {
    state_.for_each_thread([&](uint32_t pid, uint32_t tid) {
      if (agent_threads_.count(tid)) return;
      std::string path = "/proc/" + std::to_string(pid) + "/task/" + std::to_string(tid) + "/schedstat";
      char buf[128];
      int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
      if (fd < 0) return;
      ssize_t n = ::read(fd, buf, sizeof buf - 1);
      ::close(fd);
      format::SchedStat st;
      if (n <= 0 || !parse_schedstat(std::string_view(buf, static_cast<size_t>(n)), st)) return;
      st.pid = pid;
      st.tid = tid;
      w_.sched_stat(ts, st);
      count(ts);
    });
  }

  uint64_t lost_on(uint32_t cpu) const {
    auto it = lost_by_cpu_.find(cpu);
    return it == lost_by_cpu_.end() ? 0 : it->second;
  }
  void unreported_loss(uint64_t ts, uint32_t cpu, uint64_t n, SessionResult& res) {
    w_.lost(ts, format::Lost{static_cast<uint8_t>(format::LostSource::kRingFull), cpu, n});
    res.lost += n;
    count(ts);
  }

  void process_exit(uint64_t ts, pid_t pid, int status, int signal) {
    w_.process_exit(ts, format::ProcessExit{static_cast<uint32_t>(pid), status, static_cast<uint8_t>(signal)});
    count(ts);
  }

  // Hands the batch (one self-contained stream) to the writer.
  void flush(format::SegmentWriter& writer) {
    if (events_ == 0) return;
    writer.append(w_.bytes(), first_, last_, events_);
    if (state_.changed()) writer.set_preamble(state_.encode());
    w_.reset();
    events_ = 0;
    first_ = UINT64_MAX;
    last_ = 0;
  }

 private:
  void count(uint64_t ts) {
    if (ts != 0) {
      first_ = std::min(first_, ts);
      last_ = std::max(last_, ts);
    }
    ++events_;
  }

  // Whether a side-band record is about the program: a process it started
  // or one of its own, which must have a live thread then (a pid reused
  // after the program's process ended is another program's).
  bool in_program_tree(const ParsedRecord& r, SessionResult& res) {
    switch (r.kind) {
      case RecordKind::kFork:
        return follows(r.ppid, r.ptid, r.time, res);  // ppid == pid for a new thread
      case RecordKind::kComm:
      case RecordKind::kMmap:
        return follows(r.pid, r.tid, r.time, res);
      case RecordKind::kExit:
        return state_.has_process(r.pid);  // an ended process is not found in /proc
      default:
        return true;  // losses and throttling are the rings', not a process's
    }
  }

  // Whether `pid` is one of the program's processes (`tid` one of its
  // threads): known, or, only in a process tree taken from every CPU once
  // records were lost, found in /proc to descend from the program: then
  // its threads and mappings are written, as attach does, and it is known
  // from here on.
  bool follows(uint32_t pid, uint32_t tid, uint64_t ts, SessionResult& res) {
    if (state_.has_process(pid)) return true;
    if (!tree_only_ || !side_band_lost_ || !find_descendant_ || not_descendants_.count(pid)) return false;
    std::optional<ProcessView> found = find_descendant_(pid);
    if (!found) {
      // Forgotten at the pid's exit; a bound for a machine whose exit
      // records are lost too (asking again only costs a lookup).
      if (not_descendants_.size() >= 65536) not_descendants_.clear();
      not_descendants_.insert(pid);
      return false;
    }
    attached(ts, pid, found->threads, found->mappings(pid), res);
    state_.started(pid, tid);  // in case it started after the lookup
    ++res.found_after_loss;
    return true;
  }

  // A CpuSampleEvent for the sample, its chain completed first when it
  // carries a stack copy.
  void write_sample(ParsedRecord& r, uint64_t ts, format::SampleSource source, SessionResult& res) {
    if (unwinder_ && !r.user_stack.empty()) complete_chain(r, res);
    format::CpuSample s;
    s.worker_id = format::kWorkerNone;
    s.tid = r.tid;
    s.source = static_cast<uint8_t>(source);
    auto it = names_.find(r.tid);
    if (it != names_.end()) s.thread_name = it->second;
    s.cpu = r.cpu;
    w_.cpu_sample(ts, s, r.callchain);
  }

  // A context-switch record of a target thread. A switch-out is written
  // with the state the switch-out sample (just before it) gives, and, when
  // the thread blocked, that sample's stack as an off-CPU CpuSampleEvent
  // at the same time.
  void on_switch(ParsedRecord& r, SessionResult& res) {
    using namespace format;
    if (!(r.misc & PERF_RECORD_MISC_SWITCH_OUT)) {
      states_[r.tid] = ThreadState::kRunning;
      w_.thread_state(r.time, ThreadStateChange{r.tid, ThreadState::kRunning});
      return;
    }
    ThreadState state = (r.misc & PERF_RECORD_MISC_SWITCH_OUT_PREEMPT) ? ThreadState::kRunnable : ThreadState::kBlocked;
    ParsedRecord* sample = nullptr;
    auto p = pending_.find(r.tid);
    // The sample is taken in the same kernel path just before the record;
    // anything older belongs to a switch-out whose record was lost.
    if (p != pending_.end() && p->second.time <= r.time && r.time - p->second.time < 1'000'000) sample = &p->second;
    if (sample && fields_.prev_state) {
      bool dead = false;
      auto prev = read_raw_field(sample->raw, *fields_.prev_state);
      if (prev) {
        ThreadState s = state_from_prev_state(*prev, dead);
        if (dead) return;  // an exiting thread's last switch
        // The record knows preemption for sure; the tracepoint refines blocking.
        if (state == ThreadState::kBlocked) state = is_blocked(s) ? s : ThreadState::kBlocked;
      }
    }
    states_[r.tid] = state;
    w_.thread_state(r.time, ThreadStateChange{r.tid, state});
    ++res.switches;
    if (sample && is_blocked(state)) {
      // At the switch record's time, so a reader pairs it with that state.
      write_sample(*sample, r.time, SampleSource::kContextSwitch, res);
      ++res.offcpu_stacks;
    }
    if (sample) sample->time = 0;  // used; its buffers stay for the thread's next one
  }

  // The name of a thread that woke a target thread: any process's.
  const std::string& waker_name(uint32_t pid, uint32_t tid, uint32_t cpu) {
    auto it = names_.find(tid);
    if (it != names_.end() && tid != 0) return it->second;
    auto& n = other_names_[tid == 0 ? UINT32_MAX - cpu : tid];
    if (n.empty()) {
      if (tid == 0) {
        n = "swapper/" + std::to_string(cpu);  // the idle task: an interrupt woke it
      } else {
        std::string path = "/proc/" + std::to_string(pid) + "/task/" + std::to_string(tid) + "/comm";
        char buf[32];
        int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
        ssize_t k = fd >= 0 ? ::read(fd, buf, sizeof buf) : -1;
        if (fd >= 0) ::close(fd);
        n = k > 0 ? std::string(buf, static_cast<size_t>(k)) : std::string("pid ") + std::to_string(pid);
        if (!n.empty() && n.back() == '\n') n.pop_back();
      }
    }
    return n;
  }

  // Replaces the user part of the sample's chain (after its kernel frames)
  // with the unwinder's completed one.
  void complete_chain(ParsedRecord& r, SessionResult& res) {
    UserStackSample u;
    u.pid = r.pid;
    u.tid = r.tid;
    u.stack = r.user_stack;
    if (!user_regs_from(r.user_regs, u.regs)) return;
    uint64_t t0 = mono_ns();
    size_t k = std::min<size_t>(r.kernel_frames, r.callchain.size());
    user_chain_.assign(r.callchain.begin() + static_cast<ptrdiff_t>(k), r.callchain.end());
    unwinder_->complete(u, state_.spaces(), user_chain_);
    r.callchain.resize(k);
    r.callchain.insert(r.callchain.end(), user_chain_.begin(), user_chain_.end());
    ++res.unwound;
    res.unwind_ns += mono_ns() - t0;
  }

  // Moves a record's contents into a record kept past its slot's reuse:
  // buffers are swapped, not copied.
  static void keep(ParsedRecord& dst, ParsedRecord& src) {
    dst.kind = src.kind;
    dst.pid = src.pid;
    dst.tid = src.tid;
    dst.cpu = src.cpu;
    dst.time = src.time;
    dst.kernel_frames = src.kernel_frames;
    dst.callchain.swap(src.callchain);
    dst.user_regs.swap(src.user_regs);
    dst.user_stack.swap(src.user_stack);
    dst.raw.swap(src.raw);
  }

  // A wakeup of a blocked target thread. sched_waking also fires for a
  // thread that set itself to sleep but has not left the CPU yet, and for
  // other processes' threads the filter's window lets through: neither is
  // a wait of the target, and neither is written.
  bool write_wakeup(const ParsedRecord& r, const WakingHit& hit, const char* irq, SessionResult& res) {
    auto st = states_.find(hit.woken);
    if (st == states_.end() || !is_blocked(st->second)) return false;
    st->second = format::ThreadState::kRunnable;
    w_.wakeup(hit.time, format::Wakeup{hit.woken, irq ? 0 : r.pid, hit.waker_tid,
                                       irq ? std::string_view(irq) : waker_name(r.pid, r.tid, r.cpu)});
    ++res.wakeups;
    count(hit.time);
    return true;
  }

  // The waker's stack for the wakeup `hit`, at the wakeup's time. A waker
  // in interrupt context keeps only its kernel frames: the user frames are
  // the interrupted bystander's.
  void write_waker_stack(ParsedRecord& r, const WakingHit& hit, bool irq, SessionResult& res) {
    if (irq) {
      r.callchain.resize(std::min<size_t>(r.kernel_frames, r.callchain.size()));
    } else if (unwinder_ && !r.user_stack.empty()) {
      complete_chain(r, res);
    }
    w_.waker_stack(hit.time, format::WakerStack{hit.woken, irq ? 0 : r.pid, hit.waker_tid, {}}, r.callchain);
    count(hit.time);
  }

  void see(uint32_t pid, uint32_t tid, SessionResult& res) {
    if (tids_.insert(tid).second) res.threads = tids_.size();
    if (pids_.insert(pid).second) res.processes = pids_.size();
  }
  StackUnwinder* unwinder_;
  SchedFields fields_;
  std::unordered_map<uint32_t, ParsedRecord> pending_;  // switch-out samples by tid
  // Per CPU: the last wakeup not yet paired with a stack, and a stack
  // record that came before its wakeup's record.
  struct WakingSlot {
    std::optional<WakingHit> last;
    bool last_written = false;
    std::optional<WakingHit> stack_hit;
    ParsedRecord stack;
  };
  std::unordered_map<uint32_t, WakingSlot> waking_;
  std::unordered_map<uint32_t, format::ThreadState> states_;
  std::unordered_set<uint32_t> agent_threads_;  // named kAgentThreadName
  std::unordered_map<uint32_t, std::string> other_names_;  // wakers outside the target
  bool program_only_ = false;  // samples of processes state_ does not know are dropped
  uint32_t before_exec_ = 0;  // the launched program's pid until its exec
  bool tree_only_ = false;    // keep_program_only(side_band_too)
  std::function<std::optional<ProcessView>(uint32_t)> find_descendant_;
  bool side_band_lost_ = false;  // a ring lost records: maybe a fork
  std::unordered_set<uint32_t> not_descendants_;  // asked since, and not the program's
  std::set<uint32_t> live_;  // the target's threads, for the wakeup filter
  std::vector<uint32_t> outsiders_;  // other processes' threads the filter's window let through
  bool live_changed_ = false;  // live_ or outsiders_
  ProcessState state_;
  std::vector<uint64_t> user_chain_;
  format::TraceWriter w_;
  std::unordered_map<uint32_t, std::string> names_;
  std::unordered_set<uint32_t> tids_, pids_;
  std::unordered_map<uint32_t, uint64_t> lost_by_cpu_;  // from PERF_RECORD_LOST
  uint64_t events_ = 0;
  uint64_t first_ = UINT64_MAX, last_ = 0;
};

}  // namespace

bool can_sample_cycles() {
  SamplingSpec s;
  s.event = "cycles";
  s.inherit = false;
  s.kernel = false;
  auto attr = build_attr(s);
  if (!attr) return false;
  attr->disabled = 1;
  auto ring = PerfRing::open(*attr, 0, -1, 1);
  return ring.has_value();
}

Session::~Session() = default;

struct Session::Snapshot {
  ProcessView view;
};

Result<std::unique_ptr<Session>> Session::open(pid_t pid, SessionOptions options) {
  std::unique_ptr<Session> s(new Session());
  s->pid_ = pid;
  s->targets_ = {pid};
  s->opt_ = std::move(options);
  s->opt_.sampling.inherit = true;
  s->opt_.sampling.enable_on_exec = true;
  if (auto ok = s->open_events(); !ok) return fail(ok.error());
  return s;
}

Result<std::unique_ptr<Session>> Session::attach(pid_t pid, SessionOptions options) {
  std::unique_ptr<Session> s(new Session());
  s->pid_ = pid;
  auto tids = list_threads(pid);
  if (!tids || tids->empty()) return fail("no process " + std::to_string(pid), ESRCH);
  s->targets_ = std::move(*tids);
  s->opt_ = std::move(options);
  s->opt_.sampling.inherit = true;
  s->opt_.sampling.enable_on_exec = false;
  if (auto ok = s->open_events(); !ok) return fail(ok.error());
  if (s->opt_.timer_sampler) return s;  // the agent reports threads and mappings itself
  // No second look at /proc/PID/task for threads started meanwhile: one
  // started by a thread whose events were already open has inherited them,
  // and opening its own as well would count its samples twice. What may be
  // missed is a thread started, during the few milliseconds of opening, by
  // one whose events were not open yet (as with perf record -p).
  // Read after the events are open: anything mapped or named later is in
  // their records as well, which does no harm.
  auto view = view_process(pid, s->targets_);
  if (!view) return fail(view.error());
  s->snapshot_ = std::make_shared<Snapshot>(Snapshot{std::move(*view)});
  return s;
}

Result<PerfRing> Session::open_on_targets(const perf_event_attr& attr, int cpu, size_t pages) {
  for (size_t first = 0; first < targets_.size(); ++first) {
    auto ring = PerfRing::open(attr, targets_[first], cpu, pages);
    if (!ring) {
      if (ring.error().errno_value() == ESRCH && first + 1 < targets_.size()) continue;  // that thread ended
      return ring;
    }
    for (size_t i = first + 1; i < targets_.size(); ++i) {
      auto ok = ring->add_event(attr, targets_[i], cpu);
      if (!ok && ok.error().errno_value() != ESRCH) return fail(ok.error());
    }
    return ring;
  }
  return fail("no process " + std::to_string(pid_), ESRCH);
}

Result<void> Session::open_events() {
  if (opt_.timer_sampler) {
    if (!opt_.agents) return fail("the timer sampler needs the in-process agent (drop --no-agent)");
    return {};
  }
  long ncpu = ::sysconf(_SC_NPROCESSORS_CONF);
  const size_t requested_pages = opt_.mmap_pages;
  bool try_cpu_wide = true;
  for (int attempt = 0; attempt < 12; ++attempt) {
    auto attr = build_attr(opt_.sampling);
    if (!attr) return fail(attr.error());
    if (!lost_from_read_) {
      attr->read_format = 0;
      attr->build_id = 0;
    }
    // Switch records of the target's threads (scheduler capture's first
    // rung: it needs no privilege beyond sampling).
    attr->context_switch = opt_.sched.enabled ? 1 : 0;
    // Wake the loop when a quarter of a ring is full (it also drains on a timer).
    attr->watermark = 1;
    attr->wakeup_watermark = static_cast<uint32_t>(opt_.mmap_pages * static_cast<size_t>(::sysconf(_SC_PAGESIZE)) / 4);
    attr_ = *attr;
    cpu_wide_ = try_cpu_wide && cpu_wide_sampling_suits(*attr);
    cpu_attr_ = cpu_wide_sampling_attr(*attr);
    // No per-task event at all when the side band comes from every CPU too.
    const bool per_task_events = !cpu_wide_ || !side_band_every_cpu(*attr);
    const perf_event_attr on_targets = cpu_wide_ ? tracking_attr(*attr) : *attr;
    rings_.clear();
    ring_cpus_.clear();
    Error first_error, cpu_wide_error;
    for (int cpu = 0; cpu < ncpu; ++cpu) {
      Result<PerfRing> ring = per_task_events ? open_on_targets(on_targets, cpu, opt_.mmap_pages)
                                              : PerfRing::open(cpu_attr_, -1, cpu, opt_.mmap_pages);
      Error every_cpu;  // the every-CPU event's failure
      if (ring && cpu_wide_ && per_task_events) {
        if (auto ok = ring->add_event(cpu_attr_, -1, cpu); !ok) every_cpu = ok.error();
      } else if (!ring && !per_task_events) {
        every_cpu = ring.error();
      }
      if (!every_cpu.message().empty()) {
        // An offline CPU takes per-task events but not per-CPU ones:
        // nothing of the program runs there, so its ring goes. When the
        // every-CPU event opens the ring, a ring short of locked memory
        // shrinks, and an older kernel's EINVAL (lost counts, build ids)
        // drops those, below, as for per-task rings. Any other failure of
        // the every-CPU event means per task instead.
        const int e = every_cpu.errno_value();
        if (e == ENODEV) continue;
        const bool ring_retry = e == ENOMEM || (e == EINVAL && lost_from_read_);
        if (per_task_events || !ring_retry) {
          cpu_wide_error = every_cpu;
          break;
        }
      }
      if (ring) {
        rings_.push_back(std::move(*ring));
        ring_cpus_.push_back(cpu);
      } else if (ring.error().errno_value() != ENODEV && first_error.message().empty()) {
        first_error = ring.error();  // ENODEV: an offline CPU
      }
    }
    if (!cpu_wide_error.message().empty()) {
      // Sampling every CPU is a cheaper way to the same samples, not
      // something the recording needs: per task instead, and -v says why.
      int e = cpu_wide_error.errno_value();
      per_task_why_ = e == EACCES || e == EPERM
                          ? "sampling every CPU needs CAP_PERFMON or kernel.perf_event_paranoid <= 0 (it is " +
                                std::to_string(paranoid_level()) + ")"
                          : cpu_wide_error.message();
      try_cpu_wide = false;
      // Per-task events try lost counts and build ids again: an EINVAL
      // that turned them off may have been the every-CPU event's own.
      lost_from_read_ = true;
      continue;
    }
    if (!rings_.empty() && first_error.message().empty()) {
      if (opt_.mmap_pages < requested_pages) {
        // Smaller rings lose samples sooner in bursts: say so, with the fix
        // (the budget is perf_event_mlock_kb per online CPU, one ring each).
        size_t page_kb = static_cast<size_t>(::sysconf(_SC_PAGESIZE)) / 1024;
        degraded_.push_back("perf rings shrunk to " + std::to_string(opt_.mmap_pages) +
                               " pages per CPU: the locked-memory budget cannot hold " +
                               std::to_string(requested_pages) + "; fix: raise ulimit -l, or sudo sysctl "
                               "kernel.perf_event_mlock_kb=" + std::to_string((requested_pages + 1) * page_kb));
      }
      if (opt_.sched.enabled) open_sched();
      return {};
    }
    int e = first_error.errno_value();
    if (e == EINVAL && lost_from_read_) {
      // An older kernel (before 6.0 for PERF_FORMAT_LOST, 5.12 for build
      // ids in mmap records): lost samples are then known from records
      // only, and mappings come without build ids.
      lost_from_read_ = false;
      continue;
    }
    if (e == ENOMEM && opt_.shrink_rings_to_fit && opt_.mmap_pages > 8) {
      // PerfRing::open's locked-memory case: retry with half (the note is
      // added once the rings open).
      opt_.mmap_pages /= 2;
      continue;
    }
    if ((e == EACCES || e == EPERM) && opt_.sampling.kernel) {
      // Kernel samples need more privilege than user ones: keep recording
      // without them, and say what was lost and how to get it back.
      opt_.sampling.kernel = false;
      degraded_.push_back("kernel samples and kernel stacks are off: kernel.perf_event_paranoid is " +
                             std::to_string(paranoid_level()) +
                             "; fix: sudo sysctl kernel.perf_event_paranoid=1, or grant CAP_PERFMON");
      continue;
    }
    if (!first_error.message().empty()) return fail(first_error);
    return fail("no CPU could be sampled");
  }
  return fail("cannot open perf events");
}

Result<Session::RingSet> Session::open_ring_set(Role role, const perf_event_attr& attr, bool every_process,
                                                size_t pages) {
  long ncpu = ::sysconf(_SC_NPROCESSORS_CONF);
  for (;;) {
    RingSet set;
    set.role = role;
    set.attr = attr;
    set.pages = pages;
    set.attr.watermark = 1;
    set.attr.wakeup_watermark = static_cast<uint32_t>(pages * static_cast<size_t>(::sysconf(_SC_PAGESIZE)) / 4);
    Error first_error;
    for (int cpu = 0; cpu < ncpu; ++cpu) {
      auto ring = every_process ? PerfRing::open(set.attr, -1, cpu, pages) : open_on_targets(set.attr, cpu, pages);
      if (ring) {
        set.rings.push_back(std::move(*ring));
        set.cpus.push_back(cpu);
      } else if (ring.error().errno_value() != ENODEV) {
        first_error = ring.error();
        break;
      }
    }
    if (first_error.message().empty() && !set.rings.empty()) return set;
    // Scheduler rings are extra: when locked memory runs short they get
    // smaller rather than fail (they lose more events in bursts, counted).
    if (first_error.errno_value() == ENOMEM && pages > 8) {
      pages /= 2;
      continue;
    }
    if (first_error.message().empty()) return fail("no CPU could be opened");
    return fail(first_error);
  }
}

void Session::open_sched() {
  sched_.switches = true;
  sched_.schedstat = true;
  std::optional<std::string> tracefs;
  std::string tracefs_why;
  if (opt_.sched.use_tracefs) {
    auto t = find_tracefs(::geteuid() == 0);
    if (t) {
      tracefs = *t;
    } else {
      tracefs_why = t.error().message();
    }
  } else {
    tracefs_why = "tracefs use was turned off (DIAL9_TEST_NO_TRACEFS)";
  }
  const size_t pages = std::max<size_t>(8, opt_.mmap_pages);
  const size_t stack_pages = sched_ring_pages(pages, static_cast<size_t>(std::max(1L, ::sysconf(_SC_NPROCESSORS_CONF))),
                                              static_cast<size_t>(::sysconf(_SC_PAGESIZE)));

  // Switch-out stacks: sched_switch (with the kind of wait), else the
  // context-switches software event (stack only).
  std::string stacks_why;
  if (tracefs) {
    auto tp = read_tracepoint(*tracefs, "sched", "sched_switch");
    const TracepointField* f = tp ? tp->field("prev_state") : nullptr;
    if (f) {
      auto set = open_ring_set(Role::kSwitchOut, switch_out_attr(attr_, SwitchStackSource::kSchedSwitchTracepoint, tp->id),
                               false, stack_pages);
      if (set) {
        // Stacks at blocking switch-outs only. Where the kernel refuses the
        // filter, every switch-out is sampled and preemptions' are dropped
        // here, as before.
        const std::string filter = blocking_switch_filter(f->name);
        size_t filtered = 0;
        for (PerfRing& r : set->rings) filtered += r.set_filter(filter) ? 1 : 0;
        if (filtered == set->rings.size()) {
          switch_filter_ = filter;
        } else if (filtered > 0) {
          switch_filter_ = filter + " (on " + std::to_string(filtered) + " of " + std::to_string(set->rings.size()) +
                           " CPUs; the kernel refused it on the others)";
        }
        sched_sets_.push_back(std::move(*set));
        sched_.stacks = SwitchStackSource::kSchedSwitchTracepoint;
        prev_state_ = *f;
      } else {
        stacks_why = set.error().message();
      }
    } else {
      stacks_why = tp ? "sched_switch has no prev_state field" : tp.error().message();
    }
  }
  if (sched_.stacks == SwitchStackSource::kNone) {
    auto set = open_ring_set(Role::kSwitchOut, switch_out_attr(attr_, SwitchStackSource::kContextSwitchEvent, 0), false,
                             stack_pages);
    if (set) {
      sched_sets_.push_back(std::move(*set));
      sched_.stacks = SwitchStackSource::kContextSwitchEvent;
      degraded_.push_back("off-CPU waits are not split into sleeping / uninterruptible (I/O) / stopped: " +
                          (tracefs ? stacks_why : tracefs_why) +
                          "; fix: run dial9 as root, or give it CAP_PERFMON and read access to tracefs");
    } else {
      int e = set.error().errno_value();
      degraded_.push_back(
          "off-CPU stacks are off (blocked time per thread is still recorded): " +
          (e == EACCES || e == EPERM ? "kernel.perf_event_paranoid is " + std::to_string(paranoid_level()) +
                                           "; fix: sudo sysctl kernel.perf_event_paranoid=1, or grant CAP_PERFMON"
                                     : set.error().message()));
    }
  }

  // Wakeups: every CPU, any process as the waker, filtered to the target.
  std::string wakers_why = tracefs_why;
  if (tracefs) {
    auto tp = read_tracepoint(*tracefs, "sched", "sched_waking");
    const TracepointField* f = tp ? tp->field("pid") : nullptr;
    if (!f) {
      wakers_why = tp ? "sched_waking has no pid field" : tp.error().message();
    } else {
      woken_pid_ = *f;
      if (const TracepointField* flags = tp->field("common_flags")) waking_flags_ = *flags;
      perf_event_attr wa = waking_attr(tp->id, 1, false, attr_);
      wa.disabled = 1;  // enabled once filtered, so no other process's wakeups slip in
      auto set = open_ring_set(Role::kWaking, wa, true, pages);
      if (set) {
        sched_sets_.push_back(std::move(*set));
        sched_.wakers = true;
        if (opt_.sched.waker_stack_every > 0) {
          perf_event_attr ws = waking_attr(tp->id, opt_.sched.waker_stack_every, true, attr_);
          ws.disabled = 1;
          auto stacks = open_ring_set(Role::kWakerStack, ws, true, stack_pages);
          if (stacks) {
            sched_sets_.push_back(std::move(*stacks));
            sched_.waker_stacks = true;
          } else {
            degraded_.push_back("waker stacks are off: " + stacks.error().message());
          }
        }
        wakeup_filter_ = tid_filter(f->name, std::vector<uint32_t>(targets_.begin(), targets_.end()), kNewThreadWindow);
        for (RingSet& s : sched_sets_) {
          if (s.role != Role::kWaking && s.role != Role::kWakerStack) continue;
          if (auto ok = filter_ring_set(s, wakeup_filter_); !ok) {
            sched_.wakers = sched_.waker_stacks = false;
            wakers_why = ok.error().message();
          }
        }
        if (!sched_.wakers) {
          std::erase_if(sched_sets_, [](const RingSet& s) { return s.role == Role::kWaking || s.role == Role::kWakerStack; });
        }
      } else {
        int e = set.error().errno_value();
        wakers_why = e == EACCES || e == EPERM ? "watching wakeups on every CPU needs CAP_PERFMON (or perf_event_paranoid -1)"
                                               : set.error().message();
      }
    }
  }
  if (!sched_.wakers) {
    std::string fix = "fix: run dial9 as root, or give it CAP_PERFMON and read access to tracefs";
    if (!tracefs && tracefs_why.find("not mounted") != std::string::npos) fix += ", mounted with: sudo mount -t tracefs nodev /sys/kernel/tracing";
    degraded_.push_back("who woke whom, and run-queue latency after wakeups, are not recorded: " + wakers_why + "; " + fix);
  }
}

std::vector<std::string> Session::describe() const {
  auto what = [](const std::string& name, const perf_event_attr& a) {
    std::string s = name + " (type " + std::to_string(a.type) + ", config " + std::to_string(a.config) + ")";
    s += a.freq                  ? ", " + std::to_string(a.sample_freq) + " Hz"
         : a.sample_period == 1 ? std::string(", every event")
                                : ", every " + std::to_string(a.sample_period) + " events";
    if (a.sample_type & PERF_SAMPLE_CALLCHAIN) s += a.exclude_callchain_kernel ? ", user callchains" : ", callchains";
    if (a.sample_type & PERF_SAMPLE_STACK_USER) s += ", " + std::to_string(a.sample_stack_user) + "-byte stack copies";
    if (a.sample_type & PERF_SAMPLE_RAW) s += ", raw tracepoint data";
    if (a.context_switch) s += ", switch records";
    return s;
  };
  std::vector<std::string> out;
  const std::string sampled = opt_.sampling.event.empty() ? "the sampling event" : opt_.sampling.event;
  const std::string rings = std::to_string(rings_.size()) + " ring(s) of " + std::to_string(opt_.mmap_pages) + " pages";
  if (cpu_wide_ && side_band_every_cpu(attr_)) {
    out.push_back("perf event: samples, threads and mappings: " + what(sampled, cpu_attr_) +
                  ", every process on every CPU, the program's process tree kept, " + rings);
  } else if (cpu_wide_) {
    out.push_back("perf event: samples: " + what(sampled, cpu_attr_) + ", every process on every CPU, the program's kept, " +
                  rings);
    const perf_event_attr t = tracking_attr(attr_);
    out.push_back("perf event: the program's threads, mappings" + std::string(t.context_switch ? " and switches" : "") +
                  ": " + what("dummy", t) + ", inherited by every thread and child, into the same rings");
  } else {
    out.push_back("perf event: samples: " + what(sampled, attr_) + ", " +
                  (attr_.inherit ? "inherited by every thread and child, " : "") + rings);
    if (!per_task_why_.empty()) {
      out.push_back("perf event: samples per task, not every CPU: " + per_task_why_ +
                    "; each context switch of the program then costs it more (dial9-record(1), SAMPLING SCOPE)");
    }
  }
  for (const RingSet& s : sched_sets_) {
    const char* role = s.role == Role::kSwitchOut ? "switch-out stacks"
                       : s.role == Role::kWaking  ? "wakeups, every CPU"
                                                  : "waker stacks, every CPU";
    const char* event = s.attr.type != PERF_TYPE_TRACEPOINT ? "context-switches"
                        : s.role == Role::kSwitchOut      ? "sched:sched_switch"
                                                          : "sched:sched_waking";
    out.push_back(std::string("perf event: ") + role + ": " + what(event, s.attr) + ", " + std::to_string(s.rings.size()) +
                  " ring(s) of " + std::to_string(s.pages) + " pages");
  }
  if (!switch_filter_.empty()) out.push_back("switch-out filter: " + switch_filter_);
  if (!wakeup_filter_.empty()) {
    out.push_back("wakeup filter: " + (wakeup_filter_.size() > 200 ? wakeup_filter_.substr(0, 200) + "..." : wakeup_filter_));
  }
  return out;
}

Result<void> Session::filter_ring_set(RingSet& set, const std::string& filter) {
  for (PerfRing& r : set.rings) {
    if (auto f = r.set_filter(filter); !f) return f;
    if (auto e = r.enable(); !e) return e;
  }
  return {};
}

void Session::refilter_wakeups(const std::vector<uint32_t>& tids, const std::vector<uint32_t>& outsiders,
                               std::vector<RingSet>& retired) {
  // No live thread left (the program is exiting): no wakeup to come that
  // the filter should let through. An empty filter would read as too many
  // threads to filter.
  if (tids.empty()) return;
  const std::string_view field = woken_pid_ ? std::string_view(woken_pid_->name) : "pid";
  std::string filter = tid_filter(field, tids, kNewThreadWindow, outsiders);
  // Leaving outsiders out splits the window into pieces; when that makes
  // the filter too long, the whole window is the lesser loss.
  if (filter.empty()) filter = tid_filter(field, tids, kNewThreadWindow);
  if (filter == wakeup_filter_) return;
  // The kernel sets a tracepoint filter once per event (EEXIST after), so
  // new threads mean new events: opened and filtered before the old ones
  // close, so no wakeup falls between them (one seen by both is written
  // once: the second finds the thread no longer blocked).
  std::vector<RingSet> fresh;
  bool ok = !filter.empty();
  for (RingSet& set : sched_sets_) {
    if (!ok || (set.role != Role::kWaking && set.role != Role::kWakerStack)) continue;
    auto next = open_ring_set(set.role, set.attr, true, set.pages);
    ok = next && filter_ring_set(*next, filter);
    if (ok) fresh.push_back(std::move(*next));
  }
  if (!ok) {
    if (!refilter_failed_ && opt_.note) {
      opt_.note(filter.empty() ? "warning: the target has too many threads to filter wakeups by thread: wakeups of "
                                 "its newest threads are not recorded"
                               : "warning: wakeups of the target's newest threads are not recorded: cannot reopen "
                                 "the wakeup events");
    }
    refilter_failed_ = true;
    return;
  }
  size_t k = 0;
  for (RingSet& set : sched_sets_) {
    if (set.role != Role::kWaking && set.role != Role::kWakerStack) continue;
    retired.push_back(std::move(set));
    set = std::move(fresh[k++]);
  }
  wakeup_filter_ = filter;
}

Result<SessionResult> Session::run(format::SegmentWriter& writer) {
  SessionResult res;
  Converter conv(opt_.unwinder.get(), SchedFields{prev_state_, woken_pid_, waking_flags_});
  if (cpu_wide_) {
    conv.keep_program_only(side_band_every_cpu(attr_), [root = pid_](uint32_t p) -> std::optional<ProcessView> {
      const pid_t pid = static_cast<pid_t>(p);
      if (!descends_from(pid, root)) return std::nullopt;
      auto tids = list_threads(pid);
      if (!tids || tids->empty()) return std::nullopt;
      auto view = view_process(pid, *tids);
      if (!view) return std::nullopt;
      return std::move(*view);
    });
  }
  if (!opt_.program_name.empty()) conv.name(static_cast<uint32_t>(pid_), opt_.program_name.substr(0, 15));
  if (snapshot_) {
    conv.attached(mono_ns(), static_cast<uint32_t>(pid_), snapshot_->view.threads,
                  snapshot_->view.mappings(static_cast<uint32_t>(pid_)), res);
  } else {
    conv.launched(static_cast<uint32_t>(pid_));
  }
  UniqueFd ep(::epoll_create1(EPOLL_CLOEXEC));
  if (!ep) return fail(Error::from_errno("epoll_create1"));
  auto watch = [&](int fd, uint64_t tag) {
    epoll_event ev{};
    ev.events = EPOLLIN;
    ev.data.u64 = tag;
    return ::epoll_ctl(ep.get(), EPOLL_CTL_ADD, fd, &ev) == 0;
  };
  // Any ring's wakeup drains them all, so rings share one tag.
  const uint64_t kRing = 0, kTimer = 1, kSignal = 2, kChild = 3;
  auto watch_sched_rings = [&] {
    for (RingSet& set : sched_sets_) {
      for (PerfRing& r : set.rings) watch(r.fd(), kRing);  // EEXIST for those already watched
    }
  };
  for (PerfRing& r : rings_) watch(r.fd(), kRing);
  watch_sched_rings();
  UniqueFd timer(::timerfd_create(CLOCK_MONOTONIC, TFD_CLOEXEC | TFD_NONBLOCK));
  itimerspec its{};
  its.it_interval.tv_sec = static_cast<time_t>(opt_.batch_interval_ns / 1000000000u);
  its.it_interval.tv_nsec = static_cast<long>(opt_.batch_interval_ns % 1000000000u);
  its.it_value = its.it_interval;
  ::timerfd_settime(timer.get(), 0, &its, nullptr);
  watch(timer.get(), kTimer);
  sigset_t sigs;
  sigemptyset(&sigs);
  sigaddset(&sigs, SIGINT);
  sigaddset(&sigs, SIGTERM);
  sigaddset(&sigs, SIGHUP);
  UniqueFd sfd(::signalfd(-1, &sigs, SFD_CLOEXEC | SFD_NONBLOCK));
  watch(sfd.get(), kSignal);
  UniqueFd pidfd(static_cast<int>(::syscall(SYS_pidfd_open, pid_, 0)));
  if (!pidfd) return fail(Error::from_errno("pidfd_open"));
  watch(pidfd.get(), kChild);
  // Agents: the listening socket, and each connection tagged with its fd.
  const uint64_t kAgentListen = 4, kAgentPeer = uint64_t{1} << 32;
  if (opt_.agents) watch(opt_.agents->listen_fd(), kAgentListen);
  size_t agent_peers = 0;
  auto agent_batch = [&](pid_t from, std::span<const uint8_t> stream) {
    uint64_t first = 0, last = 0;
    if (!conv.on_agent_batch(stream, static_cast<uint32_t>(from), res, first, last)) {
      ++res.agent_rejected;
      return;
    }
    conv.flush(writer);  // the state the batch added goes into the preamble first
    writer.append(stream, first, last);
    ++res.agent_batches;
  };
  auto agent_event = [&](uint64_t tag) {
    if (tag == kAgentListen) {
      for (int fd; (fd = opt_.agents->accept([&](pid_t p) { return descends_from(p, pid_); })) >= 0;) {
        watch(fd, kAgentPeer | static_cast<uint32_t>(fd));
        ++agent_peers;
      }
      return;
    }
    int fd = static_cast<int>(tag & 0xffffffffu);
    if (!opt_.agents->read(fd, agent_batch)) --agent_peers;  // closed: its fd left the epoll set
  };

  // Records of one drain, from every ring, converted in time order: a
  // thread renamed on one CPU and sampled on another must get its new name,
  // and a switch record must follow the switch-out sample taken just before
  // it on another ring. A record may still be on its way into a ring that
  // was drained first, so records newer than the drain's start (less a
  // margin) wait for the next drain.
  // Parsed records live in a pool of slots that keep their buffers; `queue`
  // holds the slots not converted yet, so carrying a record to the next
  // drain moves nothing.
  std::vector<ParsedRecord> recs;
  std::vector<Role> roles;
  std::vector<uint32_t> free_slots;
  std::vector<std::pair<uint64_t, uint32_t>> queue;  // (time, slot): sorting touches no record
  Error parse_error;
  constexpr uint64_t kReorderWindowNs = 5'000'000;
  auto drain_ring = [&](PerfRing& ring, Role role, const perf_event_attr& attr) {
    ring.drain([&](std::span<const uint8_t> bytes) {
      uint32_t slot;
      if (free_slots.empty()) {
        slot = static_cast<uint32_t>(recs.size());
        recs.emplace_back();
        roles.emplace_back();
      } else {
        slot = free_slots.back();
        free_slots.pop_back();
      }
      if (auto ok = parse_record(bytes, attr.sample_type, recs[slot], attr.sample_regs_user); ok) {
        roles[slot] = role;
        queue.emplace_back(recs[slot].time, slot);
      } else {
        free_slots.push_back(slot);
        if (parse_error.message().empty()) parse_error = ok.error();
      }
    });
  };
  std::vector<uint32_t> live, outsiders;
  // Converting can stall (the unwinder reads a module's CFI the first time
  // it meets it: tens of milliseconds), while a context-switch-heavy
  // program fills a ring in less. So conversion goes in slices of
  // kConvertSliceNs, the rings read again between them: a stall costs
  // memory in `recs`, not events.
  constexpr uint64_t kConvertSliceNs = 10'000'000;
  auto drain_all = [&](bool final) {
    for (bool more = true; more;) {
      const uint64_t start = mono_ns();
      const uint64_t horizon = final ? UINT64_MAX : start - kReorderWindowNs;
      for (PerfRing& r : rings_) drain_ring(r, Role::kSampling, attr_);
      for (RingSet& set : sched_sets_) {
        for (PerfRing& r : set.rings) drain_ring(r, set.role, set.attr);
      }
      std::stable_sort(queue.begin(), queue.end(),
                       [](const auto& a, const auto& b) { return a.first < b.first; });
      size_t done = 0;
      more = false;
      for (auto [time, i] : queue) {
        if (time >= horizon) break;
        if ((done & 7) == 7 && mono_ns() - start > kConvertSliceNs) {
          more = true;
          break;
        }
        ParsedRecord& r = recs[i];
        ++done;
        free_slots.push_back(i);
        switch (roles[i]) {
          case Role::kSampling:
            conv.on_record(r, res);
            break;
          case Role::kSwitchOut:
            if (r.kind == RecordKind::kSample) {
              ++res.switch_samples;
              conv.on_switch_out_sample(r);
            } else {
              conv.sched_lost(r, res);
            }
            break;
          case Role::kWaking:
          case Role::kWakerStack:
            if (r.kind == RecordKind::kSample) {
              conv.on_waking(r, roles[i] == Role::kWakerStack, res);
            } else {
              conv.sched_lost(r, res);
            }
            break;
        }
      }
      queue.erase(queue.begin(), queue.begin() + static_cast<ptrdiff_t>(done));
      res.peak_records = std::max(res.peak_records, recs.size());
      if (more) ++res.long_conversions;
    }
  };
  // New threads need new wakeup events (see refilter_wakeups); the old
  // events' last records join the next drain.
  std::vector<RingSet> retired;
  auto refilter = [&] {
    if (!sched_.wakers || !conv.wakeup_filter_changed(live, outsiders)) return;
    refilter_wakeups(live, outsiders, retired);
    if (retired.empty()) return;
    ++res.refilters;
    watch_sched_rings();
    for (RingSet& set : retired) {
      for (PerfRing& r : set.rings) {
        (void)r.disable();
        drain_ring(r, set.role, set.attr);
      }
    }
    retired.clear();
  };
  auto note = [&](const std::string& s) {
    if (opt_.note) opt_.note(s);
  };

  // Schedstat totals are read this often (a few microseconds per thread).
  constexpr uint64_t kSchedStatIntervalNs = 250'000'000;
  uint64_t last_schedstat = 0;
  const uint64_t deadline = opt_.duration_ns ? mono_ns() + opt_.duration_ns : UINT64_MAX;
  int interrupts = 0;
  bool stop = false;
  while (!stop) {
    epoll_event evs[16];
    int timeout_ms = -1;
    if (deadline != UINT64_MAX) {
      uint64_t now = mono_ns();
      timeout_ms = now >= deadline ? 0 : static_cast<int>(std::min<uint64_t>((deadline - now) / 1000000 + 1, 1000));
    }
    int n = ::epoll_wait(ep.get(), evs, 16, timeout_ms);
    if (n < 0 && errno != EINTR) return fail(Error::from_errno("epoll_wait"));
    for (int i = 0; i < n; ++i) {
      uint64_t tag = evs[i].data.u64;
      if (tag == kAgentListen || (tag & kAgentPeer)) {
        agent_event(tag);
      } else if (tag == kRing) {
        drain_all(false);
      } else if (tag == kTimer) {
        uint64_t ticks;
        (void)!::read(timer.get(), &ticks, sizeof ticks);
        drain_all(false);
        refilter();
        uint64_t now = mono_ns();
        if (sched_.schedstat && now - last_schedstat >= kSchedStatIntervalNs) {
          conv.sched_stats(now);
          last_schedstat = now;
        }
        conv.flush(writer);
      } else if (tag == kSignal) {
        signalfd_siginfo si{};
        while (::read(sfd.get(), &si, sizeof si) == sizeof si) {
          if (si.ssi_signo == SIGINT && ++interrupts == 1 && !opt_.stop_on_interrupt) {
            note("Ctrl-C: recording until the program exits; press Ctrl-C again to stop recording "
                 "and leave it running");
          } else {
            stop = true;
          }
        }
      } else if (tag == kChild) {
        int status = 0;
        pid_t r;
        do {
          r = ::waitpid(pid_, &status, WNOHANG);
        } while (r < 0 && errno == EINTR);
        if (r < 0 && errno == ECHILD) {
          // Not dial9's child (attach): it ended, with a status only its
          // parent learns.
          res.exited = true;
          res.exit_status = -1;
          drain_all(true);
          stop = true;
        } else if (r == pid_) {
          res.exited = true;
          int sig = WIFSIGNALED(status) ? WTERMSIG(status) : 0;
          res.exit_status = sig ? 128 + sig : WEXITSTATUS(status);
          drain_all(true);
          conv.process_exit(mono_ns(), pid_, res.exit_status, sig);
          stop = true;
        }
      }
    }
    if (!stop && mono_ns() >= deadline) {
      note("--duration reached: recording stopped; the program goes on running (pid " + std::to_string(pid_) + ")");
      stop = true;
    }
  }
  // Agents still connected (the program goes on running, or its children
  // do) send their last samples when told to stop: wait for them, a second
  // at most.
  if (opt_.agents && agent_peers > 0) {
    opt_.agents->stop_all();
    const uint64_t give_up = mono_ns() + 1'000'000'000;
    while (agent_peers > 0 && mono_ns() < give_up) {
      epoll_event evs[16];
      int n = ::epoll_wait(ep.get(), evs, 16, 50);
      for (int i = 0; i < n; ++i) {
        if (evs[i].data.u64 & kAgentPeer) agent_event(evs[i].data.u64);
      }
    }
  }
  // Stop sampling before the last drain, so nothing arrives after it.
  for (PerfRing& r : rings_) (void)r.disable();
  for (RingSet& set : sched_sets_) {
    for (PerfRing& r : set.rings) (void)r.disable();
  }
  drain_all(true);
  if (sched_.schedstat) conv.sched_stats(mono_ns());
  // The kernel reports a loss as a record only with the ring's next write,
  // so losses just before the end may never arrive as records; the event's
  // own count has them all.
  if (lost_from_read_) {
    for (size_t i = 0; i < rings_.size(); ++i) {
      auto lost = rings_[i].read_lost();
      uint64_t reported = conv.lost_on(static_cast<uint32_t>(ring_cpus_[i]));
      if (lost && *lost > reported) conv.unreported_loss(mono_ns(), static_cast<uint32_t>(ring_cpus_[i]), *lost - reported, res);
    }
  }
  conv.flush(writer);
  close_sched_sets();
  if (!res.exited) res.detached = true;
  if (!parse_error.message().empty()) note("some perf records could not be decoded: " + parse_error.message());
  return res;
}

void Session::close_sched_sets() {
  // Closing a tracepoint's last perf event waits for RCU grace periods in
  // the kernel (perf_trace_event_unreg), 35-45 ms each on a small VM, and
  // scheduler capture holds two tracepoints. The kernel does the two one
  // after the other (under its event_mutex), but on threads of their own
  // they overlap the caller's sealing of the last segment instead of
  // adding to it; ~Session joins them.
  for (RingSet& set : sched_sets_) {
    try {
      closers_.emplace_back([rings = std::move(set.rings)]() mutable { rings.clear(); });
    } catch (const std::system_error&) {
      set.rings.clear();  // no thread to spare: close them here
    }
  }
  sched_sets_.clear();
}

}  // namespace dial9::capture
