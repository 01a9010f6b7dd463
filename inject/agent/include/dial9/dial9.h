/* dial9/dial9.h: the dial9 app API, for C and C++. See dial9(3).
 *
 * Custom events, spans and event-loop (runtime) events that a program
 * writes into a dial9 trace. Without dial9 every call is one load and one
 * predictable branch: nothing is recorded, nothing is allocated. When
 * libdial9-agent.so is in the process (preloaded by `dial9 record`, or
 * loaded later by `dial9 attach`) the calls come alive, without a restart.
 *
 * Exactly one translation unit of each executable or shared library
 * defines DIAL9_IMPLEMENTATION before including this header. That unit
 * holds the slot through which the agent reaches the calls, and an ELF note
 * (".note.dial9", kept by strip) through which the agent finds the slot.
 *
 *   #define DIAL9_IMPLEMENTATION   // in one .c or .cpp file only
 *   #include <dial9/dial9.h>
 *
 * Names handed to the API (event type names, field names, span names) must
 * live as long as the program: string literals. Values (strings of events
 * and spans, task locations) are copied when the call is made.
 *
 * Thread-safety: every call may be made from any thread. Calls are not
 * async-signal-safe. A full per-thread buffer drops the event and counts it.
 */
#ifndef DIAL9_DIAL9_H
#define DIAL9_DIAL9_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Version of the table below; the agent serves a table at least this new. */
#define DIAL9_ABI_VERSION 1

/* Field types of custom events: the TRC wire types (docs/FORMAT.md). */
enum dial9_type {
  DIAL9_I64 = 1,    /* int64_t */
  DIAL9_F64 = 2,    /* double */
  DIAL9_BOOL = 3,   /* 0 or 1 */
  DIAL9_STRING = 4, /* bytes, copied */
  DIAL9_U64 = 9,    /* uint64_t (a varint on the wire) */
  DIAL9_U8 = 11,
  DIAL9_U16 = 12,
  DIAL9_U32 = 13,
  DIAL9_OPTIONAL = 0x80 /* or'ed with a type: the value may be absent */
};

typedef struct dial9_field {
  const char* name;
  uint8_t type; /* a dial9_type, optionally | DIAL9_OPTIONAL */
} dial9_field;

/* A custom event type: one schema in the trace. Static storage; `id` is
 * the agent's (0 until first recorded) and must start 0. */
typedef struct dial9_event_type {
  const char* name;
  const dial9_field* fields;
  uint32_t field_count;
  uint32_t id;
} dial9_event_type;
#define DIAL9_EVENT_TYPE(name, fields) \
  { (name), (fields), (uint32_t)(sizeof(fields) / sizeof((fields)[0])), 0 }

/* One field value. `present` 0 writes an optional field as absent. */
typedef struct dial9_value {
  uint8_t present;
  union {
    int64_t i;
    uint64_t u;
    double f;
    struct {
      const char* ptr;
      size_t len;
    } s;
  } v;
} dial9_value;

/* A span's call site: name, where it is, and the names of its fields.
 * Static storage; `id` starts 0. */
typedef struct dial9_span_site {
  const char* name;
  const char* file;
  uint32_t line;
  const char* const* field_names;
  uint32_t field_count;
  uint32_t id;
} dial9_span_site;
#define DIAL9_SPAN_SITE(name, field_names, field_count) \
  { (name), __FILE__, __LINE__, (field_names), (field_count), 0 }

/* A span field's value: a string, copied; ptr NULL: absent. */
typedef struct dial9_str {
  const char* ptr;
  size_t len;
} dial9_str;

