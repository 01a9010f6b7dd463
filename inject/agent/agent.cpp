// libdial9-agent.so: the recorder inside the target. Loaded by LD_PRELOAD
// when `dial9 record` starts a program (the constructor below connects when
// the controller's socket is named in the environment), it runs one thread
// of its own that talks to the controller (format/agent_protocol.h) when
// the controller's first answer (kStart) asks for the timer sampler
// (timer_sampler.h): it sends the samples, the threads' names and the
// executable mappings as TRC batches; on kStop, or when the controller goes
// away, it deletes its timers, restores the signal, closes its socket and
// ends its thread. Asked for nothing (perf samples the program), it closes
// the socket at once and starts no thread. Either way the library stays
// loaded and inert.
//
// Rules (ARCHITECTURE.md): no exceptions or RTTI, nothing the program can
// see but the exported entry points (agent.map), every fd close-on-exec,
// the target never blocked (a full socket drops the batch), and its own
// thread blocks every signal so the program's signals never land on it.
#include <dirent.h>
#include <dlfcn.h>
#include <elf.h>
#include <fcntl.h>
#include <link.h>
#include <poll.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>

#include "format/agent_protocol.h"
#include "format/encoder.h"
#include "format/schemas.h"
#include "format/trc.h"
#include "inject/agent/app_api.h"
#include "inject/agent/batch.h"
#include "inject/agent/loaded_notes.h"
#include "inject/agent/timer_sampler.h"

