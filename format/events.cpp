#include "format/events.h"

namespace dial9::format {
namespace {

// Slots are only set for fields whose wire type is compatible with the
// built-in one (see compatible_field_type), so the union member read here
// is the right one.
uint64_t u(const Event& e, int s, uint64_t def = 0) {
  const Value* v = e.slot(s);
  return v ? v->num.u : def;
}
std::optional<uint64_t> opt_u(const Event& e, int s) {
  const Value* v = e.slot(s);
  return v ? std::optional<uint64_t>(v->num.u) : std::nullopt;
}
std::string_view str(const Event& e, int s) {
  const Value* v = e.slot(s);
  return v ? v->str() : std::string_view();
}
StackView stack(const Event& e, int s) {
  const Value* v = e.slot(s);
  return v ? v->stack() : StackView{};
}

}  // namespace

using namespace slot;

PollStart as_poll_start(const Event& e) {
  return {u(e, kPollStartWorker), static_cast<uint8_t>(u(e, kPollStartLocalQueue)),
          u(e, kPollStartTask), str(e, kPollStartSpawnLoc)};
}
PollEnd as_poll_end(const Event& e) { return {u(e, kPollEndWorker)}; }
WorkerPark as_worker_park(const Event& e) {
  return {u(e, kParkWorker), static_cast<uint8_t>(u(e, kParkLocalQueue)), u(e, kParkCpuTime),
          static_cast<uint32_t>(u(e, kParkTid))};
}
WorkerUnpark as_worker_unpark(const Event& e) {
  return {u(e, kUnparkWorker), static_cast<uint8_t>(u(e, kUnparkLocalQueue)),
          u(e, kUnparkCpuTime), u(e, kUnparkSchedWait), static_cast<uint32_t>(u(e, kUnparkTid))};
}
WorkerLife as_worker_life(const Event& e) { return {u(e, kLifeWorker), static_cast<uint32_t>(u(e, kLifeTid))}; }
QueueSample as_queue_sample(const Event& e) {
  return {static_cast<uint8_t>(u(e, kQueueGlobal))};
}
TaskSpawn as_task_spawn(const Event& e) {
  return {u(e, kSpawnTask), str(e, kSpawnLoc), u(e, kSpawnInstrumented) != 0};
}
TaskTerminate as_task_terminate(const Event& e) { return {u(e, kTerminateTask)}; }
WakeEvent as_wake_event(const Event& e) {
  return {u(e, kWakeWaker), u(e, kWakeWoken), static_cast<uint8_t>(u(e, kWakeTargetWorker))};
}
CpuSample as_cpu_sample(const Event& e) {
  CpuSample s;
  s.worker_id = u(e, kCpuWorker, kWorkerNone);
  s.tid = static_cast<uint32_t>(u(e, kCpuTid));
  s.source = static_cast<uint8_t>(u(e, kCpuSource));
  if (const Value* v = e.slot(kCpuThreadName)) s.thread_name = v->str();
  s.callchain = stack(e, kCpuCallchain);
  s.cpu = opt_u(e, kCpuCpu);
  return s;
}
TaskDump as_task_dump(const Event& e) { return {u(e, kDumpTask), stack(e, kDumpCallchain)}; }
Alloc as_alloc(const Event& e) {
  return {static_cast<uint32_t>(u(e, kAllocTid)), u(e, kAllocSize), u(e, kAllocAddr),
          stack(e, kAllocCallchain)};
}
Free as_free(const Event& e) {
  return {static_cast<uint32_t>(u(e, kFreeTid)), u(e, kFreeAddr), u(e, kFreeSize),
          u(e, kFreeAllocTs)};
}
ClockSync as_clock_sync(const Event& e) { return {u(e, kClockRealtime)}; }
SymbolTableEntry as_symbol_table_entry(const Event& e) {
  return {u(e, kSymAddr),        u(e, kSymSize),        str(e, kSymName),
          u(e, kSymInlineDepth), str(e, kSymSourceFile), u(e, kSymSourceLine)};
}
SpanClose as_span_close(const Event& e) { return {u(e, kCloseSpan)}; }

ThreadName as_thread_name(const Event& e) {
  return {static_cast<uint32_t>(u(e, kNamePid)), static_cast<uint32_t>(u(e, kNameTid)),
          str(e, kNameName), u(e, kNameExec) != 0};
}
ThreadStart as_thread_start(const Event& e) {
  return {static_cast<uint32_t>(u(e, kStartPid)), static_cast<uint32_t>(u(e, kStartTid)),
          static_cast<uint32_t>(u(e, kStartPpid)), static_cast<uint32_t>(u(e, kStartPtid))};
}
ThreadExit as_thread_exit(const Event& e) {
  return {static_cast<uint32_t>(u(e, kThreadExitPid)), static_cast<uint32_t>(u(e, kThreadExitTid))};
}
ProcessExit as_process_exit(const Event& e) {
  return {static_cast<uint32_t>(u(e, kProcExitPid)), static_cast<int64_t>(u(e, kProcExitStatus)),
          static_cast<uint8_t>(u(e, kProcExitSignal))};
}
Mapping as_mapping(const Event& e) {
  Mapping m;
  m.pid = static_cast<uint32_t>(u(e, kMapPid));
  m.start = u(e, kMapStart);
  m.length = u(e, kMapLength);
  m.file_offset = u(e, kMapOffset);
  m.path = str(e, kMapPath);
  if (const Value* v = e.slot(kMapBuildId)) m.build_id = v->bytes();
  m.executable = u(e, kMapExec) != 0;
  return m;
}
Lost as_lost(const Event& e) {
  return {static_cast<uint8_t>(u(e, kLostSource)), u(e, kLostCpu), u(e, kLostCount)};
}
Throttle as_throttle(const Event& e) { return {u(e, kThrottleCpu), u(e, kThrottleOn) != 0}; }
ThreadStateChange as_thread_state(const Event& e) {
  uint64_t state = u(e, kStateState);
  // A state this build does not know is a kind of blocking it cannot name.
  if (state > static_cast<uint64_t>(ThreadState::kBlocked)) state = static_cast<uint64_t>(ThreadState::kBlocked);
  return {static_cast<uint32_t>(u(e, kStateTid)), static_cast<ThreadState>(state)};
}
Wakeup as_wakeup(const Event& e) {
  return {static_cast<uint32_t>(u(e, kWakeupTid)), static_cast<uint32_t>(u(e, kWakeupWakerPid)),
          static_cast<uint32_t>(u(e, kWakeupWakerTid)), str(e, kWakeupWakerName)};
}
WakerStack as_waker_stack(const Event& e) {
  WakerStack w;
  w.tid = static_cast<uint32_t>(u(e, kWakerStackTid));
  w.waker_pid = static_cast<uint32_t>(u(e, kWakerStackWakerPid));
  w.waker_tid = static_cast<uint32_t>(u(e, kWakerStackWakerTid));
  w.callchain = stack(e, kWakerStackCallchain);
  return w;
}
SchedStat as_sched_stat(const Event& e) {
  return {static_cast<uint32_t>(u(e, kSchedStatPid)), static_cast<uint32_t>(u(e, kSchedStatTid)),
          u(e, kSchedStatRun), u(e, kSchedStatWait), u(e, kSchedStatSlices)};
}

SpanEvent as_span(const Event& e) {
  SpanEvent s;
  s.enter = e.builtin() == Builtin::kSpanEnter;
  std::string_view name = e.name();
  size_t colon = name.find(':');
  s.callsite = colon == std::string_view::npos ? std::string_view() : name.substr(colon + 1);
  if (s.enter) {
    s.worker_id = u(e, kEnterWorker, kWorkerNone);
    s.span_id = u(e, kEnterSpan);
    s.parent_span_id = opt_u(e, kEnterParent);
    s.span_name = str(e, kEnterName);
    s.first_extra_field = 4;
  } else {
    s.worker_id = u(e, kExitWorker, kWorkerNone);
    s.span_id = u(e, kExitSpan);
    s.span_name = str(e, kExitName);
    s.first_extra_field = 3;
  }
  if (s.first_extra_field > e.values.size()) s.first_extra_field = e.values.size();
  return s;
}

}  // namespace dial9::format
