#include "inject/attach.h"

#include <cpuid.h>
#include <elf.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/ptrace.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <sys/un.h>
#include <sys/user.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <algorithm>
#include <cstdlib>
#include <cstring>
#include <random>
#include <thread>
#include <vector>

#include "base/elf_file.h"
#include "base/io.h"
#include "base/proc_maps.h"
#include "base/unique_fd.h"

extern "C" const uint8_t dial9_injected_begin[], dial9_injected_hijack[], dial9_injected_worker[],
    dial9_injected_data[], dial9_injected_end[];

namespace dial9::inject {
namespace {

// The loader's data block: the layout injected_code.S reads.
struct InjectedData {
  uint64_t pthread_create = 0, dlopen = 0, dlsym = 0, dlerror = 0;
  uint64_t xsave_size = 0;
  uint32_t addr_len = 0, pad = 0;
  char addr[112] = {};
  char symbol[32] = {};
  char agent_socket[112] = {};
};
static_assert(offsetof(InjectedData, xsave_size) == 32 && offsetof(InjectedData, addr_len) == 40 &&
              offsetof(InjectedData, addr) == 48 && offsetof(InjectedData, symbol) == 160 &&
              offsetof(InjectedData, agent_socket) == 192 && sizeof(InjectedData) == 304);

uint64_t mono_ns() {
  timespec ts{};
  ::clock_gettime(CLOCK_MONOTONIC, &ts);
  return static_cast<uint64_t>(ts.tv_sec) * 1'000'000'000u + static_cast<uint64_t>(ts.tv_nsec);
}

// Test hook: DIAL9_TEST_KILL_AT=STEP kills dial9 at that step of the
// injection, to prove the target survives dial9 dying there.
void test_kill_point(const char* step) {
  const char* at = std::getenv("DIAL9_TEST_KILL_AT");
  if (at && std::strcmp(at, step) == 0) ::kill(::getpid(), SIGKILL);
}

std::string proc(pid_t pid, const std::string& rest) { return "/proc/" + std::to_string(pid) + "/" + rest; }

// A module of the target: its path and load bias, from its mappings.
struct Module {
  std::string path;     // as the target sees it
  std::string open_as;  // a path dial9 can open
  uint64_t bias = 0;
  bool found = false;
};

// The load bias of the file mapped at `m`: its executable segment's
// address in the file, subtracted from where it is mapped.
bool load_bias(const ElfFile& elf, const MapsEntry& m, uint64_t& bias) {
  const uint64_t page = static_cast<uint64_t>(::sysconf(_SC_PAGESIZE));
  for (const ElfSegment& s : elf.segments()) {
    if ((s.flags & PF_X) && (s.offset & ~(page - 1)) == m.offset) {
      bias = m.start - (s.vaddr & ~(page - 1));
      return true;
    }
  }
  return false;
}

// /proc/PID/task/TID of a thread through which /proc shows the process's
// address space, mount namespace and memory (see address_space_thread):
// found once per load.
std::string task_dir(pid_t pid) { return proc(pid, "task/" + std::to_string(address_space_thread(pid))); }

// `path` as the process sees it (its mount namespace), else as dial9 does.
std::string openable(const std::string& task, const std::string& path) {
  std::string in_ns = task + "/root" + path;
  return ::access(in_ns.c_str(), R_OK) == 0 ? in_ns : path;
}

std::string base_name(const std::string& path) { return path.substr(path.rfind('/') + 1); }

// The loader's functions, from the target's C library (glibc 2.34 and later
// has them all in libc.so.6; older ones in libpthread and libdl, which a
// program loads only if it uses them).
Result<InjectedData> loader_symbols(const std::string& task, const std::vector<MapsEntry>& maps) {
  InjectedData d;
  struct Want {
    const char* name;
    uint64_t* into;
  } wants[] = {{"pthread_create", &d.pthread_create}, {"dlopen", &d.dlopen}, {"dlsym", &d.dlsym}, {"dlerror", &d.dlerror}};
  std::vector<std::string> seen;
  for (const MapsEntry& m : maps) {
    if (!m.exec || m.path.empty() || m.path.front() != '/') continue;
    std::string name = base_name(m.path);
    bool libc = name.rfind("libc.so", 0) == 0 || name.rfind("libc-", 0) == 0 || name.rfind("libpthread", 0) == 0 ||
                name.rfind("libdl", 0) == 0;
    if (!libc || std::find(seen.begin(), seen.end(), m.path) != seen.end()) continue;
    seen.push_back(m.path);
    auto elf = ElfFile::open(openable(task, m.path));
    uint64_t bias = 0;
    if (!elf || !load_bias(*elf, m, bias)) continue;
    for (Want& w : wants) {
      if (*w.into) continue;
      if (auto v = elf->dynamic_symbol(w.name)) *w.into = bias + *v;
    }
  }
  for (const Want& w : wants) {
    if (!*w.into) {
      return fail(std::string("the program's C library has no ") + w.name +
                  (std::string(w.name).rfind("dl", 0) == 0 ? " (glibc before 2.34 without libdl loaded, or not glibc)"
                                                            : " (not glibc?)"));
    }
  }
  return d;
}

// Bytes of a code mapping past the end of its segment: mapped (the rest of
// the last page), executable, and used by nothing.
struct Slack {
  uint64_t at = 0;
  std::string module;
};

Result<Slack> find_slack(const std::string& task, const std::vector<MapsEntry>& maps, size_t need) {
  for (const MapsEntry& m : maps) {
    if (!m.exec || m.path.empty() || m.path.front() != '/') continue;
    auto elf = ElfFile::open(openable(task, m.path));
    uint64_t bias = 0;
    if (!elf || !load_bias(*elf, m, bias)) continue;
    for (const ElfSegment& s : elf->segments()) {
      if (!(s.flags & PF_X)) continue;
      uint64_t end = bias + s.vaddr + std::max(s.memsz, s.filesz);
      if (end < m.start || end > m.end) continue;
      uint64_t at = (end + 63) & ~uint64_t{63};
      if (at + need <= m.end) return Slack{at, m.path};
    }
  }
  return fail("no code mapping of the program has " + std::to_string(need) + " unused bytes for the loader");
}

// The size of the XSAVE area for the state components this machine has
// enabled (the same for every process).
Result<uint64_t> xsave_size() {
  unsigned a, b, c, d;
  if (!__get_cpuid(1, &a, &b, &c, &d) || !(c & bit_OSXSAVE)) return fail("the CPU or kernel lacks XSAVE");
  __cpuid_count(0xd, 0, a, b, c, d);
  return (static_cast<uint64_t>(b) + 63) & ~uint64_t{63};
}

// The thread ids in a blocking system call the loader may start from, the
// likeliest to stay there first (sleeps and waits before reads).
std::vector<pid_t> blocked_threads(pid_t pid) {
  std::vector<pid_t> out;
  auto tids = list_threads(pid);
  if (!tids) return out;
  // Test hook: only the threads of this name, to inject through each kind
  // of blocking call in turn.
  const char* only = std::getenv("DIAL9_TEST_INJECT_THREAD");
  for (pid_t t : *tids) {
    if (only && *only && thread_comm(pid, t) != only) continue;
    auto s = read_small_file(proc(pid, "task/" + std::to_string(t) + "/syscall"), 256);
    if (!s || s->empty() || (*s)[0] < '0' || (*s)[0] > '9') continue;  // "running" or "-1 ..."
    if (loadable_from_syscall(std::strtol(s->c_str(), nullptr, 10))) out.push_back(t);
  }
  return out;
}

// Whether a signal the thread does not block is pending for it or its
// process (then an EINTR is real: the signal's handler is about to run).
bool signal_pending(pid_t pid, pid_t tid) {
  auto s = read_small_file(proc(pid, "task/" + std::to_string(tid) + "/status"), 1 << 16);
  if (!s) return true;
  auto field = [&](const char* key) { return std::strtoull(status_field(*s, key).c_str(), nullptr, 16); };
  return ((field("SigPnd") | field("ShdPnd")) & ~field("SigBlk")) != 0;
}

// The process's memory (through `task`, see task_dir).
UniqueFd open_mem(const std::string& task) { return UniqueFd(::open((task + "/mem").c_str(), O_RDWR | O_CLOEXEC)); }

Result<void> write_mem(int mem, uint64_t addr, const void* data, size_t size) {
  ssize_t n;
  do {
    n = ::pwrite(mem, data, size, static_cast<off_t>(addr));
  } while (n < 0 && errno == EINTR);
  if (n != static_cast<ssize_t>(size)) return fail(Error::from_errno("cannot write the target's memory", n < 0 ? errno : EIO));
  return {};
}

// Waits for `tid`'s stop after PTRACE_INTERRUPT. Signals that arrive first
// are delivered (not lost). 1: stopped for us; 0: in a group stop (SIGSTOP)
// or gone; -1: timed out.
int wait_interrupt_stop(pid_t tid, uint64_t deadline) {
  for (;;) {
    int st = 0;
    pid_t r = ::waitpid(tid, &st, __WALL | WNOHANG);
    if (r < 0 && errno == EINTR) continue;
    if (r < 0) return 0;
    if (r == 0) {
      if (mono_ns() > deadline) return -1;
      ::usleep(100);
      continue;
    }
    if (!WIFSTOPPED(st)) return 0;  // exited
    int event = st >> 16;
    int sig = WSTOPSIG(st);
    if (event == PTRACE_EVENT_STOP) return sig == SIGTRAP ? 1 : 0;
    // A signal-delivery stop: deliver it and keep waiting for ours.
    ::ptrace(PTRACE_CONT, tid, nullptr, reinterpret_cast<void*>(static_cast<uintptr_t>(sig)));
  }
}

struct Hijack {
  pid_t tid = 0;
  uint64_t stopped_ns = 0;
};

// Step 2 of attach.h: seize one blocked thread and point it at the loader.
// Runs on its own thread: if anything goes wrong, that thread's exit
// detaches whatever it still traces.
Result<Hijack> hijack_one(pid_t pid, const std::string& task, uint64_t entry, uint64_t frame_bytes,
                          uint64_t deadline) {
  std::string last_why = "no thread of the program is waiting in a system call (a sleep, a read, a futex wait, "
                         "poll or epoll); the agent is loaded from one";
  while (mono_ns() < deadline) {
    for (pid_t tid : blocked_threads(pid)) {
      if (::ptrace(PTRACE_SEIZE, tid, nullptr, nullptr) != 0) {
        if (errno == EPERM) return fail(Error::from_errno("cannot ptrace process " + std::to_string(pid)));
        continue;
      }
      test_kill_point("seized");
      if (::ptrace(PTRACE_INTERRUPT, tid, nullptr, nullptr) != 0) {
        ::ptrace(PTRACE_DETACH, tid, nullptr, nullptr);
        continue;
      }
      int stop = wait_interrupt_stop(tid, std::min(deadline, mono_ns() + 200'000'000));
      const uint64_t stopped_at = mono_ns();
      if (stop < 0) return fail("thread " + std::to_string(tid) + " did not stop for dial9 (in uninterruptible sleep?)");
      if (stop == 0) {
        ::ptrace(PTRACE_DETACH, tid, nullptr, nullptr);  // stays in its group stop, if that was one
        last_why = "the program is stopped (SIGSTOP): continue it first";
        continue;
      }
      test_kill_point("stopped");
      user_regs_struct regs{};
      if (::ptrace(PTRACE_GETREGS, tid, nullptr, &regs) != 0 ||
          !loadable_from_syscall(static_cast<long>(regs.orig_rax))) {
        ::ptrace(PTRACE_DETACH, tid, nullptr, nullptr);  // moved on meanwhile: untouched
        continue;
      }
      long ret = static_cast<long>(regs.rax);
      ResumeRegs resume = ret == -EINTR && signal_pending(pid, tid)
                              ? ResumeRegs{regs.rip, regs.rax}
                              : resume_after_stop(regs.rip, static_cast<long>(regs.orig_rax), ret);
      // The frame (attach.h): the XSAVE area (zeroed: XRSTOR checks its
      // header), r15..rax, rflags, rsp; and the resume address just below
      // the original rsp. It lies below the red zone of the interrupted code.
      const uint64_t frame = (regs.rsp - 256 - frame_bytes - 17 * 8) & ~uint64_t{63};
      std::vector<uint64_t> words(frame_bytes / 8, 0);
      const uint64_t saved[] = {regs.r15, regs.r14, regs.r13, regs.r12, regs.r11, regs.r10, regs.r9, regs.r8,
                                regs.rdi, regs.rsi, regs.rbp, regs.rbx, regs.rdx, regs.rcx, resume.rax,
                                regs.eflags, regs.rsp};
      words.insert(words.end(), std::begin(saved), std::end(saved));
      UniqueFd mem = open_mem(task);
      if (!mem) {
        ::ptrace(PTRACE_DETACH, tid, nullptr, nullptr);
        return fail(Error::from_errno("cannot open the target's memory"));
      }
      auto wrote = write_mem(mem.get(), frame, words.data(), words.size() * 8);
      if (wrote) wrote = write_mem(mem.get(), regs.rsp - 8, &resume.rip, 8);
      if (!wrote) {
        ::ptrace(PTRACE_DETACH, tid, nullptr, nullptr);
        return fail(wrote.error());
      }
      test_kill_point("frame");
      user_regs_struct run = regs;
      run.rip = entry;
      run.rsp = frame;
      run.orig_rax = static_cast<unsigned long long>(-1);  // no restart of the interrupted call with these registers
      if (::ptrace(PTRACE_SETREGS, tid, nullptr, &run) != 0) {
        ::ptrace(PTRACE_DETACH, tid, nullptr, nullptr);
        return fail(Error::from_errno("cannot set the thread's registers"));
      }
      test_kill_point("regs");
      ::ptrace(PTRACE_DETACH, tid, nullptr, nullptr);
      Hijack h{tid, mono_ns() - stopped_at};
      test_kill_point("detached");
      return h;
    }
    ::usleep(5000);
  }
  return fail(last_why);
}

bool wait_readable(int fd, uint64_t deadline) {
  for (;;) {
    uint64_t now = mono_ns();
    if (now >= deadline) return false;
    pollfd p{fd, POLLIN, 0};
    int r = ::poll(&p, 1, static_cast<int>((deadline - now) / 1'000'000 + 1));
    if (r > 0) return true;
    if (r < 0 && errno != EINTR) return false;
  }
}

}  // namespace

bool loadable_from_syscall(long nr) {
  switch (nr) {
    case SYS_read: case SYS_readv: case SYS_pread64: case SYS_write: case SYS_writev:
    case SYS_poll: case SYS_select: case SYS_pselect6: case SYS_ppoll:
    case SYS_epoll_wait: case SYS_epoll_pwait:
    case SYS_nanosleep: case SYS_clock_nanosleep: case SYS_pause:
    case SYS_accept: case SYS_accept4: case SYS_connect: case SYS_recvfrom: case SYS_recvmsg:
    case SYS_sendto: case SYS_sendmsg:
    case SYS_wait4: case SYS_waitid: case SYS_futex:
    case SYS_rt_sigtimedwait: case SYS_rt_sigsuspend: case SYS_msgrcv: case SYS_io_getevents:
      return true;
    default:
      return false;
  }
}

ResumeRegs resume_after_stop(uint64_t rip, long orig_rax, long rax) {
  // The kernel's values (include/linux/errno.h), not visible to user space.
  constexpr long kRestartSys = 512, kRestartNoIntr = 513, kRestartNoHand = 514, kRestartBlock = 516;
  if (orig_rax < 0) return {rip, static_cast<uint64_t>(rax)};
  switch (-rax) {
    case kRestartSys:
    case kRestartNoIntr:
    case kRestartNoHand:
    case EINTR:
      return {rip - 2, static_cast<uint64_t>(orig_rax)};  // `syscall` is two bytes
    case kRestartBlock:
      return {rip - 2, static_cast<uint64_t>(SYS_restart_syscall)};
    default:
      return {rip, static_cast<uint64_t>(rax)};
  }
}

Result<AgentLoaded> load_agent(pid_t pid, const AgentLoad& how) {
  const uint64_t start = mono_ns();
  const uint64_t deadline = start + how.timeout_ns;
  auto maps = read_maps(pid);
  if (!maps) return fail(maps.error());
  const std::string task = task_dir(pid);
  auto data = loader_symbols(task, *maps);
  if (!data) return fail(data.error());
  auto xsave = xsave_size();
  if (!xsave) return fail(xsave.error());
  data->xsave_size = *xsave;
  const size_t code_bytes = static_cast<size_t>(dial9_injected_data - dial9_injected_begin);
  const size_t total = static_cast<size_t>(dial9_injected_end - dial9_injected_begin);
  auto slack = find_slack(task, *maps, total);
  if (!slack) return fail(slack.error());
  auto agent = open_read(how.agent_path);
  if (!agent) return fail(agent.error());

  // The handshake socket the loader connects to.
  UniqueFd listener(::socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC | SOCK_NONBLOCK, 0));
  if (!listener) return fail(Error::from_errno("socket"));
  std::random_device rd;
  std::string name = "dial9-load-" + std::to_string(::getpid()) + "-" + std::to_string(rd());
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  std::memcpy(addr.sun_path + 1, name.data(), name.size());
  socklen_t alen = static_cast<socklen_t>(offsetof(sockaddr_un, sun_path) + 1 + name.size());
  if (::bind(listener.get(), reinterpret_cast<sockaddr*>(&addr), alen) != 0 || ::listen(listener.get(), 4) != 0) {
    return fail(Error::from_errno("cannot listen for the loader"));
  }
  static_assert(sizeof addr <= sizeof data->addr);
  std::memcpy(data->addr, &addr, sizeof addr);
  data->addr_len = alen;
  std::strcpy(data->symbol, "dial9_agent_connect");
  if (how.agent_socket.size() >= sizeof data->agent_socket) return fail("the agent socket name is too long");
  std::memcpy(data->agent_socket, how.agent_socket.data(), how.agent_socket.size());