namespace dial9::agent {
namespace {

namespace proto = format::agent;

std::atomic<bool> g_running{false};
// Written by the pthread_create hook (preloaded only) so the agent's thread
// gives a new thread its timer now rather than at the next rescan.
std::atomic<int> g_poke{-1};
std::atomic<int> g_poke_users{0};  // threads inside poke_agent()
// Set when the program exits (the library's destructor): the agent's
// thread sends what it holds and ends.
std::atomic<bool> g_exiting{false};
// Set by the pthread_setname_np hook: names to read again.
std::atomic<bool> g_names_dirty{false};
int g_sock = -1;
uint32_t g_pid = 0;
uint64_t g_dropped_batches = 0;

uint64_t now_ns() {
  timespec ts{};
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return static_cast<uint64_t>(ts.tv_sec) * 1000000000u + static_cast<uint64_t>(ts.tv_nsec);
}

// --- one outgoing batch: a message header, then a TRC stream -----------

alignas(8) uint8_t g_out[proto::kMaxMessage];
format::ByteBuffer g_buf;
format::Encoder g_enc(g_buf);
uint64_t g_generation = 0;
uint16_t g_builtin_ids[static_cast<size_t>(format::Builtin::kCount)];
constexpr uint16_t kUndefined = 0xFFFF;
size_t g_events = 0;
// Room every event below needs at most: a sample's stack pool frame and its
// event, or a mapping's path, plus a schema definition.
constexpr size_t kEventRoom = 64 + kMaxDepth * 10 + 4200 + 512;

void begin_batch() {
  g_buf.data = g_out;
  g_buf.cap = sizeof g_out;
  g_buf.size = sizeof(proto::MessageHeader);
  proto::MessageHeader h{proto::kMagic, proto::kVersion, static_cast<uint16_t>(proto::MessageType::kBatch)};
  std::memcpy(g_out, &h, sizeof h);
  g_enc = format::Encoder(g_buf);
  g_enc.begin_stream();
  ++g_generation;
  for (uint16_t& id : g_builtin_ids) id = kUndefined;
  g_events = 0;
}

// Until this time (now_ns), a send to a full socket waits for room; after
// it, the message is dropped (a batch counts in g_dropped_batches). It is
// in the past while recording, where the program must never wait for
// dial9, and set when recording stops: the last events and the final
// counts must not be dropped because dial9 record was behind just then.
uint64_t g_send_until_ns = 0;

bool send_message(const void* p, size_t n) {
  if (g_sock < 0) return false;
  for (;;) {
    const ssize_t r = ::send(g_sock, p, n, MSG_DONTWAIT | MSG_NOSIGNAL);
    if (r >= 0) return r == static_cast<ssize_t>(n);
    if (errno == EINTR) continue;
    const uint64_t now = now_ns();
    if ((errno != EAGAIN && errno != EWOULDBLOCK) || now >= g_send_until_ns) return false;
    pollfd pfd{g_sock, POLLOUT, 0};
    (void)::poll(&pfd, 1, static_cast<int>((g_send_until_ns - now) / 1000000 + 1));
  }
}

void send_batch() {
  if (g_events > 0 && g_enc.ok()) {
    if (!send_message(g_out, g_buf.size)) ++g_dropped_batches;
  }
  begin_batch();
}

void make_room(size_t room = kEventRoom) {
  if (g_buf.cap - g_buf.size < room || !g_enc.ok()) send_batch();
}

void put_sample(const Sample& s) {
  make_room();
  uint32_t stack = g_enc.add_stack({s.frames, s.depth});
  g_enc.begin_event(batch_builtin(format::Builtin::kCpuSample), s.ts_ns);
  g_enc.put_varint(255);  // not a runtime worker
  g_enc.put_u32(static_cast<uint32_t>(s.tid));
  g_enc.put_u8(0);        // a periodic sample
  g_enc.put_absent();     // the name comes in ThreadNameEvent
  g_enc.put_pool_ref(stack);
  g_enc.put_absent();     // cpu
  ++g_events;
}

void put_thread_name(int32_t tid, const char* name) {
  make_room();
  uint32_t n = g_enc.add_string(name);
  g_enc.begin_event(batch_builtin(format::Builtin::kThreadName), now_ns());
  g_enc.put_u32(g_pid);
  g_enc.put_u32(static_cast<uint32_t>(tid));
  g_enc.put_pool_ref(n);
  g_enc.put_bool(false);
  ++g_events;
}

// --- thread names -------------------------------------------------------

constexpr size_t kMaxNamed = 4096;
struct Named {
  int32_t tid;
  char name[16];
};
Named g_named[kMaxNamed];
size_t g_named_count = 0;

// Sends the names of threads not named yet, or renamed.
void send_thread_names() {
  DIR* d = ::opendir("/proc/self/task");
  if (!d) return;
  const int32_t self = static_cast<int32_t>(::syscall(SYS_gettid));
  while (dirent* e = ::readdir(d)) {
    int32_t tid = static_cast<int32_t>(std::atoi(e->d_name));
    if (tid <= 0 || tid == self) continue;  // the agent's own thread is not the program's
    char path[64], name[16] = {};
    std::snprintf(path, sizeof path, "/proc/self/task/%d/comm", tid);
    int fd = ::open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) continue;
    ssize_t n = ::read(fd, name, sizeof name - 1);
    ::close(fd);
    if (n <= 0) continue;
    name[n] = '\0';
    if (char* nl = std::strchr(name, '\n')) *nl = '\0';
    Named* slot = nullptr;
    for (size_t i = 0; i < g_named_count; ++i) {
      if (g_named[i].tid == tid) slot = &g_named[i];
    }
    if (slot && std::strcmp(slot->name, name) == 0) continue;
    if (!slot && g_named_count < kMaxNamed) slot = &g_named[g_named_count++];
    if (slot) {
      slot->tid = tid;
      std::memcpy(slot->name, name, sizeof slot->name);
    }
    put_thread_name(tid, name);
  }
  ::closedir(d);
}

// --- executable mappings, with build ids ---------------------------------

struct BuildId {
  uintptr_t lo, hi;  // from the loaded object's lowest to its highest PT_LOAD
  uint8_t id[20];
  uint8_t size;
};
constexpr size_t kMaxObjects = 1024;
BuildId g_ids[kMaxObjects];
size_t g_id_count = 0;

int collect_build_id(dl_phdr_info* info, size_t, void*) {
  if (g_id_count >= kMaxObjects) return 1;
  BuildId b{};
  bool have_load = false, have_id = false;
  for (int i = 0; i < info->dlpi_phnum; ++i) {
    const ElfW(Phdr)& ph = info->dlpi_phdr[i];
    if (ph.p_type == PT_LOAD) {
      uintptr_t lo = info->dlpi_addr + ph.p_vaddr, hi = lo + ph.p_memsz;
      b.lo = have_load && b.lo < lo ? b.lo : lo;
      b.hi = have_load && b.hi > hi ? b.hi : hi;
      have_load = true;
    }
  }
  uint32_t size = 0;
  const uint8_t* id = find_loaded_note(info, "GNU", NT_GNU_BUILD_ID, size);
  if (id && size <= sizeof b.id) {
    std::memcpy(b.id, id, size);
    b.size = static_cast<uint8_t>(size);
    have_id = true;
  }
  if (have_load && have_id) g_ids[g_id_count++] = b;
  return 0;
}

// The maps text last sent, to send again only what changed.
uint64_t g_maps_hash = 0;

// Sends every executable file mapping when /proc/self/maps changed.
void send_mappings() {
  static char maps[1 << 18];
  int fd = ::open("/proc/thread-self/maps", O_RDONLY | O_CLOEXEC);
  if (fd < 0) return;
  size_t have = 0;
  for (ssize_t n; have < sizeof maps - 1 && (n = ::read(fd, maps + have, sizeof maps - 1 - have)) > 0;) {
    have += static_cast<size_t>(n);
  }
  ::close(fd);
  maps[have] = '\0';
  uint64_t hash = 1469598103934665603ull;  // FNV-1a
  for (size_t i = 0; i < have; ++i) hash = (hash ^ static_cast<uint8_t>(maps[i])) * 1099511628211ull;
  if (hash == g_maps_hash) return;
  g_maps_hash = hash;
  g_id_count = 0;
  dl_iterate_phdr(collect_build_id, nullptr);
  const uint64_t ts = now_ns();
  for (char* line = maps; *line;) {
    char* end = std::strchr(line, '\n');
    if (!end) break;
    *end = '\0';
    // lo-hi perms offset dev inode path
    char* p = nullptr;
    uintptr_t lo = std::strtoull(line, &p, 16);
    uintptr_t hi = (p && *p == '-') ? std::strtoull(p + 1, &p, 16) : 0;
    char perms[5] = {};
    uint64_t offset = 0;
    int path_at = -1;
    if (p && std::sscanf(p, " %4s %lx %*s %*s %n", perms, &offset, &path_at) >= 2 && path_at > 0 && perms[2] == 'x' &&
        (p[path_at] == '/' || std::strcmp(p + path_at, "[vdso]") == 0)) {
      const char* path = p + path_at;
      const BuildId* id = nullptr;
      for (size_t i = 0; i < g_id_count && !id; ++i) {
        if (g_ids[i].lo < hi && lo < g_ids[i].hi) id = &g_ids[i];
      }
      make_room();
      uint32_t path_id = g_enc.add_string(path);
      g_enc.begin_event(batch_builtin(format::Builtin::kMapping), ts);
      g_enc.put_u32(g_pid);
      g_enc.put_varint(lo);
      g_enc.put_varint(hi - lo);
      g_enc.put_varint(offset);
      g_enc.put_pool_ref(path_id);
      if (id) {
        g_enc.put_bytes({id->id, id->size});
      } else {
        g_enc.put_bytes({});
      }
      g_enc.put_bool(true);
      ++g_events;
    }
    line = end + 1;
  }
}

int g_signal_used = 0;
uint32_t g_api_slots = 0;
proto::SamplerState g_sampler_state = proto::SamplerState::kOff;

void send_stats() {
  SamplerCounters c = sampler_counters();
  proto::Stats s;
  s.samples = c.samples;
  s.dropped_samples = c.dropped;
  s.dropped_batches = g_dropped_batches;
  s.threads = c.threads;
  s.handler_ns = c.handler_ns;
  s.signal = static_cast<uint32_t>(g_signal_used);
  s.sampler_state = static_cast<uint32_t>(g_sampler_state);
  ApiCounters api = api_counters();
  s.api_events = api.events;
  s.api_dropped = api.dropped;
  s.api_threads = api.threads;
  s.api_slots = g_api_slots;
  send_message(&s, sizeof s);
}

// --- the agent's thread ---------------------------------------------------

// A /proc stat line's field N (3: state, 20: num_threads), after "(comm)".
const char* stat_field(const char* stat, int n) {
  const char* p = std::strrchr(stat, ')');
  if (!p) return nullptr;
  int field = 2;
  for (++p; *p && field < n; ++p) {
    if (*p == ' ') ++field;
  }
  return *p ? p : nullptr;
}

bool read_stat(const char* path, char* buf, size_t size) {
  int fd = ::open(path, O_RDONLY | O_CLOEXEC);
  if (fd < 0) return false;
  ssize_t n = ::read(fd, buf, size - 1);
  ::close(fd);
  if (n <= 0) return false;
  buf[n] = '\0';
  return true;
}

// Whether the agent's thread is the process's last live one: its main
// thread ended with pthread_exit (a zombie until the group ends) and every
// other thread is gone. The kernel keeps counting the zombie main thread,
// so a count of two is checked thread by thread.
bool only_agent_left() {
  char buf[1024];
  if (!read_stat("/proc/self/stat", buf, sizeof buf)) return false;
  const char* threads = stat_field(buf, 20);
  if (!threads || std::atoi(threads) > 2) return false;
  const int32_t self = static_cast<int32_t>(::syscall(SYS_gettid));
  DIR* d = ::opendir("/proc/self/task");
  if (!d) return false;
  bool alone = true;
  while (dirent* e = ::readdir(d)) {
    int32_t tid = static_cast<int32_t>(std::atoi(e->d_name));
    if (tid <= 0 || tid == self) continue;
    char path[64];
    std::snprintf(path, sizeof path, "/proc/self/task/%d/stat", tid);
    const char* state = read_stat(path, buf, sizeof buf) ? stat_field(buf, 3) : nullptr;
    if (state && *state != 'Z' && *state != 'X') alone = false;
  }
  ::closedir(d);
  return alone;
}

void run(int sock, const proto::Start& start) {
  constexpr uint64_t kRescanNs = 100'000'000, kSlowNs = 1'000'000'000;
  static Sample samples[64];
  uint64_t last_rescan = 0, last_slow = 0;
  // A previous recording's stop (a later attach reuses the library) may
  // have left the deadline in the future: sends never wait while recording.
  g_send_until_ns = 0;
  begin_batch();
  const bool timer = start.sampler == static_cast<uint32_t>(proto::Sampler::kTimer);
  const int poke = ::eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
  g_poke.store(poke, std::memory_order_release);
  uint64_t poked_at = 0;
  g_signal_used = timer ? sampler_start(start.frequency_hz) : 0;
  const bool sampling = g_signal_used != 0;
  g_sampler_state = !timer ? proto::SamplerState::kOff
                    : sampling ? proto::SamplerState::kRunning : proto::SamplerState::kFailed;
  // Each connection is a new recording: send everything again (a later
  // attach reuses the library, and what it sent before is not in this one).
  // Without the timer sampler perf tracks threads and mappings itself.
  g_maps_hash = 0;
  g_named_count = 0;
  if (timer) {
    send_mappings();
    send_thread_names();
  }
  g_api_slots = static_cast<uint32_t>(api_find_slots());
  send_batch();
  send_stats();
  for (;;) {
    pollfd pfd[2] = {{sock, POLLIN, 0}, {poke, POLLIN, 0}};
    // The app API's buffers are drained every 20 ms, as the samples are.
    int n = ::poll(pfd, poke >= 0 ? 2 : 1, sampling || g_api_slots ? 20 : 200);
    bool poked = false;
    if (n > 0 && poke >= 0 && (pfd[1].revents & POLLIN)) {
      uint64_t v;
      (void)!::read(poke, &v, sizeof v);
      poked = true;
    }
    if (n > 0 && (pfd[0].revents & (POLLIN | POLLHUP | POLLERR))) {
      alignas(8) uint8_t msg[256];
      ssize_t r = ::recv(sock, msg, sizeof msg, MSG_DONTWAIT);
      if (r == 0 || (r < 0 && errno != EAGAIN && errno != EINTR)) break;  // the controller went away
      if (r >= static_cast<ssize_t>(sizeof(proto::MessageHeader))) {
        proto::MessageHeader h;
        std::memcpy(&h, msg, sizeof h);
        if (h.magic != proto::kMagic || h.version != proto::kVersion) break;
        if (h.type == static_cast<uint16_t>(proto::MessageType::kStop)) break;
      }
    }
    // The program's threads are all gone (its main thread ended with
    // pthread_exit, and then the others): the agent's thread must not keep
    // the process alive.
    if (only_agent_left() || g_exiting.load(std::memory_order_acquire)) break;
    uint64_t now = now_ns();
    api_drain();
    if (now - last_slow >= kSlowNs) {
      g_api_slots = static_cast<uint32_t>(api_find_slots());  // a library dlopen'd since
      if (!sampling) last_slow = now;
    }
    if (!sampling) {
      send_batch();
      // The counts with every drain: a process that ends by _exit, exec
      // or a signal (no destructor runs) leaves at most this interval
      // unreported.
      send_stats();
      continue;
    }
    // A new thread (poked) gets its timer within ~5 ms; others every 100 ms.
    if (now - last_rescan >= kRescanNs || (poked && now - poked_at >= 5'000'000)) {
      if (sampler_rescan() > 0) g_names_dirty.store(true);
      last_rescan = now;
      if (poked) poked_at = now;
    }
    if (g_names_dirty.exchange(false)) send_thread_names();
    for (size_t got; (got = sampler_drain(samples, 64)) > 0;) {
      for (size_t i = 0; i < got; ++i) put_sample(samples[i]);
    }
    if (now - last_slow >= kSlowNs) {
      send_thread_names();
      send_mappings();
      last_slow = now;
    }
    send_batch();
    send_stats();
  }
  // Stopping: the API's slots emptied, no timer left, the signal as it
  // was, the last events and samples sent, waiting for room in the socket
  // if need be: up to a second when dial9 stopped recording (it waits as
  // long), less than the 200 ms the library's destructor allows when the
  // program exits.
  g_send_until_ns = now_ns() + (g_exiting.load(std::memory_order_acquire) ? 150'000'000 : 1'000'000'000);
  api_stop();
  api_drain();
  g_poke.store(-1, std::memory_order_seq_cst);
  while (g_poke_users.load(std::memory_order_seq_cst) != 0) ::sched_yield();
  if (poke >= 0) ::close(poke);
  sampler_stop();
  for (size_t got; (got = sampler_drain(samples, 64)) > 0;) {
    for (size_t i = 0; i < got; ++i) put_sample(samples[i]);
  }
  send_batch();
  send_stats();
  proto::MessageHeader bye{proto::kMagic, proto::kVersion, static_cast<uint16_t>(proto::MessageType::kBye)};
  send_message(&bye, sizeof bye);
}

proto::Start g_start;

void on_fork_child() {
  api_on_fork_child();
  if (g_sock >= 0) ::close(g_sock);
  g_sock = -1;
  int poke = g_poke.exchange(-1);
  if (poke >= 0) ::close(poke);
  g_running.store(false);
}

void* agent_thread(void* arg) {
  int sock = static_cast<int>(reinterpret_cast<intptr_t>(arg));
  ::pthread_setname_np(::pthread_self(), proto::kAgentThreadName);
  // SCHED_BATCH: woken (its 20 ms timer, or a ring past half full) the
  // agent's thread waits for a free CPU or the next tick instead of
  // preempting the program's thread where it runs. Its work can wait that
  // long (a ring has half its room left when it is poked); the program's
  // should not wait for it. Lowering a thread's policy needs no privilege;
  // if it fails the thread keeps the program's.
  sched_param none{};
  (void)::pthread_setschedparam(::pthread_self(), SCHED_BATCH, &none);
  run(sock, g_start);
  g_sock = -1;
  ::close(sock);
  g_running.store(false, std::memory_order_release);
  return nullptr;
}

// Connects to the controller's socket ("@name": abstract) and checks that
// it runs as root or as this process's user.
int connect_controller(const char* name) {
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  size_t len = std::strlen(name);
  if (len == 0 || len >= sizeof addr.sun_path) return -1;
  std::memcpy(addr.sun_path, name, len);
  if (name[0] == '@') addr.sun_path[0] = '\0';
  int fd = ::socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0);
  if (fd < 0) return -1;
  socklen_t alen = static_cast<socklen_t>(offsetof(sockaddr_un, sun_path) + len);
  if (::connect(fd, reinterpret_cast<sockaddr*>(&addr), alen) != 0) {
    ::close(fd);
    return -1;
  }
  ucred cred{};
  socklen_t clen = sizeof cred;
  if (::getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &clen) != 0 || (cred.uid != 0 && cred.uid != ::getuid())) {
    ::close(fd);
    return -1;
  }
  return fd;
}

}  // namespace

