// Distribution summaries shared by the analyses.
#pragma once

#include <algorithm>
#include <cstdint>
#include <vector>

#include "report/analysis/report.h"

namespace dial9::report {

// The p-th percentile (0 < p <= 100) of sorted values by the nearest-rank
// method: the smallest value with at least p% of the values at or below it.
// Always one of the values, so a report never shows a latency that did not
// happen.
inline uint64_t percentile(const std::vector<uint64_t>& sorted, double p) {
  if (sorted.empty()) return 0;
  double rank = p / 100.0 * static_cast<double>(sorted.size());
  size_t idx = static_cast<size_t>(rank);
  if (static_cast<double>(idx) < rank) ++idx;  // ceil
  idx = std::clamp<size_t>(idx, 1, sorted.size());
  return sorted[idx - 1];
}

// Sorts `values` and summarises them.
inline LatencyStats summarize(std::vector<uint64_t>& values) {
  std::sort(values.begin(), values.end());
  LatencyStats s;
  s.count = values.size();
  if (values.empty()) return s;
  s.p50_ns = percentile(values, 50);
  s.p90_ns = percentile(values, 90);
  s.p99_ns = percentile(values, 99);
  s.max_ns = values.back();
  return s;
}

}  // namespace dial9::report
