// TRC v1 encoder.
//
// Compiled into the in-process agent as well as the controller, so it follows
// the agent's rules: no exceptions, no allocation of its own, nothing beyond
// libc. It writes into a caller-owned ByteBuffer; when the buffer cannot grow
// the encoder records an overflow (sticky, see ok()) and stops writing, so a
// caller either discards the batch or flushes and starts a new stream.
//
// The encoder knows the wire format but not which schemas or pool entries the
// caller has already sent: ids are assigned here (per stream, from 0, in the
// order of definition), deduplication is the caller's business (see
// format/trace_writer.h for the host-side helper that does it).
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <span>
#include <string_view>

#include "format/trc.h"

namespace dial9::format {

// A growable or fixed output buffer. `grow`, when set, must make room for at
// least `need` more bytes beyond `size` (updating data and cap) and return
// false if it cannot. Without `grow` the buffer is fixed-capacity.
struct ByteBuffer {
  uint8_t* data = nullptr;
  size_t size = 0;
  size_t cap = 0;
  bool (*grow)(ByteBuffer& self, size_t need) = nullptr;
  void* owner = nullptr;  // for the grow callback's use
};

struct FieldDef {
  std::string_view name;
  uint8_t type;  // a FieldType, optionally with kOptionalBit
};

struct SchemaDef {
  std::string_view name;
  bool has_timestamp = true;
  std::span<const FieldDef> fields;
};

struct Annotation {
  uint16_t field_index;
  std::string_view key;
  std::string_view value;
};

class Encoder {
 public:
  explicit Encoder(ByteBuffer& out) : out_(&out) {}

  // Starts a new stream: writes the header and forgets ids, pools and the
  // timestamp base, exactly as a decoder does when it meets the header.
  void begin_stream();

  // Writes a schema frame and returns its type id.
  uint16_t define(const SchemaDef& schema);
  // Writes a schema-annotations frame (opt-in: the Tokio viewer cannot read
  // them, see docs/FORMAT.md).
  void annotate(uint16_t type_id, std::span<const Annotation> entries);

  // Write one-entry pool frames and return the new pool id.
  uint32_t add_string(std::string_view s);
  uint32_t add_stack(std::span<const uint64_t> frames_leaf_first);

  // Starts an event. The timestamped form writes a reset frame first when
  // `ts_ns` is below the base or more than kMaxDelta above it.
  void begin_event(uint16_t type_id, uint64_t ts_ns);
  void begin_event_untimed(uint16_t type_id);
  void timestamp_reset(uint64_t ts_ns);

  // Field values, written in schema order after begin_event.
  void put_i64(int64_t v) { put_fixed(static_cast<uint64_t>(v), 8); }
  void put_f64(double v) {
    uint64_t bits;
    std::memcpy(&bits, &v, 8);
    put_fixed(bits, 8);
  }
  void put_bool(bool v) { put_fixed(v ? 1 : 0, 1); }
  void put_u8(uint8_t v) { put_fixed(v, 1); }
  void put_u16(uint16_t v) { put_fixed(v, 2); }
  void put_u32(uint32_t v) { put_fixed(v, 4); }
  void put_varint(uint64_t v);
  void put_string(std::string_view s) { put_blob(s.data(), s.size()); }
  void put_bytes(std::span<const uint8_t> b) { put_blob(b.data(), b.size()); }
  void put_pool_ref(uint32_t pool_id) { put_fixed(pool_id, 4); }
  void put_stack(std::span<const uint64_t> frames_leaf_first);
  // Optional fields: put_absent(), or put_present() followed by the value.
  void put_absent() { put_fixed(0, 1); }
  void put_present() { put_fixed(1, 1); }
  // Composite values: the caller writes `count` entries after the header.
  // A StringMap entry is put_string(key), put_string(value); a DynamicList
  // entry is put_dynamic_tag(type) then the value; a DynamicMap entry is two
  // tagged values (key, value).
  void put_count(uint32_t count) { put_fixed(count, 4); }
  void put_dynamic_tag(FieldType t) { put_fixed(static_cast<uint8_t>(t), 1); }

  // False once any write did not fit; the buffer content is then unusable
  // beyond the last position the caller saved.
  bool ok() const { return ok_; }
  size_t size() const { return out_->size; }
  uint64_t timestamp_base() const { return base_ns_; }

 private:
  bool reserve(size_t n) {
    if (!ok_) return false;
    if (out_->cap - out_->size >= n) return true;
    if (out_->grow != nullptr && out_->grow(*out_, n)) return true;
    ok_ = false;
    return false;
  }
  void put_fixed(uint64_t v, size_t width) {
    if (!reserve(width)) return;
    uint8_t* p = out_->data + out_->size;
    for (size_t i = 0; i < width; ++i) p[i] = static_cast<uint8_t>(v >> (8 * i));
    out_->size += width;
  }
  void put_raw(const void* p, size_t n) {
    if (n == 0 || !reserve(n)) return;
    std::memcpy(out_->data + out_->size, p, n);
    out_->size += n;
  }
  void put_blob(const void* p, size_t n);

  ByteBuffer* out_;
  uint64_t base_ns_ = 0;
  uint16_t next_type_id_ = 0;
  uint32_t next_string_id_ = 0;
  uint32_t next_stack_id_ = 0;
  bool ok_ = true;
};

}  // namespace dial9::format