format::Encoder& batch_encoder(size_t room) {
  make_room(room);
  return g_enc;
}
void batch_event_written() { ++g_events; }
void poke_agent() {
  // Counted in and out, so the agent's thread closes the eventfd only when
  // no thread is between reading its number and writing to it (or the
  // program could get 8 bytes in a file that reused the number).
  g_poke_users.fetch_add(1);  // seq_cst, as the closer's store and load
  int poke = g_poke.load();
  if (poke >= 0) {
    uint64_t one = 1;
    (void)!::write(poke, &one, sizeof one);
  }
  g_poke_users.fetch_sub(1);
}
uint64_t batch_generation() { return g_generation; }
uint16_t batch_builtin(format::Builtin id) {
  uint16_t& slot = g_builtin_ids[static_cast<size_t>(id)];
  if (slot == kUndefined) slot = g_enc.define(format::builtin_schema(id).def());
  return slot;
}

}  // namespace dial9::agent

// Connects to the controller at `socket_name` and starts the agent's thread.
// `how`: 0 preloaded, 1 loaded into a running process. Returns 0, or -1
// when the agent is already running or the controller cannot be reached.
extern "C" __attribute__((visibility("default"))) int dial9_agent_connect(const char* socket_name, int how) {
  using namespace dial9::agent;
  if (g_running.exchange(true)) return -1;
  int fd = connect_controller(socket_name);
  if (fd < 0) {
    g_running.store(false);
    return -1;
  }
  g_pid = static_cast<uint32_t>(::getpid());
  proto::Hello hello;
  hello.pid = g_pid;
  hello.how = static_cast<uint32_t>(how);
  g_sock = fd;
  auto give_up = [&] {
    g_sock = -1;
    ::close(fd);
    g_running.store(false);
    return -1;
  };
  if (!send_message(&hello, sizeof hello)) return give_up();
  // The controller answers at once with what to do. Nothing to sample
  // (perf samples the program): stay inert, no thread, no socket. The wait
  // is bounded, so a controller that hangs cannot hold the program.
  pollfd pfd{fd, POLLIN, 0};
  int ready;
  do {
    ready = ::poll(&pfd, 1, 2000);
  } while (ready < 0 && errno == EINTR);
  alignas(8) uint8_t msg[256];
  ssize_t r = ready > 0 ? ::recv(fd, msg, sizeof msg, MSG_DONTWAIT) : -1;
  if (r < static_cast<ssize_t>(sizeof(proto::Start))) return give_up();
  std::memcpy(&g_start, msg, sizeof g_start);
  // Nothing to do unless the timer sampler is asked for or the program
  // uses the app API.
  if (g_start.header.magic != proto::kMagic || g_start.header.version != proto::kVersion ||
      g_start.header.type != static_cast<uint16_t>(proto::MessageType::kStart) ||
      (g_start.sampler != static_cast<uint32_t>(proto::Sampler::kTimer) && api_find_slots() == 0)) {
    return give_up();
  }
  // A child forked without exec keeps none of this (threads do not survive
  // fork; its copies of the descriptors are closed).
  static bool atfork_once = (::pthread_atfork(nullptr, nullptr, on_fork_child), true);
  (void)atfork_once;
  // The agent's thread takes no signal of the program's.
  sigset_t all, old;
  sigfillset(&all);
  ::pthread_sigmask(SIG_SETMASK, &all, &old);
  // The app API is served from here on, before the program's main() when
  // preloaded: its first calls are recorded.
  api_start();
  pthread_attr_t attr;
  ::pthread_attr_init(&attr);
  ::pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
  ::pthread_attr_setstacksize(&attr, 256 * 1024);
  pthread_t t;
  int rc = ::pthread_create(&t, &attr, agent_thread, reinterpret_cast<void*>(static_cast<intptr_t>(fd)));
  ::pthread_attr_destroy(&attr);
  ::pthread_sigmask(SIG_SETMASK, &old, nullptr);
  if (rc != 0) {
    api_stop();
    return give_up();
  }
  return 0;
}

