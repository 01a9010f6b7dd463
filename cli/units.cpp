#include "cli/units.h"

#include <cctype>
#include <cstdio>
#include <ctime>
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

Result<TimePoint> parse_time_point(std::string_view text) {
  const std::string examples = " (examples: 2s, -10s, @503228.93, 2026-05-15T17:55:12Z)";
  if (text.empty()) return fail("an empty time" + examples);
  TimePoint p;
  if (text.size() > 10 && text[4] == '-' && text[7] == '-' && (text[10] == 'T' || text[10] == ' ')) {
    std::tm tm{};
    int consumed = 0;
    std::string s(text);
    if (std::sscanf(s.c_str(), "%4d-%2d-%2d%*c%2d:%2d:%2d%n", &tm.tm_year, &tm.tm_mon, &tm.tm_mday,
                    &tm.tm_hour, &tm.tm_min, &tm.tm_sec, &consumed) != 6) {
      return fail("'" + s + "' is not a date and time" + examples);
    }
    long double frac = 0;
    size_t pos = static_cast<size_t>(consumed);
    if (pos < s.size() && s[pos] == '.') {
      size_t start = pos;
      read_number(s, pos, frac);
      frac = std::stold("0" + s.substr(start, pos - start));
    }
    if (pos < s.size() && (s[pos] == 'Z' || s[pos] == 'z')) ++pos;
    if (pos != s.size()) return fail("'" + s + "': only UTC times are understood (end with Z)" + examples);
    tm.tm_year -= 1900;
    tm.tm_mon -= 1;
    std::time_t secs = timegm(&tm);
    if (secs < 0) return fail("'" + s + "' is before 1970" + examples);
    p.base = TimePoint::Base::kWallClock;
    p.ns = static_cast<uint64_t>(secs) * 1'000'000'000ull + static_cast<uint64_t>(frac * 1e9L);
    return p;
  }
  if (text[0] == '@') {
    size_t pos = 1;
    long double secs;
    if (!read_number(text, pos, secs) || pos != text.size()) {
      return fail("'" + std::string(text) + "' is not a trace timestamp" + examples);
    }
    p.base = TimePoint::Base::kTrace;
    p.ns = static_cast<uint64_t>(secs * 1e9L);
    return p;
  }
  if (text[0] == '-' || text[0] == '+') {
    p.base = text[0] == '-' ? TimePoint::Base::kEnd : TimePoint::Base::kStart;
    text.remove_prefix(1);
  }
  auto d = parse_duration(text);
  if (!d) return fail(d.error().message() + "; or a time" + examples);
  p.ns = *d;
  return p;
}

}  // namespace dial9::cli
