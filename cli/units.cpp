#include "cli/units.h"

#include <cctype>
#include <string>

namespace dial9::cli {
namespace {

std::string lower(std::string_view s) {
  std::string out(s);
  for (char& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

// Reads a decimal number (digits with an optional fraction) at `pos`.
bool read_number(std::string_view s, size_t& pos, long double& out) {
  size_t start = pos;
  while (pos < s.size() && (std::isdigit(static_cast<unsigned char>(s[pos])) || s[pos] == '.')) ++pos;
  if (pos == start) return false;
  try {
    out = std::stold(std::string(s.substr(start, pos - start)));
  } catch (...) {
    return false;
  }
  return true;
}

}  // namespace

Result<uint64_t> parse_size(std::string_view text) {
  size_t pos = 0;
  long double n;
  if (!read_number(text, pos, n)) {
    return fail("'" + std::string(text) + "' is not a size (examples: 64MiB, 1G, 4096)");
  }
  std::string unit = lower(text.substr(pos));
  long double mul;
  if (unit.empty() || unit == "b") {
    mul = 1;
  } else if (unit == "k" || unit == "kb" || unit == "kib") {
    mul = 1024.0L;
  } else if (unit == "m" || unit == "mb" || unit == "mib") {
    mul = 1024.0L * 1024;
  } else if (unit == "g" || unit == "gb" || unit == "gib") {
    mul = 1024.0L * 1024 * 1024;
  } else if (unit == "t" || unit == "tb" || unit == "tib") {
    mul = 1024.0L * 1024 * 1024 * 1024;
  } else {
    return fail("'" + std::string(text) + "': unknown size unit '" + unit + "' (use B, KiB, MiB, GiB or TiB)");
  }
  long double bytes = n * mul;
  if (bytes > 1.8e19L) return fail("'" + std::string(text) + "' is too large");
  return static_cast<uint64_t>(bytes);
}

Result<uint64_t> parse_duration(std::string_view text) {
  if (text.empty()) return fail("an empty duration (examples: 30s, 500ms, 2m, 1h30m)");
  size_t pos = 0;
  long double total = 0;
  while (pos < text.size()) {
    long double n;
    if (!read_number(text, pos, n)) {
      return fail("'" + std::string(text) + "' is not a duration (examples: 30s, 500ms, 2m, 1h30m)");
    }
    size_t start = pos;
    while (pos < text.size() && std::isalpha(static_cast<unsigned char>(text[pos]))) ++pos;
    std::string unit = lower(text.substr(start, pos - start));
    long double mul;
    if (unit.empty() || unit == "s") {
      mul = 1e9L;
    } else if (unit == "ns") {
      mul = 1;
    } else if (unit == "us") {
      mul = 1e3L;
    } else if (unit == "ms") {
      mul = 1e6L;
    } else if (unit == "m" || unit == "min") {
      mul = 60e9L;
    } else if (unit == "h") {
      mul = 3600e9L;
    } else if (unit == "d") {
      mul = 86400e9L;
    } else {
      return fail("'" + std::string(text) + "': unknown time unit '" + unit + "' (use ns, us, ms, s, m, h or d)");
    }
    total += n * mul;
    if (unit.empty() && pos < text.size()) {
      return fail("'" + std::string(text) + "' is not a duration (a unit is needed between numbers)");
    }
  }
  if (total > 1.8e19L) return fail("'" + std::string(text) + "' is too long");
  return static_cast<uint64_t>(total);
}

}  // namespace dial9::cli
