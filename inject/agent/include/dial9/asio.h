// dial9/asio.h: Boost.Asio handlers as dial9 tasks. See dial9(3).
//
// Enabled by one include and one define. Include this header before any
// Boost.Asio header, in every translation unit that uses Boost.Asio:
//
//   #include <dial9/asio.h>   // first; or build with -include dial9/asio.h
//   #include <boost/asio.hpp>
//
// and, in exactly one unit of the executable or library, as for dial9.h:
//
//   #define DIAL9_IMPLEMENTATION
//   #include <dial9/asio.h>
//
// (With -include the header comes first in every unit; the #define and the
// second include still work, as dial9.h keeps its implementation part out of
// its include guard.)
//
// The header plugs into Asio's custom handler tracking
// (BOOST_ASIO_CUSTOM_HANDLER_TRACKING, Boost 1.74 / Asio 1.18 hooks). That
// adds a base class to every Asio operation, so all units of one program must
// agree: a unit that includes Boost.Asio without this header first breaks the
// one-definition rule (Asio's own BOOST_ASIO_ENABLE_HANDLER_TRACKING has the
// same rule). `-include dial9/asio.h` in CXXFLAGS is the simple way to keep
// it. Boost.Asio's separately compiled mode is not supported.
//
// What the trace shows (the Tokio recorder's schemas, so `dial9 report` and
// the viewer read them as they read Tokio's):
//
//  - every handler an async operation or a post/dispatch/defer creates is a
//    task: TaskSpawn at creation, with the location of the call: the
//    innermost BOOST_ASIO_HANDLER_LOCATION((__FILE__, __LINE__, __func__))
//    in scope (put one before async calls), else "object.operation", e.g.
//    "socket.async_read_some" or, for a composed operation, "socket.async_read".
//    The steps of a composed operation (each read of one async_read) keep the
//    location of the call that started it;
//  - running the handler is one poll (PollStart/PollEnd), on a worker. A
//    handler run from inside another (a strand's queue, run_one in a
//    handler) ends the outer poll and resumes it after: polls do not nest;
//  - the moment the handler became ready to run is a wake: for posted
//    handlers their creation, for socket reads, writes, accepts and connects
//    the moment epoll reported the socket ready (else the moment the
//    non-blocking system call succeeded). Wake-to-poll is then the time the
//    handler queued behind others: a slow handler shows up as a long delay
//    of everything behind it. Timers, signals and resolves have no wake:
//    Asio exposes no hook at their ready moment;
//  - the handler's end, or its destruction without a run, is TaskTerminate;
//  - a thread that runs handlers becomes a worker (WorkerStart) at its first
//    handler, numbered in order (0, 1, ...) unless the program chose an index
//    with dial9::asio::worker_start(); define DIAL9_ASIO_NO_AUTO_WORKER to
//    number workers only by hand. A thread that exits ends its worker.
//
// Cost without dial9 (no agent in the process): each hook is one load and
// one predictable branch, and each Asio operation is 40 bytes larger. (Asio
// itself, with tracking on, also computes an event mask per epoll event
// before calling its events hook.) Handlers
// created before dial9 started (`dial9 attach`) are recorded from their run,
// with an unknown location.
//
// Thread-safety: hooks run on whatever thread Asio runs them on; per-thread
// state is thread_local, the rest atomic. Hooks never throw, take no lock
// and allocate nothing (but the C++ runtime's registration of a worker's
// thread-exit hook, once per thread).
#ifndef DIAL9_ASIO_H
#define DIAL9_ASIO_H

#ifdef __cplusplus

#if defined(BOOST_ASIO_DETAIL_HANDLER_TRACKING_HPP)
#error "dial9/asio.h must be included before any Boost.Asio header (or use -include dial9/asio.h)"
#endif
#if defined(BOOST_ASIO_CUSTOM_HANDLER_TRACKING)
#error "BOOST_ASIO_CUSTOM_HANDLER_TRACKING is already defined: dial9/asio.h provides the handler tracking"
#endif

#include <dial9/dial9.h>

#include <atomic>
#include <cerrno>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <type_traits>
// Also what Boost 1.74's awaitable.hpp needs under C++20 (it uses
// std::exchange without including <utility>).
#include <utility>

