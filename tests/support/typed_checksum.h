// Reads every field of a built-in event through its typed view (format/
// events.h), touching every byte of strings and every stack frame, and folds
// it all into a checksum. Shared by the fuzzer (so ASan sees any view that
// points at freed or foreign memory) and the codec benchmark (so it measures
// what a real consumer of the typed API pays).
#pragma once

#include <cstdint>
#include <string_view>

#include "format/events.h"

namespace dial9::test {

inline uint64_t touch(format::StackView s) {
  uint64_t acc = s.size();
  for (uint32_t i = 0; i < s.size(); ++i) acc += s[i];
  return acc;
}

// A plain sum reads every byte (all ASan needs) and vectorises, so the
// benchmark measures the decoder rather than a hash chain.
inline uint64_t touch(std::string_view s) {
  uint64_t acc = s.size();
  for (char c : s) acc += static_cast<uint8_t>(c);
  return acc;
}

inline uint64_t typed_checksum(const format::Event& e) {
  using namespace dial9::format;
  switch (e.builtin()) {
    case Builtin::kNone:
    case Builtin::kCount:
      return 0;
    case Builtin::kPollStart: {
      PollStart v = as_poll_start(e);
      return v.worker_id + v.local_queue + v.task_id + touch(v.spawn_loc);
    }
    case Builtin::kPollEnd:
      return as_poll_end(e).worker_id;
    case Builtin::kWorkerPark: {
      WorkerPark v = as_worker_park(e);
      return v.worker_id + v.local_queue + v.cpu_time_ns + v.tid;
    }
    case Builtin::kWorkerUnpark: {
      WorkerUnpark v = as_worker_unpark(e);
      return v.worker_id + v.local_queue + v.cpu_time_ns + v.sched_wait_ns + v.tid;
    }
    case Builtin::kQueueSample:
      return as_queue_sample(e).global_queue;
    case Builtin::kWorkerStart:
    case Builtin::kWorkerStop: {
      WorkerLife v = as_worker_life(e);
      return v.worker_id + v.tid;
    }
    case Builtin::kTaskSpawn: {
      TaskSpawn v = as_task_spawn(e);
      return v.task_id + touch(v.spawn_loc) + v.instrumented;
    }
    case Builtin::kTaskTerminate:
      return as_task_terminate(e).task_id;
    case Builtin::kWakeEvent: {
      WakeEvent v = as_wake_event(e);
      return v.waker_task_id + v.woken_task_id + v.target_worker;
    }
    case Builtin::kCpuSample: {
      CpuSample v = as_cpu_sample(e);
      uint64_t acc = v.worker_id + v.tid + v.source + touch(v.callchain);
      if (v.thread_name) acc += touch(*v.thread_name);
      if (v.cpu) acc += *v.cpu;
      return acc;
    }
    case Builtin::kTaskDump: {
      TaskDump v = as_task_dump(e);
      return v.task_id + touch(v.callchain);
    }
    case Builtin::kAlloc: {
      Alloc v = as_alloc(e);
      return v.tid + v.size + v.addr + touch(v.callchain);
    }
    case Builtin::kFree: {
      Free v = as_free(e);
      return v.tid + v.addr + v.size + v.alloc_timestamp_ns;
    }
    case Builtin::kSegmentMetadata: {
      uint64_t acc = 0;
      for_each_metadata(e, [&](std::string_view k, std::string_view v) { acc += touch(k) + touch(v); });
      return acc;
    }
    case Builtin::kClockSync:
      return as_clock_sync(e).realtime_ns;
    case Builtin::kSymbolTableEntry: {
      SymbolTableEntry v = as_symbol_table_entry(e);
      return v.addr + v.size + touch(v.symbol_name) + v.inline_depth + touch(v.source_file) +
             v.source_line;
    }
    case Builtin::kThreadName: {
      ThreadName v = as_thread_name(e);
      return v.pid + v.tid + touch(v.name) + v.exec;
    }
    case Builtin::kThreadStart: {
      ThreadStart v = as_thread_start(e);
      return v.pid + v.tid + v.ppid + v.ptid;
    }
    case Builtin::kThreadExit: {
      ThreadExit v = as_thread_exit(e);
      return v.pid + v.tid;
    }
    case Builtin::kProcessExit: {
      ProcessExit v = as_process_exit(e);
      return v.pid + static_cast<uint64_t>(v.status) + v.signal;
    }
    case Builtin::kMapping: {
      Mapping v = as_mapping(e);
      uint64_t acc = v.pid + v.start + v.length + v.file_offset + touch(v.path) + v.executable;
      for (uint8_t b : v.build_id) acc += b;
      return acc;
    }
    case Builtin::kLost: {
      Lost v = as_lost(e);
      return v.source + v.cpu + v.count;
    }
    case Builtin::kThrottle: {
      Throttle v = as_throttle(e);
      return v.cpu + v.throttled;
    }
    case Builtin::kThreadState: {
      ThreadStateChange v = as_thread_state(e);
      return v.tid + static_cast<uint64_t>(v.state);
    }
    case Builtin::kWakeup: {
      Wakeup v = as_wakeup(e);
      return v.tid + v.waker_pid + v.waker_tid + touch(v.waker_name);
    }
    case Builtin::kWakerStack: {
      WakerStack v = as_waker_stack(e);
      return v.tid + v.waker_pid + v.waker_tid + touch(v.callchain);
    }
    case Builtin::kSchedStat: {
      SchedStat v = as_sched_stat(e);
      return v.pid + v.tid + v.run_ns + v.wait_ns + v.timeslices;
    }
    case Builtin::kSpanClose:
      return as_span_close(e).span_id;
    case Builtin::kSpanEnter:
    case Builtin::kSpanExit: {
      SpanEvent v = as_span(e);
      uint64_t acc = v.enter + touch(v.callsite) + v.worker_id + v.span_id + touch(v.span_name);
      if (v.parent_span_id) acc += *v.parent_span_id;
      for (size_t i = v.first_extra_field; i < e.values.size(); ++i) {
        const Value& x = e.values[i];
        if (x.present && x.is_string()) acc += touch(x.str());
      }
      return acc;
    }
  }
  return 0;
}

}  // namespace dial9::test