// Preloaded: connect when dial9 named its socket and there is something to
// do: the timer sampler was asked for, or the program uses the app API.
// Otherwise the program starts without waiting for anything. A program
// that execs another keeps the variables, so each process of the
// recording connects when it has to.
__attribute__((constructor)) static void dial9_agent_on_load() {
  const char* name = std::getenv(dial9::format::agent::kSocketEnv);
  const char* sampler = std::getenv(dial9::format::agent::kSamplerEnv);
  const bool timer = sampler && std::strcmp(sampler, "timer") == 0;
  if (name && *name && (timer || dial9::agent::api_find_slots() > 0)) (void)dial9_agent_connect(name, 0);
}

// The program exits (exit() or main's return run the libraries'
// destructors): what the agent's thread holds, the app API's last events
// above all, is sent before the process ends. Bounded: a stuck socket
// cannot hold the exit for more than 200 ms.
__attribute__((destructor)) static void dial9_agent_on_exit() {
  using namespace dial9::agent;
  if (!g_running.load(std::memory_order_acquire)) return;
  g_exiting.store(true, std::memory_order_release);
  poke_agent();
  for (int i = 0; i < 200 && g_running.load(std::memory_order_acquire); ++i) {
    timespec ms{0, 1'000'000};
    ::nanosleep(&ms, nullptr);
  }
}

