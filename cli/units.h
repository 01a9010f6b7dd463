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

}  // namespace dial9::cli
