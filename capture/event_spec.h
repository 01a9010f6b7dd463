// What to sample, as the user says it (`-e cycles -F 999`), turned into a
// perf_event_attr. Event names are resolved through libpfm4: perf's generic
// names (cycles, instructions, cpu-clock, task-clock, page-faults, ...) and,
// where the CPU has them, PMU-specific names (`amd64_fam17h::RETIRED_INSTRUCTIONS`).
//
// build_attr() is a pure function of the spec and libpfm4's tables, so it is
// tested with golden values without privileges; opening the event is the
// session's business.
#pragma once

#include <linux/perf_event.h>

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "base/result.h"

namespace dial9::capture {

struct SamplingSpec {
  std::string event = "cpu-clock";
  uint64_t frequency_hz = 999;  // samples per second per thread; or
  uint64_t period = 0;          // every `period` events (used when non-zero)
  bool kernel = true;           // kernel samples and kernel callchains
  bool callchain = true;        // user (and, with `kernel`, kernel) callchains
  bool inherit = true;          // follow threads and child processes
  bool enable_on_exec = false;  // start counting at the target's exec
};

// Fields of every sample dial9 asks for, in the order the kernel writes them.
inline constexpr uint64_t kSampleType = PERF_SAMPLE_IDENTIFIER | PERF_SAMPLE_IP | PERF_SAMPLE_TID |
                                        PERF_SAMPLE_TIME | PERF_SAMPLE_CPU | PERF_SAMPLE_PERIOD;

// The perf_event_attr for `spec`. Errors: an unknown event (the message names
// the closest known names), a frequency or period of 0, or both at once.
Result<perf_event_attr> build_attr(const SamplingSpec& spec);

// The names build_attr() accepts, lower-case, perf's generic ones first.
const std::vector<std::string>& known_event_names();

// Up to `n` known names closest to `unknown` (edit distance), best first.
std::vector<std::string> closest_event_names(std::string_view unknown, size_t n);

// Splits "a,b,c" into names, rejecting empty items.
Result<std::vector<std::string>> split_event_list(std::string_view list);

// Re-reads libpfm4's tables and its LIBPFM_* environment (LIBPFM_FORCE_PMU
// makes a machine encode another CPU's events, for tests).
void reinitialize_event_tables();

}  // namespace dial9::capture