namespace dial9 {
namespace asio {

// Makes the calling thread worker `index` (0..253) before it runs handlers,
// for programs that number their io_context threads themselves. Without it
// threads are numbered in the order they run their first handler. Call it
// instead of dial9_worker_start on threads that run Asio handlers: the
// automatic numbering cannot see a direct dial9_worker_start call.
inline void worker_start(uint32_t index) noexcept;

namespace detail {

class Hooks;
class Completion;
class Location;

// The base class of every Asio operation (through
// BOOST_ASIO_INHERIT_TRACKED_HANDLER): what the hooks learn at creation and
// need again when the operation completes. Members are only meaningful when
// id_ != 0; all are initialised so that no compiler sees a read of an
// uninitialised member.
class TrackedHandler {
 protected:
  TrackedHandler() noexcept = default;
  // Not virtual: Asio never deletes through this type (as its own base).
  ~TrackedHandler() = default;

 private:
  friend class Hooks;
  friend class Completion;

  uint64_t id_ = 0;               // the task id; 0: created while dial9 was off
  const char* where_ = nullptr;   // spawn file, or the object type ("socket")
  const char* what_ = nullptr;    // the operation ("async_read") or nullptr
  std::atomic<uint64_t>* slot_ = nullptr;  // where epoll readiness finds the id
  uint32_t line_ = 0;
  uint32_t flags_ = 0;
};

// Per-thread state: the innermost BOOST_ASIO_HANDLER_LOCATION and the
// innermost handler in a poll. Both live on the thread's stack and nest.
struct ThreadState {
  Location* top = nullptr;
  Completion* running = nullptr;
  uint64_t next_id = 0;  // ids come in blocks, so threads rarely share a line
  uint64_t end_id = 0;
  uint32_t worker_index = 0;  // 1 + the index asked by worker_start; 0: none
  bool worker_started = false;
};
inline thread_local ThreadState tls;

// Ends the thread's worker when the thread exits. A separate thread_local,
// touched only when a worker starts, so other threads pay no registration.
struct WorkerExit {
  bool armed = false;
  ~WorkerExit() {
    if (armed) dial9_worker_stop();
  }
};
inline thread_local WorkerExit worker_exit;

inline std::atomic<uint64_t> next_id_block{1};  // ids start at 1: 0 means "none"
inline std::atomic<uint32_t> next_worker{0};
constexpr uint64_t kIdBlock = 1024;

// Where epoll's readiness of a socket meets the operation waiting on it. Asio
// reports epoll events by registration (the descriptor state's address) but
// keeps which operations wait on it private; the creation hook sees the
// registration through the socket (reactor_data_) and parks the operation's
// id here, by direction, for the events hook to take. A small direct-mapped
// table: a collision loses the early wake (the wake then happens when the
// system call succeeds), never correctness of the handler.
struct ReadySlot {
  std::atomic<uintptr_t> registration{0};
  std::atomic<uint64_t> waiting[2] = {};  // [0] read/accept, [1] write/connect
};
constexpr size_t kReadySlots = 4096;
inline ReadySlot ready_slots[kReadySlots];

// TrackedHandler::flags_.
constexpr uint32_t kWoken = 1;     // a wake was written
constexpr uint32_t kFallback = 2;  // where_ is the object type and what_ the operation
constexpr uint32_t kComposed = 4;  // created inside an Asio composed operation (what_ names it)
// BOOST_ASIO_HANDLER_REACTOR_*_EVENT below.
constexpr unsigned kReadEvent = 1, kWriteEvent = 2, kErrorEvent = 4;

// A BOOST_ASIO_HANDLER_LOCATION: pushed on the thread's chain while dial9 is
// on, so the creation hook can name the async call's file and line.
class Location {
 public:
  Location(const char* file, int line, const char* func) noexcept {
    // file may be null (use_awaitable without source_location): not pushed.
    if (DIAL9_LIKELY_OFF(dial9_active()) && file) push(file, line, func);
  }
  ~Location() {
    if (DIAL9_LIKELY_OFF(pushed_)) tls.top = next_;
  }
  Location(const Location&) = delete;
  Location& operator=(const Location&) = delete;

