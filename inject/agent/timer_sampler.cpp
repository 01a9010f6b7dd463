#include "inject/agent/timer_sampler.h"

#include <dirent.h>
#include <fcntl.h>
#include <sys/syscall.h>
#include <time.h>
#include <ucontext.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <cstdlib>
#include <cstring>

namespace dial9::agent {
namespace {

// --- threads and their timers ------------------------------------------

constexpr size_t kMaxThreads = 4096;

struct Slot {
  int32_t tid = 0;  // 0: free
  timer_t timer{};
  uint16_t gen = 0;  // bumped when the slot is reused, so a late signal of the old timer is ignored
  bool seen = false;
};
Slot g_slots[kMaxThreads];  // touched only by the agent thread, read by none

// What the handler knows of each slot: the tid its timer belongs to.
std::atomic<int32_t> g_slot_tid[kMaxThreads];
std::atomic<uint16_t> g_slot_gen[kMaxThreads];

// sigev_value: 0xD9 in the top byte, then 12 bits of generation and 12 of
// slot, so the handler can tell its own timer signals from any other.
constexpr uint32_t kValueMagic = 0xD9u << 24;
uint32_t encode_value(size_t slot, uint16_t gen) {
  return kValueMagic | (static_cast<uint32_t>(gen & 0xfff) << 12) | static_cast<uint32_t>(slot);
}

// --- the sample buffer: multi-producer (handlers), one consumer --------

constexpr size_t kRingSize = 2048;  // a power of two
struct Entry {
  std::atomic<uint64_t> seq{0};  // position + 1 once written
  Sample s;
};
Entry g_ring[kRingSize];
std::atomic<uint64_t> g_head{0};  // next position to reserve
std::atomic<uint64_t> g_tail{0};  // next position to read
std::atomic<uint64_t> g_samples{0}, g_dropped{0}, g_handler_ns{0};

// --- the maps snapshot: two buffers, the handler reads the current one ---

constexpr size_t kMaxRanges = 8192;
struct Range {
  uintptr_t lo, hi;
};
struct Snapshot {
  Range ranges[kMaxRanges];
  size_t count = 0;
};
Snapshot g_snap[2];
std::atomic<int> g_current{0};
std::atomic<int> g_readers[2];
std::atomic<bool> g_refresh_wanted{true};
uint64_t g_last_refresh_ns = 0;

// --- the signal ----------------------------------------------------------

int g_signal = 0;
struct sigaction g_previous {};
bool g_chain = false;  // the program handles the signal too
std::atomic<bool> g_active{false};
uint32_t g_frequency = 0;

uint64_t now_ns() {
  timespec ts{};
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return static_cast<uint64_t>(ts.tv_sec) * 1000000000u + static_cast<uint64_t>(ts.tv_nsec);
}

// The mapping that holds `sp` in the current snapshot; loads stay inside it.
bool stack_range(uintptr_t sp, Range& out) {
  // Announce the read, then check the buffer is still the current one: the
  // agent thread rewrites only the other buffer, and only when nobody
  // announced reading it.
  int cur;
  for (;;) {
    cur = g_current.load(std::memory_order_acquire);
    g_readers[cur].fetch_add(1, std::memory_order_acq_rel);
    if (g_current.load(std::memory_order_acquire) == cur) break;
    g_readers[cur].fetch_sub(1, std::memory_order_acq_rel);
  }
  const Snapshot& s = g_snap[cur];
  size_t lo = 0, hi = s.count;
  bool found = false;
  while (lo < hi) {
    size_t mid = (lo + hi) / 2;
    if (s.ranges[mid].hi <= sp) {
      lo = mid + 1;
    } else if (s.ranges[mid].lo > sp) {
      hi = mid;
    } else {
      out = s.ranges[mid];
      found = true;
      break;
    }
  }
  g_readers[cur].fetch_sub(1, std::memory_order_acq_rel);
  return found;
}

void call_previous(int sig, siginfo_t* si, void* uc) {
  if (!g_chain) return;
  if (g_previous.sa_flags & SA_SIGINFO) {
    if (g_previous.sa_sigaction) g_previous.sa_sigaction(sig, si, uc);
  } else if (g_previous.sa_handler != SIG_DFL && g_previous.sa_handler != SIG_IGN) {
    g_previous.sa_handler(sig);
  }
}

void on_signal(int sig, siginfo_t* si, void* ucv) {
  const int saved_errno = errno;
  const uint32_t v = static_cast<uint32_t>(si->si_value.sival_int);
  if (si->si_code != SI_TIMER || (v & 0xff000000u) != kValueMagic) {
    call_previous(sig, si, ucv);
    errno = saved_errno;
    return;
  }
  const size_t slot = v & 0xfff;
  const uint16_t gen = static_cast<uint16_t>((v >> 12) & 0xfff);
  if (!g_active.load(std::memory_order_relaxed) || slot >= kMaxThreads ||
      (g_slot_gen[slot].load(std::memory_order_relaxed) & 0xfff) != gen) {
    errno = saved_errno;
    return;
  }
  // Reserve an entry; a full buffer drops the sample.
  uint64_t pos = g_head.load(std::memory_order_relaxed);
  do {
    if (pos - g_tail.load(std::memory_order_acquire) >= kRingSize) {
      g_dropped.fetch_add(1, std::memory_order_relaxed);
      errno = saved_errno;
      return;
    }
  } while (!g_head.compare_exchange_weak(pos, pos + 1, std::memory_order_acq_rel));
  Entry& e = g_ring[pos & (kRingSize - 1)];
  Sample& s = e.s;
  const uint64_t entered = now_ns();
  s.ts_ns = entered;
  s.tid = g_slot_tid[slot].load(std::memory_order_relaxed);
  const ucontext_t* uc = static_cast<const ucontext_t*>(ucv);
#if defined(__x86_64__)
  uintptr_t ip = static_cast<uintptr_t>(uc->uc_mcontext.gregs[REG_RIP]);
  uintptr_t fp = static_cast<uintptr_t>(uc->uc_mcontext.gregs[REG_RBP]);
  uintptr_t sp = static_cast<uintptr_t>(uc->uc_mcontext.gregs[REG_RSP]);
#else
  uintptr_t ip = 0, fp = 0, sp = 0;
#endif
  size_t depth = 0;
  s.frames[depth++] = ip;
  Range stack{};
  if (!stack_range(sp, stack)) {
    g_refresh_wanted.store(true, std::memory_order_relaxed);
  } else {
    // Each frame: [fp] = caller's fp, [fp + 8] = return address. Frames
    // lie above the stack pointer and go up.
    while (depth < kMaxDepth && fp >= sp && fp % 8 == 0 && fp + 16 <= stack.hi && fp >= stack.lo) {
      const uintptr_t* frame = reinterpret_cast<const uintptr_t*>(fp);
      uintptr_t ret = frame[1];
      uintptr_t next = frame[0];
      if (ret == 0) break;
      s.frames[depth++] = ret;
      if (next <= fp) break;
      fp = next;
    }
  }
  s.depth = static_cast<uint32_t>(depth);
  g_samples.fetch_add(1, std::memory_order_relaxed);
  e.seq.store(pos + 1, std::memory_order_release);
  g_handler_ns.fetch_add(now_ns() - entered, std::memory_order_relaxed);
  errno = saved_errno;
}

// Reads /proc/self/maps into the snapshot the handler is not reading.
void refresh_snapshot() {
  int next = 1 - g_current.load(std::memory_order_acquire);
  // A handler that began reading the buffer before the last swap may still
  // be in it; such a reader finishes in microseconds.
  for (int spins = 0; g_readers[next].load(std::memory_order_acquire) != 0 && spins < 1000; ++spins) ::usleep(10);
  if (g_readers[next].load(std::memory_order_acquire) != 0) return;
  Snapshot& s = g_snap[next];
  s.count = 0;
  int fd = ::open("/proc/thread-self/maps", O_RDONLY | O_CLOEXEC);
  if (fd < 0) return;
  static char buf[1 << 16];
  size_t have = 0;
  for (;;) {
    ssize_t n = ::read(fd, buf + have, sizeof buf - have - 1);
    if (n <= 0 && have == 0) break;
    if (n > 0) have += static_cast<size_t>(n);
    buf[have] = '\0';
    char* line = buf;
    char* end;
    while ((end = std::strchr(line, '\n')) != nullptr) {
      // "lo-hi perms ...": only readable and writable mappings hold stacks.
      char* dash = nullptr;
      uintptr_t lo = std::strtoull(line, &dash, 16);
      char* space = nullptr;
      uintptr_t hi = dash && *dash == '-' ? std::strtoull(dash + 1, &space, 16) : 0;
      if (space && space[0] == ' ' && space[1] == 'r' && space[2] == 'w' && s.count < kMaxRanges) {
        s.ranges[s.count++] = Range{lo, hi};
      }
      line = end + 1;
    }
    size_t rest = have - static_cast<size_t>(line - buf);
    std::memmove(buf, line, rest);
    have = rest;
    if (n <= 0) break;
  }
  ::close(fd);
  g_current.store(next, std::memory_order_release);
  g_last_refresh_ns = now_ns();
}

// The CPU clock of another thread of this process (the kernel's
// MAKE_THREAD_CPUCLOCK(tid, CPUCLOCK_SCHED), as glibc's
// pthread_getcpuclockid builds it).
clockid_t thread_cpu_clock(int32_t tid) { return static_cast<clockid_t>((~static_cast<unsigned>(tid) << 3) | 6u); }

bool arm(size_t i, int32_t tid) {
  Slot& slot = g_slots[i];
  slot.gen = static_cast<uint16_t>((slot.gen + 1) & 0xfff);
  g_slot_gen[i].store(slot.gen, std::memory_order_relaxed);
  g_slot_tid[i].store(tid, std::memory_order_relaxed);
  sigevent sev{};
  sev.sigev_notify = SIGEV_THREAD_ID;
  sev.sigev_signo = g_signal;
  sev._sigev_un._tid = tid;
  sev.sigev_value.sival_int = static_cast<int>(encode_value(i, slot.gen));
  if (::timer_create(thread_cpu_clock(tid), &sev, &slot.timer) != 0) return false;
  const long period = 1000000000L / static_cast<long>(g_frequency);
  itimerspec its{};
  its.it_interval.tv_sec = period / 1000000000L;
  its.it_interval.tv_nsec = period % 1000000000L;
  its.it_value = its.it_interval;
  if (::timer_settime(slot.timer, 0, &its, nullptr) != 0) {
    ::timer_delete(slot.timer);
    return false;
  }
  slot.tid = tid;
  return true;
}

void disarm(size_t i) {
  Slot& slot = g_slots[i];
  if (slot.tid == 0) return;
  ::timer_delete(slot.timer);
  g_slot_tid[i].store(0, std::memory_order_relaxed);
  slot.tid = 0;
}

// Signals whose default action is to ignore them: a timer signal still
// pending after stop() cannot kill the program.
constexpr int kCandidates[] = {SIGURG, SIGWINCH};

}  // namespace

int sampler_start(uint32_t frequency_hz) {
  if (g_signal != 0 || frequency_hz == 0) return g_signal;
  g_frequency = frequency_hz;
  int chosen = 0;
  for (int sig : kCandidates) {
    struct sigaction cur {};
    if (::sigaction(sig, nullptr, &cur) != 0) continue;
    bool handled = (cur.sa_flags & SA_SIGINFO) ? cur.sa_sigaction != nullptr
                                               : (cur.sa_handler != SIG_DFL && cur.sa_handler != SIG_IGN);
    if (!handled) {
      chosen = sig;
      break;
    }
  }
  g_chain = chosen == 0;
  if (chosen == 0) chosen = kCandidates[0];
  refresh_snapshot();
  struct sigaction sa {};
  sa.sa_sigaction = on_signal;
  sa.sa_flags = SA_SIGINFO | SA_RESTART | SA_ONSTACK;
  sigemptyset(&sa.sa_mask);
  if (::sigaction(chosen, &sa, &g_previous) != 0) return 0;
  g_signal = chosen;
  g_active.store(true, std::memory_order_release);
  sampler_rescan();
  return g_signal;
}

size_t sampler_rescan() {
  if (g_signal == 0) return 0;
  size_t armed = 0;
  if (g_refresh_wanted.exchange(false) || now_ns() - g_last_refresh_ns > 1000000000u) refresh_snapshot();
  // tid -> slot + 1, open addressing, rebuilt each rescan.
  constexpr size_t kIndex = 2 * kMaxThreads;
  static uint16_t index[kIndex];
  std::memset(index, 0, sizeof index);
  auto bucket = [](int32_t tid) { return (static_cast<uint32_t>(tid) * 2654435761u) % kIndex; };
  size_t free_hint = 0;
  for (size_t i = 0; i < kMaxThreads; ++i) {
    g_slots[i].seen = false;
    if (g_slots[i].tid == 0) continue;
    size_t b = bucket(g_slots[i].tid);
    while (index[b] != 0) b = (b + 1) % kIndex;
    index[b] = static_cast<uint16_t>(i + 1);
  }
  DIR* d = ::opendir("/proc/self/task");
  if (!d) return 0;
  const int32_t self = static_cast<int32_t>(::syscall(SYS_gettid));
  while (dirent* e = ::readdir(d)) {
    int32_t tid = static_cast<int32_t>(std::atoi(e->d_name));
    if (tid <= 0 || tid == self) continue;  // not the agent's own thread
    bool known = false;
    for (size_t b = bucket(tid); index[b] != 0; b = (b + 1) % kIndex) {
      if (g_slots[index[b] - 1].tid == tid) {
        g_slots[index[b] - 1].seen = known = true;
        break;
      }
    }
    if (known) continue;
    while (free_hint < kMaxThreads && g_slots[free_hint].tid != 0) ++free_hint;
    if (free_hint < kMaxThreads && arm(free_hint, tid)) {
      g_slots[free_hint].seen = true;
      ++armed;
    }
  }
  ::closedir(d);
  for (size_t i = 0; i < kMaxThreads; ++i) {
    if (g_slots[i].tid != 0 && !g_slots[i].seen) disarm(i);
  }
  return armed;
}

size_t sampler_drain(Sample* out, size_t max) {
  size_t n = 0;
  uint64_t tail = g_tail.load(std::memory_order_relaxed);
  while (n < max) {
    Entry& e = g_ring[tail & (kRingSize - 1)];
    if (e.seq.load(std::memory_order_acquire) != tail + 1) break;  // not written yet
    out[n] = e.s;
    out[n].depth = out[n].depth > kMaxDepth ? kMaxDepth : out[n].depth;
    ++n;
    ++tail;
    g_tail.store(tail, std::memory_order_release);
  }
  return n;
}

SamplerCounters sampler_counters() {
  SamplerCounters c;
  c.samples = g_samples.load(std::memory_order_relaxed);
  c.dropped = g_dropped.load(std::memory_order_relaxed);
  c.handler_ns = g_handler_ns.load(std::memory_order_relaxed);
  for (const Slot& s : g_slots) c.threads += s.tid != 0;
  return c;
}

void sampler_stop() {
  if (g_signal == 0) return;
  g_active.store(false, std::memory_order_release);
  for (size_t i = 0; i < kMaxThreads; ++i) disarm(i);
  ::sigaction(g_signal, &g_previous, nullptr);
  g_signal = 0;
  g_chain = false;
}

}  // namespace dial9::agent
