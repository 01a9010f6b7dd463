// Decoding the records a perf ring delivers, for the layout build_attr()
// asks for (kSampleType, optionally with PERF_SAMPLE_CALLCHAIN,
// PERF_SAMPLE_REGS_USER and PERF_SAMPLE_STACK_USER, and sample_id_all).
// Pure: bytes in, fields out; every length is checked against the record's
// own size.
#pragma once

#include <cstdint>
#include <span>
#include <string_view>
#include <vector>

#include "base/result.h"

namespace dial9::capture {

enum class RecordKind {
  kSample,
  kMmap,         // PERF_RECORD_MMAP2
  kComm,         // thread name set, or exec (misc & PERF_RECORD_MISC_COMM_EXEC)
  kFork,         // a thread or process was created
  kExit,         // a thread exited
  kLost,         // the ring overflowed: `lost` records dropped
  kThrottle,     // the kernel throttled sampling
  kUnthrottle,
  kLostSamples,  // samples dropped before reaching the ring
  kSwitch,       // the thread was switched in or (misc & PERF_RECORD_MISC_SWITCH_OUT) out
  kOther,        // a record dial9 does not use
};

struct ParsedRecord {
  RecordKind kind = RecordKind::kOther;
  uint16_t misc = 0;
  // Who and when: from the sample itself or from the sample_id trailer.
  uint32_t pid = 0, tid = 0, cpu = 0;
  uint64_t time = 0;
  uint64_t id = 0;
  // kSample.
  uint64_t ip = 0;
  uint64_t period = 0;
  std::vector<uint64_t> callchain;  // leaf first, context markers removed
  uint32_t kernel_frames = 0;       // how many of them are kernel addresses
  // PERF_SAMPLE_REGS_USER: the user registers of the attr's mask, in mask
  // bit order; empty when the kernel had none (a kernel thread).
  std::vector<uint64_t> user_regs;
  // PERF_SAMPLE_STACK_USER: the bytes the kernel copied from the user stack
  // pointer upwards (only the valid ones: dyn_size of them).
  std::vector<uint8_t> user_stack;
  // PERF_SAMPLE_RAW: a tracepoint's record (see capture/tracefs.h).
  std::vector<uint8_t> raw;
  // kFork / kExit: the new (or exiting) pid/tid and its parent.
  uint32_t ppid = 0, ptid = 0;
  // kComm: the name. kMmap: the file name. (Copied: records outlive the
  // ring space they came from when the session orders them by time.)
  std::string name;
  // kMmap.
  uint64_t addr = 0, len = 0, pgoff = 0;
  uint32_t prot = 0, flags = 0;
  std::vector<uint8_t> build_id;  // when the kernel supplied one
  // kLost / kLostSamples.
  uint64_t lost = 0;
};

// Parses one record (header included). `sample_type` and
// `sample_regs_user` are the attr's; the sample_id trailer of non-sample
// records is read only with sample_id_all. `out`'s vectors and string keep
// their capacity between calls.
Result<void> parse_record(std::span<const uint8_t> record, uint64_t sample_type,
                          ParsedRecord& out, uint64_t sample_regs_user = 0);

}  // namespace dial9::capture
