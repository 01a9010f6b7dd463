#include "format/decoder.h"

#include <cstdio>
#include <algorithm>
#include <cstring>

namespace dial9::format {
namespace {

using Parse = Decoder::Parse;

// Composite values may nest (a DynamicList of DynamicLists); the bound keeps
// hostile input from exhausting the stack.
constexpr int kMaxNesting = 32;

inline uint16_t load_le16(const uint8_t* p) { return static_cast<uint16_t>(p[0] | (p[1] << 8)); }
inline uint32_t load_le32(const uint8_t* p) {
  uint32_t v;
  std::memcpy(&v, p, 4);
  return v;
}

inline bool has(const uint8_t* p, const uint8_t* end, uint64_t n) {
  return static_cast<uint64_t>(end - p) >= n;
}

std::string hex_byte(uint8_t b) {
  char buf[8];
  std::snprintf(buf, sizeof buf, "0x%02x", b);
  return buf;
}

Parse read_varint(const uint8_t*& p, const uint8_t* end, uint64_t& out, std::string* err) {
  uint64_t v = 0;
  for (int i = 0; i < static_cast<int>(kMaxVarintBytes); ++i) {
    if (p + i >= end) return Parse::kShort;
    uint8_t b = p[i];
    if (i == 9 && b > 1) {
      if (err) *err = "varint overflows 64 bits";
      return Parse::kBad;
    }
    v |= static_cast<uint64_t>(b & 0x7f) << (7 * i);
    if ((b & 0x80) == 0) {
      p += i + 1;
      out = v;
      return Parse::kOk;
    }
  }
  return Parse::kBad;  // unreachable: the tenth byte either ends the varint or is rejected
}

// Reads a u32-length-prefixed blob.
Parse read_blob(const uint8_t*& p, const uint8_t* end, const uint8_t*& data, uint32_t& len) {
  if (!has(p, end, 4)) return Parse::kShort;
  len = load_le32(p);
  if (!has(p + 4, end, len)) return Parse::kShort;
  data = p + 4;
  p += 4 + static_cast<size_t>(len);
  return Parse::kOk;
}

// Decodes one value of wire type `type` (optional bit allowed). Shared by the
// decoder and CompositeReader; `err` gets the reason for kBad.
Parse parse_value(const uint8_t*& p, const uint8_t* end, uint8_t type, Value& v,
                  const Pools& pools, int depth, std::string* err) {
  if (type & kOptionalBit) {
    if (!has(p, end, 1)) return Parse::kShort;
    uint8_t flag = *p;
    if (flag > 1) {
      if (err) *err = "optional presence byte is " + hex_byte(flag) + ", expected 0x00 or 0x01";
      return Parse::kBad;
    }
    ++p;
    if (flag == 0) {
      v.type = static_cast<FieldType>(type & ~kOptionalBit);
      v.present = false;
      return Parse::kOk;
    }
    type &= static_cast<uint8_t>(~kOptionalBit);
  }
  v.type = static_cast<FieldType>(type);
  v.present = true;
  switch (v.type) {
    case FieldType::kI64:
    case FieldType::kF64:
      if (!has(p, end, 8)) return Parse::kShort;
      v.num.u = load_le64(p);
      p += 8;
      return Parse::kOk;
    case FieldType::kBool:
    case FieldType::kU8:
      if (!has(p, end, 1)) return Parse::kShort;
      v.num.u = *p++;
      return Parse::kOk;
    case FieldType::kU16:
      if (!has(p, end, 2)) return Parse::kShort;
      v.num.u = load_le16(p);
      p += 2;
      return Parse::kOk;
    case FieldType::kU32:
      if (!has(p, end, 4)) return Parse::kShort;
      v.num.u = load_le32(p);
      p += 4;
      return Parse::kOk;
    case FieldType::kVarint:
      return read_varint(p, end, v.num.u, err);
    case FieldType::kString:
    case FieldType::kBytes:
      return read_blob(p, end, v.ptr, v.len);
    case FieldType::kPooledString:
    case FieldType::kPooledStack: {
      if (!has(p, end, 4)) return Parse::kShort;
      v.pool_id = load_le32(p);
      bool is_str = v.type == FieldType::kPooledString;
      const Pools::Entry* e = is_str ? pools.string(v.pool_id) : pools.stack(v.pool_id);
      if (e == nullptr) {
        if (err) {
          *err = std::string(is_str ? "string" : "stack") + " pool id " +
                 std::to_string(v.pool_id) + " is used before it is defined";
        }
        return Parse::kBad;
      }
      v.ptr = reinterpret_cast<const uint8_t*>(e->bytes.data());
      if (is_str) {
        v.len = static_cast<uint32_t>(e->bytes.size());
      } else {
        v.count = e->count;
        v.len = static_cast<uint32_t>(e->bytes.size());
      }
      p += 4;
      return Parse::kOk;
    }
    case FieldType::kStackFrames: {
      if (!has(p, end, 4)) return Parse::kShort;
      v.count = load_le32(p);
      uint64_t bytes = 8 * static_cast<uint64_t>(v.count);
      if (!has(p + 4, end, bytes)) return Parse::kShort;
      v.ptr = p + 4;
      v.len = static_cast<uint32_t>(bytes);
      p += 4 + bytes;
      return Parse::kOk;
    }
    case FieldType::kStringMap:
    case FieldType::kDynamicList:
    case FieldType::kDynamicMap: {
      if (depth >= kMaxNesting) {
        if (err) *err = "values nested deeper than " + std::to_string(kMaxNesting);
        return Parse::kBad;
      }
      if (!has(p, end, 4)) return Parse::kShort;
      uint32_t count = load_le32(p);
      const uint8_t* q = p + 4;
      const uint8_t* body = q;
      // Walk (and so validate) every entry now; the count is never used to
      // size anything, each entry must actually be present.
      for (uint32_t i = 0; i < count; ++i) {
        if (v.type == FieldType::kStringMap) {
          const uint8_t* d;
          uint32_t n;
          for (int k = 0; k < 2; ++k) {
            if (Parse r = read_blob(q, end, d, n); r != Parse::kOk) return r;
          }
          continue;
        }
        int parts = v.type == FieldType::kDynamicMap ? 2 : 1;
        for (int k = 0; k < parts; ++k) {
          if (!has(q, end, 1)) return Parse::kShort;
          uint8_t tag = *q++;
          if (!is_known_field_type(tag & ~kOptionalBit)) {
            if (err) *err = "unknown dynamic value type " + std::to_string(tag);
            return Parse::kBad;
          }
          Value inner;
          if (Parse r = parse_value(q, end, tag, inner, pools, depth + 1, err); r != Parse::kOk) {
            return r;
          }
        }
      }
      v.count = count;
      v.ptr = body;
      v.len = static_cast<uint32_t>(q - body);
      v.pools = &pools;
      p = q;
      return Parse::kOk;
    }
  }
  if (err) *err = "unknown field type " + std::to_string(static_cast<int>(type));
  return Parse::kBad;
}

}  // namespace

// ---- CompositeReader ------------------------------------------------------

CompositeReader::CompositeReader(const Value& v)
    : p_(v.ptr), end_(v.ptr + v.len), remaining_(v.present ? v.count : 0), kind_(v.type),
      pools_(v.pools) {
  if (kind_ != FieldType::kStringMap && kind_ != FieldType::kDynamicList &&
      kind_ != FieldType::kDynamicMap) {
    remaining_ = 0;
  }
}

void CompositeReader::next_value(Value& value) {
  if (remaining_ == 0) return;
  --remaining_;
  uint8_t tag = *p_++;
  (void)parse_value(p_, end_, tag, value, *pools_, 1, nullptr);
}

void CompositeReader::next_pair(Value& key, Value& value) {
  if (remaining_ == 0) return;
  if (kind_ == FieldType::kStringMap) {
    --remaining_;
    const uint8_t s = static_cast<uint8_t>(FieldType::kString);
    (void)parse_value(p_, end_, s, key, *pools_, 1, nullptr);
    (void)parse_value(p_, end_, s, value, *pools_, 1, nullptr);
    return;
  }
  next_value(key);
  ++remaining_;  // a map entry is one entry with two tagged values
  uint8_t tag = *p_++;
  (void)parse_value(p_, end_, tag, value, *pools_, 1, nullptr);
  --remaining_;
}

// ---- Schema / Event -------------------------------------------------------

int Schema::index_of(std::string_view field_name) const {
  for (size_t i = 0; i < fields.size(); ++i) {
    if (fields[i].name == field_name) return static_cast<int>(i);
  }
  return -1;
}

bool Schema::same_layout(const Schema& o) const {
  if (name != o.name || has_timestamp != o.has_timestamp || fields.size() != o.fields.size()) {
    return false;
  }
  for (size_t i = 0; i < fields.size(); ++i) {
    if (fields[i].name != o.fields[i].name || fields[i].type != o.fields[i].type) return false;
  }
  return true;
}

const Value* Event::field(std::string_view field_name) const {
  int idx = schema->index_of(field_name);
  if (idx < 0 || !values[static_cast<size_t>(idx)].present) return nullptr;
  return &values[static_cast<size_t>(idx)];
}

// ---- Pools ----------------------------------------------------------------

void Pools::clear() {
  strings_.clear();
  stacks_.clear();
  sparse_strings_.clear();
  sparse_stacks_.clear();
}

const Pools::Entry* Pools::find(const std::vector<Entry>& dense,
                                const std::unordered_map<uint32_t, Entry>& sparse, uint32_t id) {
  if (id < dense.size()) return dense[id].set ? &dense[id] : nullptr;
  if (sparse.empty()) return nullptr;
  auto it = sparse.find(id);
  return it == sparse.end() ? nullptr : &it->second;
}

Pools::Entry& Pools::slot(std::vector<Entry>& dense, std::unordered_map<uint32_t, Entry>& sparse,
                          uint32_t id) {
  // Writers assign ids 0, 1, 2, ...; only the next id extends the dense
  // table, so memory stays proportional to the entries actually sent.
  if (id < dense.size()) return dense[id];
  if (id == dense.size()) return dense.emplace_back();
  return sparse[id];
}

void Pools::set_string(uint32_t id, std::string_view s) {
  Entry& e = slot(strings_, sparse_strings_, id);
  e.bytes.assign(s);
  e.set = true;
}

void Pools::set_stack(uint32_t id, const uint8_t* raw, uint32_t count) {
  Entry& e = slot(stacks_, sparse_stacks_, id);
  e.bytes.assign(reinterpret_cast<const char*>(raw), 8 * static_cast<size_t>(count));
  e.count = count;
  e.set = true;
}

// ---- Decoder --------------------------------------------------------------

Decoder::Decoder(DecoderLimits limits) : limits_(limits) {}

void Decoder::feed(std::span<const uint8_t> chunk) {
  if (chunk.empty()) return;
  if (cur_ == end_) {
    // Nothing left over: decode straight from the caller's memory.
    base_offset_ = offset_of(cur_);
    own_.clear();
    begin_ = cur_ = chunk.data();
    end_ = chunk.data() + chunk.size();
    return;
  }
  // A partial frame is left: append to our own copy of it.
  uint64_t off = offset_of(cur_);
  if (!own_.empty() && cur_ >= own_.data() && cur_ <= own_.data() + own_.size()) {
    own_.erase(own_.begin(), own_.begin() + (cur_ - own_.data()));
  } else {
    own_.assign(cur_, end_);
  }
  own_.insert(own_.end(), chunk.begin(), chunk.end());
  base_offset_ = off;
  begin_ = cur_ = own_.data();
  end_ = own_.data() + own_.size();
}

void Decoder::finish() { finished_ = true; }

void Decoder::report(Diagnostic::Kind kind, uint64_t offset, std::string message) {
  ++diagnostic_count_;
  if (diagnostics_.size() < limits_.max_diagnostics) {
    diagnostics_.push_back(Diagnostic{kind, offset, std::move(message)});
  }
}

void Decoder::reset_stream() {
  schemas_.clear();
  pools_.clear();
  base_ns_ = 0;
  in_stream_ = true;
  ++stats_.streams;
}

bool Decoder::resync() {
  const uint8_t* found = nullptr;
  if (end_ - cur_ >= 4) {
    found = static_cast<const uint8_t*>(memmem(cur_, static_cast<size_t>(end_ - cur_), kMagic, 4));
  }
  if (found != nullptr) {
    stats_.skipped_bytes += static_cast<uint64_t>(found - cur_);
    cur_ = found;
    dead_ = false;
    return true;
  }
  // Keep up to 3 trailing bytes: they may be the start of a header that the
  // next chunk completes. At the end of input there is nothing to wait for.
  const uint8_t* keep = finished_ ? end_ : end_ - std::min<ptrdiff_t>(end_ - cur_, 3);
  stats_.skipped_bytes += static_cast<uint64_t>(keep - cur_);
  cur_ = keep;
  return false;
}

Decoder::Parse Decoder::bad(std::string message) {
  error_ = std::move(message);
  return Parse::kBad;
}

Decoder::Parse Decoder::parse_header(const uint8_t*& p) {
  size_t avail = static_cast<size_t>(end_ - p);
  size_t cmp = avail < 4 ? avail : 4;
  if (std::memcmp(p, kMagic, cmp) != 0) {
    return bad("unknown frame tag " + hex_byte(*p));
  }
  if (avail < kHeaderSize) return Parse::kShort;
  if (p[4] != kVersion) {
    return bad("unsupported TRC version " + std::to_string(p[4]) + " (this build reads 1)");
  }
  p += kHeaderSize;
  reset_stream();
  return Parse::kOk;
}

Decoder::Parse Decoder::parse_schema(const uint8_t*& p) {
  const uint8_t* end = end_;
  if (!has(p, end, 5)) return Parse::kShort;
  uint16_t id = load_le16(p + 1);
  uint16_t name_len = load_le16(p + 3);
  const uint8_t* q = p + 5;
  if (!has(q, end, name_len + 3u)) return Parse::kShort;
  auto s = std::make_unique<Schema>();
  s->type_id = id;
  s->name.assign(reinterpret_cast<const char*>(q), name_len);
  q += name_len;
  s->has_timestamp = *q++ != 0;
  uint16_t nfields = load_le16(q);
  q += 2;
  for (uint16_t i = 0; i < nfields; ++i) {
    if (!has(q, end, 2)) return Parse::kShort;
    uint16_t fl = load_le16(q);
    if (!has(q + 2, end, fl + 1u)) return Parse::kShort;
    FieldDecl f;
    f.name.assign(reinterpret_cast<const char*>(q + 2), fl);
    f.type = q[2 + fl];
    q += 3 + fl;
    if (!is_known_field_type(f.type & ~kOptionalBit)) {
      return bad("schema '" + s->name + "' field '" + f.name + "' has unknown type " +
                        std::to_string(f.type));
    }
    s->fields.push_back(std::move(f));
  }
  if (id < schemas_.size() && schemas_[id]) {
    if (!schemas_[id]->same_layout(*s)) {
      return bad("schema '" + s->name + "' redefines type id " + std::to_string(id) +
                        " already used by '" + schemas_[id]->name + "'");
    }
    p = q;  // an identical re-send is allowed and changes nothing
    return Parse::kOk;
  }
  s->builtin = classify_schema_name(s->name);
  s->slots.fill(-1);
  if (s->builtin != Builtin::kNone) {
    const BuiltinSchema& b = builtin_schema(s->builtin);
    for (size_t j = 0; j < b.fields.size(); ++j) {
      int idx = s->index_of(b.fields[j].name);
      if (idx >= 0 && compatible_field_type(s->fields[static_cast<size_t>(idx)].type,
                                            b.fields[j].type)) {
        s->slots[j] = static_cast<int16_t>(idx);
      }
    }
  }
  if (values_.size() < s->fields.size()) values_.resize(s->fields.size());
  if (id >= schemas_.size()) schemas_.resize(static_cast<size_t>(id) + 1);
  schemas_[id] = std::move(s);
  p = q;
  return Parse::kOk;
}

Decoder::Parse Decoder::parse_annotations(const uint8_t*& p) {
  const uint8_t* q = p + 1;
  uint64_t id;
  if (Parse r = read_varint(q, end_, id, &error_); r != Parse::kOk) return r;
  if (!has(q, end_, 2)) return Parse::kShort;
  uint16_t count = load_le16(q);
  q += 2;
  std::vector<SchemaAnnotation> parsed;
  for (uint16_t i = 0; i < count; ++i) {
    if (!has(q, end_, 4)) return Parse::kShort;
    uint16_t field = load_le16(q);
    uint16_t key_len = load_le16(q + 2);
    q += 4;
    if (!has(q, end_, key_len + 4u)) return Parse::kShort;
    std::string key(reinterpret_cast<const char*>(q), key_len);
    q += key_len;
    uint32_t value_len = load_le32(q);
    q += 4;
    if (!has(q, end_, value_len)) return Parse::kShort;
    parsed.push_back(
        SchemaAnnotation{field, std::move(key), std::string(reinterpret_cast<const char*>(q), value_len)});
    q += value_len;
  }
  if (id >= schemas_.size() || !schemas_[id]) {
    return bad("annotations for undefined type id " + std::to_string(id));
  }
  Schema& s = *schemas_[id];
  for (auto& a : parsed) {
    if (a.field_index >= s.fields.size()) {
      return bad("annotation for field " + std::to_string(a.field_index) + " of '" + s.name +
                        "', which has " + std::to_string(s.fields.size()) + " fields");
    }
  }
  for (auto& a : parsed) s.annotations.push_back(std::move(a));
  p = q;
  return Parse::kOk;
}

Decoder::Parse Decoder::parse_pool(const uint8_t*& p, bool stacks) {
  if (!has(p, end_, 5)) return Parse::kShort;
  uint32_t count = load_le32(p + 1);
  const uint8_t* q = p + 5;
  pending_.clear();
  for (uint32_t i = 0; i < count; ++i) {
    if (!has(q, end_, 8)) return Parse::kShort;
    uint32_t id = load_le32(q);
    uint32_t n = load_le32(q + 4);
    uint64_t bytes = stacks ? 8 * static_cast<uint64_t>(n) : n;
    if (!has(q + 8, end_, bytes)) return Parse::kShort;
    pending_.push_back(PendingEntry{id, q + 8, n});
    q += 8 + bytes;
  }
  // The whole frame is present: commit.
  for (const PendingEntry& e : pending_) {
    if (stacks) {
      pools_.set_stack(e.id, e.ptr, e.len_or_count);
    } else {
      pools_.set_string(e.id, {reinterpret_cast<const char*>(e.ptr), e.len_or_count});
    }
  }
  p = q;
  return Parse::kOk;
}

Decoder::Parse Decoder::parse_event(const uint8_t*& p, Event& out) {
  const uint8_t* end = end_;
  if (!has(p, end, 3)) return Parse::kShort;
  uint16_t id = load_le16(p + 1);
  if (id >= schemas_.size() || !schemas_[id]) {
    return bad("event of type id " + std::to_string(id) + " before its schema");
  }
  const Schema& s = *schemas_[id];
  const uint8_t* q = p + 3;
  uint64_t ts = 0;
  if (s.has_timestamp) {
    if (!has(q, end, 3)) return Parse::kShort;
    ts = base_ns_ + (static_cast<uint64_t>(q[0]) | static_cast<uint64_t>(q[1]) << 8 |
                     static_cast<uint64_t>(q[2]) << 16);
    q += 3;
  }
  Value* vals = values_.data();
  const size_t n = s.fields.size();
  for (size_t i = 0; i < n; ++i) {
    Parse r = format::parse_value(q, end, s.fields[i].type, vals[i], pools_, 0, &error_);
    if (r != Parse::kOk) {
      if (r == Parse::kBad) error_ = "event '" + s.name + "' field '" + s.fields[i].name + "': " + error_;
      return r;
    }
  }
  if (s.has_timestamp) base_ns_ = ts;
  out.schema = &s;
  out.timestamp_ns = ts;
  out.offset = offset_of(p);
  out.values = std::span<const Value>(vals, n);
  p = q;
  return Parse::kOk;
}

Decoder::Step Decoder::next(Event& out) {
  for (;;) {
    if (dead_ && !resync()) break;
    if (cur_ == end_) break;
    // After a short parse, wait until the window has doubled before trying
    // again, so a huge frame arriving in small chunks costs O(n), not O(n^2).
    if (!finished_ && static_cast<size_t>(end_ - cur_) < retry_at_) break;
    const uint8_t* p = cur_;
    Parse r;
    const uint8_t tag = *p;
    if (tag == kMagic[0]) {
      r = parse_header(p);
    } else if (!in_stream_) {
      r = bad("expected a TRC stream header (54 52 43 00 01), found " + hex_byte(tag));
    } else {
      switch (static_cast<FrameTag>(tag)) {
        case FrameTag::kEvent:
          r = parse_event(p, out);
          if (r == Parse::kOk) {
            cur_ = p;
            retry_at_ = 0;
            ++stats_.events;
            return Step::kEvent;
          }
          break;
        case FrameTag::kSchema:
          r = parse_schema(p);
          break;
        case FrameTag::kStringPool:
          r = parse_pool(p, false);
          break;
        case FrameTag::kStackPool:
          r = parse_pool(p, true);
          break;
        case FrameTag::kTimestampReset:
          if (has(p, end_, 9)) {
            base_ns_ = load_le64(p + 1);
            p += 9;
            r = Parse::kOk;
          } else {
            r = Parse::kShort;
          }
          break;
        case FrameTag::kAnnotations:
          r = parse_annotations(p);
          break;
        default:
          r = bad("unknown frame tag " + hex_byte(tag));
          break;
      }
    }
    if (r == Parse::kOk) {
      cur_ = p;
      retry_at_ = 0;
      continue;
    }
    if (r == Parse::kShort) {
      size_t pending = static_cast<size_t>(end_ - cur_);
      if (pending > limits_.max_frame_bytes) {
        r = bad("a frame is larger than the " + std::to_string(limits_.max_frame_bytes >> 20) +
                          " MiB limit");
      } else if (!finished_) {
        retry_at_ = pending * 2;
        break;
      } else {
        truncated_ = true;
        truncated_at_ = offset_of(cur_);
        report(Diagnostic::Kind::kTruncated, truncated_at_,
               "input ends inside a frame (" + std::to_string(pending) + " trailing bytes)");
        cur_ = end_;
        break;
      }
    }
    // Corrupt: the rest of this stream cannot be trusted. Skip to the next
    // stream header (at least one byte on, so we never loop in place).
    ++stats_.corrupt_frames;
    report(Diagnostic::Kind::kCorrupt, offset_of(cur_), error_);
    in_stream_ = false;
    dead_ = true;
    ++cur_;
    ++stats_.skipped_bytes;
  }
  stats_.bytes = offset_of(cur_);
  if (finished_ && (cur_ == end_ || dead_)) {
    return Step::kEnd;
  }
  // Keep the unconsumed tail in our own memory: the caller's chunk may go.
  if (cur_ != end_ && (own_.empty() || cur_ < own_.data() || cur_ > own_.data() + own_.size())) {
    uint64_t off = offset_of(cur_);
    own_.assign(cur_, end_);
    base_offset_ = off;
    begin_ = cur_ = own_.data();
    end_ = own_.data() + own_.size();
  }
  return Step::kNeedInput;
}

}  // namespace dial9::format
