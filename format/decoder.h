// Streaming TRC v1 decoder.
//
// Feed it bytes in any chunking, pull events with next(). It implements every
// rule of docs/FORMAT.md: concatenated streams (a `TRC\0` header where a frame
// tag is expected resets schemas, pools and the timestamp base), per-stream
// type ids, two independent pools, optional fields, annotations, and a
// truncated tail decoded up to the last complete frame.
//
// Robustness contract: input is untrusted. No length or count read from the
// input is used to size an allocation; a value that claims more bytes than
// exist waits for more input and, at the end, is reported as a truncation. A
// corrupt frame (unknown tag, unknown field type, conflicting schema, event
// of an undefined type, dangling pool reference) stops the current stream:
// the decoder records a diagnostic and skips to the next stream header.
//
// Lifetime: an Event and the views inside it (strings, stacks, composites)
// stay valid until the next call to next() or feed(). A chunk passed to feed()
// must stay alive until next() returns kNeedInput or kEnd.
#pragma once

#include <array>
#include <cstdint>
#include <cstring>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "format/schemas.h"
#include "format/trc.h"

namespace dial9::format {

inline uint64_t load_le64(const uint8_t* p) {
  uint64_t v;
  std::memcpy(&v, p, 8);
  return v;  // x86-64 and aarch64 Linux are little-endian; FORMAT.md is LE.
}

// A stack, leaf first, as little-endian u64s in decoder-owned or input memory.
struct StackView {
  const uint8_t* raw = nullptr;
  uint32_t count = 0;
  uint64_t operator[](uint32_t i) const { return load_le64(raw + 8 * static_cast<size_t>(i)); }
  uint32_t size() const { return count; }
  bool empty() const { return count == 0; }
};

class Pools;

// One decoded field value. `type` is the base FieldType (optional bit
// cleared); an absent optional has present == false.
struct Value {
  FieldType type = FieldType::kI64;
  bool present = false;
  uint32_t count = 0;  // entries of a stack or composite
  uint32_t len = 0;    // bytes of a string, bytes value or composite body
  uint32_t pool_id = 0;
  union {
    uint64_t u;
    int64_t i;
    double f;
  } num{0};
  const uint8_t* ptr = nullptr;  // string/bytes/stack/composite bytes
  const Pools* pools = nullptr;  // resolves pooled values inside composites

  std::string_view str() const { return {reinterpret_cast<const char*>(ptr), len}; }
  StackView stack() const { return {ptr, count}; }
  std::span<const uint8_t> bytes() const { return {ptr, len}; }
  bool is_stack() const { return type == FieldType::kStackFrames || type == FieldType::kPooledStack; }
  bool is_string() const {
    return type == FieldType::kString || type == FieldType::kPooledString;
  }
};

// Iterates the entries of a StringMap, DynamicList or DynamicMap value. The
// decoder validated the whole composite before returning the event, so
// iteration cannot fail.
class CompositeReader {
 public:
  explicit CompositeReader(const Value& v);
  bool done() const { return remaining_ == 0; }
  // StringMap and DynamicMap: key then value. DynamicList: one value.
  void next_pair(Value& key, Value& value);
  void next_value(Value& value);

 private:
  const uint8_t* p_;
  const uint8_t* end_;
  uint32_t remaining_;
  FieldType kind_;
  const Pools* pools_;
};

struct FieldDecl {
  std::string name;
  uint8_t type;  // as declared, optional bit included
  bool optional() const { return (type & kOptionalBit) != 0; }
  FieldType base() const { return static_cast<FieldType>(type & ~kOptionalBit); }
};

struct SchemaAnnotation {
  uint16_t field_index;
  std::string key;
  std::string value;
};

struct Schema {
  uint16_t type_id = 0;
  std::string name;
  bool has_timestamp = false;
  std::vector<FieldDecl> fields;
  std::vector<SchemaAnnotation> annotations;
  // Which built-in schema this is (by name) and where each of its fields sits
  // in this stream's schema; -1 when the field is missing or mistyped.
  Builtin builtin = Builtin::kNone;
  std::array<int16_t, kMaxBuiltinFields> slots{};

  int index_of(std::string_view field_name) const;
  bool same_layout(const Schema& other) const;
};

struct Event {
  const Schema* schema = nullptr;
  uint64_t timestamp_ns = 0;  // 0 when the schema has no timestamp
  uint64_t offset = 0;        // byte offset of the event frame in the input
  std::span<const Value> values;

