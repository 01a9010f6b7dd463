// Kernel tracepoints as perf sees them: where tracefs is, a tracepoint's id
// (perf_event_attr.config for PERF_TYPE_TRACEPOINT) and the layout of the
// raw record it hands to PERF_SAMPLE_RAW, read from its `format` file.
//
// The layout differs between kernels (sched_switch's prev_state was an int
// before 4.x, sched_waking dropped `success` in 4.3), so fields are found
// by name in the format file, never hard-coded.
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "base/result.h"

namespace dial9::capture {

struct TracepointField {
  std::string name;
  uint32_t offset = 0, size = 0;
  bool is_signed = false;
};

struct Tracepoint {
  uint64_t id = 0;
  std::vector<TracepointField> fields;

  const TracepointField* field(std::string_view name) const;
};

// Parses a tracefs `format` file ("name: ...", "ID: N", "field:TYPE NAME;
// offset:N; size:N; signed:N;" lines). Errors: no ID line.
Result<Tracepoint> parse_tracepoint_format(std::string_view text);

// Reads an integer field of 1, 2, 4 or 8 bytes out of a raw sample (sign-
// extended when the field is signed); nullopt when the raw data is too short.
std::optional<int64_t> read_raw_field(std::span<const uint8_t> raw, const TracepointField& f);

// The tracefs directory with `events/` in it: /sys/kernel/tracing, or the
// older /sys/kernel/debug/tracing. When neither is there and `may_mount`,
// mounts tracefs at /sys/kernel/tracing (needs root or CAP_SYS_ADMIN), as
// `perf trace` users would by hand. Errors say why, without the fix (the
// caller knows what was lost): ENOENT not mounted, EACCES not readable.
Result<std::string> find_tracefs(bool may_mount);

// Reads `<tracefs>/events/<system>/<name>/format`.
Result<Tracepoint> read_tracepoint(const std::string& tracefs, std::string_view system,
                                   std::string_view name);

}  // namespace dial9::capture
