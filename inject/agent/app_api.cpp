// The app API inside the agent: the function table the program's slots
// point to, the per-thread rings its calls write, the registries of event
// types and span sites, and the drain that turns ring records into TRC.
//
// Who runs what:
//   - program threads run the table's functions: they read the registries
//     (and add to them under g_reg_mu on an event type's or span site's first
//     use), and write only their own ring (single producer: head);
//   - the agent's thread drains every ring (single consumer: tail), owns the
//     location table and the task -> spawn location map, and recycles the
//     rings of threads that ended.
// Nothing here is reached from a signal handler.
#include "inject/agent/app_api.h"

#include <dial9/dial9.h>
#include <elf.h>
#include <fcntl.h>
#include <link.h>
#include <pthread.h>
#include <sched.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include <atomic>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <new>

#include "format/agent_protocol.h"
#include "inject/agent/batch.h"
#include "inject/agent/loaded_notes.h"

namespace dial9::agent {
namespace {

using format::Builtin;
using format::FieldType;

// --- slots ----------------------------------------------------------------

constexpr size_t kMaxSlots = 256;
using Slot = const dial9_api* volatile;
Slot* g_slots[kMaxSlots];
size_t g_slot_count = 0;
std::atomic<bool> g_on{false};

void add_slot(Slot* slot) {
  for (size_t i = 0; i < g_slot_count; ++i) {
    if (g_slots[i] == slot) return;
  }
  if (g_slot_count < kMaxSlots) g_slots[g_slot_count++] = slot;
}

int find_notes(dl_phdr_info* info, size_t, void*) {
  uint32_t size = 0;
  const uint8_t* desc = find_loaded_note(info, format::agent::kApiNoteOwner, format::agent::kApiNoteType, size);
  if (!desc || size < 12) return 0;
  int64_t offset;
  uint32_t version;
  std::memcpy(&offset, desc, 8);
  std::memcpy(&version, desc + 8, 4);
  // The slot is at the descriptor plus the offset the linker wrote.
  if (version >= 1) add_slot(reinterpret_cast<Slot*>(reinterpret_cast<uintptr_t>(desc) + offset));
  return 0;
}

extern const dial9_api g_table;

void install_all(const dial9_api* table) {
  for (size_t i = 0; i < g_slot_count; ++i) __atomic_store_n(g_slots[i], table, __ATOMIC_RELEASE);
}

// --- time -----------------------------------------------------------------

inline uint64_t mono_ns() {
  timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return static_cast<uint64_t>(ts.tv_sec) * 1000000000u + static_cast<uint64_t>(ts.tv_nsec);
}

// Program threads stamp records with the CPU's counter where it is the
// kernel's clocksource (a few ns; clock_gettime costs ~30 ns in a VM, a
// third of a recorded event), and the agent's thread converts them to
// CLOCK_MONOTONIC when it drains, anchored on a (counter, clock) pair it
// reads then: the error is the clock's drift over one drain interval.
// Elsewhere records carry CLOCK_MONOTONIC itself.
bool g_ticks = false;
inline uint64_t ticks() {
#if defined(__x86_64__)
  return __builtin_ia32_rdtsc();
#elif defined(__aarch64__)
  uint64_t v;
  __asm__ volatile("mrs %0, cntvct_el0" : "=r"(v));
  return v;
#else
  return mono_ns();
#endif
}
bool counter_is_clocksource() {
  char name[64] = {};
  int fd = ::open("/sys/devices/system/clocksource/clocksource0/current_clocksource", O_RDONLY | O_CLOEXEC);
  if (fd < 0) return false;
  ssize_t n = ::read(fd, name, sizeof name - 1);
  ::close(fd);
  if (n <= 0) return false;
#if defined(__x86_64__)
  return std::strncmp(name, "tsc\n", 4) == 0;
#elif defined(__aarch64__)
  return std::strncmp(name, "arch_sys_counter\n", 17) == 0;
#else
  return false;
#endif
}
// A record's time: counter ticks, or nanoseconds when g_ticks is off.
inline uint64_t stamp() { return g_ticks ? ticks() : mono_ns(); }

struct ClockPair {
  uint64_t ticks = 0, ns = 0;
};
ClockPair read_pair() {
  // The clock between two counter reads, so the pair is as tight as the
  // clock call.
  const uint64_t t0 = ticks();
  const uint64_t ns = mono_ns();
  const uint64_t t1 = ticks();
  return {t0 + (t1 - t0) / 2, ns};
}
ClockPair g_base, g_anchor;  // from the start; the latest drain
double g_ns_per_tick = 1.0;

// At each drain: the anchor is now; the rate is measured from the start.
void update_clock() {
  if (!g_ticks) return;
  g_anchor = read_pair();
  if (g_anchor.ticks > g_base.ticks && g_anchor.ns > g_base.ns) {
    g_ns_per_tick = static_cast<double>(g_anchor.ns - g_base.ns) / static_cast<double>(g_anchor.ticks - g_base.ticks);
  }
}
uint64_t to_ns(uint64_t ts, bool is_ns) {
  if (!g_ticks || is_ns) return ts;
  const double d = static_cast<double>(static_cast<int64_t>(ts - g_anchor.ticks)) * g_ns_per_tick;
  return static_cast<uint64_t>(static_cast<int64_t>(g_anchor.ns) + static_cast<int64_t>(d));
}

uint64_t thread_cpu_ns() {
  timespec ts;
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
  return static_cast<uint64_t>(ts.tv_sec) * 1000000000u + static_cast<uint64_t>(ts.tv_nsec);
}

// --- registries -------------------------------------------------------------

constexpr uint32_t kRejected = 0xFFFFFFFF;  // an event type or site broke the rules
constexpr uint32_t kMaxFields = 32;
constexpr size_t kMaxTypes = 1024, kMaxSites = 1024;
constexpr size_t kMaxString = 1024;  // longer values are cut

struct TypeReg {
  const char* name;
  uint32_t fields;
  // Bit i: field i is optional / a string. Decided once at registration so
  // that emitting one does not decode every field's type; a type without
  // optional fields writes no presence word (its records are 8 bytes
  // shorter: the ring's memory traffic is most of an event's cost).
  uint32_t optional_mask;
  uint32_t string_mask;
  const char* field_names[kMaxFields];
  uint8_t field_types[kMaxFields];
};
struct SiteReg {
  const char* enter_schema;  // "SpanEnter:app::<name>:<file>:<line>"
  const char* exit_schema;
  const char* name;
  uint32_t fields;
  const char* field_names[kMaxFields];
};
TypeReg g_types[kMaxTypes];
SiteReg g_sites[kMaxSites];
uint32_t g_type_count = 0, g_site_count = 0;
pthread_mutex_t g_reg_mu = PTHREAD_MUTEX_INITIALIZER;

// Copies of the program's names: its strings may be in a library it unloads.
char g_arena[512 * 1024];
size_t g_arena_used = 0;

const char* keep(const char* a, const char* b = "", const char* c = "") {
  char buf[4096];
  int n = std::snprintf(buf, sizeof buf, "%s%s%s", a, b, c);
  if (n < 0 || static_cast<size_t>(n) >= sizeof buf || g_arena_used + static_cast<size_t>(n) + 1 > sizeof g_arena) {
    return nullptr;
  }
  char* out = g_arena + g_arena_used;
  std::memcpy(out, buf, static_cast<size_t>(n) + 1);
  g_arena_used += static_cast<size_t>(n) + 1;
  return out;
}

bool valid_type(uint8_t t) {
  switch (static_cast<FieldType>(t & ~format::kOptionalBit)) {
    case FieldType::kI64:
    case FieldType::kF64:
    case FieldType::kBool:
    case FieldType::kString:
    case FieldType::kVarint:
    case FieldType::kU8:
    case FieldType::kU16:
    case FieldType::kU32:
      return true;
    default:
      return false;
  }
}

// The registry id in *slot (1-based), registered by `make` (which returns
// the new id, or kRejected) on first use, once whatever thread races.
template <class Make>
uint32_t registered(uint32_t* slot, Make make) {
  uint32_t id = __atomic_load_n(slot, __ATOMIC_ACQUIRE);
  if (id != 0) return id;
  pthread_mutex_lock(&g_reg_mu);
  id = *slot;
  if (id == 0) {
    id = make();
    __atomic_store_n(slot, id, __ATOMIC_RELEASE);
  }
  pthread_mutex_unlock(&g_reg_mu);
  return id;
}

// An event type's id; kRejected for a type that breaks the rules (dial9(3)).
uint32_t type_id(dial9_event_type* t) {
  return registered(&t->id, [t]() -> uint32_t {
    bool ok = t->name && *t->name && t->field_count <= kMaxFields && (t->field_count == 0 || t->fields) &&
              g_type_count < kMaxTypes;
    for (uint32_t i = 0; ok && i < t->field_count; ++i) ok = t->fields[i].name && valid_type(t->fields[i].type);
    TypeReg& r = g_types[g_type_count];
    if (ok) ok = (r.name = keep(t->name)) != nullptr;
    for (uint32_t i = 0; ok && i < t->field_count; ++i) {
      ok = (r.field_names[i] = keep(t->fields[i].name)) != nullptr;
      r.field_types[i] = t->fields[i].type;
    }
    if (!ok) return kRejected;
    r.fields = t->field_count;
    r.optional_mask = r.string_mask = 0;
    for (uint32_t i = 0; i < r.fields; ++i) {
      if (r.field_types[i] & format::kOptionalBit) r.optional_mask |= 1u << i;
      if ((r.field_types[i] & ~format::kOptionalBit) == static_cast<uint8_t>(FieldType::kString)) {
        r.string_mask |= 1u << i;
      }
    }
    return ++g_type_count;
  });
}

// A span site's id; its schemas are named after its call site.
uint32_t site_id(dial9_span_site* s) {
  return registered(&s->id, [s]() -> uint32_t {
    bool ok = s->name && *s->name && s->field_count <= kMaxFields && (s->field_count == 0 || s->field_names) &&
              g_site_count < kMaxSites;
    SiteReg& r = g_sites[g_site_count];
    char callsite[1200];
    if (ok) {
      std::snprintf(callsite, sizeof callsite, "app::%s:%s:%u", s->name, s->file ? s->file : "", s->line);
      ok = (r.enter_schema = keep("SpanEnter:", callsite)) && (r.exit_schema = keep("SpanExit:", callsite)) &&
           (r.name = keep(s->name));
    }
    for (uint32_t i = 0; ok && i < s->field_count; ++i) {
      ok = s->field_names[i] && (r.field_names[i] = keep(s->field_names[i]));
    }
    if (!ok) return kRejected;
    r.fields = s->field_count;
    return ++g_site_count;
  });
}

// --- per-thread rings ------------------------------------------------------

// Per thread; touched only as far as it is used. The agent's thread drains
// every 20 ms, and at once when a ring passes half full. 512 KiB, not 256:
// the agent's thread runs SCHED_BATCH, so once poked it can wait a few
// milliseconds for a CPU, and the Asio echo example (14 events a request,
// 50k requests/s) filled the other half of 256 KiB in about 4 ms: 1-3% of
// its events were dropped, against under 0.15% with 512 KiB, whose drains,
// twice as large and half as many, also cost its thread a fifth less.
constexpr size_t kRingBytes = 512 * 1024;
constexpr size_t kMaxRings = 4096;
constexpr uint32_t kMaxOpenSpans = 64;
constexpr uint32_t kMaxWorker = 253;
enum RingState : int { kFree = 0, kLive = 1, kOrphan = 2 };

struct Ring {
  alignas(64) std::atomic<uint64_t> head{0};  // the owner's
  alignas(64) std::atomic<uint64_t> tail{0};  // the agent thread's
  alignas(64) std::atomic<int> state{kLive};
  std::atomic<uint64_t> dropped{0};
  std::atomic<bool> poked{false};  // the agent's thread was asked to drain
  uint32_t index = 0;  // in g_rings: part of span ids
  int32_t tid = 0;
  uint32_t worker = 255;
  uint64_t span_seq = 0;
  struct Open {
    uint64_t id;
    uint32_t site;
  } open[kMaxOpenSpans];
  uint32_t depth = 0;
  // /proc/thread-self/schedstat, for run-queue wait: opened by the owner,
  // closed by the agent's thread when recording stops (or the thread
  // ended), so a detached program keeps no descriptor of dial9's. `busy`
  // is set while the owner uses it (see close_schedstat).
  std::atomic<int> schedstat_fd{-1};
  std::atomic<bool> busy{false};
  uint64_t parked_wait_ns = 0;
  alignas(64) uint8_t data[kRingBytes];
};

std::atomic<Ring*> g_rings[kMaxRings];
std::atomic<uint32_t> g_ring_count{0};
Ring* const kDead = reinterpret_cast<Ring*>(uintptr_t{1});
// initial-exec: a direct %fs-relative load instead of a __tls_get_addr call
// on every API call. One pointer, so it fits the static TLS surplus glibc
// keeps for libraries dlopen'ed later (attach injects the agent that way).
__thread Ring* t_ring __attribute__((tls_model("initial-exec"))) = nullptr;
pthread_key_t g_key;
pthread_once_t g_key_once = PTHREAD_ONCE_INIT;
std::atomic<uint64_t> g_dropped_other{0};  // records refused before reaching a ring

// A thread's end: its ring is drained one last time, then recycled.
void on_thread_exit(void* p) {
  t_ring = kDead;
  static_cast<Ring*>(p)->state.store(kOrphan, std::memory_order_release);
}
void make_key() { (void)pthread_key_create(&g_key, on_thread_exit); }

Ring* claim_ring() {
  pthread_once(&g_key_once, make_key);
  Ring* r = nullptr;
  const uint32_t n = g_ring_count.load(std::memory_order_acquire);
  for (uint32_t i = 0; i < n && i < kMaxRings && !r; ++i) {
    Ring* c = g_rings[i].load(std::memory_order_acquire);
    int expect = kFree;
    if (c && c->state.compare_exchange_strong(expect, kLive, std::memory_order_acq_rel)) r = c;
  }
  if (!r) {
    uint32_t i = g_ring_count.fetch_add(1, std::memory_order_acq_rel);
    void* m = i < kMaxRings ? ::mmap(nullptr, sizeof(Ring), PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0)
                            : MAP_FAILED;
    if (m == MAP_FAILED) {
      t_ring = kDead;  // this thread's calls are dropped from now on
      g_dropped_other.fetch_add(1, std::memory_order_relaxed);
      return nullptr;
    }
    r = new (m) Ring;
    r->index = i;
    g_rings[i].store(r, std::memory_order_release);
  }
  r->tid = static_cast<int32_t>(::syscall(SYS_gettid));
  r->worker = 255;
  r->depth = 0;
  r->parked_wait_ns = 0;
  t_ring = r;
  (void)pthread_setspecific(g_key, r);
  return r;
}

// Closes a ring's schedstat descriptor once its owner is not using it
// (agent thread only; after g_on went false, or its thread ended).
void close_schedstat(Ring* r) {
  while (r->busy.load()) ::sched_yield();
  const int fd = r->schedstat_fd.exchange(-1);
  if (fd >= 0) ::close(fd);
}

inline Ring* my_ring() {
  Ring* r = t_ring;
  if (__builtin_expect(r > kDead, 1)) return r;
  return r == kDead ? nullptr : claim_ring();
}

// Records. Every record starts with a RecHeader and is a multiple of 8
// bytes; one never wraps around the ring's end (a kPad fills the rest).
enum Kind : uint16_t {
  kPad,
  kEvent,
  kSpanEnter,
  kSpanExit,
  kPollStart,
  kPollEnd,
  kPark,
  kUnpark,
  kSpawn,
  kTerminate,
  kWake,
  kQueue,
  kWorkerStart,
  kWorkerStop,
};
struct RecHeader {
  uint16_t kind;
  uint16_t words;  // size / 8
  uint32_t aux;    // event type or span site
  uint64_t ts;
};
struct SpanRec {
  uint64_t span, parent;
  uint32_t worker, values;
  uint64_t present;  // bit i: value i is there (a string follows)
};
struct PollRec {
  uint64_t task;
  uint32_t worker, local_queue, line, col;
  uint64_t file_len;  // 0: the spawn's location; else the file follows
};
struct ParkRec {
  uint64_t cpu_ns, sched_wait_ns;
  uint32_t worker, local_queue, tid, pad;
};
struct TaskRec {
  uint64_t a, b;  // task; waker / woken; or the queue depth
  uint32_t worker, c;
};

constexpr size_t align8(size_t n) { return (n + 7) & ~size_t{7}; }
constexpr size_t kMaxRecord = kRingBytes / 4;

// Room for one record of `size` bytes in `r`, or nullptr (counted) when
// the ring is full. commit() publishes it.
uint8_t* reserve(Ring* r, size_t size, uint64_t& next_head) {
  uint64_t head = r->head.load(std::memory_order_relaxed);
  const uint64_t tail = r->tail.load(std::memory_order_acquire);
  const size_t off = head % kRingBytes, to_end = kRingBytes - off;
  const uint64_t need = to_end < size ? to_end + size : size;
  if (size > kMaxRecord || head + need - tail > kRingBytes) {
    r->dropped.fetch_add(1, std::memory_order_relaxed);
    return nullptr;
  }
  if (to_end < size) {
    RecHeader pad{kPad, static_cast<uint16_t>(to_end / 8), 0, 0};
    std::memcpy(r->data + off, &pad, 4);  // to_end may be only 8 bytes
    head += to_end;
  }
  next_head = head + size;
  if (next_head - tail > kRingBytes / 2 && !r->poked.load(std::memory_order_relaxed)) {
    r->poked.store(true, std::memory_order_relaxed);
    poke_agent();  // one write(2), once per filling: a burst is drained before it overflows
  }
  return r->data + head % kRingBytes;
}
inline void commit(Ring* r, uint64_t next_head) { r->head.store(next_head, std::memory_order_release); }

// Or'ed into a record's kind: its time is nanoseconds already (an explicit
// timestamp), not counter ticks.
constexpr uint16_t kTimeIsNs = 0x8000;

inline uint8_t* put_header(uint8_t* p, uint16_t kind, size_t size, uint32_t aux, uint64_t ts) {
  RecHeader h{kind, static_cast<uint16_t>(size / 8), aux, ts};
  std::memcpy(p, &h, sizeof h);
  return p + sizeof h;
}
// Copies n bytes, sizeof(W) <= n <= 2 * sizeof(W), as a first and a last
// word that overlap: loads and stores stay within [s, s + n), [d, d + n).
template <class W>
inline void copy_ends(uint8_t* d, const char* s, size_t n) {
  W a, b;
  std::memcpy(&a, s, sizeof a);
  std::memcpy(&b, s + n - sizeof b, sizeof b);
  std::memcpy(d, &a, sizeof a);
  std::memcpy(d + n - sizeof b, &b, sizeof b);
}
// Copies n bytes; strings in events are mostly a few bytes, where the call
// into memcpy costs more than the copy.
inline void copy_bytes(uint8_t* d, const char* s, size_t n) {
  if (n > 16) {
    std::memcpy(d, s, n);
  } else if (n >= 8) {
    copy_ends<uint64_t>(d, s, n);
  } else if (n >= 4) {
    copy_ends<uint32_t>(d, s, n);
  } else if (n > 0) {
    d[0] = static_cast<uint8_t>(s[0]);
    d[n / 2] = static_cast<uint8_t>(s[n / 2]);
    d[n - 1] = static_cast<uint8_t>(s[n - 1]);
  }
}
inline uint8_t* put_str(uint8_t* p, const char* s, size_t n) {
  uint64_t len = n;
  std::memcpy(p, &len, 8);
  copy_bytes(p + 8, s, n);
  return p + 8 + align8(n);
}

// Writes one fixed-size record.
template <class Body>
void write_fixed(Kind kind, uint32_t aux, const Body& body) {
  Ring* r = my_ring();
  if (!r) return;
  constexpr size_t size = sizeof(RecHeader) + sizeof(Body);
  uint64_t next;
  uint8_t* p = reserve(r, size, next);
  if (!p) return;
  std::memcpy(put_header(p, kind, size, aux, stamp()), &body, sizeof body);
  commit(r, next);
}

inline bool on() { return g_on.load(std::memory_order_relaxed); }

// A string value's bytes in the ring: none when absent or null, at most
// kMaxString.
inline size_t str_len(const dial9_value& v) { return v.present && v.v.s.ptr ? std::min(v.v.s.len, kMaxString) : 0; }

// --- the table's functions ---------------------------------------------------

void api_emit(dial9_event_type* type, const dial9_value* values, uint32_t count, uint64_t ts) {
  if (!on() || !type) return;
  const uint64_t now = ts ? ts : stamp();
  const uint32_t id = type_id(type);
  Ring* r = my_ring();
  if (!r) return;
  const TypeReg* t = id == kRejected ? nullptr : &g_types[id - 1];
  if (!t || count != t->fields || (count && !values)) {
    r->dropped.fetch_add(1, std::memory_order_relaxed);
    return;
  }
  const uint16_t kind = static_cast<uint16_t>(kEvent | (ts ? kTimeIsNs : 0));
  if (!t->optional_mask) {
    // Every field is there (the common case): sized from the strings
    // alone, then written in one pass that also checks presence; a missing
    // value breaks the rules, and the record becomes padding. The general
    // loop below costs about a quarter more per event (bench_app_api,
    // BM_EventPaced, the two agents alternated in one run).
    size_t size = sizeof(RecHeader) + size_t{8} * count;
    for (uint64_t m = t->string_mask; m; m &= m - 1) size += align8(str_len(values[__builtin_ctzll(m)]));
    uint64_t next;
    uint8_t* p = reserve(r, size, next);
    if (!p) return;
    uint8_t* const start = p;
    p = put_header(p, kind, size, id, now);
    uint8_t all = 1;
    for (uint32_t i = 0; i < count; ++i) {
      all &= values[i].present != 0;
      if (t->string_mask >> i & 1) {
        p = put_str(p, values[i].v.s.ptr, str_len(values[i]));
      } else {
        std::memcpy(p, &values[i].v, 8);
        p += 8;
      }
    }
    if (!all) {
      put_header(start, kPad, size, 0, 0);
      r->dropped.fetch_add(1, std::memory_order_relaxed);
    }
    commit(r, next);
    return;
  }
  // The presence word only when the type has optional fields (TypeReg).
  size_t size = sizeof(RecHeader) + 8;
  uint64_t present = 0;
  for (uint32_t i = 0; i < count; ++i) {
    if (!values[i].present) {
      if (!(t->optional_mask >> i & 1)) {
        r->dropped.fetch_add(1, std::memory_order_relaxed);
        return;
      }
      continue;
    }
    present |= uint64_t{1} << i;
    size += t->string_mask >> i & 1 ? 8 + align8(str_len(values[i])) : 8;
  }
  uint64_t next;
  uint8_t* p = reserve(r, size, next);
  if (!p) return;
  p = put_header(p, kind, size, id, now);
  std::memcpy(p, &present, 8);
  p += 8;
  for (uint32_t i = 0; i < count; ++i) {
    if (!(present >> i & 1)) continue;
    if (t->string_mask >> i & 1) {
      p = put_str(p, values[i].v.s.ptr, str_len(values[i]));
    } else {
      std::memcpy(p, &values[i].v, 8);
      p += 8;
    }
  }
  commit(r, next);
}

uint64_t api_span_enter(dial9_span_site* site, const dial9_str* values, uint32_t count) {
  if (!on() || !site) return 0;
  const uint64_t now = stamp();
  const uint32_t id = site_id(site);
  Ring* r = my_ring();
  if (!r) return 0;
  if (id == kRejected) {
    r->dropped.fetch_add(1, std::memory_order_relaxed);
    return 0;
  }
  const SiteReg& s = g_sites[id - 1];
  if (count > s.fields || !values) count = values ? s.fields : 0;
  SpanRec body{};
  body.span = (uint64_t{r->index} + 1) << 40 | (++r->span_seq & ((uint64_t{1} << 40) - 1));
  body.parent = r->depth ? r->open[r->depth - 1].id : 0;
  body.worker = r->worker;
  body.values = count;
  size_t size = sizeof(RecHeader) + sizeof body;
  for (uint32_t i = 0; i < count; ++i) {
    if (!values[i].ptr) continue;
    body.present |= uint64_t{1} << i;
    size += 8 + align8(std::min(values[i].len, kMaxString));
  }
  if (r->depth < kMaxOpenSpans) r->open[r->depth++] = {body.span, id};
  uint64_t next;
  uint8_t* p = reserve(r, size, next);
  if (!p) return body.span;  // still closed by its exit: the stack stays right
  p = put_header(p, kSpanEnter, size, id, now);
  std::memcpy(p, &body, sizeof body);
  p += sizeof body;
  for (uint32_t i = 0; i < count; ++i) {
    if (values[i].ptr) p = put_str(p, values[i].ptr, std::min(values[i].len, kMaxString));
  }
  commit(r, next);
  return body.span;
}

void api_span_exit(uint64_t span) {
  Ring* r = my_ring();
  if (!r) return;
  // Spans close innermost first as a rule; one closed out of order is
  // taken out of the middle. An exit on another thread than the enter, or
  // of a span deeper than kMaxOpenSpans, cannot name its site: dropped.
  uint32_t site = 0;
  for (uint32_t i = r->depth; i-- > 0;) {
    if (r->open[i].id != span) continue;
    site = r->open[i].site;
    std::memmove(&r->open[i], &r->open[i + 1], (r->depth - i - 1) * sizeof r->open[0]);
    --r->depth;
    break;
  }
  if (!on()) return;
  if (site == 0) {
    r->dropped.fetch_add(1, std::memory_order_relaxed);
    return;
  }
  SpanRec body{};
  body.span = span;
  body.worker = r->worker;
  write_fixed(kSpanExit, site, body);
}

void api_worker_start(uint32_t index) {
  if (!on()) return;
  Ring* r = my_ring();
  if (!r) return;
  r->worker = index < kMaxWorker ? index : kMaxWorker;  // 254 and 255 are reserved (FORMAT.md)
  ParkRec body{0, 0, r->worker, 0, static_cast<uint32_t>(r->tid), 0};
  write_fixed(kWorkerStart, 0, body);
}

void api_worker_stop() {
  if (!on()) return;
  Ring* r = my_ring();
  if (!r || r->worker == 255) return;
  ParkRec body{0, 0, r->worker, 0, static_cast<uint32_t>(r->tid), 0};
  write_fixed(kWorkerStop, 0, body);
  r->worker = 255;
}

void api_poll_begin(uint64_t task, const char* file, uint32_t line, uint32_t col, uint32_t local_queue) {
  if (!on()) return;
  Ring* r = my_ring();
  if (!r) return;
  const size_t n = file ? std::min(std::strlen(file), size_t{512}) : 0;
  const size_t size = sizeof(RecHeader) + sizeof(PollRec) + (n ? 8 + align8(n) : 0);
  uint64_t next;
  uint8_t* p = reserve(r, size, next);
  if (!p) return;
  p = put_header(p, kPollStart, size, 0, stamp());
  PollRec body{task, r->worker, local_queue, line, col, n};
  std::memcpy(p, &body, sizeof body);
  if (n) put_str(p + sizeof body, file, n);
  commit(r, next);
}

void api_poll_end() {
  if (!on()) return;
  Ring* r = my_ring();
  if (!r) return;
  TaskRec body{0, 0, r->worker, 0};
  write_fixed(kPollEnd, 0, body);
}

// The thread's run-queue wait so far (schedstat's second field), or 0.
uint64_t run_queue_wait_ns(Ring* r) {
  // busy, then the recording's state (both seq_cst, as close_schedstat's
  // side): the descriptor is never used after the agent's thread closed it.
  r->busy.store(true);
  struct Done {
    Ring* r;
    ~Done() { r->busy.store(false); }
  } done{r};
  if (!g_on.load()) return 0;
  int fd = r->schedstat_fd.load(std::memory_order_relaxed);
  if (fd < 0) {
    fd = ::open("/proc/thread-self/schedstat", O_RDONLY | O_CLOEXEC);
    if (fd < 0) return 0;
    r->schedstat_fd.store(fd, std::memory_order_relaxed);
  }
  char buf[96];
  ssize_t n = ::pread(fd, buf, sizeof buf - 1, 0);
  if (n <= 0) return 0;
  buf[n] = '\0';
  char* p = nullptr;
  (void)std::strtoull(buf, &p, 10);
  return p ? std::strtoull(p, nullptr, 10) : 0;
}

void api_park(uint32_t local_queue) {
  if (!on()) return;
  Ring* r = my_ring();
  if (!r) return;
  r->parked_wait_ns = run_queue_wait_ns(r);
  ParkRec body{thread_cpu_ns(), 0, r->worker, local_queue, static_cast<uint32_t>(r->tid), 0};
  write_fixed(kPark, 0, body);
}

void api_unpark(uint32_t local_queue) {
  if (!on()) return;
  Ring* r = my_ring();
  if (!r) return;
  const uint64_t wait = run_queue_wait_ns(r);
  const uint64_t waited = r->parked_wait_ns && wait >= r->parked_wait_ns ? wait - r->parked_wait_ns : 0;
  ParkRec body{thread_cpu_ns(), waited, r->worker, local_queue, static_cast<uint32_t>(r->tid), 0};
  write_fixed(kUnpark, 0, body);
}

void api_task_spawn(uint64_t task, const char* file, uint32_t line, uint32_t col) {
  if (!on()) return;
  Ring* r = my_ring();
  if (!r) return;
  const size_t n = file ? std::min(std::strlen(file), size_t{512}) : 0;
  const size_t size = sizeof(RecHeader) + sizeof(PollRec) + 8 + align8(n);
  uint64_t next;
  uint8_t* p = reserve(r, size, next);
  if (!p) return;
  p = put_header(p, kSpawn, size, 0, stamp());
  PollRec body{task, r->worker, 0, line, col, n};
  std::memcpy(p, &body, sizeof body);
  put_str(p + sizeof body, file, n);
  commit(r, next);
}

void api_task_terminate(uint64_t task) {
  if (!on()) return;
  TaskRec body{task, 0, 0, 0};
  write_fixed(kTerminate, 0, body);
}

void api_wake(uint64_t waker, uint64_t woken, uint32_t target_worker) {
  if (!on()) return;
  TaskRec body{waker, woken, 0, target_worker};
  write_fixed(kWake, 0, body);
}

void api_queue_sample(uint32_t global_queue) {
  if (!on()) return;
  TaskRec body{global_queue, 0, 0, 0};
  write_fixed(kQueue, 0, body);
}

uint64_t api_now() { return mono_ns(); }

const dial9_api g_table = {
    sizeof(dial9_api), DIAL9_ABI_VERSION, api_emit,       api_span_enter,     api_span_exit,
    api_worker_start,  api_worker_stop,   api_poll_begin, api_poll_end,       api_park,
    api_unpark,        api_task_spawn,    api_task_terminate, api_wake,       api_queue_sample,
    api_now,
};

// --- the drain (agent thread) ----------------------------------------------

// Locations ("file:line:col"), interned for the agent thread's batches.
// An executor spawns from the same few call sites over and over: a location
// is looked up by a hash of its parts and formatted only the first time.
constexpr size_t kMaxLocations = 4096;
constexpr size_t kLocationSlots = 2 * kMaxLocations;  // open addressing; a power of two
constexpr size_t kMaxLocationFile = 512;              // longer file names are cut
struct Location {
  uint64_t hash;
  const char* text;  // starts with the file's file_len bytes
  uint32_t file_len, line, col;
};
Location g_locations[kMaxLocations];
uint16_t g_location_slots[kLocationSlots];  // index + 1 into g_locations; 0: free
size_t g_location_count = 0;
char g_location_text[512 * 1024];
size_t g_location_used = 0;

// Eight bytes at a time: a spawn's file name is hashed on every spawn.
uint64_t location_hash(const char* file, size_t n, uint32_t line, uint32_t col) {
  constexpr uint64_t kMul = 0x9E3779B97F4A7C15ull;
  uint64_t h = ((uint64_t{line} << 32 | col) ^ n) * kMul;
  auto mix = [&](uint64_t w) {
    h = (h ^ w) * kMul;
    h ^= h >> 29;
  };
  size_t i = 0;
  for (; i + 8 <= n; i += 8) {
    uint64_t w;
    std::memcpy(&w, file + i, 8);
    mix(w);
  }
  uint64_t rest = 0;
  std::memcpy(&rest, file + i, n - i);
  mix(rest);
  return h;
}

// Index + 1 of the location, or 0 when the table is full.
uint32_t intern_location(const char* file, size_t n, uint32_t line, uint32_t col) {
  // Up to a NUL, as the text is formatted: the two must compare equal.
  n = strnlen(file, std::min(n, kMaxLocationFile));
  const uint64_t h = location_hash(file, n, line, col);
  size_t slot = h & (kLocationSlots - 1);
  for (; g_location_slots[slot]; slot = (slot + 1) & (kLocationSlots - 1)) {
    const Location& l = g_locations[g_location_slots[slot] - 1];
    if (l.hash == h && l.line == line && l.col == col && l.file_len == n && std::memcmp(l.text, file, n) == 0) {
      return g_location_slots[slot];
    }
  }
  char text[kMaxLocationFile + 32];
  const int len = std::snprintf(text, sizeof text, "%.*s:%u:%u", static_cast<int>(n), file, line, col);
  if (len <= 0 || static_cast<size_t>(len) >= sizeof text) return 0;
  const size_t tl = static_cast<size_t>(len);
  if (g_location_count == kMaxLocations || g_location_used + tl + 1 > sizeof g_location_text) return 0;
  char* at = g_location_text + g_location_used;
  std::memcpy(at, text, tl + 1);
  g_location_used += tl + 1;
  g_locations[g_location_count] = {h, at, static_cast<uint32_t>(n), line, col};
  g_location_slots[slot] = static_cast<uint16_t>(++g_location_count);
  return static_cast<uint32_t>(g_location_count);
}

// Task -> location of its spawn, for polls that name none. Direct-mapped:
// a collision forgets the older task's location (its polls then show "").
constexpr size_t kTaskSlots = 1 << 16;
struct TaskLoc {
  uint64_t task;
  uint32_t loc;
};
TaskLoc g_task_locs[kTaskSlots];
inline TaskLoc& task_slot(uint64_t task) { return g_task_locs[(task * 0x9E3779B97F4A7C15ull) >> 48]; }

// Ids defined in the current stream, keyed by batch_generation().
struct Cached {
  uint64_t gen = 0;
  uint32_t id = 0;
};
Cached g_type_schema[kMaxTypes], g_enter_schema[kMaxSites], g_exit_schema[kMaxSites], g_site_name[kMaxSites];
Cached g_location_string[kMaxLocations + 1];  // [0]: the empty location

template <class Make>
uint32_t cached(Cached& c, Make make) {
  const uint64_t gen = batch_generation();
  if (c.gen != gen) c = {gen, make()};
  return c.id;
}

format::FieldDef g_defs[format::kMaxBuiltinFields + kMaxFields];

uint16_t type_schema(format::Encoder& enc, uint32_t id) {
  const TypeReg& t = g_types[id - 1];
  return static_cast<uint16_t>(cached(g_type_schema[id - 1], [&] {
    for (uint32_t i = 0; i < t.fields; ++i) g_defs[i] = {t.field_names[i], t.field_types[i]};
    return enc.define(format::SchemaDef{t.name, true, {g_defs, t.fields}});
  }));
}

uint16_t site_schema(format::Encoder& enc, uint32_t id, bool enter) {
  const SiteReg& s = g_sites[id - 1];
  const auto& fixed = format::builtin_schema(enter ? Builtin::kSpanEnter : Builtin::kSpanExit).fields;
  return static_cast<uint16_t>(cached((enter ? g_enter_schema : g_exit_schema)[id - 1], [&] {
    size_t n = 0;
    for (const auto& f : fixed) g_defs[n++] = f;
    for (uint32_t i = 0; i < s.fields; ++i) g_defs[n++] = {s.field_names[i], format::optional_of(FieldType::kPooledString)};
    return enc.define(format::SchemaDef{enter ? s.enter_schema : s.exit_schema, true, {g_defs, n}});
  }));
}

uint32_t location_string(format::Encoder& enc, uint32_t loc) {
  return cached(g_location_string[loc], [&] { return enc.add_string(loc ? g_locations[loc - 1].text : ""); });
}

template <class T>
T load(const uint8_t* p) {
  T v;
  std::memcpy(&v, p, sizeof v);
  return v;
}
inline uint64_t read_u64(const uint8_t*& p) {
  uint64_t v;
  std::memcpy(&v, p, 8);
  p += 8;
  return v;
}
inline std::string_view read_str(const uint8_t*& p) {
  const uint64_t n = read_u64(p);
  std::string_view s(reinterpret_cast<const char*>(p), n);
  p += align8(n);
  return s;
}

uint64_t g_drained = 0;

// Encodes one record. `p` points past its header.
void encode(const RecHeader& h, const uint8_t* p) {
  // A record's values take no more room encoded than in the ring; the rest
  // is schema and pool frames.
  format::Encoder& enc = batch_encoder(static_cast<size_t>(h.words) * 8 + 4096);
  auto u8 = [](uint64_t v) { return static_cast<uint8_t>(v > 255 ? 255 : v); };
  switch (h.kind) {
    case kEvent: {
      const TypeReg& t = g_types[h.aux - 1];
      const uint16_t sid = type_schema(enc, h.aux);
      const uint64_t present = t.optional_mask ? read_u64(p) : ~uint64_t{0};
      enc.begin_event(sid, h.ts);
      for (uint32_t i = 0; i < t.fields; ++i) {
        const uint8_t type = t.field_types[i];
        if (type & format::kOptionalBit) {
          if (!(present >> i & 1)) {
            enc.put_absent();
            continue;
          }
          enc.put_present();
        }
        if ((type & ~format::kOptionalBit) == static_cast<uint8_t>(FieldType::kString)) {
          enc.put_string(read_str(p));
          continue;
        }
        dial9_value v;
        std::memcpy(&v.v, p, 8);
        p += 8;
        switch (static_cast<FieldType>(type & ~format::kOptionalBit)) {
          case FieldType::kI64: enc.put_i64(v.v.i); break;
          case FieldType::kF64: enc.put_f64(v.v.f); break;
          case FieldType::kBool: enc.put_bool(v.v.u != 0); break;
          case FieldType::kU8: enc.put_u8(static_cast<uint8_t>(v.v.u)); break;
          case FieldType::kU16: enc.put_u16(static_cast<uint16_t>(v.v.u)); break;
          case FieldType::kU32: enc.put_u32(static_cast<uint32_t>(v.v.u)); break;
          default: enc.put_varint(v.v.u); break;
        }
      }
      break;
    }
    case kSpanEnter: {
      const SiteReg& s = g_sites[h.aux - 1];
      const auto b = load<SpanRec>(p);
      p += sizeof b;
      const uint16_t sid = site_schema(enc, h.aux, true);
      const uint32_t name = cached(g_site_name[h.aux - 1], [&] { return enc.add_string(s.name); });
      uint32_t values[kMaxFields];
      for (uint32_t i = 0; i < s.fields; ++i) {
        values[i] = i < b.values && (b.present >> i & 1) ? enc.add_string(read_str(p)) + 1 : 0;
      }
      enc.begin_event(sid, h.ts);
      enc.put_varint(b.worker);
      enc.put_varint(b.span);
      if (b.parent) {
        enc.put_present();
        enc.put_varint(b.parent);
      } else {
        enc.put_absent();
      }
      enc.put_pool_ref(name);
      for (uint32_t i = 0; i < s.fields; ++i) {
        if (values[i]) {
          enc.put_present();
          enc.put_pool_ref(values[i] - 1);
        } else {
          enc.put_absent();
        }
      }
      break;
    }
    case kSpanExit: {
      const SiteReg& s = g_sites[h.aux - 1];
      const auto b = load<SpanRec>(p);
      const uint16_t sid = site_schema(enc, h.aux, false);
      const uint32_t name = cached(g_site_name[h.aux - 1], [&] { return enc.add_string(s.name); });
      enc.begin_event(sid, h.ts);
      enc.put_varint(b.worker);
      enc.put_varint(b.span);
      enc.put_pool_ref(name);
      for (uint32_t i = 0; i < s.fields; ++i) enc.put_absent();
      batch_event_written();
      // The API's span ends here: closed, so its id may be reused.
      enc.begin_event(batch_builtin(Builtin::kSpanClose), h.ts);
      enc.put_varint(b.span);
      break;
    }
    case kPollStart:
    case kSpawn: {
      const auto b = load<PollRec>(p);
      p += sizeof b;
      uint32_t loc = 0;
      if (b.file_len || h.kind == kSpawn) {
        std::string_view file = read_str(p);
        loc = intern_location(file.data(), file.size(), b.line, b.col);
      } else {
        TaskLoc& t = task_slot(b.task);
        loc = t.task == b.task ? t.loc : 0;
      }
      const uint32_t str = location_string(enc, loc);
      if (h.kind == kSpawn) {
        task_slot(b.task) = {b.task, loc};
        enc.begin_event(batch_builtin(Builtin::kTaskSpawn), h.ts);
        enc.put_varint(b.task);
        enc.put_pool_ref(str);
        enc.put_bool(false);
      } else {
        enc.begin_event(batch_builtin(Builtin::kPollStart), h.ts);
        enc.put_varint(b.worker);
        enc.put_u8(u8(b.local_queue));
        enc.put_varint(b.task);
        enc.put_pool_ref(str);
      }
      break;
    }
    case kPollEnd: {
      const auto b = load<TaskRec>(p);
      enc.begin_event(batch_builtin(Builtin::kPollEnd), h.ts);
      enc.put_varint(b.worker);
      break;
    }
    case kPark:
    case kUnpark: {
      const auto b = load<ParkRec>(p);
      enc.begin_event(batch_builtin(h.kind == kPark ? Builtin::kWorkerPark : Builtin::kWorkerUnpark), h.ts);
      enc.put_varint(b.worker);
      enc.put_u8(u8(b.local_queue));
      enc.put_varint(b.cpu_ns);
      if (h.kind == kUnpark) enc.put_varint(b.sched_wait_ns);
      enc.put_u32(b.tid);
      break;
    }
    case kWorkerStart:
    case kWorkerStop: {
      const auto b = load<ParkRec>(p);
      enc.begin_event(batch_builtin(h.kind == kWorkerStart ? Builtin::kWorkerStart : Builtin::kWorkerStop), h.ts);
      enc.put_varint(b.worker);
      enc.put_u32(b.tid);
      break;
    }
    case kTerminate: {
      const auto b = load<TaskRec>(p);
      TaskLoc& t = task_slot(b.a);
      if (t.task == b.a) t = {};
      enc.begin_event(batch_builtin(Builtin::kTaskTerminate), h.ts);
      enc.put_varint(b.a);
      break;
    }
    case kWake: {
      const auto b = load<TaskRec>(p);
      enc.begin_event(batch_builtin(Builtin::kWakeEvent), h.ts);
      enc.put_varint(b.a);
      enc.put_varint(b.b);
      enc.put_u8(u8(b.c));
      break;
    }
    case kQueue: {
      const auto b = load<TaskRec>(p);
      enc.begin_event(batch_builtin(Builtin::kQueueSample), h.ts);
      enc.put_u8(u8(b.a));
      break;
    }
    default:
      return;
  }
  batch_event_written();
  ++g_drained;
}

// Drains one ring; returns the records encoded.
size_t drain_ring(Ring* r, bool keep) {
  const uint64_t head = r->head.load(std::memory_order_acquire);
  uint64_t tail = r->tail.load(std::memory_order_relaxed);
  size_t n = 0;
  while (tail < head) {
    const uint8_t* at = r->data + tail % kRingBytes;
    RecHeader h{};
    std::memcpy(&h, at, 4);
    if (h.words == 0) break;  // cannot happen: a writer's bug must not loop here
    if (h.kind != kPad) {
      std::memcpy(&h, at, sizeof h);
      h.ts = to_ns(h.ts, h.kind & kTimeIsNs);
      h.kind &= static_cast<uint16_t>(~kTimeIsNs);
      if (keep) {
        encode(h, at + sizeof h);
        ++n;
      }
    }
    tail += uint64_t{h.words} * 8;
  }
  r->tail.store(head, std::memory_order_release);
  r->poked.store(false, std::memory_order_relaxed);
  return n;
}

}  // namespace

size_t api_find_slots() {
  const size_t before = g_slot_count;
  dl_iterate_phdr(find_notes, nullptr);
  if (g_slot_count != before && on()) install_all(&g_table);
  return g_slot_count;
}

void api_start() {
  // A previous recording's leftovers are not this one's.
  const uint32_t n = std::min<uint32_t>(g_ring_count.load(std::memory_order_acquire), kMaxRings);
  for (uint32_t i = 0; i < n; ++i) {
    if (Ring* r = g_rings[i].load(std::memory_order_acquire)) drain_ring(r, false);
  }
  g_ticks = counter_is_clocksource();
  g_base = g_anchor = read_pair();
  g_on.store(true, std::memory_order_release);
  install_all(&g_table);
}

void api_stop() {
  install_all(nullptr);
  g_on.store(false);  // seq_cst: see run_queue_wait_ns
  // No descriptor of dial9's stays in the program: a thread in the middle
  // of reading one is waited for (a pread), the others cannot start.
  const uint32_t count = std::min<uint32_t>(g_ring_count.load(std::memory_order_acquire), kMaxRings);
  for (uint32_t i = 0; i < count; ++i) {
    if (Ring* r = g_rings[i].load(std::memory_order_acquire)) close_schedstat(r);
  }
}

void api_on_fork_child() {
  install_all(nullptr);
  g_on.store(false, std::memory_order_relaxed);
  // The descriptors are the parent's threads'; a thread that was reading
  // one at the fork does not exist here, so its busy flag is not waited on.
  const uint32_t count = std::min<uint32_t>(g_ring_count.load(std::memory_order_acquire), kMaxRings);
  for (uint32_t i = 0; i < count; ++i) {
    if (Ring* r = g_rings[i].load(std::memory_order_acquire)) {
      r->busy.store(false);
      close_schedstat(r);
    }
  }
}

size_t api_drain() {
  update_clock();
  size_t n = 0;
  const uint32_t count = std::min<uint32_t>(g_ring_count.load(std::memory_order_acquire), kMaxRings);
  for (uint32_t i = 0; i < count; ++i) {
    Ring* r = g_rings[i].load(std::memory_order_acquire);
    if (!r) continue;
    const int state = r->state.load(std::memory_order_acquire);
    if (state == kFree) continue;
    n += drain_ring(r, true);
    if (state == kOrphan) {
      // Its thread has ended: nothing more can arrive. Recycled.
      close_schedstat(r);
      g_dropped_other.fetch_add(r->dropped.exchange(0, std::memory_order_relaxed), std::memory_order_relaxed);
      r->state.store(kFree, std::memory_order_release);
    }
  }
  return n;
}

ApiCounters api_counters() {
  ApiCounters c;
  c.events = g_drained;
  c.dropped = g_dropped_other.load(std::memory_order_relaxed);
  const uint32_t count = std::min<uint32_t>(g_ring_count.load(std::memory_order_acquire), kMaxRings);
  for (uint32_t i = 0; i < count; ++i) {
    Ring* r = g_rings[i].load(std::memory_order_acquire);
    if (!r) continue;
    c.dropped += r->dropped.load(std::memory_order_relaxed);
    if (r->state.load(std::memory_order_relaxed) == kLive) ++c.threads;
  }
  return c;
}

}  // namespace dial9::agent