/* What the agent serves. Members are added at the end only. */
typedef struct dial9_api {
  uint32_t size;    /* sizeof the agent's table */
  uint32_t version; /* DIAL9_ABI_VERSION of the agent */
  void (*emit)(dial9_event_type* type, const dial9_value* values, uint32_t count, uint64_t timestamp_ns);
  uint64_t (*span_enter)(dial9_span_site* site, const dial9_str* values, uint32_t count);
  void (*span_exit)(uint64_t span_id);
  void (*worker_start)(uint32_t worker_index);
  void (*worker_stop)(void);
  void (*poll_begin)(uint64_t task_id, const char* file, uint32_t line, uint32_t col, uint32_t local_queue);
  void (*poll_end)(void);
  void (*park)(uint32_t local_queue);
  void (*unpark)(uint32_t local_queue);
  void (*task_spawn)(uint64_t task_id, const char* file, uint32_t line, uint32_t col);
  void (*task_terminate)(uint64_t task_id);
  void (*wake)(uint64_t waker_task_id, uint64_t woken_task_id, uint32_t target_worker);
  void (*queue_sample)(uint32_t global_queue);
  uint64_t (*now)(void);
} dial9_api;

/* The slot: NULL without the agent. One per executable or library (hidden),
 * defined by the DIAL9_IMPLEMENTATION unit. */
extern __attribute__((visibility("hidden"))) const dial9_api* volatile dial9_api_slot;

static inline const dial9_api* dial9_api_get(void) {
  return __atomic_load_n(&dial9_api_slot, __ATOMIC_ACQUIRE);
}
#define DIAL9_LIKELY_OFF(x) __builtin_expect((x) != 0, 0)

/* Whether a dial9 agent records this process now. */
static inline int dial9_active(void) { return dial9_api_get() != 0; }

/* The trace's clock (CLOCK_MONOTONIC, ns), for explicit timestamps. */
static inline uint64_t dial9_now(void) {
  const dial9_api* a = dial9_api_get();
  return DIAL9_LIKELY_OFF(a) ? a->now() : 0;
}

/* --- custom events ------------------------------------------------------ */

/* Writes one event of `type`: `count` values, in the order of the type's
 * fields. timestamp_ns 0: now. A value count other than the type's, or an
 * absent value for a field that is not optional, drops the event. */
static inline void dial9_emit(dial9_event_type* type, const dial9_value* values, uint32_t count) {
  const dial9_api* a = dial9_api_get();
  if (DIAL9_LIKELY_OFF(a)) a->emit(type, values, count, 0);
}
static inline void dial9_emit_at(dial9_event_type* type, const dial9_value* values, uint32_t count,
                                 uint64_t timestamp_ns) {
  const dial9_api* a = dial9_api_get();
  if (DIAL9_LIKELY_OFF(a)) a->emit(type, values, count, timestamp_ns);
}
static inline dial9_value dial9_int(int64_t v) {
  dial9_value x;
  x.present = 1;
  x.v.i = v;
  return x;
}
static inline dial9_value dial9_uint(uint64_t v) {
  dial9_value x;
  x.present = 1;
  x.v.u = v;
  return x;
}
static inline dial9_value dial9_float(double v) {
  dial9_value x;
  x.present = 1;
  x.v.f = v;
  return x;
}
static inline dial9_value dial9_bool(int v) { return dial9_uint(v != 0); }
static inline dial9_value dial9_string(const char* s) {
  dial9_value x;
  x.present = 1;
  x.v.s.ptr = s;
  x.v.s.len = s ? strlen(s) : 0;
  return x;
}
static inline dial9_value dial9_absent(void) {
  dial9_value x;
  memset(&x, 0, sizeof x);
  return x;
}

/* --- spans --------------------------------------------------------------- */

/* Enters a span of `site` with its field values (count may be less than the
 * site's fields: the rest are absent). Returns the span's id, to end it
 * with; 0 when nothing is recorded (dial9_span_exit(0) does nothing). Spans
 * nest per thread: the enclosing open span is the parent. */
static inline uint64_t dial9_span_enter(dial9_span_site* site, const dial9_str* values, uint32_t count) {
  const dial9_api* a = dial9_api_get();
  return DIAL9_LIKELY_OFF(a) ? a->span_enter(site, values, count) : 0;
}
/* Ends (exits and closes) the span, on the thread that entered it. */
static inline void dial9_span_exit(uint64_t span_id) {
  if (span_id == 0) return;
  const dial9_api* a = dial9_api_get();
  if (DIAL9_LIKELY_OFF(a)) a->span_exit(span_id);
}

