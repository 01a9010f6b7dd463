// Distribution summaries shared by the analyses.
#pragma once

#include <algorithm>
#include <cstdint>
#include <vector>

#include "report/analysis/report.h"

namespace dial9::report {

// The p-th percentile (0 < p <= 100) of sorted values: the value at rank
// round(p/100 * n) (at least 1), the rank rule of HdrHistogram and so of the
// Tokio project's analysis toolkit. Unlike that toolkit, which reports the
// upper bound of the value's 3-significant-digit bucket, this returns the
// value itself: always one that was observed, and within 0.1% of the
// toolkit's figure.
inline uint64_t percentile(const std::vector<uint64_t>& sorted, double p) {
  if (sorted.empty()) return 0;
  auto rank = static_cast<size_t>(p / 100.0 * static_cast<double>(sorted.size()) + 0.5);
  rank = std::clamp<size_t>(rank, 1, sorted.size());
  return sorted[rank - 1];
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