 private:
  friend class Hooks;
  void push(const char* file, int line, const char* func) noexcept {
    file_ = file;
    line_ = line;
    func_ = func;
    next_ = tls.top;
    tls.top = this;
    pushed_ = true;
  }
  const char* file_ = nullptr;
  const char* func_ = nullptr;
  Location* next_ = nullptr;
  int line_ = 0;
  bool pushed_ = false;
};

// One handler's completion, on the stack of the thread that completes it
// (BOOST_ASIO_HANDLER_COMPLETION): the poll, and the task's end. Copies what
// it needs from the operation, which Asio frees before the upcall.
class Completion {
 public:
  explicit Completion(const TrackedHandler& h) noexcept {
    if (DIAL9_LIKELY_OFF(dial9_active())) start(h);
  }
  ~Completion() {
    if (DIAL9_LIKELY_OFF(id_ != 0)) finish();
  }
  Completion(const Completion&) = delete;
  Completion& operator=(const Completion&) = delete;

  // The arguments (error code, bytes, signal number) are not recorded.
  template <class... Args>
  void invocation_begin(const Args&...) noexcept {
    if (DIAL9_LIKELY_OFF(id_ != 0)) begin();
  }
  void invocation_end() noexcept {
    if (DIAL9_LIKELY_OFF(id_ != 0) && in_poll_) end();
  }

 private:
  friend class Hooks;
  inline void start(const TrackedHandler& h) noexcept;
  inline void begin() noexcept;
  inline void end() noexcept;
  inline void finish() noexcept;

  uint64_t id_ = 0;  // 0: not recorded (dial9 was off at completion)
  const char* where_ = nullptr;
  const char* what_ = nullptr;
  Completion* outer_ = nullptr;  // the handler whose poll this one interrupts
  Location* locations_ = nullptr;  // the location chain when the poll began
  uint32_t line_ = 0;
  uint32_t flags_ = 0;
  bool in_poll_ = false;
};

class Hooks {
 public:
  // BOOST_ASIO_HANDLER_CREATION: an async operation or post created handler h.
  // Templates: Asio's types are incomplete here, and the object's type tells
  // whether it is a socket with a reactor registration.
  template <class Context, class Object>
  static void creation(Context&, TrackedHandler& h, const char* object_type, Object* object, uintmax_t,
                       const char* op_name) noexcept {
    if (DIAL9_LIKELY_OFF(dial9_active())) created(h, object_type, op_name, registration_of(object));
  }

  // BOOST_ASIO_HANDLER_REACTOR_OPERATION: a reactor operation tried its
  // non-blocking system call, speculatively at start or after readiness.
  template <class ErrorCode>
  static void reactor_operation(const TrackedHandler& h, const char*, const ErrorCode& ec) noexcept {
    if (DIAL9_LIKELY_OFF(h.id_ != 0)) performed(h, ec.value());
  }
  template <class ErrorCode>
  static void reactor_operation(const TrackedHandler& h, const char*, const ErrorCode& ec, size_t) noexcept {
    if (DIAL9_LIKELY_OFF(h.id_ != 0)) performed(h, ec.value());
  }

  // BOOST_ASIO_HANDLER_REACTOR_EVENTS: epoll_wait returned events for a
  // registration (right after the wait, before any handler runs).
  template <class Context>
  static void reactor_events(Context&, uintmax_t registration, unsigned events) noexcept {
    if (DIAL9_LIKELY_OFF(dial9_active())) ready(static_cast<uintptr_t>(registration), events);
  }

  static uint64_t new_id() noexcept {
    ThreadState& t = tls;
    if (t.next_id == t.end_id) {
      t.next_id = next_id_block.fetch_add(kIdBlock, std::memory_order_relaxed);
      t.end_id = t.next_id + kIdBlock;
    }
    return t.next_id++;
  }

  static uint64_t running_id() noexcept;

