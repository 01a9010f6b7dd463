#include "capture/session.h"

#include <signal.h>
#include <sys/epoll.h>
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
#include <unordered_map>
#include <unordered_set>

#include "base/unique_fd.h"
#include "capture/perf_records.h"
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

// The live threads and executable mappings of the recorded processes: what
// the unwinder resolves addresses against, and the preamble of each new
// segment (SegmentWriter::set_preamble), so a segment read alone still knows
// every thread's name and process and can be symbolized.
class ProcessState {
 public:
  void thread(uint64_t ts, uint32_t pid, uint32_t tid, const std::string& name) {
    threads_[tid] = Thread{ts, pid, name};
    changed_ = true;
  }
  void map(uint64_t ts, const format::Mapping& m) {
    spaces_.map(m, ts);
    changed_ = true;
  }
  void fork(uint32_t parent, uint32_t child) {
    spaces_.fork(parent, child);
    changed_ = true;
  }
  void exec(uint32_t pid) {
    spaces_.exec(pid);
    changed_ = true;
  }
  void exit(uint32_t pid, uint32_t tid) {
    threads_.erase(tid);
    if (pid == tid) spaces_.exit(pid);
    changed_ = true;
  }
  const format::AddressSpaces& spaces() const { return spaces_; }
  bool changed() const { return changed_; }
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
  format::AddressSpaces spaces_;
  bool changed_ = false;
};

// Converts perf records to TRC events and collects them into batches.
class Converter {
 public:
  explicit Converter(StackUnwinder* unwinder) : unwinder_(unwinder) {}