  // Step 1: the loader into the slack (unused by the program, so writing
  // it disturbs nothing).
  {
    UniqueFd mem = open_mem(task);
    if (!mem) return fail(Error::from_errno("cannot open process " + std::to_string(pid) + "'s memory"));
    std::vector<uint8_t> image(dial9_injected_begin, dial9_injected_end);
    std::memcpy(image.data() + code_bytes, &*data, sizeof(InjectedData));
    if (auto ok = write_mem(mem.get(), slack->at, image.data(), image.size()); !ok) return fail(ok.error());
  }

  // Step 2 on a thread of its own (see hijack_one).
  const uint64_t entry = slack->at + static_cast<uint64_t>(dial9_injected_hijack - dial9_injected_begin);
  Result<Hijack> hijacked = fail("not run");
  std::thread([&] { hijacked = hijack_one(pid, task, entry, *xsave, deadline); }).join();
  if (!hijacked) return fail(hijacked.error());

  // Step 4: hand the library to the loader and hear how dlopen went.
  int conn = -1;
  while (conn < 0) {
    if (!wait_readable(listener.get(), deadline)) {
      return fail("the loader did not start in process " + std::to_string(pid) + " within " +
                  std::to_string(how.timeout_ns / 1'000'000) + " ms");
    }
    conn = ::accept4(listener.get(), nullptr, nullptr, SOCK_CLOEXEC);
    if (conn < 0) continue;
    ucred cred{};
    socklen_t clen = sizeof cred;
    if (::getsockopt(conn, SOL_SOCKET, SO_PEERCRED, &cred, &clen) != 0 || cred.pid != pid) {
      ::close(conn);
      conn = -1;
    }
  }
  UniqueFd peer(conn);
  char one = 0;
  iovec iov{&one, 1};
  alignas(cmsghdr) char control[CMSG_SPACE(sizeof(int))] = {};
  msghdr msg{};
  msg.msg_iov = &iov;
  msg.msg_iovlen = 1;
  msg.msg_control = control;
  msg.msg_controllen = sizeof control;
  cmsghdr* c = CMSG_FIRSTHDR(&msg);
  c->cmsg_level = SOL_SOCKET;
  c->cmsg_type = SCM_RIGHTS;
  c->cmsg_len = CMSG_LEN(sizeof(int));
  int agent_fd = agent->get();
  std::memcpy(CMSG_DATA(c), &agent_fd, sizeof agent_fd);
  if (::sendmsg(peer.get(), &msg, MSG_NOSIGNAL) != 1) return fail(Error::from_errno("cannot send the agent to the loader"));
  test_kill_point("handshake");
  if (!wait_readable(peer.get(), deadline)) return fail("the agent did not load in process " + std::to_string(pid) + " in time");
  char reply[1024];
  ssize_t n = ::recv(peer.get(), reply, sizeof reply - 1, 0);
  if (n <= 0) return fail("the loader in process " + std::to_string(pid) + " gave up before loading the agent");
  if (!(n == 1 && reply[0] == 0)) {
    reply[n] = 0;
    return fail(std::string("the agent could not be loaded into process ") + std::to_string(pid) + ": " + reply);
  }
  AgentLoaded out;
  out.tid = hijacked->tid;
  out.stopped_ns = hijacked->stopped_ns;
  out.total_ns = mono_ns() - start;
  out.module = slack->module;
  return out;
}

}  // namespace dial9::inject