/* --- runtime (event loop) events -----------------------------------------
 * For an executor: each worker thread calls dial9_worker_start once with its
 * index (0..253), polls tasks between dial9_poll_begin/dial9_poll_end, and
 * parks (waits for work) between dial9_park/dial9_unpark. Written with the
 * Tokio recorder's schemas, so its viewer and `dial9 report` read them. */
static inline void dial9_worker_start(uint32_t worker_index) {
  const dial9_api* a = dial9_api_get();
  if (DIAL9_LIKELY_OFF(a)) a->worker_start(worker_index);
}
static inline void dial9_worker_stop(void) {
  const dial9_api* a = dial9_api_get();
  if (DIAL9_LIKELY_OFF(a)) a->worker_stop();
}
/* A task's poll (a handler's run). file NULL: the location its spawn gave. */
static inline void dial9_poll_begin(uint64_t task_id, const char* file, uint32_t line, uint32_t col,
                                    uint32_t local_queue) {
  const dial9_api* a = dial9_api_get();
  if (DIAL9_LIKELY_OFF(a)) a->poll_begin(task_id, file, line, col, local_queue);
}
static inline void dial9_poll_end(void) {
  const dial9_api* a = dial9_api_get();
  if (DIAL9_LIKELY_OFF(a)) a->poll_end();
}
/* The worker waits for work / has work again. The agent adds the thread's
 * CPU time and, at unpark, its time waiting in the kernel's run queue. */
static inline void dial9_park(uint32_t local_queue) {
  const dial9_api* a = dial9_api_get();
  if (DIAL9_LIKELY_OFF(a)) a->park(local_queue);
}
static inline void dial9_unpark(uint32_t local_queue) {
  const dial9_api* a = dial9_api_get();
  if (DIAL9_LIKELY_OFF(a)) a->unpark(local_queue);
}
static inline void dial9_task_spawn(uint64_t task_id, const char* file, uint32_t line, uint32_t col) {
  const dial9_api* a = dial9_api_get();
  if (DIAL9_LIKELY_OFF(a)) a->task_spawn(task_id, file, line, col);
}
static inline void dial9_task_terminate(uint64_t task_id) {
  const dial9_api* a = dial9_api_get();
  if (DIAL9_LIKELY_OFF(a)) a->task_terminate(task_id);
}
/* `waker_task_id` woke `woken_task_id` (0: not from a task); target_worker
 * 255: unknown. */
static inline void dial9_wake(uint64_t waker_task_id, uint64_t woken_task_id, uint32_t target_worker) {
  const dial9_api* a = dial9_api_get();
  if (DIAL9_LIKELY_OFF(a)) a->wake(waker_task_id, woken_task_id, target_worker);
}
static inline void dial9_queue_sample(uint32_t global_queue) {
  const dial9_api* a = dial9_api_get();
  if (DIAL9_LIKELY_OFF(a)) a->queue_sample(global_queue);
}


#ifdef __cplusplus
} /* extern "C" */

#include <array>
#include <cstdint>
#include <initializer_list>
#include <optional>
#include <string>
#include <string_view>
#include <type_traits>

