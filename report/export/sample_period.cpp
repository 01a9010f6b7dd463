#include "report/export/sample_period.h"

#include <cmath>
#include <cstdlib>

namespace dial9::report {

std::optional<int64_t> sample_period_ns(const TraceModel& m) {
  auto number = [&](const char* key) -> std::optional<double> {
    auto it = m.metadata.find(key);
    if (it == m.metadata.end()) return std::nullopt;
    char* end = nullptr;
    double v = std::strtod(it->second.c_str(), &end);
    if (end == it->second.c_str() || *end != '\0' || !(v > 0) || !std::isfinite(v)) return std::nullopt;
    return v;
  };
  if (auto hz = number("frequency_hz")) {
    int64_t ns = std::llround(1e9 / *hz);
    return ns > 0 ? std::optional<int64_t>(ns) : std::nullopt;
  }
  auto event = m.metadata.find("event");
  if (event != m.metadata.end() && (event->second == "cpu-clock" || event->second == "task-clock")) {
    if (auto p = number("period"); p && *p < 1e18) return static_cast<int64_t>(std::llround(*p));
  }
  return std::nullopt;
}

}  // namespace dial9::report
