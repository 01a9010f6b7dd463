#include "format/trace_writer.h"

#include <cstring>

namespace dial9::format {

TraceWriter::TraceWriter() : enc_(buf_) {
  buf_.grow = &TraceWriter::grow;
  buf_.owner = this;
  new_stream();
}

bool TraceWriter::grow(ByteBuffer& b, size_t need) {
  auto* self = static_cast<TraceWriter*>(b.owner);
  size_t want = std::max(b.size + need, b.cap * 2 + 4096);
  self->storage_.resize(want);
  b.data = self->storage_.data();
  b.cap = self->storage_.size();
  return true;
}

void TraceWriter::new_stream() {
  for (uint16_t& id : builtin_ids_) id = kUndefined;
  schemas_.clear();
  strings_.clear();
  stacks_.clear();
  enc_.begin_stream();
}

std::vector<uint8_t> TraceWriter::take() {
  storage_.resize(buf_.size);
  std::vector<uint8_t> out = std::move(storage_);
  storage_ = {};
  buf_.data = nullptr;
  buf_.size = buf_.cap = 0;
  new_stream();
  return out;
}

void TraceWriter::reset() {
  buf_.size = 0;
  new_stream();
}

uint16_t TraceWriter::schema(const SchemaDef& def) {
  auto it = schemas_.find(def.name);
  if (it == schemas_.end()) it = schemas_.emplace(std::string(def.name), enc_.define(def)).first;
  return it->second;
}

uint32_t TraceWriter::string(std::string_view s) {
  auto it = strings_.find(s);
  if (it == strings_.end()) it = strings_.emplace(std::string(s), enc_.add_string(s)).first;
  return it->second;
}

uint32_t TraceWriter::stack(std::span<const uint64_t> frames) {
  std::string_view key(reinterpret_cast<const char*>(frames.data()), frames.size() * 8);
  auto it = stacks_.find(key);
  if (it == stacks_.end()) it = stacks_.emplace(std::string(key), enc_.add_stack(frames)).first;
  return it->second;
}

void TraceWriter::poll_start(uint64_t ts, const PollStart& e) {
  uint16_t id = schema(Builtin::kPollStart);
  uint32_t loc = string(e.spawn_loc);
  enc_.begin_event(id, ts);
  enc_.put_varint(e.worker_id);
  enc_.put_u8(e.local_queue);
  enc_.put_varint(e.task_id);
  enc_.put_pool_ref(loc);
}

void TraceWriter::poll_end(uint64_t ts, const PollEnd& e) {
  enc_.begin_event(schema(Builtin::kPollEnd), ts);
  enc_.put_varint(e.worker_id);
}

void TraceWriter::worker_park(uint64_t ts, const WorkerPark& e) {
  enc_.begin_event(schema(Builtin::kWorkerPark), ts);
  enc_.put_varint(e.worker_id);
  enc_.put_u8(e.local_queue);
  enc_.put_varint(e.cpu_time_ns);
  enc_.put_u32(e.tid);
}

void TraceWriter::worker_unpark(uint64_t ts, const WorkerUnpark& e) {
  enc_.begin_event(schema(Builtin::kWorkerUnpark), ts);
  enc_.put_varint(e.worker_id);
  enc_.put_u8(e.local_queue);
  enc_.put_varint(e.cpu_time_ns);
  enc_.put_varint(e.sched_wait_ns);
  enc_.put_u32(e.tid);
}

void TraceWriter::queue_sample(uint64_t ts, const QueueSample& e) {
  enc_.begin_event(schema(Builtin::kQueueSample), ts);
  enc_.put_u8(e.global_queue);
}

void TraceWriter::task_spawn(uint64_t ts, const TaskSpawn& e) {
  uint16_t id = schema(Builtin::kTaskSpawn);
  uint32_t loc = string(e.spawn_loc);
  enc_.begin_event(id, ts);
  enc_.put_varint(e.task_id);
  enc_.put_pool_ref(loc);
  enc_.put_bool(e.instrumented);
}

void TraceWriter::task_terminate(uint64_t ts, const TaskTerminate& e) {
  enc_.begin_event(schema(Builtin::kTaskTerminate), ts);
  enc_.put_varint(e.task_id);
}

void TraceWriter::wake_event(uint64_t ts, const WakeEvent& e) {
  enc_.begin_event(schema(Builtin::kWakeEvent), ts);
  enc_.put_varint(e.waker_task_id);
  enc_.put_varint(e.woken_task_id);
  enc_.put_u8(e.target_worker);
}

void TraceWriter::cpu_sample(uint64_t ts, const CpuSample& e, std::span<const uint64_t> chain) {
  uint16_t id = schema(Builtin::kCpuSample);
  // Pool frames go before the event frame that refers to them.
  uint32_t name = e.thread_name ? string(*e.thread_name) : 0;
  uint32_t st = stack(chain);
  enc_.begin_event(id, ts);
  enc_.put_varint(e.worker_id);
  enc_.put_u32(e.tid);
  enc_.put_u8(e.source);
  if (e.thread_name) {
    enc_.put_present();
    enc_.put_pool_ref(name);
  } else {
    enc_.put_absent();
  }
  enc_.put_pool_ref(st);
  if (e.cpu) {
    enc_.put_present();
    enc_.put_varint(*e.cpu);
  } else {
    enc_.put_absent();
  }
}

void TraceWriter::task_dump(uint64_t ts, uint64_t task_id, std::span<const uint64_t> chain) {
  uint16_t id = schema(Builtin::kTaskDump);
  uint32_t st = stack(chain);
  enc_.begin_event(id, ts);
  enc_.put_varint(task_id);
  enc_.put_pool_ref(st);
}

void TraceWriter::alloc(uint64_t ts, const Alloc& e, std::span<const uint64_t> chain) {
  uint16_t id = schema(Builtin::kAlloc);
  uint32_t st = stack(chain);
  enc_.begin_event(id, ts);
  enc_.put_u32(e.tid);
  enc_.put_varint(e.size);
  enc_.put_varint(e.addr);
  enc_.put_pool_ref(st);
}

void TraceWriter::free(uint64_t ts, const Free& e) {
  enc_.begin_event(schema(Builtin::kFree), ts);
  enc_.put_u32(e.tid);
  enc_.put_varint(e.addr);
  enc_.put_varint(e.size);
  enc_.put_varint(e.alloc_timestamp_ns);
}

void TraceWriter::segment_metadata(uint64_t ts,
                                   std::span<const std::pair<std::string, std::string>> entries) {
  enc_.begin_event(schema(Builtin::kSegmentMetadata), ts);
  enc_.put_count(static_cast<uint32_t>(entries.size()));
  for (const auto& [k, v] : entries) {
    enc_.put_string(k);
    enc_.put_string(v);
  }
}

void TraceWriter::clock_sync(uint64_t ts, const ClockSync& e) {
  enc_.begin_event(schema(Builtin::kClockSync), ts);
  enc_.put_varint(e.realtime_ns);
}

void TraceWriter::symbol(uint64_t ts, const SymbolTableEntry& e) {
  uint16_t id = schema(Builtin::kSymbolTableEntry);
  uint32_t name = string(e.symbol_name);
  uint32_t file = string(e.source_file);
  enc_.begin_event(id, ts);
  enc_.put_varint(e.addr);
  enc_.put_varint(e.size);
  enc_.put_pool_ref(name);
  enc_.put_varint(e.inline_depth);
  enc_.put_pool_ref(file);
  enc_.put_varint(e.source_line);
}

void TraceWriter::span_close(uint64_t ts, const SpanClose& e) {
  enc_.begin_event(schema(Builtin::kSpanClose), ts);
  enc_.put_varint(e.span_id);
}

void TraceWriter::thread_name(uint64_t ts, const ThreadName& e) {
  uint16_t id = schema(Builtin::kThreadName);
  uint32_t name = string(e.name);
  enc_.begin_event(id, ts);
  enc_.put_u32(e.pid);
  enc_.put_u32(e.tid);
  enc_.put_pool_ref(name);
  enc_.put_bool(e.exec);
}

void TraceWriter::thread_start(uint64_t ts, const ThreadStart& e) {
  enc_.begin_event(schema(Builtin::kThreadStart), ts);
  enc_.put_u32(e.pid);
  enc_.put_u32(e.tid);
  enc_.put_u32(e.ppid);
  enc_.put_u32(e.ptid);
}

void TraceWriter::thread_exit(uint64_t ts, const ThreadExit& e) {
  enc_.begin_event(schema(Builtin::kThreadExit), ts);
  enc_.put_u32(e.pid);
  enc_.put_u32(e.tid);
}

void TraceWriter::process_exit(uint64_t ts, const ProcessExit& e) {
  enc_.begin_event(schema(Builtin::kProcessExit), ts);
  enc_.put_u32(e.pid);
  enc_.put_i64(e.status);
  enc_.put_u8(e.signal);
}

void TraceWriter::mapping(uint64_t ts, const Mapping& e) {
  uint16_t id = schema(Builtin::kMapping);
  uint32_t path = string(e.path);
  enc_.begin_event(id, ts);
  enc_.put_u32(e.pid);
  enc_.put_varint(e.start);
  enc_.put_varint(e.length);
  enc_.put_varint(e.file_offset);
  enc_.put_pool_ref(path);
  enc_.put_bytes(e.build_id);
  enc_.put_bool(e.executable);
}

void TraceWriter::lost(uint64_t ts, const Lost& e) {
  enc_.begin_event(schema(Builtin::kLost), ts);
  enc_.put_u8(e.source);
  enc_.put_varint(e.cpu);
  enc_.put_varint(e.count);
}

void TraceWriter::throttle(uint64_t ts, const Throttle& e) {
  enc_.begin_event(schema(Builtin::kThrottle), ts);
  enc_.put_varint(e.cpu);
  enc_.put_bool(e.throttled);
}

void TraceWriter::thread_state(uint64_t ts, const ThreadStateChange& e) {
  enc_.begin_event(schema(Builtin::kThreadState), ts);
  enc_.put_u32(e.tid);
  enc_.put_u8(static_cast<uint8_t>(e.state));
}

void TraceWriter::wakeup(uint64_t ts, const Wakeup& e) {
  uint16_t id = schema(Builtin::kWakeup);
  uint32_t name = string(e.waker_name);
  enc_.begin_event(id, ts);
  enc_.put_u32(e.tid);
  enc_.put_u32(e.waker_pid);
  enc_.put_u32(e.waker_tid);
  enc_.put_pool_ref(name);
}

void TraceWriter::waker_stack(uint64_t ts, const WakerStack& e, std::span<const uint64_t> chain) {
  uint16_t id = schema(Builtin::kWakerStack);
  uint32_t st = stack(chain);
  enc_.begin_event(id, ts);
  enc_.put_u32(e.tid);
  enc_.put_u32(e.waker_pid);
  enc_.put_u32(e.waker_tid);
  enc_.put_pool_ref(st);
}

void TraceWriter::sched_stat(uint64_t ts, const SchedStat& e) {
  enc_.begin_event(schema(Builtin::kSchedStat), ts);
  enc_.put_u32(e.pid);
  enc_.put_u32(e.tid);
  enc_.put_varint(e.run_ns);
  enc_.put_varint(e.wait_ns);
  enc_.put_varint(e.timeslices);
}

}  // namespace dial9::format