namespace dial9 {

inline bool active() noexcept { return dial9_active() != 0; }

namespace detail {
template <class T>
struct Field;
template <> struct Field<bool> { static constexpr uint8_t type = DIAL9_BOOL; static dial9_value of(bool v) { return dial9_uint(v); } };
template <> struct Field<uint8_t> { static constexpr uint8_t type = DIAL9_U8; static dial9_value of(uint8_t v) { return dial9_uint(v); } };
template <> struct Field<uint16_t> { static constexpr uint8_t type = DIAL9_U16; static dial9_value of(uint16_t v) { return dial9_uint(v); } };
template <> struct Field<uint32_t> { static constexpr uint8_t type = DIAL9_U32; static dial9_value of(uint32_t v) { return dial9_uint(v); } };
template <> struct Field<uint64_t> { static constexpr uint8_t type = DIAL9_U64; static dial9_value of(uint64_t v) { return dial9_uint(v); } };
template <> struct Field<int8_t> { static constexpr uint8_t type = DIAL9_I64; static dial9_value of(int8_t v) { return dial9_int(v); } };
template <> struct Field<int16_t> { static constexpr uint8_t type = DIAL9_I64; static dial9_value of(int16_t v) { return dial9_int(v); } };
template <> struct Field<int32_t> { static constexpr uint8_t type = DIAL9_I64; static dial9_value of(int32_t v) { return dial9_int(v); } };
template <> struct Field<int64_t> { static constexpr uint8_t type = DIAL9_I64; static dial9_value of(int64_t v) { return dial9_int(v); } };
template <> struct Field<float> { static constexpr uint8_t type = DIAL9_F64; static dial9_value of(float v) { return dial9_float(v); } };
template <> struct Field<double> { static constexpr uint8_t type = DIAL9_F64; static dial9_value of(double v) { return dial9_float(v); } };
template <> struct Field<std::string_view> {
  static constexpr uint8_t type = DIAL9_STRING;
  static dial9_value of(std::string_view v) {
    dial9_value x;
    x.present = 1;
    x.v.s.ptr = v.data();
    x.v.s.len = v.size();
    return x;
  }
};
template <> struct Field<std::string> : Field<std::string_view> {};
template <> struct Field<const char*> {
  static constexpr uint8_t type = DIAL9_STRING;
  static dial9_value of(const char* v) { return dial9_string(v); }
};
template <class T>
struct Field<std::optional<T>> {
  static constexpr uint8_t type = Field<T>::type | DIAL9_OPTIONAL;
  static dial9_value of(const std::optional<T>& v) { return v ? Field<T>::of(*v) : dial9_absent(); }
};
}  // namespace detail

// A custom event type with typed fields, written as its own schema:
//
//   static dial9::EventType<uint64_t, uint16_t, std::string_view, uint64_t>
//       request_completed("RequestCompleted", {"request_id", "status", "path", "latency_us"});
//   request_completed.emit(id, 200, path, latency_us);
//
// Field types: bool, uint8/16/32/64_t, int8..64_t (written as I64), float
// and double (F64), std::string_view or std::string (String), and
// std::optional of any of them (an optional field). Give it static storage.
template <class... Fields>
class EventType {
 public:
  EventType(const char* name, const std::array<const char*, sizeof...(Fields)>& field_names) noexcept {
    size_t i = 0;
    ((fields_[i] = dial9_field{field_names[i], detail::Field<Fields>::type}, ++i), ...);
    type_ = dial9_event_type{name, fields_.data(), static_cast<uint32_t>(sizeof...(Fields)), 0};
  }
  EventType(const EventType&) = delete;
  EventType& operator=(const EventType&) = delete;

  void emit(const Fields&... values) noexcept {
    const dial9_api* a = dial9_api_get();
    if (DIAL9_LIKELY_OFF(a)) {
      const dial9_value v[kSlots] = {detail::Field<Fields>::of(values)...};
      a->emit(&type_, v, static_cast<uint32_t>(sizeof...(Fields)), 0);
    }
  }
  // With an explicit timestamp (dial9::now() or dial9_now()).
  void emit_at(uint64_t timestamp_ns, const Fields&... values) noexcept {
    const dial9_api* a = dial9_api_get();
    if (DIAL9_LIKELY_OFF(a)) {
      const dial9_value v[kSlots] = {detail::Field<Fields>::of(values)...};
      a->emit(&type_, v, static_cast<uint32_t>(sizeof...(Fields)), timestamp_ns);
    }
  }

