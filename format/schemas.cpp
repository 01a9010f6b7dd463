#include "format/schemas.h"

namespace dial9::format {
namespace {

using T = FieldType;
constexpr uint8_t t(T x) { return static_cast<uint8_t>(x); }

constexpr FieldDef kPollStart[] = {{"worker_id", t(T::kVarint)},
                                   {"local_queue", t(T::kU8)},
                                   {"task_id", t(T::kVarint)},
                                   {"spawn_loc", t(T::kPooledString)}};
constexpr FieldDef kPollEnd[] = {{"worker_id", t(T::kVarint)}};
constexpr FieldDef kWorkerPark[] = {{"worker_id", t(T::kVarint)},
                                    {"local_queue", t(T::kU8)},
                                    {"cpu_time_ns", t(T::kVarint)},
                                    {"tid", t(T::kU32)}};
constexpr FieldDef kWorkerUnpark[] = {{"worker_id", t(T::kVarint)},
                                      {"local_queue", t(T::kU8)},
                                      {"cpu_time_ns", t(T::kVarint)},
                                      {"sched_wait_ns", t(T::kVarint)},
                                      {"tid", t(T::kU32)}};
constexpr FieldDef kQueueSample[] = {{"global_queue", t(T::kU8)}};
constexpr FieldDef kTaskSpawn[] = {{"task_id", t(T::kVarint)},
                                   {"spawn_loc", t(T::kPooledString)},
                                   {"instrumented", t(T::kBool)}};
constexpr FieldDef kTaskTerminate[] = {{"task_id", t(T::kVarint)}};
constexpr FieldDef kWakeEvent[] = {{"waker_task_id", t(T::kVarint)},
                                   {"woken_task_id", t(T::kVarint)},
                                   {"target_worker", t(T::kU8)}};
constexpr FieldDef kCpuSample[] = {{"worker_id", t(T::kVarint)},
                                   {"tid", t(T::kU32)},
                                   {"source", t(T::kU8)},
                                   {"thread_name", optional_of(T::kPooledString)},
                                   {"callchain", t(T::kPooledStack)},
                                   {"cpu", optional_of(T::kVarint)}};
constexpr FieldDef kTaskDump[] = {{"task_id", t(T::kVarint)}, {"callchain", t(T::kPooledStack)}};
constexpr FieldDef kAlloc[] = {{"tid", t(T::kU32)},
                               {"size", t(T::kVarint)},
                               {"addr", t(T::kVarint)},
                               {"callchain", t(T::kPooledStack)}};
constexpr FieldDef kFree[] = {{"tid", t(T::kU32)},
                              {"addr", t(T::kVarint)},
                              {"size", t(T::kVarint)},
                              {"alloc_timestamp_ns", t(T::kVarint)}};
constexpr FieldDef kSegmentMetadata[] = {{"entries", t(T::kStringMap)}};
constexpr FieldDef kClockSync[] = {{"realtime_ns", t(T::kVarint)}};
constexpr FieldDef kSymbolTableEntry[] = {{"addr", t(T::kVarint)},
                                          {"size", t(T::kVarint)},
                                          {"symbol_name", t(T::kPooledString)},
                                          {"inline_depth", t(T::kVarint)},
                                          {"source_file", t(T::kPooledString)},
                                          {"source_line", t(T::kVarint)}};
constexpr FieldDef kSpanClose[] = {{"span_id", t(T::kVarint)}};
constexpr FieldDef kSpanEnter[] = {{"worker_id", t(T::kVarint)},
                                   {"span_id", t(T::kVarint)},
                                   {"parent_span_id", optional_of(T::kVarint)},
                                   {"span_name", t(T::kPooledString)}};
constexpr FieldDef kSpanExit[] = {{"worker_id", t(T::kVarint)},
                                  {"span_id", t(T::kVarint)},
                                  {"span_name", t(T::kPooledString)}};

constexpr FieldDef kThreadName[] = {{"pid", t(T::kU32)},
                                    {"tid", t(T::kU32)},
                                    {"name", t(T::kPooledString)},
                                    {"exec", t(T::kBool)}};
constexpr FieldDef kThreadStart[] = {
    {"pid", t(T::kU32)}, {"tid", t(T::kU32)}, {"ppid", t(T::kU32)}, {"ptid", t(T::kU32)}};
constexpr FieldDef kThreadExit[] = {{"pid", t(T::kU32)}, {"tid", t(T::kU32)}};
constexpr FieldDef kProcessExit[] = {
    {"pid", t(T::kU32)}, {"status", t(T::kI64)}, {"signal", t(T::kU8)}};
constexpr FieldDef kMapping[] = {{"pid", t(T::kU32)},          {"start", t(T::kVarint)},
                                 {"length", t(T::kVarint)},    {"file_offset", t(T::kVarint)},
                                 {"path", t(T::kPooledString)}, {"build_id", t(T::kBytes)},
                                 {"executable", t(T::kBool)}};
constexpr FieldDef kLost[] = {{"source", t(T::kU8)}, {"cpu", t(T::kVarint)}, {"count", t(T::kVarint)}};
constexpr FieldDef kThrottle[] = {{"cpu", t(T::kVarint)}, {"throttled", t(T::kBool)}};
constexpr FieldDef kThreadState[] = {{"tid", t(T::kU32)}, {"state", t(T::kU8)}};
constexpr FieldDef kWakeup[] = {{"tid", t(T::kU32)},
                                {"waker_pid", t(T::kU32)},
                                {"waker_tid", t(T::kU32)},
                                {"waker_name", t(T::kPooledString)}};
constexpr FieldDef kWakerStack[] = {{"tid", t(T::kU32)},
                                    {"waker_pid", t(T::kU32)},
                                    {"waker_tid", t(T::kU32)},
                                    {"callchain", t(T::kPooledStack)}};
constexpr FieldDef kSchedStat[] = {{"pid", t(T::kU32)},
                                   {"tid", t(T::kU32)},
                                   {"run_ns", t(T::kVarint)},
                                   {"wait_ns", t(T::kVarint)},
                                   {"timeslices", t(T::kVarint)}};

constexpr FieldDef kWorkerLife[] = {{"worker_id", t(T::kVarint)}, {"tid", t(T::kU32)}};

// Indexed by Builtin.
constexpr BuiltinSchema kBuiltins[] = {
    {Builtin::kNone, "", false, {}},
    {Builtin::kPollStart, "PollStartEvent", false, kPollStart},
    {Builtin::kPollEnd, "PollEndEvent", false, kPollEnd},
    {Builtin::kWorkerPark, "WorkerParkEvent", false, kWorkerPark},
    {Builtin::kWorkerUnpark, "WorkerUnparkEvent", false, kWorkerUnpark},
    {Builtin::kQueueSample, "QueueSampleEvent", false, kQueueSample},
    {Builtin::kTaskSpawn, "TaskSpawnEvent", false, kTaskSpawn},
    {Builtin::kTaskTerminate, "TaskTerminateEvent", false, kTaskTerminate},
    {Builtin::kWakeEvent, "WakeEventEvent", false, kWakeEvent},
    {Builtin::kCpuSample, "CpuSampleEvent", false, kCpuSample},
    {Builtin::kTaskDump, "TaskDumpEvent", false, kTaskDump},
    {Builtin::kAlloc, "AllocEvent", false, kAlloc},
    {Builtin::kFree, "FreeEvent", false, kFree},
    {Builtin::kSegmentMetadata, "SegmentMetadataEvent", false, kSegmentMetadata},
    {Builtin::kClockSync, "ClockSyncEvent", false, kClockSync},
    {Builtin::kSymbolTableEntry, "SymbolTableEntry", false, kSymbolTableEntry},
    {Builtin::kSpanClose, "SpanCloseEvent", false, kSpanClose},
    {Builtin::kSpanEnter, "SpanEnter:", true, kSpanEnter},
    {Builtin::kSpanExit, "SpanExit:", true, kSpanExit},
    {Builtin::kThreadName, "ThreadNameEvent", false, kThreadName},
    {Builtin::kThreadStart, "ThreadStartEvent", false, kThreadStart},
    {Builtin::kThreadExit, "ThreadExitEvent", false, kThreadExit},
    {Builtin::kProcessExit, "ProcessExitEvent", false, kProcessExit},
    {Builtin::kMapping, "MappingEvent", false, kMapping},
    {Builtin::kLost, "LostEvent", false, kLost},
    {Builtin::kThrottle, "ThrottleEvent", false, kThrottle},
    {Builtin::kThreadState, "ThreadStateEvent", false, kThreadState},
    {Builtin::kWakeup, "WakeupEvent", false, kWakeup},
    {Builtin::kWakerStack, "WakerStackEvent", false, kWakerStack},
    {Builtin::kSchedStat, "SchedStatEvent", false, kSchedStat},
    {Builtin::kWorkerStart, "WorkerStartEvent", false, kWorkerLife},
    {Builtin::kWorkerStop, "WorkerStopEvent", false, kWorkerLife},
};
static_assert(sizeof kBuiltins / sizeof kBuiltins[0] == static_cast<size_t>(Builtin::kCount));

enum class Kind { kInteger, kFloat, kString, kBytes, kStack, kMap, kList, kDynMap };

Kind kind_of(uint8_t type) {
  switch (static_cast<T>(type & ~kOptionalBit)) {
    case T::kF64:
      return Kind::kFloat;
    case T::kString:
    case T::kPooledString:
      return Kind::kString;
    case T::kBytes:
      return Kind::kBytes;
    case T::kPooledStack:
    case T::kStackFrames:
      return Kind::kStack;
    case T::kStringMap:
      return Kind::kMap;
    case T::kDynamicList:
      return Kind::kList;
    case T::kDynamicMap:
      return Kind::kDynMap;
    default:
      return Kind::kInteger;  // I64, Bool, Varint, U8, U16, U32
  }
}

}  // namespace

const BuiltinSchema& builtin_schema(Builtin id) { return kBuiltins[static_cast<size_t>(id)]; }

Builtin classify_schema_name(std::string_view name) {
  if (name.empty()) return Builtin::kNone;
  for (const BuiltinSchema& b : kBuiltins) {
    if (b.id == Builtin::kNone) continue;
    if (b.name_is_prefix ? name.substr(0, b.name.size()) == b.name : name == b.name) return b.id;
  }
  return Builtin::kNone;
}

bool compatible_field_type(uint8_t declared, uint8_t builtin) {
  return kind_of(declared) == kind_of(builtin);
}

}  // namespace dial9::format
