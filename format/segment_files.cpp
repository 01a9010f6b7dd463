#include "format/segment_files.h"

#include <algorithm>
#include <numeric>

namespace dial9::format {

std::optional<SegmentName> parse_segment_name(std::string_view name) {
  SegmentName out;
  std::string_view rest = name;
  constexpr std::string_view kActive = ".active";
  if (rest.size() > kActive.size() && rest.substr(rest.size() - kActive.size()) == kActive) {
    out.active = true;
    rest.remove_suffix(kActive.size());
  }
  bool matched = false;
  for (std::string_view suffix : {".bin.gz", ".bin.zst", ".bin"}) {
    if (out.active && suffix != ".bin") continue;  // only `.bin.active` is written
    if (rest.size() > suffix.size() && rest.substr(rest.size() - suffix.size()) == suffix) {
      rest.remove_suffix(suffix.size());
      matched = true;
      break;
    }
  }
  if (!matched) return std::nullopt;
  size_t dot = rest.rfind('.');
  if (dot == std::string_view::npos || dot == 0 || dot + 1 == rest.size()) return std::nullopt;
  std::string_view digits = rest.substr(dot + 1);
  if (digits.size() > 18) return std::nullopt;
  uint64_t n = 0;
  for (char c : digits) {
    if (c < '0' || c > '9') return std::nullopt;
    n = n * 10 + static_cast<uint64_t>(c - '0');
  }
  out.stem = std::string(rest.substr(0, dot));
  out.index = n;
  return out;
}

std::vector<size_t> segments_to_delete(const std::vector<SegmentRecord>& sealed,
                                       uint64_t active_bytes, uint64_t budget) {
  if (budget == 0) return {};
  uint64_t total = active_bytes;
  for (const auto& s : sealed) total += s.size;
  std::vector<size_t> order(sealed.size());
  std::iota(order.begin(), order.end(), 0);
  std::sort(order.begin(), order.end(), [&](size_t a, size_t b) {
    if (sealed[a].start_realtime_ns != sealed[b].start_realtime_ns) {
      return sealed[a].start_realtime_ns < sealed[b].start_realtime_ns;
    }
    return sealed[a].index < sealed[b].index;
  });
  std::vector<size_t> out;
  for (size_t i : order) {
    if (total <= budget) break;
    out.push_back(i);
    total -= sealed[i].size;
  }
  return out;
}

uint64_t next_period_boundary(uint64_t realtime_ns, uint64_t period_ns) {
  if (period_ns == 0) return UINT64_MAX;
  return (realtime_ns / period_ns + 1) * period_ns;
}

}  // namespace dial9::format
