// Host-side convenience over Encoder: a growable buffer, schemas defined once
// per stream (looked up by name), pooled strings and stacks interned per
// stream, and typed writers for the built-in events. Not for the agent (it
// allocates); the agent drives Encoder over a fixed buffer directly.
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <unordered_map>
#include <utility>
#include <vector>

#include "format/encoder.h"
#include "format/events.h"
#include "format/schemas.h"

namespace dial9::format {

class TraceWriter {
 public:
  TraceWriter();
  TraceWriter(const TraceWriter&) = delete;
  TraceWriter& operator=(const TraceWriter&) = delete;

  // Ends the current stream and starts another (header, fresh ids and pools).
  void new_stream();

  // The type id of a schema in this stream, writing its frame on first use.
  uint16_t schema(const SchemaDef& def);
  uint16_t schema(Builtin b) {
    uint16_t& id = builtin_ids_[static_cast<size_t>(b)];
    if (id == kUndefined) id = schema(builtin_schema(b).def());
    return id;
  }
  // Pool ids in this stream, writing a pool frame on first use of a value.
  uint32_t string(std::string_view s);
  uint32_t stack(std::span<const uint64_t> frames_leaf_first);

  Encoder& encoder() { return enc_; }
  std::span<const uint8_t> bytes() const { return {buf_.data, buf_.size}; }
  // Moves the bytes out and starts a new stream, so the next batch is
  // self-contained.
  std::vector<uint8_t> take();
  // Drops the bytes written so far but keeps the memory, and starts a new
  // stream: for a caller that copied bytes() out (a batch loop).
  void reset();

  // Built-in events. `ts_ns` is CLOCK_MONOTONIC nanoseconds.
  void poll_start(uint64_t ts_ns, const PollStart& e);
  void poll_end(uint64_t ts_ns, const PollEnd& e);
  void worker_park(uint64_t ts_ns, const WorkerPark& e);
  void worker_unpark(uint64_t ts_ns, const WorkerUnpark& e);
  void queue_sample(uint64_t ts_ns, const QueueSample& e);
  void task_spawn(uint64_t ts_ns, const TaskSpawn& e);
  void task_terminate(uint64_t ts_ns, const TaskTerminate& e);
  void wake_event(uint64_t ts_ns, const WakeEvent& e);
  // `callchain` leaf first.
  void cpu_sample(uint64_t ts_ns, const CpuSample& e, std::span<const uint64_t> callchain);
  void task_dump(uint64_t ts_ns, uint64_t task_id, std::span<const uint64_t> callchain);
  void alloc(uint64_t ts_ns, const Alloc& e, std::span<const uint64_t> callchain);
  void free(uint64_t ts_ns, const Free& e);
  void segment_metadata(uint64_t ts_ns,
                        std::span<const std::pair<std::string, std::string>> entries);
  void clock_sync(uint64_t ts_ns, const ClockSync& e);
  void symbol(uint64_t ts_ns, const SymbolTableEntry& e);
  void span_close(uint64_t ts_ns, const SpanClose& e);
  // dial9's own schemas.
  void thread_name(uint64_t ts_ns, const ThreadName& e);
  void thread_start(uint64_t ts_ns, const ThreadStart& e);
  void thread_exit(uint64_t ts_ns, const ThreadExit& e);
  void process_exit(uint64_t ts_ns, const ProcessExit& e);
  void mapping(uint64_t ts_ns, const Mapping& e);
  void lost(uint64_t ts_ns, const Lost& e);
  void throttle(uint64_t ts_ns, const Throttle& e);
  void thread_state(uint64_t ts_ns, const ThreadStateChange& e);
  void wakeup(uint64_t ts_ns, const Wakeup& e);
  // `callchain` (the waker's) leaf first; WakerStack::callchain is ignored.
  void waker_stack(uint64_t ts_ns, const WakerStack& e, std::span<const uint64_t> callchain);
  void sched_stat(uint64_t ts_ns, const SchedStat& e);

 private:
  static bool grow(ByteBuffer& b, size_t need);

  // Lookups by string_view without building a std::string (C++20
  // heterogeneous lookup): interning is on the per-event path.
  struct Hash {
    using is_transparent = void;
    size_t operator()(std::string_view s) const { return std::hash<std::string_view>()(s); }
  };
  template <typename V>
  using Map = std::unordered_map<std::string, V, Hash, std::equal_to<>>;
  static constexpr uint16_t kUndefined = 0xffff;

  std::vector<uint8_t> storage_;
  ByteBuffer buf_;
  Encoder enc_;
  Map<uint16_t> schemas_;
  // Built-in schema ids of this stream, so typed writers skip the name lookup.
  uint16_t builtin_ids_[static_cast<size_t>(Builtin::kCount)];
  Map<uint32_t> strings_;
  Map<uint32_t> stacks_;  // key: the frames' raw bytes
};

}  // namespace dial9::format
