// Lower-case hex of bytes (build ids, dump output, debug-file paths).
#pragma once

#include <cstdint>
#include <span>
#include <string>

namespace dial9 {

inline void append_hex(std::span<const uint8_t> bytes, std::string& out) {
  static constexpr char kDigits[] = "0123456789abcdef";
  for (uint8_t b : bytes) {
    out += kDigits[b >> 4];
    out += kDigits[b & 15];
  }
}

inline std::string to_hex(std::span<const uint8_t> bytes) {
  std::string out;
  append_hex(bytes, out);
  return out;
}

}  // namespace dial9