  const std::string& name() const { return schema->name; }
  Builtin builtin() const { return schema->builtin; }
  // The value of a field by name; nullptr when the schema lacks it or an
  // optional value is absent (FORMAT.md rule 5).
  const Value* field(std::string_view field_name) const;
  // The value of a built-in field by its slot; nullptr as above.
  const Value* slot(int builtin_field) const {
    int idx = schema->slots[static_cast<size_t>(builtin_field)];
    if (idx < 0 || !values[static_cast<size_t>(idx)].present) return nullptr;
    return &values[static_cast<size_t>(idx)];
  }
};

// The two per-stream pools. Ids are usually dense from 0; a sparse map takes
// the rest so a hostile id cannot force a huge allocation.
class Pools {
 public:
  struct Entry {
    std::string bytes;   // UTF-8 for strings; little-endian u64s for stacks
    uint32_t count = 0;  // frames, for stacks
    bool set = false;
  };
  const Entry* string(uint32_t id) const { return find(strings_, sparse_strings_, id); }
  const Entry* stack(uint32_t id) const { return find(stacks_, sparse_stacks_, id); }
  void clear();
  void set_string(uint32_t id, std::string_view s);
  void set_stack(uint32_t id, const uint8_t* raw, uint32_t count);

 private:
  static const Entry* find(const std::vector<Entry>& dense,
                           const std::unordered_map<uint32_t, Entry>& sparse, uint32_t id);
  static Entry& slot(std::vector<Entry>& dense, std::unordered_map<uint32_t, Entry>& sparse,
                     uint32_t id);
  std::vector<Entry> strings_, stacks_;
  std::unordered_map<uint32_t, Entry> sparse_strings_, sparse_stacks_;
};

struct Diagnostic {
  enum class Kind { kCorrupt, kTruncated };
  Kind kind;
  uint64_t offset;  // byte offset in the decoded (decompressed) input
  std::string message;
};

struct DecoderLimits {
  // Largest single frame the decoder will buffer. A frame claiming more is
  // treated as corrupt, which bounds memory on hostile input.
  size_t max_frame_bytes = 256u << 20;
  // Diagnostics kept in memory; the rest are only counted.
  size_t max_diagnostics = 64;
};

struct DecoderStats {
  uint64_t streams = 0;
  uint64_t events = 0;
  uint64_t bytes = 0;          // bytes consumed
  uint64_t skipped_bytes = 0;  // bytes skipped while resynchronising
  uint64_t corrupt_frames = 0;
};

class Decoder {
 public:
  explicit Decoder(DecoderLimits limits = {});
  Decoder(const Decoder&) = delete;
  Decoder& operator=(const Decoder&) = delete;

  enum class Step { kEvent, kNeedInput, kEnd };
  // Outcome of parsing one frame or value: complete, needs more bytes, corrupt.
  enum class Parse { kOk, kShort, kBad };

  void feed(std::span<const uint8_t> chunk);
  // No more input will come: a partial frame left now is a truncation.
  void finish();
  Step next(Event& out);

  const DecoderStats& stats() const { return stats_; }
  const std::vector<Diagnostic>& diagnostics() const { return diagnostics_; }
  uint64_t diagnostic_count() const { return diagnostic_count_; }
  // Set when the input ended inside a frame: the offset where that frame
  // began, which is also the number of bytes decoded successfully.
  bool truncated() const { return truncated_; }
  uint64_t truncated_at() const { return truncated_at_; }
  // True once a stream header was seen (false for input that is not TRC).
  bool saw_header() const { return stats_.streams > 0; }

 private:
  Parse parse_header(const uint8_t*& p);
  Parse parse_schema(const uint8_t*& p);
  Parse parse_annotations(const uint8_t*& p);
  Parse parse_pool(const uint8_t*& p, bool stacks);
  Parse parse_event(const uint8_t*& p, Event& out);
  Parse bad(std::string message);  // records why; the offset is cur_'s
  void report(Diagnostic::Kind kind, uint64_t offset, std::string message);
  void reset_stream();
  bool resync();
  uint64_t offset_of(const uint8_t* p) const {
    return base_offset_ + static_cast<uint64_t>(p - begin_);
  }

  DecoderLimits limits_;
  // Unconsumed input: either the caller's chunk or own_ (leftover + chunk).
  const uint8_t* begin_ = nullptr;  // start of the current window
  const uint8_t* cur_ = nullptr;
  const uint8_t* end_ = nullptr;
  uint64_t base_offset_ = 0;  // absolute offset of begin_
  std::vector<uint8_t> own_;
  bool finished_ = false;
  bool in_stream_ = false;
  bool dead_ = false;  // skipping to the next stream header
  bool truncated_ = false;
  size_t retry_at_ = 0;  // see next(): retry a short frame only after the window doubles
  uint64_t truncated_at_ = 0;

  // Per-stream state.
  std::vector<std::unique_ptr<Schema>> schemas_;  // indexed by type id
  Pools pools_;
  uint64_t base_ns_ = 0;

  std::vector<Value> values_;
  struct PendingEntry {
    uint32_t id;
    const uint8_t* ptr;
    uint32_t len_or_count;
  };
  std::vector<PendingEntry> pending_;
  std::string error_;  // message of the last kBad parse

  DecoderStats stats_;
  std::vector<Diagnostic> diagnostics_;
  uint64_t diagnostic_count_ = 0;
};

}  // namespace dial9::format
