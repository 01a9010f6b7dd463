#include "format/encoder.h"

namespace dial9::format {

void Encoder::begin_stream() {
  put_raw(kMagic, sizeof kMagic);
  put_u8(kVersion);
  base_ns_ = 0;
  next_type_id_ = 0;
  next_string_id_ = 0;
  next_stack_id_ = 0;
}

uint16_t Encoder::define(const SchemaDef& schema) {
  // Lengths and counts that do not fit their wire width cannot be encoded:
  // fail the batch rather than write a frame that decodes as garbage.
  bool fits = schema.name.size() <= 0xffff && schema.fields.size() <= 0xffff;
  for (const FieldDef& f : schema.fields) fits = fits && f.name.size() <= 0xffff;
  if (!fits) ok_ = false;
  uint16_t id = next_type_id_++;
  put_u8(static_cast<uint8_t>(FrameTag::kSchema));
  put_u16(id);
  put_u16(static_cast<uint16_t>(schema.name.size()));
  put_raw(schema.name.data(), schema.name.size());
  put_u8(schema.has_timestamp ? 1 : 0);
  put_u16(static_cast<uint16_t>(schema.fields.size()));
  for (const FieldDef& f : schema.fields) {
    put_u16(static_cast<uint16_t>(f.name.size()));
    put_raw(f.name.data(), f.name.size());
    put_u8(f.type);
  }
  return id;
}

void Encoder::annotate(uint16_t type_id, std::span<const Annotation> entries) {
  bool fits = entries.size() <= 0xffff;
  for (const Annotation& a : entries) fits = fits && a.key.size() <= 0xffff && a.value.size() <= 0xffffffffu;
  if (!fits) ok_ = false;
  put_u8(static_cast<uint8_t>(FrameTag::kAnnotations));
  put_varint(type_id);
  put_u16(static_cast<uint16_t>(entries.size()));
  for (const Annotation& a : entries) {
    put_u16(a.field_index);
    put_u16(static_cast<uint16_t>(a.key.size()));
    put_raw(a.key.data(), a.key.size());
    put_u32(static_cast<uint32_t>(a.value.size()));
    put_raw(a.value.data(), a.value.size());
  }
}

uint32_t Encoder::add_string(std::string_view s) {
  uint32_t id = next_string_id_++;
  put_u8(static_cast<uint8_t>(FrameTag::kStringPool));
  put_u32(1);
  put_u32(id);
  put_blob(s.data(), s.size());
  return id;
}

uint32_t Encoder::add_stack(std::span<const uint64_t> frames) {
  uint32_t id = next_stack_id_++;
  put_u8(static_cast<uint8_t>(FrameTag::kStackPool));
  put_u32(1);
  put_u32(id);
  put_stack(frames);
  return id;
}

void Encoder::timestamp_reset(uint64_t ts_ns) {
  put_u8(static_cast<uint8_t>(FrameTag::kTimestampReset));
  put_fixed(ts_ns, 8);
  base_ns_ = ts_ns;
}

void Encoder::begin_event(uint16_t type_id, uint64_t ts_ns) {
  if (ts_ns < base_ns_ || ts_ns - base_ns_ > kMaxDelta) timestamp_reset(ts_ns);
  uint64_t delta = ts_ns - base_ns_;
  // Tag, type id and delta in one reservation: this is the hot path.
  if (!reserve(6)) return;
  uint8_t* p = out_->data + out_->size;
  p[0] = static_cast<uint8_t>(FrameTag::kEvent);
  p[1] = static_cast<uint8_t>(type_id);
  p[2] = static_cast<uint8_t>(type_id >> 8);
  p[3] = static_cast<uint8_t>(delta);
  p[4] = static_cast<uint8_t>(delta >> 8);
  p[5] = static_cast<uint8_t>(delta >> 16);
  out_->size += 6;
  base_ns_ = ts_ns;
}

void Encoder::begin_event_untimed(uint16_t type_id) {
  put_u8(static_cast<uint8_t>(FrameTag::kEvent));
  put_u16(type_id);
}

void Encoder::put_varint(uint64_t v) {
  if (!reserve(kMaxVarintBytes)) return;
  uint8_t* p = out_->data + out_->size;
  size_t n = 0;
  while (v >= 0x80) {
    p[n++] = static_cast<uint8_t>(v) | 0x80;
    v >>= 7;
  }
  p[n++] = static_cast<uint8_t>(v);
  out_->size += n;
}

void Encoder::put_blob(const void* p, size_t n) {
  if (n > 0xffffffffu) ok_ = false;
  put_u32(static_cast<uint32_t>(n));
  put_raw(p, n);
}

void Encoder::put_stack(std::span<const uint64_t> frames) {
  if (frames.size() > 0xffffffffu / 8) ok_ = false;
  put_u32(static_cast<uint32_t>(frames.size()));
  if (!reserve(frames.size() * 8)) return;
  uint8_t* p = out_->data + out_->size;
  for (uint64_t a : frames) {
    for (int i = 0; i < 8; ++i) *p++ = static_cast<uint8_t>(a >> (8 * i));
  }
  out_->size += frames.size() * 8;
}

}  // namespace dial9::format
