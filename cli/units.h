// Human units on the command line and in configuration: sizes ("64MiB",
// "1G", "4096") and durations ("30s", "500ms", "2m", "1h30m").
#pragma once

#include <cstdint>
#include <string_view>

#include "base/result.h"

namespace dial9::cli {

// Bytes. Suffixes B, K/KB/KiB, M/MB/MiB, G/GB/GiB, T/TB/TiB, case-insensitive,
// all powers of 1024 (as perf and most tools mean them). No suffix: bytes.
Result<uint64_t> parse_size(std::string_view text);

// Nanoseconds. Units ns, us, ms, s, m, h, d, combinable ("1h30m"); a bare
// number is seconds.
Result<uint64_t> parse_duration(std::string_view text);

// A point in a trace, for `report --from/--to`:
//   "2s", "+1m30s"      after the trace's start
//   "-10s"              before the trace's end
//   "@503228.93"        a trace timestamp in seconds, as `dial9 dump` prints them
//   "2026-05-15T17:55:12.5Z" (or with a space, without Z): wall-clock UTC
struct TimePoint {
  enum class Base { kStart, kEnd, kTrace, kWallClock } base = Base::kStart;
  uint64_t ns = 0;  // offset for kStart/kEnd; nanoseconds since the epoch or trace clock otherwise
};
Result<TimePoint> parse_time_point(std::string_view text);

}  // namespace dial9::cli