 private:
  // As many values as fields (one for a type without fields: no zero-size
  // arrays). Not one more: the compiler would then zero the whole array
  // before filling it, a `rep stos` that cost more than the rest of the call.
  static constexpr size_t kSlots = sizeof...(Fields) ? sizeof...(Fields) : 1;
  std::array<dial9_field, sizeof...(Fields)> fields_{};
  dial9_event_type type_{};
};

inline uint64_t now() noexcept { return dial9_now(); }

// A span's call site, with the names of its fields (at most 16):
//
//   static dial9::SpanSite handle_site("handle_request", {"path"});
//   { dial9::Span span(handle_site, {path}); ... }   // or DIAL9_SCOPE("name")
class SpanSite {
 public:
  static constexpr size_t kMaxFields = 16;
  SpanSite(const char* name, std::initializer_list<const char*> field_names = {}, const char* file = __builtin_FILE(),
           uint32_t line = __builtin_LINE()) noexcept {
    uint32_t n = 0;
    for (const char* f : field_names) {
      if (n < kMaxFields) names_[n++] = f;
    }
    site_ = dial9_span_site{name, file, line, names_.data(), n, 0};
  }
  SpanSite(const SpanSite&) = delete;
  SpanSite& operator=(const SpanSite&) = delete;
  dial9_span_site* get() noexcept { return &site_; }

 private:
  std::array<const char*, kMaxFields> names_{};
  dial9_span_site site_{};
};

// A span from construction to destruction, on one thread.
class Span {
 public:
  explicit Span(SpanSite& site) noexcept {
    const dial9_api* a = dial9_api_get();
    if (DIAL9_LIKELY_OFF(a)) id_ = a->span_enter(site.get(), nullptr, 0);
  }
  Span(SpanSite& site, std::initializer_list<std::string_view> values) noexcept {
    const dial9_api* a = dial9_api_get();
    if (DIAL9_LIKELY_OFF(a)) {
      dial9_str v[SpanSite::kMaxFields];
      uint32_t n = 0;
      for (std::string_view s : values) {
        if (n < SpanSite::kMaxFields) v[n++] = dial9_str{s.data(), s.size()};
      }
      id_ = a->span_enter(site.get(), v, n);
    }
  }
  ~Span() { dial9_span_exit(id_); }
  Span(const Span&) = delete;
  Span& operator=(const Span&) = delete;
  uint64_t id() const noexcept { return id_; }

 private:
  uint64_t id_ = 0;
};

}  // namespace dial9

#define DIAL9_CONCAT2_(a, b) a##b
#define DIAL9_CONCAT_(a, b) DIAL9_CONCAT2_(a, b)
// A span over the rest of the enclosing scope: DIAL9_SCOPE("parse").
#define DIAL9_SCOPE(name)                                                  \
  static ::dial9::SpanSite DIAL9_CONCAT_(dial9_site_, __LINE__)(name);     \
  ::dial9::Span DIAL9_CONCAT_(dial9_span_, __LINE__)(DIAL9_CONCAT_(dial9_site_, __LINE__))

#endif /* __cplusplus */

#endif /* DIAL9_DIAL9_H */

/* The implementation unit's part, outside the include guard: a unit that
 * got the header earlier (for example through -include dial9/asio.h) and
 * then defines DIAL9_IMPLEMENTATION and includes it again still gets it. */
#if defined(DIAL9_IMPLEMENTATION) && !defined(DIAL9_IMPLEMENTATION_DONE)
#define DIAL9_IMPLEMENTATION_DONE
#ifdef __cplusplus
extern "C" {
#endif
__attribute__((visibility("hidden"), used)) const dial9_api* volatile dial9_api_slot = 0;
/* The note: name "dial9", type 0x64396c31, descriptor = the slot's offset
 * from the descriptor (PC-relative: no relocation at load time) and the
 * ABI version. "R" keeps it through --gc-sections. */
__asm__(
    ".pushsection .note.dial9,\"aR\",%note\n"
    ".balign 4\n"
    ".long 6\n"
    ".long 16\n"
    ".long 0x64396c31\n"
    ".asciz \"dial9\"\n"
    ".balign 4\n"
    "1: .quad dial9_api_slot - 1b\n"
    ".long 1\n"
    ".long 0\n"
    ".popsection\n");
#ifdef __cplusplus
}
#endif
#endif