  // Writes TaskSpawn, or PollStart, with the location a handler keeps:
  // file:line, or "object.operation" at line 0, built on the stack (the
  // agent copies it). PollStart names it too: the agent may not have seen the
  // spawn (another thread, or before dial9 started).
  static void spawn(uint64_t id, const char* where, const char* what, uint32_t line, uint32_t flags) noexcept {
    Label label(where, what, line, flags);
    dial9_task_spawn(id, label.file, label.line, 0);
  }
  static void poll_begin(uint64_t id, const char* where, const char* what, uint32_t line, uint32_t flags) noexcept {
    Label label(where, what, line, flags);
    dial9_poll_begin(id, label.file, label.line, 0, 0);  // local queue depth: Asio does not tell
  }

 private:
  struct Label {
    Label(const char* where, const char* what, uint32_t line_number, uint32_t flags) noexcept {
      if (!(flags & kFallback)) {
        file = where;
        line = line_number;
        return;
      }
      size_t n = 0;
      for (const char* s = where; s && *s && n < 47; ++s) text[n++] = *s;
      text[n++] = '.';
      for (const char* s = what; s && *s && n < sizeof text - 1; ++s) text[n++] = *s;
      text[n] = '\0';
      file = text;
      line = 0;
    }
    char text[96];
    const char* file;
    uint32_t line;
  };

  template <class T, class = void>
  struct HasRegistration : std::false_type {};
  template <class T>
  struct HasRegistration<T, std::void_t<decltype(std::declval<T&>().reactor_data_)>>
      : std::is_pointer<decltype(std::declval<T&>().reactor_data_)> {};

  // A socket's epoll registration (its descriptor state), or 0. Sockets
  // expose it publicly as reactor_data_; other objects have none.
  template <class Object>
  static uintptr_t registration_of(Object* object) noexcept {
    if constexpr (HasRegistration<Object>::value) {
      return reinterpret_cast<uintptr_t>(object->reactor_data_);
    } else {
      (void)object;
      return 0;
    }
  }

  static ReadySlot& slot_for(uintptr_t registration) noexcept {
    return ready_slots[((registration >> 4) * 0x9E3779B97F4A7C15ull) >> 52];  // 12 bits: kReadySlots
  }
  static_assert(kReadySlots == 4096, "slot_for takes 12 bits");

  // Which epoll direction a socket operation waits for; -1: none we track
  // (async_wait names no direction; out-of-band data arrives as EPOLLPRI,
  // which Asio does not report).
  static int direction_of(const char* op_name) noexcept {
    if (!op_name) return -1;
    if (std::strncmp(op_name, "async_receive", 13) == 0 || std::strncmp(op_name, "async_read_some", 15) == 0 ||
        std::strcmp(op_name, "async_accept") == 0)
      return 0;
    if (std::strncmp(op_name, "async_send", 10) == 0 || std::strncmp(op_name, "async_write_some", 16) == 0 ||
        std::strcmp(op_name, "async_connect") == 0)
      return 1;
    return -1;
  }

  // Executors queue the handler at once: creation is its ready moment.
  static bool queued_at_creation(const char* object_type) noexcept {
    static const char* const kExecutors[] = {"io_context", "strand", "strand_executor", "system_executor",
                                             "thread_pool"};
    for (const char* e : kExecutors) {
      if (std::strcmp(object_type, e) == 0) return true;
    }
    return false;
  }

  static bool in_asio(const char* file) noexcept { return std::strstr(file, "boost/asio/") != nullptr; }

  static void created(TrackedHandler& h, const char* object_type, const char* op_name,
                      uintptr_t registration) noexcept {
    ThreadState& t = tls;
    h.id_ = new_id();
    h.slot_ = nullptr;
    locate(h, t, object_type ? object_type : "asio", op_name);
    spawn(h.id_, h.where_, h.what_, h.line_, h.flags_);

    if (object_type && queued_at_creation(object_type)) {
      h.flags_ |= kWoken;
      dial9_wake(running_id(), h.id_, 255);
      return;
    }
    int dir = registration ? direction_of(op_name) : -1;
    if (dir >= 0) {
      // Park the id before Asio starts the operation: the speculative attempt
      // and the epoll event may follow at once, on any thread.
      ReadySlot& s = slot_for(registration);
      if (s.registration.load(std::memory_order_relaxed) != registration) {
        s.waiting[0].store(0, std::memory_order_relaxed);
        s.waiting[1].store(0, std::memory_order_relaxed);
        s.registration.store(registration, std::memory_order_release);
      }
      s.waiting[dir].store(h.id_, std::memory_order_release);
      h.slot_ = &s.waiting[dir];
    }
  }

