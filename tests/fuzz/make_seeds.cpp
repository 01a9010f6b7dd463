// Writes the raw TRC seeds of the fuzz_decoder corpus (tests/fuzz/corpus/decoder).
//
// Usage: make_seeds OUT_DIR
//
// Each seed is small and deterministic, and together they reach every part of
// the format a decoder must handle: every built-in schema, every field type
// (required and optional, present and absent), StringMap / DynamicList /
// DynamicMap values with nesting, schema annotations, untimed schemas, an
// identical schema re-send, timestamp resets (backwards and large jumps),
// concatenated streams that reuse type and pool ids for different things, a
// corrupt frame followed by a good stream, and a truncated tail.
// tests/fuzz/make_corpus.sh turns them into the committed corpus (adding the
// gzip/zstd variants and the fixture slice).
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <limits>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "format/encoder.h"
#include "format/events.h"
#include "format/schemas.h"
#include "format/trace_writer.h"

namespace {

using dial9::format::Annotation;
using dial9::format::Builtin;
using dial9::format::Encoder;
using dial9::format::FieldDef;
using dial9::format::FieldType;
using dial9::format::SchemaDef;
using dial9::format::TraceWriter;
using T = FieldType;

constexpr uint8_t t(T x) { return static_cast<uint8_t>(x); }
constexpr uint8_t opt(T x) { return dial9::format::optional_of(x); }

bool write_file(const std::string& path, const std::vector<uint8_t>& bytes) {
  std::FILE* f = std::fopen(path.c_str(), "wb");
  if (f == nullptr) {
    std::perror(path.c_str());
    return false;
  }
  bool ok = std::fwrite(bytes.data(), 1, bytes.size(), f) == bytes.size();
  ok = std::fclose(f) == 0 && ok;
  if (!ok) std::fprintf(stderr, "make_seeds: cannot write %s\n", path.c_str());
  return ok;
}

// A leaf-first callchain of `n` plausible return addresses.
std::vector<uint64_t> make_stack(uint64_t seed, size_t n) {
  std::vector<uint64_t> frames;
  for (size_t i = 0; i < n; ++i) frames.push_back(0x55d0c0de0000 + seed * 0x1000 + i * 0x40 + 7);
  return frames;
}

// ---- builtins.trc ---------------------------------------------------------

void write_span_events(TraceWriter& w, uint64_t& ts) {
  // Span schemas carry their callsite in the name and one optional pooled
  // string per span field after the fixed fields.
  static constexpr FieldDef kEnter[] = {{"worker_id", t(T::kVarint)},
                                        {"span_id", t(T::kVarint)},
                                        {"parent_span_id", opt(T::kVarint)},
                                        {"span_name", t(T::kPooledString)},
                                        {"method", opt(T::kPooledString)},
                                        {"path", opt(T::kPooledString)}};
  static constexpr FieldDef kExit[] = {{"worker_id", t(T::kVarint)},
                                       {"span_id", t(T::kVarint)},
                                       {"span_name", t(T::kPooledString)},
                                       {"method", opt(T::kPooledString)},
                                       {"path", opt(T::kPooledString)}};
  Encoder& enc = w.encoder();
  uint16_t enter = w.schema(SchemaDef{"SpanEnter:metrics_service::handler:src/main.rs:42", true, kEnter});
  uint16_t exit = w.schema(SchemaDef{"SpanExit:metrics_service::handler:src/main.rs:42", true, kExit});
  uint32_t name = w.string("handle_request");
  uint32_t get = w.string("GET");
  uint32_t path = w.string("/metrics?x=\"1\"");
  for (uint64_t span = 1; span <= 3; ++span) {
    enc.begin_event(enter, ts += 700);
    enc.put_varint(span % 2);
    enc.put_varint(span);
    if (span == 1) {
      enc.put_absent();
    } else {
      enc.put_present();
      enc.put_varint(span - 1);
    }
    enc.put_pool_ref(name);
    enc.put_present();
    enc.put_pool_ref(get);
    if (span == 2) {
      enc.put_absent();
    } else {
      enc.put_present();
      enc.put_pool_ref(path);
    }
  }
  for (uint64_t span = 3; span >= 1; --span) {
    enc.begin_event(exit, ts += 900);
    enc.put_varint(dial9::format::kWorkerBlockingPool);
    enc.put_varint(span);
    enc.put_pool_ref(name);
    enc.put_absent();
    enc.put_present();
    enc.put_pool_ref(path);
    w.span_close(ts += 10, {span});
  }
}

void write_builtin_events(TraceWriter& w, uint64_t base_ts, bool reverse_order) {
  using namespace dial9::format;
  uint64_t ts = base_ts;
  // The second stream defines its schemas in another order, so the same type
  // ids mean different schemas in the two streams.
  if (reverse_order) {
    for (int b = static_cast<int>(Builtin::kSpanClose); b > static_cast<int>(Builtin::kNone); --b) {
      w.schema(static_cast<Builtin>(b));
    }
    w.string("pool id 0 is this string in the second stream");
  }
  w.clock_sync(ts, ClockSync{1700000000123456789ull});
  w.segment_metadata(ts, std::vector<std::pair<std::string, std::string>>{
                             {"service", "metrics-service"},
                             {"worker_threads", "2"},
                             {"empty", ""},
                             {"quote\"key", "tab\tvalue\n"}});
  w.task_spawn(ts += 100, TaskSpawn{7, "src/main.rs:10:5", true});
  w.task_spawn(ts += 100, TaskSpawn{8, "src/handlers.rs:77:13", false});
  for (uint64_t i = 0; i < 4; ++i) {
    uint64_t task = 7 + (i & 1);
    w.poll_start(ts += 250, PollStart{i & 1, static_cast<uint8_t>(i), task,
                                      (i & 1) ? "src/handlers.rs:77:13" : "src/main.rs:10:5"});
    w.wake_event(ts += 30, WakeEvent{task, 15 - task, static_cast<uint8_t>(i & 1)});
    w.poll_end(ts += 400, PollEnd{i & 1});
  }
  w.worker_park(ts += 1000, WorkerPark{0, 3, 123456789, 4242});
  w.queue_sample(ts += 5, QueueSample{17});
  w.worker_unpark(ts += 5000, WorkerUnpark{0, 0, 123556789, 2500, 4242});
  std::vector<uint64_t> s16 = make_stack(1, 16);
  std::vector<uint64_t> s3 = make_stack(2, 3);
  std::vector<uint64_t> s0;
  CpuSample named{0, 4242, 0, std::string_view("tokio-rt-worker"), {}, 1};
  w.cpu_sample(ts += 10101, named, s16);
  CpuSample anon{kWorkerNone, 4243, 1, std::nullopt, {}, std::nullopt};
  w.cpu_sample(ts += 10101, anon, s3);
  w.cpu_sample(ts += 10101, anon, s0);  // an empty callchain
  w.cpu_sample(ts += 10101, named, s16);  // a pooled stack used twice
  w.task_dump(ts += 50, 7, s3);
  w.alloc(ts += 20, Alloc{4242, 4096, 0x7f0000001000, {}}, s16);
  ts += 20;
  w.free(ts, Free{4242, 0x7f0000001000, 4096, ts - 20});
  w.symbol(ts, SymbolTableEntry{0x55d0c0de1007, 0x40, "metrics_service::handler::{{closure}}", 0,
                                "src/handlers.rs", 80});
  w.symbol(ts, SymbolTableEntry{0x55d0c0de1007, 0x10, "core::ptr::drop_in_place<Vec<u8>>", 1,
                                "/rustc/library/core/src/ptr/mod.rs", 498});
  write_span_events(w, ts);
  w.task_terminate(ts += 100, TaskTerminate{8});
  // Timestamps that go backwards, and a jump past the 24-bit delta, both
  // need reset frames.
  w.poll_start(ts - 5000, PollStart{1, 0, 7, "src/main.rs:10:5"});
  w.poll_end(ts + (uint64_t{1} << 30), PollEnd{1});
  w.encoder().timestamp_reset(ts + (uint64_t{1} << 31));
  w.queue_sample(ts + (uint64_t{1} << 31) + 1, QueueSample{0});
  w.task_terminate(ts + (uint64_t{1} << 31) + 2, TaskTerminate{7});
}

std::vector<uint8_t> builtins_seed() {
  TraceWriter w;
  write_builtin_events(w, 1000, false);
  w.new_stream();
  write_builtin_events(w, 5'000'000'000ull, true);
  return w.take();
}

// ---- field_types.trc ------------------------------------------------------

constexpr FieldDef kAllTypes[] = {
    {"i64", t(T::kI64)},
    {"f64", t(T::kF64)},
    {"flag", t(T::kBool)},
    {"text", t(T::kString)},
    {"blob", t(T::kBytes)},
    {"pstack", t(T::kPooledStack)},
    {"pstr", t(T::kPooledString)},
    {"frames", t(T::kStackFrames)},
    {"addr", t(T::kVarint)},
    {"attrs", t(T::kStringMap)},
    {"u8", t(T::kU8)},
    {"u16", t(T::kU16)},
    {"u32", t(T::kU32)},
    {"list", t(T::kDynamicList)},
    {"map", t(T::kDynamicMap)},
    {"opt_i64", opt(T::kI64)},
    {"opt_f64", opt(T::kF64)},
    {"opt_flag", opt(T::kBool)},
    {"opt_text", opt(T::kString)},
    {"opt_blob", opt(T::kBytes)},
    {"opt_pstack", opt(T::kPooledStack)},
    {"opt_pstr", opt(T::kPooledString)},
    {"opt_frames", opt(T::kStackFrames)},
    {"opt_varint", opt(T::kVarint)},
    {"opt_attrs", opt(T::kStringMap)},
    {"opt_u8", opt(T::kU8)},
    {"opt_u16", opt(T::kU16)},
    {"opt_u32", opt(T::kU32)},
    {"opt_list", opt(T::kDynamicList)},
    {"opt_map", opt(T::kDynamicMap)},
};
constexpr size_t kRequiredFields = 15;

struct Pooled {
  uint32_t str;
  uint32_t stack;
};

// Writes one value of base type `type` (no presence byte). `variant` picks
// ordinary (0), edge (1) or empty (2) values.
void put_value(Encoder& enc, T type, int variant, const Pooled& pool, int depth);

// A DynamicList entry or DynamicMap key/value: tag byte, then the value.
void put_tagged(Encoder& enc, T type, int variant, const Pooled& pool, int depth) {
  enc.put_dynamic_tag(type);
  put_value(enc, type, variant, pool, depth);
}

void put_value(Encoder& enc, T type, int variant, const Pooled& pool, int depth) {
  static const std::vector<uint64_t> frames = make_stack(9, 5);
  switch (type) {
    case T::kI64:
      enc.put_i64(variant == 0 ? -42 : variant == 1 ? std::numeric_limits<int64_t>::min() : 0);
      return;
    case T::kF64:
      enc.put_f64(variant == 0   ? 3.25
                  : variant == 1 ? std::numeric_limits<double>::quiet_NaN()
                                 : -std::numeric_limits<double>::infinity());
      return;
    case T::kBool:
      enc.put_bool(variant == 0);
      return;
    case T::kString: {
      // Quotes, escapes, control bytes, an embedded NUL, invalid UTF-8 (a
      // stray byte, an overlong NUL, a surrogate) and valid multibyte text.
      static constexpr char kEdge[] = "q\"b\\n\nt\tc\x01\x7f\0 bad\xff\xc0\x80 \xed\xa0\x80 \xf0\x9f\x8e\x89";
      enc.put_string(variant == 0   ? std::string_view("hello, w\xc3\xb6rld \xe2\x9c\x93")
                     : variant == 1 ? std::string_view(kEdge, sizeof kEdge - 1)
                                    : std::string_view());
      return;
    }
    case T::kBytes: {
      static const uint8_t bytes[] = {0x00, 0x01, 0xfe, 0xff, 'T', 'R', 'C', 0x00};
      enc.put_bytes(variant == 2 ? std::span<const uint8_t>() : std::span<const uint8_t>(bytes));
      return;
    }
    case T::kPooledStack:
      enc.put_pool_ref(pool.stack);
      return;
    case T::kPooledString:
      enc.put_pool_ref(pool.str);
      return;
    case T::kStackFrames:
      enc.put_stack(variant == 2 ? std::span<const uint64_t>() : std::span<const uint64_t>(frames));
      return;
    case T::kVarint:
      enc.put_varint(variant == 0 ? 300 : variant == 1 ? std::numeric_limits<uint64_t>::max() : 0);
      return;
    case T::kStringMap:
      if (variant == 2) {
        enc.put_count(0);
        return;
      }
      enc.put_count(3);
      enc.put_string("key");
      enc.put_string("value");
      enc.put_string("");
      enc.put_string("empty key");
      enc.put_string("multi\nline");
      enc.put_string(variant == 1 ? std::string_view("\xff\xfe") : std::string_view("ok"));
      return;
    case T::kU8:
      enc.put_u8(variant == 1 ? 0xff : 7);
      return;
    case T::kU16:
      enc.put_u16(variant == 1 ? 0xffff : 513);
      return;
    case T::kU32:
      enc.put_u32(variant == 1 ? 0xffffffffu : 70000);
      return;
    case T::kDynamicList: {
      if (variant == 2 || depth > 2) {
        enc.put_count(0);
        return;
      }
      // Every value type once, an absent optional, then nested composites.
      enc.put_count(static_cast<uint32_t>(dial9::format::kMaxFieldType) + 1);
      for (uint8_t k = 1; k <= dial9::format::kMaxFieldType; ++k) {
        put_tagged(enc, static_cast<T>(k), variant, pool, depth + 1);
      }
      enc.put_u8(opt(T::kVarint));
      enc.put_absent();
      return;
    }
    case T::kDynamicMap: {
      if (variant == 2 || depth > 2) {
        enc.put_count(0);
        return;
      }
      enc.put_count(5);
      put_tagged(enc, T::kString, 0, pool, depth + 1);
      put_tagged(enc, T::kI64, variant, pool, depth + 1);
      put_tagged(enc, T::kVarint, variant, pool, depth + 1);
      put_tagged(enc, T::kPooledString, variant, pool, depth + 1);
      put_tagged(enc, T::kPooledString, variant, pool, depth + 1);
      put_tagged(enc, T::kDynamicList, variant, pool, depth + 1);
      put_tagged(enc, T::kU16, variant, pool, depth + 1);
      put_tagged(enc, T::kDynamicMap, variant, pool, depth + 1);
      // An optional key that is present, mapping to an absent optional.
      enc.put_u8(opt(T::kString));
      enc.put_present();
      enc.put_string("maybe");
      enc.put_u8(opt(T::kF64));
      enc.put_absent();
      return;
    }
  }
}

std::vector<uint8_t> field_types_seed() {
  TraceWriter w;
  Encoder& enc = w.encoder();
  size_t before = w.bytes().size();
  uint16_t all = w.schema(SchemaDef{"AllFieldTypes", true, kAllTypes});
  // Keep the schema frame's bytes to send it again, identically, later.
  std::vector<uint8_t> schema_frame(w.bytes().begin() + static_cast<std::ptrdiff_t>(before),
                                    w.bytes().end());
  Annotation notes[] = {{0, "unit", "bytes"}, {8, "doc", "an address; rendered in hex"},
                        {29, "", ""}};
  enc.annotate(all, notes);

  static constexpr FieldDef kUntimed[] = {{"label", t(T::kPooledString)},
                                          {"value", opt(T::kF64)}};
  uint16_t untimed = w.schema(SchemaDef{"UntimedCounter", false, kUntimed});
  static constexpr FieldDef kEmpty[] = {{"x", t(T::kU8)}};
  uint16_t no_fields = w.schema(SchemaDef{"NoFields", true, {}});
  uint16_t builtin_wrong_types = w.schema(SchemaDef{"PollStartEvent", true, kEmpty});

  Pooled pool{w.string("pooled \"string\""), w.stack(make_stack(3, 16))};
  Pooled empty_pool{w.string(""), w.stack({})};

  uint64_t ts = 10'000;
  for (int variant = 0; variant < 3; ++variant) {
    const Pooled& p = variant == 2 ? empty_pool : pool;
    // All optionals present.
    enc.begin_event(all, ts += 1000);
    for (size_t i = 0; i < std::size(kAllTypes); ++i) {
      T base = static_cast<T>(kAllTypes[i].type & ~dial9::format::kOptionalBit);
      if (i >= kRequiredFields) enc.put_present();
      put_value(enc, base, variant, p, 0);
    }
    // All optionals absent.
    enc.begin_event(all, ts += 1000);
    for (size_t i = 0; i < std::size(kAllTypes); ++i) {
      T base = static_cast<T>(kAllTypes[i].type & ~dial9::format::kOptionalBit);
      if (i >= kRequiredFields) {
        enc.put_absent();
      } else {
        put_value(enc, base, variant, p, 0);
      }
    }
  }
  enc.begin_event_untimed(untimed);
  enc.put_pool_ref(pool.str);
  enc.put_present();
  enc.put_f64(0.5);
  enc.begin_event_untimed(untimed);
  enc.put_pool_ref(empty_pool.str);
  enc.put_absent();
  enc.begin_event(no_fields, ts += 1);
  // A schema whose name is built in but whose field does not match any
  // built-in field: typed views must fall back to defaults.
  enc.begin_event(builtin_wrong_types, ts += 1);
  enc.put_u8(1);
  // An identical re-send of a schema is allowed and changes nothing.
  for (uint8_t b : schema_frame) enc.put_u8(b);
  enc.begin_event(all, ts + 5);
  for (size_t i = 0; i < std::size(kAllTypes); ++i) {
    T base = static_cast<T>(kAllTypes[i].type & ~dial9::format::kOptionalBit);
    if (i >= kRequiredFields) {
      enc.put_absent();
    } else {
      put_value(enc, base, 0, pool, 0);
    }
  }
  return w.take();
}

// A stream, a frame with an unknown tag (the decoder must skip to the next
// stream header), then another stream.
std::vector<uint8_t> corrupt_resync_seed() {
  TraceWriter w;
  w.poll_start(100, {0, 0, 1, "a.rs:1:1"});
  w.encoder().put_u8(0x7f);  // not a frame tag
  w.encoder().put_u8(0x02);
  w.new_stream();
  w.poll_start(200, {1, 0, 2, "b.rs:2:2"});
  w.poll_end(300, {1});
  return w.take();
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 2) {
    std::fprintf(stderr, "usage: make_seeds OUT_DIR\n");
    return 2;
  }
  const std::string dir = argv[1];
  std::vector<uint8_t> builtins = builtins_seed();
  std::vector<uint8_t> types = field_types_seed();
  std::vector<uint8_t> both = builtins;
  both.insert(both.end(), types.begin(), types.end());
  std::vector<uint8_t> truncated(types.begin(), types.begin() + static_cast<std::ptrdiff_t>(types.size() * 2 / 3));
  bool ok = write_file(dir + "/builtins.trc", builtins) &&
            write_file(dir + "/field_types.trc", types) &&
            write_file(dir + "/concatenated.trc", both) &&
            write_file(dir + "/truncated.trc", truncated) &&
            write_file(dir + "/corrupt_resync.trc", corrupt_resync_seed());
  return ok ? 0 : 1;
}