  void on_record(ParsedRecord& r, SessionResult& res) {
    using namespace format;
    switch (r.kind) {
      case RecordKind::kSample: {
        if (unwinder_ && !r.user_stack.empty()) complete_chain(r, res);
        CpuSample s;
        s.worker_id = kWorkerNone;
        s.tid = r.tid;
        s.source = static_cast<uint8_t>(SampleSource::kPeriodic);
        auto it = names_.find(r.tid);
        if (it != names_.end()) s.thread_name = it->second;
        s.cpu = r.cpu;
        w_.cpu_sample(r.time, s, r.callchain);
        ++res.samples;
        see(r.pid, r.tid, res);
        break;
      }
      case RecordKind::kComm:
        names_[r.tid] = r.name;
        if (r.misc & PERF_RECORD_MISC_COMM_EXEC) state_.exec(r.pid);
        state_.thread(r.time, r.pid, r.tid, r.name);
        w_.thread_name(r.time, ThreadName{r.pid, r.tid, r.name, (r.misc & PERF_RECORD_MISC_COMM_EXEC) != 0});
        see(r.pid, r.tid, res);
        break;
      case RecordKind::kFork: {
        // A new thread starts with its creator's name until it sets one.
        auto parent = names_.find(r.ptid);
        if (parent != names_.end()) names_[r.tid] = parent->second;
        if (r.pid == r.tid) state_.fork(r.ppid, r.pid);
        if (parent != names_.end()) state_.thread(r.time, r.pid, r.tid, parent->second);
        w_.thread_start(r.time, ThreadStart{r.pid, r.tid, r.ppid, r.ptid});
        see(r.pid, r.tid, res);
        break;
      }
      case RecordKind::kExit:
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
    if (r.time != 0) {
      first_ = std::min(first_, r.time);
      last_ = std::max(last_, r.time);
    }
    ++events_;
  }

  // A name known before the kernel reports it (the program at exec).
  void name(uint32_t tid, std::string n) { names_[tid] = std::move(n); }

  uint64_t lost_on(uint32_t cpu) const {
    auto it = lost_by_cpu_.find(cpu);
    return it == lost_by_cpu_.end() ? 0 : it->second;
  }
  void unreported_loss(uint64_t ts, uint32_t cpu, uint64_t count, SessionResult& res) {
    w_.lost(ts, format::Lost{static_cast<uint8_t>(format::LostSource::kRingFull), cpu, count});
    res.lost += count;
    first_ = std::min(first_, ts);
    last_ = std::max(last_, ts);
    ++events_;
  }

  void process_exit(uint64_t ts, pid_t pid, int status, int signal) {
    w_.process_exit(ts, format::ProcessExit{static_cast<uint32_t>(pid), status, static_cast<uint8_t>(signal)});
    first_ = std::min(first_, ts);
    last_ = std::max(last_, ts);
    ++events_;
  }

  // Hands the batch (one self-contained stream) to the writer.
  void flush(format::SegmentWriter& writer) {
    if (events_ == 0) return;
    writer.append(w_.bytes(), first_, last_);
    if (state_.changed()) writer.set_preamble(state_.encode());
    w_.reset();
    events_ = 0;
    first_ = UINT64_MAX;
    last_ = 0;
  }

 private:
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

  void see(uint32_t pid, uint32_t tid, SessionResult& res) {
    if (tids_.insert(tid).second) res.threads = tids_.size();
    if (pids_.insert(pid).second) res.processes = pids_.size();
  }
  StackUnwinder* unwinder_;
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

Result<std::unique_ptr<Session>> Session::open(pid_t pid, SessionOptions options) {
  std::unique_ptr<Session> s(new Session());
  s->pid_ = pid;
  s->opt_ = std::move(options);
  s->opt_.sampling.inherit = true;
  s->opt_.sampling.enable_on_exec = true;
  long ncpu = ::sysconf(_SC_NPROCESSORS_CONF);
  const size_t requested_pages = s->opt_.mmap_pages;
  for (int attempt = 0; attempt < 12; ++attempt) {
    auto attr = build_attr(s->opt_.sampling);
    if (!attr) return fail(attr.error());
    if (!s->lost_from_read_) {
      attr->read_format = 0;
      attr->build_id = 0;
    }
    // Wake the loop when a quarter of a ring is full (it also drains on a timer).
    attr->watermark = 1;
    attr->wakeup_watermark = static_cast<uint32_t>(s->opt_.mmap_pages * static_cast<size_t>(::sysconf(_SC_PAGESIZE)) / 4);
    s->attr_ = *attr;
    s->rings_.clear();
    s->ring_cpus_.clear();
    Error first_error;
    for (int cpu = 0; cpu < ncpu; ++cpu) {
      auto ring = PerfRing::open(*attr, pid, cpu, s->opt_.mmap_pages);
      if (ring) {
        s->rings_.push_back(std::move(*ring));
        s->ring_cpus_.push_back(cpu);
      } else if (ring.error().errno_value() != ENODEV && first_error.message().empty()) {
        first_error = ring.error();  // ENODEV: an offline CPU
      }
    }
    if (!s->rings_.empty() && first_error.message().empty()) {
      if (s->opt_.mmap_pages < requested_pages) {
        // Smaller rings lose samples sooner in bursts: say so, with the fix
        // (the budget is perf_event_mlock_kb per online CPU, one ring each).
        size_t page_kb = static_cast<size_t>(::sysconf(_SC_PAGESIZE)) / 1024;
        s->degraded_.push_back("perf rings shrunk to " + std::to_string(s->opt_.mmap_pages) +
                               " pages per CPU: the locked-memory budget cannot hold " +
                               std::to_string(requested_pages) + "; fix: raise ulimit -l, or sudo sysctl "
                               "kernel.perf_event_mlock_kb=" + std::to_string((requested_pages + 1) * page_kb));
      }
      return s;
    }
    int e = first_error.errno_value();
    if (e == EINVAL && s->lost_from_read_) {
      // An older kernel (before 6.0 for PERF_FORMAT_LOST, 5.12 for build
      // ids in mmap records): lost samples are then known from records
      // only, and mappings come without build ids.
      s->lost_from_read_ = false;
      continue;
    }
    if (e == ENOMEM && s->opt_.shrink_rings_to_fit && s->opt_.mmap_pages > 8) {
      // PerfRing::open's locked-memory case: retry with half (the note is
      // added once the rings open).
      s->opt_.mmap_pages /= 2;
      continue;
    }
    if ((e == EACCES || e == EPERM) && s->opt_.sampling.kernel) {
      // Kernel samples need more privilege than user ones: keep recording
      // without them, and say what was lost and how to get it back.
      s->opt_.sampling.kernel = false;
      s->degraded_.push_back("kernel samples and kernel stacks are off: kernel.perf_event_paranoid is " +
                             std::to_string(paranoid_level()) +
                             "; fix: sudo sysctl kernel.perf_event_paranoid=1, or grant CAP_PERFMON");
      continue;
    }
    if (!first_error.message().empty()) return fail(first_error);
    return fail("no CPU could be sampled");
  }
  return fail("cannot open perf events");
}

Result<SessionResult> Session::run(format::SegmentWriter& writer) {
  SessionResult res;
  Converter conv(opt_.unwinder.get());
  if (!opt_.program_name.empty()) conv.name(static_cast<uint32_t>(pid_), opt_.program_name.substr(0, 15));
  UniqueFd ep(::epoll_create1(EPOLL_CLOEXEC));
  if (!ep) return fail(Error::from_errno("epoll_create1"));
  auto watch = [&](int fd, uint64_t tag) {
    epoll_event ev{};
    ev.events = EPOLLIN;
    ev.data.u64 = tag;
    return ::epoll_ctl(ep.get(), EPOLL_CTL_ADD, fd, &ev) == 0;
  };
  // Tags: 0..n-1 rings, then these.
  const uint64_t kTimer = 1u << 20, kSignal = kTimer + 1, kChild = kTimer + 2;
  for (size_t i = 0; i < rings_.size(); ++i) watch(rings_[i].fd(), i);
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

  // Records of one drain, from every ring, converted in time order: a
  // thread renamed on one CPU and sampled on another must get its new name.
  std::vector<ParsedRecord> recs;
  std::vector<size_t> order;
  size_t used = 0;
  Error parse_error;
  auto drain_all = [&] {
    used = 0;
    for (PerfRing& r : rings_) {
      r.drain([&](std::span<const uint8_t> bytes) {
        if (used == recs.size()) recs.emplace_back();
        if (auto ok = parse_record(bytes, attr_.sample_type, recs[used], attr_.sample_regs_user); ok) {
          ++used;
        } else if (parse_error.message().empty()) {
          parse_error = ok.error();
        }
      });
    }
    order.resize(used);
    for (size_t i = 0; i < used; ++i) order[i] = i;
    std::stable_sort(order.begin(), order.end(), [&](size_t a, size_t b) { return recs[a].time < recs[b].time; });
    for (size_t i : order) conv.on_record(recs[i], res);
  };
  auto note = [&](const std::string& s) {
    if (opt_.note) opt_.note(s);
  };

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
      if (tag < rings_.size()) {
        drain_all();
      } else if (tag == kTimer) {
        uint64_t ticks;
        (void)!::read(timer.get(), &ticks, sizeof ticks);
        drain_all();
        conv.flush(writer);
      } else if (tag == kSignal) {
        signalfd_siginfo si{};
        while (::read(sfd.get(), &si, sizeof si) == sizeof si) {
          if (si.ssi_signo == SIGINT && ++interrupts == 1) {
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
        if (r == pid_) {
          res.exited = true;
          int sig = WIFSIGNALED(status) ? WTERMSIG(status) : 0;
          res.exit_status = sig ? 128 + sig : WEXITSTATUS(status);
          drain_all();
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
  // Stop sampling before the last drain, so nothing arrives after it.
  for (PerfRing& r : rings_) (void)r.disable();
  drain_all();
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
  if (!res.exited) res.detached = true;
  if (!parse_error.message().empty()) note("some perf records could not be decoded: " + parse_error.message());
  return res;
}

}  // namespace dial9::capture