  // The spawn location. Only locations pushed inside the current handler's
  // poll count: one set around io_context::run would otherwise name every
  // handler. Asio's composed operations (async_read, async_write, ...) push
  // their own location from inside Asio's headers; their inner operations
  // keep the location of the call that started the composed operation, so
  // all the reads of one async_read point to the user's async_read line.
  static void locate(TrackedHandler& h, ThreadState& t, const char* object_type, const char* op_name) noexcept {
    Completion* running = t.running;
    Location* base = running ? running->locations_ : nullptr;
    Location* user = nullptr;
    Location* composed = nullptr;  // the outermost Asio location inside the handler
    for (Location* l = t.top; l && l != base; l = l->next_) {
      if (!in_asio(l->file_)) {
        user = l;
        break;
      }
      composed = l;
    }
    const char* composed_name = composed ? (composed->func_ ? composed->func_ : "composed") : nullptr;
    if (user) {
      h.where_ = user->file_;
      h.line_ = user->line_ > 0 ? static_cast<uint32_t>(user->line_) : 0;
      h.what_ = composed_name;
      h.flags_ = composed ? kComposed : 0;
      return;
    }
    if (composed && running && (running->flags_ & kComposed) && running->what_ &&
        std::strcmp(running->what_, composed_name) == 0) {
      // The next step of the composed operation the running handler belongs to.
      h.where_ = running->where_;
      h.what_ = running->what_;
      h.line_ = running->line_;
      h.flags_ = running->flags_ & (kComposed | kFallback);
      return;
    }
    h.where_ = object_type;
    h.what_ = composed ? composed_name : (op_name ? op_name : "handler");
    h.line_ = 0;
    h.flags_ = kFallback | (composed ? kComposed : 0);
  }

  static void performed(const TrackedHandler& h, int error) noexcept {
    // EAGAIN: not ready; the operation waits in the reactor.
    if (error == EAGAIN || error == EWOULDBLOCK) return;
    TrackedHandler& m = const_cast<TrackedHandler&>(h);  // Asio passes the op const; it is ours to mark
    if (m.flags_ & kWoken) return;
    m.flags_ |= kWoken;
    if (m.slot_) {
      uint64_t expected = m.id_;
      // Lost: the epoll event took the id and already wrote the wake.
      if (!m.slot_->compare_exchange_strong(expected, 0, std::memory_order_acq_rel)) return;
    }
    dial9_wake(running_id(), m.id_, 255);
  }

  static void ready(uintptr_t registration, unsigned events) noexcept {
    ReadySlot& s = slot_for(registration);
    if (s.registration.load(std::memory_order_acquire) != registration) return;
    // The reactor, not a task, wakes these.
    if (events & (kReadEvent | kErrorEvent)) {
      if (uint64_t id = s.waiting[0].exchange(0, std::memory_order_acq_rel)) dial9_wake(0, id, 255);
    }
    if (events & (kWriteEvent | kErrorEvent)) {
      if (uint64_t id = s.waiting[1].exchange(0, std::memory_order_acq_rel)) dial9_wake(0, id, 255);
    }
  }