// Preloaded, this is the program's pthread_create: the real one, then a
// poke so the new thread is sampled from its first milliseconds. (Loaded
// later by attach, the program's calls are already bound to libc's.)
extern "C" __attribute__((visibility("default"))) int pthread_create(pthread_t* thread, const pthread_attr_t* attr,
                                                                    void* (*start)(void*), void* arg) {
  using Fn = int (*)(pthread_t*, const pthread_attr_t*, void* (*)(void*), void*);
  static Fn real = reinterpret_cast<Fn>(::dlsym(RTLD_NEXT, "pthread_create"));
  if (!real) return EAGAIN;
  int rc = real(thread, attr, start, arg);
  if (rc == 0) dial9::agent::poke_agent();
  return rc;
}

// Preloaded, this is also the program's pthread_setname_np: the agent reads
// the threads' names again, so a short-lived thread keeps the name it gave
// itself.
extern "C" __attribute__((visibility("default"))) int pthread_setname_np(pthread_t thread, const char* name) {
  using Fn = int (*)(pthread_t, const char*);
  static Fn real = reinterpret_cast<Fn>(::dlsym(RTLD_NEXT, "pthread_setname_np"));
  if (!real) return ENOSYS;
  int rc = real(thread, name);
  if (rc == 0) {
    dial9::agent::g_names_dirty.store(true, std::memory_order_release);
    dial9::agent::poke_agent();
  }
  return rc;
}
