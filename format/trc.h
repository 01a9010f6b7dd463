// TRC v1 wire constants shared by the encoder and the decoder.
// docs/FORMAT.md is the normative description; every number here appears there.
#pragma once

#include <cstddef>
#include <cstdint>

namespace dial9::format {

inline constexpr uint8_t kMagic[4] = {'T', 'R', 'C', 0};
inline constexpr uint8_t kVersion = 1;
inline constexpr size_t kHeaderSize = 5;

enum class FrameTag : uint8_t {
  kSchema = 0x01,
  kEvent = 0x02,
  kStringPool = 0x03,
  kStackPool = 0x04,
  kTimestampReset = 0x05,
  kAnnotations = 0x06,
};

// Field type tags. Bit 0x80 on a field's declared type makes it optional.
enum class FieldType : uint8_t {
  kI64 = 1,
  kF64 = 2,
  kBool = 3,
  kString = 4,
  kBytes = 5,
  kPooledStack = 6,
  kPooledString = 7,
  kStackFrames = 8,
  kVarint = 9,
  kStringMap = 10,
  kU8 = 11,
  kU16 = 12,
  kU32 = 13,
  kDynamicList = 14,
  kDynamicMap = 15,
};

inline constexpr uint8_t kOptionalBit = 0x80;
inline constexpr uint8_t kMaxFieldType = 15;

inline constexpr bool is_known_field_type(uint8_t t) {
  return t >= 1 && t <= kMaxFieldType;
}
inline constexpr uint8_t optional_of(FieldType t) {
  return static_cast<uint8_t>(t) | kOptionalBit;
}

// Largest delta an event header can carry (u24).
inline constexpr uint64_t kMaxDelta = 0xFFFFFF;
// Unsigned LEB128 of a u64 never needs more than 10 bytes.
inline constexpr size_t kMaxVarintBytes = 10;

}  // namespace dial9::format