  friend class Completion;
};

inline uint64_t Hooks::running_id() noexcept {
  Completion* r = tls.running;
  return r ? r->id_ : 0;
}

inline void Completion::start(const TrackedHandler& h) noexcept {
  if (h.id_ != 0) {
    id_ = h.id_;
    where_ = h.where_;
    what_ = h.what_;
    line_ = h.line_;
    flags_ = h.flags_;
    // An operation cancelled or failed before epoll saw it ready still has
    // its id parked; take it back so a later event cannot wake a dead task.
    if (h.slot_) {
      uint64_t expected = h.id_;
      h.slot_->compare_exchange_strong(expected, 0, std::memory_order_acq_rel);
    }
    return;
  }
  // Created before dial9 started: a task from here on, location unknown.
  id_ = Hooks::new_id();
  where_ = "asio";
  what_ = "handler created before dial9 started";
  flags_ = kFallback;
  Hooks::spawn(id_, where_, what_, 0, flags_);
}

inline void Completion::begin() noexcept {
  ThreadState& t = tls;
#ifndef DIAL9_ASIO_NO_AUTO_WORKER
  if (!t.worker_started) {
    uint32_t index = t.worker_index != 0 ? t.worker_index - 1 : next_worker.fetch_add(1, std::memory_order_relaxed);
    dial9_worker_start(index < 253 ? index : 253);  // indexes stop at 253: more threads share the last
    t.worker_started = true;
    worker_exit.armed = true;
  }
#endif
  // Polls do not nest in the trace: a handler run from inside another (a
  // strand running its queue, run_one from a handler) interrupts the outer
  // poll, which resumes when the inner one ends.
  outer_ = t.running;
  if (outer_) dial9_poll_end();
  locations_ = t.top;
  t.running = this;
  in_poll_ = true;
  Hooks::poll_begin(id_, where_, what_, line_, flags_);
}

inline void Completion::end() noexcept {
  dial9_poll_end();
  in_poll_ = false;
  tls.running = outer_;
  if (outer_) Hooks::poll_begin(outer_->id_, outer_->where_, outer_->what_, outer_->line_, outer_->flags_);
}

inline void Completion::finish() noexcept {
  if (in_poll_) end();  // the handler threw: Asio never reached invocation_end
  dial9_task_terminate(id_);
}

}  // namespace detail

inline void worker_start(uint32_t index) noexcept {
  detail::ThreadState& t = detail::tls;
  t.worker_index = index + 1;
  if (dial9_active()) {
    dial9_worker_start(index);
    t.worker_started = true;
    detail::worker_exit.armed = true;
  }
}

}  // namespace asio
}  // namespace dial9

// The hooks Asio calls (boost/asio/detail/handler_tracking.hpp lists them).
#define BOOST_ASIO_CUSTOM_HANDLER_TRACKING <dial9/asio.h>
#define BOOST_ASIO_INHERIT_TRACKED_HANDLER : public ::dial9::asio::detail::TrackedHandler
#define BOOST_ASIO_ALSO_INHERIT_TRACKED_HANDLER , public ::dial9::asio::detail::TrackedHandler
#define BOOST_ASIO_HANDLER_TRACKING_INIT (void)0
// Several may share a scope: the name carries the line.
#define BOOST_ASIO_HANDLER_LOCATION(args) \
  ::dial9::asio::detail::Location DIAL9_CONCAT_(dial9_asio_location_, __LINE__) args
#define BOOST_ASIO_HANDLER_CREATION(args) ::dial9::asio::detail::Hooks::creation args
#define BOOST_ASIO_HANDLER_COMPLETION(args) ::dial9::asio::detail::Completion tracked_completion args
#define BOOST_ASIO_HANDLER_INVOCATION_BEGIN(args) tracked_completion.invocation_begin args
#define BOOST_ASIO_HANDLER_INVOCATION_END tracked_completion.invocation_end()
// Operations without a handler (cancel, close): nothing to record.
#define BOOST_ASIO_HANDLER_OPERATION(args) (void)0
// Registration needs no hook: the creation hook claims a slot lazily.
#define BOOST_ASIO_HANDLER_REACTOR_REGISTRATION(args) (void)0
#define BOOST_ASIO_HANDLER_REACTOR_DEREGISTRATION(args) (void)0
#define BOOST_ASIO_HANDLER_REACTOR_READ_EVENT 1
#define BOOST_ASIO_HANDLER_REACTOR_WRITE_EVENT 2
#define BOOST_ASIO_HANDLER_REACTOR_ERROR_EVENT 4
#define BOOST_ASIO_HANDLER_REACTOR_EVENTS(args) ::dial9::asio::detail::Hooks::reactor_events args
#define BOOST_ASIO_HANDLER_REACTOR_OPERATION(args) ::dial9::asio::detail::Hooks::reactor_operation args

#endif /* __cplusplus */

#endif /* DIAL9_ASIO_H */
