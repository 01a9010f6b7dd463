// Naming and bookkeeping of trace segments on disk, as pure functions.
//
// A segment is `<stem>.<N>.bin.active` while being written and
// `<stem>.<N>.bin`, `.bin.gz` or `.bin.zst` once sealed (docs/FORMAT.md,
// "Segments on disk"). N counts up across runs in the same directory.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace dial9::format {

struct SegmentName {
  std::string stem;
  uint64_t index = 0;
  bool active = false;
};

// Recognises a segment file name; nullopt for anything else.
std::optional<SegmentName> parse_segment_name(std::string_view name);

// A sealed segment as retention sees it.
struct SegmentRecord {
  std::string name;
  uint64_t size = 0;
  uint64_t start_realtime_ns = 0;  // from its first ClockSyncEvent; 0 if unknown
  uint64_t index = 0;
};

// Which sealed segments to delete, oldest first (by recorded start time,
// then index), so that they plus `active_bytes` fit in `budget` bytes.
// Returns indices into `sealed`. A budget of 0 means unlimited.
std::vector<size_t> segments_to_delete(const std::vector<SegmentRecord>& sealed,
                                       uint64_t active_bytes, uint64_t budget);

// The first multiple of `period_ns` (counted from the Unix epoch) strictly
// after `realtime_ns`: time rotation cuts segments at these instants so that
// they line up with the wall clock (every minute on the minute, ...).
uint64_t next_period_boundary(uint64_t realtime_ns, uint64_t period_ns);

}  // namespace dial9::format
