// The built-in schemas of docs/FORMAT.md: names, field names and wire types,
// exactly as the Tokio recorder writes them. Used by the encoder side to
// define schemas and by the decoder to recognise them by name (type ids are
// per stream, names are stable: FORMAT.md rule 2).
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <string_view>

#include "format/encoder.h"

namespace dial9::format {

enum class Builtin : uint8_t {
  kNone = 0,  // a schema this build does not know: kept as a generic event
  kPollStart,
  kPollEnd,
  kWorkerPark,
  kWorkerUnpark,
  kQueueSample,
  kTaskSpawn,
  kTaskTerminate,
  kWakeEvent,
  kCpuSample,
  kTaskDump,
  kAlloc,
  kFree,
  kSegmentMetadata,
  kClockSync,
  kSymbolTableEntry,
  kSpanClose,
  kSpanEnter,  // "SpanEnter:<callsite>": fixed fields then one per span field
  kSpanExit,   // "SpanExit:<callsite>"
  // dial9's own schemas (docs/FORMAT.md, "Native schemas").
  kThreadName,
  kThreadStart,
  kThreadExit,
  kProcessExit,
  kMapping,
  kLost,
  kThrottle,
  kThreadState,
  kWakeup,
  kWakerStack,
  kSchedStat,
  kWorkerStart,
  kWorkerStop,
  kCount,
};

inline constexpr size_t kMaxBuiltinFields = 8;

struct BuiltinSchema {
  Builtin id;
  std::string_view name;  // full name, or the prefix up to ':' for spans
  bool name_is_prefix;
  std::span<const FieldDef> fields;  // the fixed fields, in wire order

  SchemaDef def() const { return SchemaDef{name, true, fields}; }
};

const BuiltinSchema& builtin_schema(Builtin id);
// Recognises a schema name: exact names, and "SpanEnter:"/"SpanExit:"
// prefixes. Anything else is kNone.
Builtin classify_schema_name(std::string_view name);

// Whether a declared wire type can stand for a built-in field's type. Readers
// are lenient about integer widths and pooled-vs-inline, so a writer that
// picks another integer encoding still has its fields recognised.
bool compatible_field_type(uint8_t declared, uint8_t builtin);

// Field positions of each built-in schema, for Event::slot().
namespace slot {
enum PollStartField { kPollStartWorker, kPollStartLocalQueue, kPollStartTask, kPollStartSpawnLoc };
enum PollEndField { kPollEndWorker };
enum WorkerParkField { kParkWorker, kParkLocalQueue, kParkCpuTime, kParkTid };
enum WorkerUnparkField {
  kUnparkWorker,
  kUnparkLocalQueue,
  kUnparkCpuTime,
  kUnparkSchedWait,
  kUnparkTid
};
enum QueueSampleField { kQueueGlobal };
enum TaskSpawnField { kSpawnTask, kSpawnLoc, kSpawnInstrumented };
enum TaskTerminateField { kTerminateTask };
enum WakeEventField { kWakeWaker, kWakeWoken, kWakeTargetWorker };
enum CpuSampleField { kCpuWorker, kCpuTid, kCpuSource, kCpuThreadName, kCpuCallchain, kCpuCpu };
enum TaskDumpField { kDumpTask, kDumpCallchain };
enum AllocField { kAllocTid, kAllocSize, kAllocAddr, kAllocCallchain };
enum FreeField { kFreeTid, kFreeAddr, kFreeSize, kFreeAllocTs };
enum SegmentMetadataField { kMetaEntries };
enum ClockSyncField { kClockRealtime };
enum SymbolTableEntryField {
  kSymAddr,
  kSymSize,
  kSymName,
  kSymInlineDepth,
  kSymSourceFile,
  kSymSourceLine
};
enum SpanCloseField { kCloseSpan };
enum SpanEnterField { kEnterWorker, kEnterSpan, kEnterParent, kEnterName };
enum SpanExitField { kExitWorker, kExitSpan, kExitName };
enum ThreadNameField { kNamePid, kNameTid, kNameName, kNameExec };
enum ThreadStartField { kStartPid, kStartTid, kStartPpid, kStartPtid };
enum ThreadExitField { kThreadExitPid, kThreadExitTid };
enum ProcessExitField { kProcExitPid, kProcExitStatus, kProcExitSignal };
enum MappingField { kMapPid, kMapStart, kMapLength, kMapOffset, kMapPath, kMapBuildId, kMapExec };
enum LostField { kLostSource, kLostCpu, kLostCount };
enum ThrottleField { kThrottleCpu, kThrottleOn };
enum ThreadStateField { kStateTid, kStateState };
enum WakeupField { kWakeupTid, kWakeupWakerPid, kWakeupWakerTid, kWakeupWakerName };
enum WakerStackField { kWakerStackTid, kWakerStackWakerPid, kWakerStackWakerTid, kWakerStackCallchain };
enum SchedStatField { kSchedStatPid, kSchedStatTid, kSchedStatRun, kSchedStatWait, kSchedStatSlices };
enum WorkerLifeField { kLifeWorker, kLifeTid };
}  // namespace slot

}  // namespace dial9::format
