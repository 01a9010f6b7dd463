// pprof's profile format (a gzipped profile.proto, see export/profile.proto):
// what `go tool pprof`, pprof's web UI, Pyroscope and most continuous
// profilers read.
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <string>

#include "base/result.h"
#include "report/export/stacks.h"

namespace dial9::report {

class TraceResolver;

// Where a location was found: its callchain address and the file mapped
// there when it was sampled.
struct PprofAddress {
  uint64_t address = 0;
  uint64_t start = 0, limit = 0, file_offset = 0;  // the mapping, [start, limit)
  std::string path;
  std::string build_id;  // lowercase hex, "" when unknown
};

// What `resolver` knows of a location: the callchain value it was found at
// and the mapping in force when it was sampled. nullopt for an id the
// resolver never handed out.
std::optional<PprofAddress> pprof_address(const TraceResolver& resolver, uint32_t location);

struct PprofOptions {
  StackWeightOptions weight;
  bool inlines = true;  // inlined calls as Line entries of their own
  // The address and mapping of a model location id, when the caller knows
  // them (the model itself keeps only names). Without it, or where it
  // returns nullopt, locations have no address and there is one Mapping per
  // module name, with no memory range or build id.
  std::function<std::optional<PprofAddress>(uint32_t location)> address;
};

// The profile, serialized, not compressed. On-CPU: sample types
// samples/count and, when the trace's metadata gives a time period
// (frequency_hz, or a period of cpu-clock or task-clock), cpu/nanoseconds
// (samples × period). Off-CPU: switches/count, one per switch-out (the
// trace has no off-CPU durations). One Sample per unique (stack, thread),
// labelled "thread" (its name) and "tid"; one Location per model location,
// its inlined calls as Line entries, innermost first; Functions by (name,
// file). Invalid UTF-8 in names is replaced by U+FFFD.
std::string pprof_profile(const TraceModel& m, const PprofOptions& o = {});

// pprof_profile() gzipped, as pprof files are. Errors: zlib failed (out of
// memory).
Result<std::string> pprof_gz(const TraceModel& m, const PprofOptions& o = {});

}  // namespace dial9::report
