// One test per rule of docs/FORMAT.md ("Rules", R1..R12). Test names are
// cited by that document: rename both together.
#include <catch2/catch.hpp>

#include <cstring>

#include "format/decoder.h"
#include "format/events.h"
#include "format/trace_file.h"
#include "format/trace_writer.h"
#include "tests/support/test_support.h"

using namespace dial9;
using namespace dial9::format;

namespace {

constexpr uint8_t t(FieldType x) { return static_cast<uint8_t>(x); }

std::vector<uint8_t> concat(std::initializer_list<std::span<const uint8_t>> parts) {
  std::vector<uint8_t> out;
  for (auto p : parts) out.insert(out.end(), p.begin(), p.end());
  return out;
}

struct Summary {
  std::vector<std::string> names;
  std::vector<uint64_t> times;
  std::vector<std::string> strings;  // first pooled string field of each event, if any
};

Summary decode_summary(std::span<const uint8_t> bytes, Decoder& d) {
  Summary s;
  d.feed(bytes);
  d.finish();
  Event e;
  while (d.next(e) == Decoder::Step::kEvent) {
    s.names.push_back(e.name());
    s.times.push_back(e.timestamp_ns);
    std::string str;
    for (const Value& v : e.values) {
      if (v.present && v.type == FieldType::kPooledString) {
        str = std::string(v.str());
        break;
      }
    }
    s.strings.push_back(str);
  }
  return s;
}

}  // namespace

TEST_CASE("R1 concatenated streams reset schemas, pools and time base") {
  TraceWriter a;
  a.task_spawn(2'000'000'000, TaskSpawn{1, "from-a", false});  // type 0, string 0
  TraceWriter b;
  b.poll_start(100, PollStart{0, 0, 1, "from-b"});  // type 0 again, string 0 again
  auto bytes = concat({a.bytes(), b.bytes()});
  Decoder d;
  auto s = decode_summary(bytes, d);
  REQUIRE(s.names.size() == 2);
  CHECK(s.names[0] == "TaskSpawnEvent");
  CHECK(s.names[1] == "PollStartEvent");
  CHECK(s.strings == std::vector<std::string>{"from-a", "from-b"});
  // Stream b's delta is relative to a base of 0, not to stream a's last event.
  CHECK(s.times[1] == 100);
  CHECK(d.stats().streams == 2);

  // A pool entry from the previous stream is gone after the header.
  TraceWriter c;
  c.poll_start(5, PollStart{0, 0, 1, "only-in-c"});
  std::vector<uint8_t> second(c.bytes().begin(), c.bytes().end());
  // Re-use the schema frame of `c` but no pool frame: hand-build stream 2.
  TraceWriter hand;
  uint16_t id = hand.schema(Builtin::kPollStart);
  Encoder& e = hand.encoder();
  e.begin_event(id, 6);
  e.put_varint(0);
  e.put_u8(0);
  e.put_varint(1);
  e.put_pool_ref(0);  // string id 0 is not defined in this stream
  Decoder d2;
  auto s2 = decode_summary(concat({second, hand.bytes()}), d2);
  CHECK(s2.names.size() == 1);
  REQUIRE(d2.diagnostics().size() == 1);
  CHECK_THAT(d2.diagnostics()[0].message, Catch::Contains("string pool id 0 is used before"));
}

TEST_CASE("R2 schemas are resolved by name across streams") {
  constexpr FieldDef kCustom[] = {{"x", t(FieldType::kVarint)}};
  TraceWriter a;
  a.schema(SchemaDef{"Custom", true, kCustom});  // takes type id 0
  a.poll_end(1, PollEnd{4});                     // PollEndEvent is type id 1 here
  TraceWriter b;
  b.poll_end(2, PollEnd{5});  // and type id 0 here
  Decoder d;
  auto bytes = concat({a.bytes(), b.bytes()});  // must outlive the decoding
  d.feed(bytes);
  d.finish();
  Event e;
  std::vector<uint16_t> ids;
  while (d.next(e) == Decoder::Step::kEvent) {
    CHECK(e.builtin() == Builtin::kPollEnd);
    ids.push_back(e.schema->type_id);
  }
  CHECK(ids == std::vector<uint16_t>{1, 0});
}

TEST_CASE("R3 string and stack pools are independent") {
  TraceWriter w;
  const uint64_t chain[] = {0xdead, 0xbeef};
  CpuSample s;
  s.thread_name = "t";
  w.cpu_sample(1, s, chain);  // string id 0 and stack id 0 in the same stream
  Decoder d;
  d.feed(w.bytes());
  d.finish();
  Event e;
  REQUIRE(d.next(e) == Decoder::Step::kEvent);
  CpuSample c = as_cpu_sample(e);
  CHECK(*c.thread_name == "t");
  CHECK(c.callchain[0] == 0xdead);
  CHECK(e.slot(slot::kCpuThreadName)->pool_id == 0);
  CHECK(e.slot(slot::kCpuCallchain)->pool_id == 0);
}

TEST_CASE("R4 built-in schemas written with timestamps") {
  for (int b = 1; b < static_cast<int>(Builtin::kCount); ++b) {
    const BuiltinSchema& s = builtin_schema(static_cast<Builtin>(b));
    CHECK(s.def().has_timestamp);
    // And the names classify back to themselves.
    std::string name(s.name);
    if (s.name_is_prefix) name += "target::name:file.rs:1";
    CHECK(classify_schema_name(name) == s.id);
  }
}

TEST_CASE("R5 unknown schemas and missing fields are tolerated") {
  // A CpuSampleEvent without thread_name, cpu and callchain, plus a field
  // the reader does not know, and a schema nobody knows.
  constexpr FieldDef kOddCpu[] = {{"tid", t(FieldType::kVarint)},  // other int width: accepted
                                  {"extra", t(FieldType::kString)},
                                  {"worker_id", t(FieldType::kString)}};  // wrong kind: ignored
  constexpr FieldDef kUnknown[] = {{"v", t(FieldType::kF64)}};
  TraceWriter w;
  uint16_t cpu = w.schema(SchemaDef{"CpuSampleEvent", true, kOddCpu});
  uint16_t unk = w.schema(SchemaDef{"SomethingNew", true, kUnknown});
  Encoder& e = w.encoder();
  e.begin_event(cpu, 1);
  e.put_varint(42);
  e.put_string("x");
  e.put_string("not a number");
  e.begin_event(unk, 2);
  e.put_f64(1.5);
  Decoder d;
  d.feed(w.bytes());
  d.finish();
  Event ev;
  REQUIRE(d.next(ev) == Decoder::Step::kEvent);
  CpuSample c = as_cpu_sample(ev);
  CHECK(c.tid == 42);
  CHECK(c.worker_id == kWorkerNone);  // mistyped field reads as missing
  CHECK_FALSE(c.thread_name.has_value());
  CHECK_FALSE(c.cpu.has_value());
  CHECK(c.callchain.empty());
  REQUIRE(d.next(ev) == Decoder::Step::kEvent);
  CHECK(ev.builtin() == Builtin::kNone);
  CHECK(ev.field("v")->num.f == 1.5);
  CHECK(ev.field("nope") == nullptr);
  CHECK(d.next(ev) == Decoder::Step::kEnd);
  CHECK(d.diagnostics().empty());
}

TEST_CASE("R6 symbol table entries decode with inline depth") {
  TraceWriter w;
  w.symbol(1, SymbolTableEntry{0x1000, 32, "outer", 0, "a.cpp", 10});
  w.symbol(1, SymbolTableEntry{0x1000, 32, "inlined", 1, "a.h", 3});
  w.symbol(1, SymbolTableEntry{0x2000, 8, "other", 0, "", 0});
  Decoder d;
  d.feed(w.bytes());
  d.finish();
  Event e;
  std::vector<std::tuple<uint64_t, uint64_t, std::string>> got;
  while (d.next(e) == Decoder::Step::kEvent) {
    auto s = as_symbol_table_entry(e);
    got.emplace_back(s.addr, s.inline_depth, std::string(s.symbol_name));
  }
  REQUIRE(got.size() == 3);
  CHECK(got[0] == std::make_tuple(uint64_t{0x1000}, uint64_t{0}, std::string("outer")));
  CHECK(got[1] == std::make_tuple(uint64_t{0x1000}, uint64_t{1}, std::string("inlined")));
  CHECK(std::get<2>(got[2]) == "other");
}

TEST_CASE("R7 annotations are read and written only on request") {
  TraceWriter plain;
  plain.poll_end(1, PollEnd{1});
  Decoder d0;
  d0.feed(plain.bytes());
  d0.finish();
  Event e;
  REQUIRE(d0.next(e) == Decoder::Step::kEvent);
  CHECK(e.schema->annotations.empty());

  TraceWriter w;
  uint16_t id = w.schema(Builtin::kPollEnd);
  const Annotation ann[] = {{0, "unit", "worker"}, {0, "doc", "the worker that polled"}};
  w.encoder().annotate(id, ann);
  w.poll_end(2, PollEnd{3});
  Decoder d;
  d.feed(w.bytes());
  d.finish();
  REQUIRE(d.next(e) == Decoder::Step::kEvent);
  REQUIRE(e.schema->annotations.size() == 2);
  CHECK(e.schema->annotations[0].key == "unit");
  CHECK(e.schema->annotations[1].value == "the worker that polled");
  CHECK(as_poll_end(e).worker_id == 3);
}

TEST_CASE("R8 truncated tail decodes up to the last complete frame") {
  TraceWriter w;
  for (int i = 0; i < 10; ++i) w.poll_start(1000 + i, PollStart{0, 0, static_cast<uint64_t>(i), "loc"});
  auto full = test::decode(w.bytes());
  REQUIRE(full.events.size() == 10);
  auto bytes = w.bytes();
  // Cut inside the last event: tag, type id, u24 delta, worker, queue, task,
  // spawn_loc pool id = 13 bytes.
  constexpr size_t kEventBytes = 1 + 2 + 3 + 1 + 1 + 1 + 4;
  auto cut = bytes.first(bytes.size() - 4);
  auto d = test::decode(cut);
  CHECK(d.events.size() == 9);
  CHECK(d.truncated);
  CHECK(d.truncated_at == bytes.size() - kEventBytes);
  REQUIRE_FALSE(d.diagnostics.empty());
  CHECK(d.diagnostics.back().kind == Diagnostic::Kind::kTruncated);
  // Cut exactly at a frame boundary: a valid, shorter trace.
  auto exact = test::decode(bytes.first(bytes.size() - kEventBytes));
  CHECK(exact.events.size() == 9);
  CHECK_FALSE(exact.truncated);
}

TEST_CASE("R9 identical schema re-sent is accepted, a conflicting one rejected") {
  const SchemaDef poll_end = builtin_schema(Builtin::kPollEnd).def();
  ByteBuffer buf;
  std::vector<uint8_t> storage(4096);
  buf.data = storage.data();
  buf.cap = storage.size();
  Encoder e(buf);
  e.begin_stream();
  uint16_t id = e.define(poll_end);
  e.begin_event(id, 1);
  e.put_varint(1);
  // Re-send the identical schema under the same id: still fine.
  size_t mark = buf.size;
  e.define(poll_end);
  storage[mark + 1] = static_cast<uint8_t>(id);  // define() numbered it 1; make it id 0 again
  storage[mark + 2] = 0;
  e.begin_event(id, 2);
  e.put_varint(2);
  auto ok = test::decode({storage.data(), buf.size});
  CHECK(ok.events.size() == 2);
  CHECK(ok.diagnostics.empty());
  // Now a different schema under id 0: rejected, the stream stops.
  constexpr FieldDef kOther[] = {{"x", t(FieldType::kU8)}};
  size_t mark2 = buf.size;
  e.define(SchemaDef{"Other", true, kOther});
  storage[mark2 + 1] = 0;
  storage[mark2 + 2] = 0;
  e.begin_event(id, 3);
  e.put_varint(3);
  auto bad = test::decode({storage.data(), buf.size});
  CHECK(bad.events.size() == 2);
  REQUIRE(bad.diagnostics.size() == 1);
  CHECK_THAT(bad.diagnostics[0].message, Catch::Contains("redefines type id 0"));
}

TEST_CASE("R10 unknown frame tag stops the stream and resyncs at the next header") {
  TraceWriter a;
  a.poll_end(1, PollEnd{1});
  std::vector<uint8_t> bytes(a.bytes().begin(), a.bytes().end());
  bytes.push_back(0x07);  // not a frame tag
  a.poll_end(2, PollEnd{2});  // lost: after the bad tag, same stream
  auto tail = a.bytes().subspan(bytes.size() - 1);
  bytes.insert(bytes.end(), tail.begin(), tail.end());
  TraceWriter b;
  b.poll_end(3, PollEnd{3});
  bytes.insert(bytes.end(), b.bytes().begin(), b.bytes().end());
  auto d = test::decode(bytes);
  REQUIRE(d.events.size() == 2);
  CHECK_THAT(d.events[0], Catch::Contains("\"worker_id\":1"));
  CHECK_THAT(d.events[1], Catch::Contains("\"worker_id\":3"));
  REQUIRE(d.diagnostics.size() == 1);
  CHECK_THAT(d.diagnostics[0].message, Catch::Contains("unknown frame tag 0x07"));
  CHECK(d.stats.skipped_bytes > 0);
}

TEST_CASE("R11 hostile lengths never allocate") {
  SECTION("a string claiming 4 GiB waits for data, then reports truncation") {
    TraceWriter w;
    w.task_spawn(1, TaskSpawn{1, "x", false});
    std::vector<uint8_t> raw(w.bytes().begin(), w.bytes().end());
    // Hand-build a string pool frame claiming 0xffffffff bytes.
    const uint8_t frame[] = {0x03, 1, 0, 0, 0, 9, 0, 0, 0, 0xff, 0xff, 0xff, 0xff, 'a', 'b'};
    raw.insert(raw.end(), std::begin(frame), std::end(frame));
    auto d = test::decode(raw);
    CHECK(d.events.size() == 1);
    CHECK(d.truncated);
  }
  SECTION("a frame past the buffer limit is corrupt, not buffered forever") {
    TraceWriter w;
    w.task_spawn(1, TaskSpawn{1, "x", false});
    std::vector<uint8_t> raw(w.bytes().begin(), w.bytes().end());
    const uint8_t frame[] = {0x03, 1, 0, 0, 0, 9, 0, 0, 0, 0xff, 0xff, 0xff, 0xff};
    raw.insert(raw.end(), std::begin(frame), std::end(frame));
    raw.resize(raw.size() + (1 << 20), 'z');
    DecoderLimits lim;
    lim.max_frame_bytes = 64 << 10;
    Decoder d(lim);
    Event e;
    int events = 0;
    for (size_t off = 0; off < raw.size(); off += 4096) {
      d.feed({raw.data() + off, std::min<size_t>(4096, raw.size() - off)});
      while (d.next(e) == Decoder::Step::kEvent) ++events;
    }
    d.finish();
    while (d.next(e) == Decoder::Step::kEvent) ++events;
    CHECK(events == 1);
    REQUIRE_FALSE(d.diagnostics().empty());
    CHECK_THAT(d.diagnostics()[0].message, Catch::Contains("larger than"));
  }
  SECTION("a pool claiming 4 billion entries is truncation, not allocation") {
    TraceWriter w;
    std::vector<uint8_t> raw(w.bytes().begin(), w.bytes().end());
    const uint8_t frame[] = {0x04, 0xff, 0xff, 0xff, 0xff, 0, 0, 0, 0, 0, 0, 0, 0};
    raw.insert(raw.end(), std::begin(frame), std::end(frame));
    auto d = test::decode(raw);
    CHECK(d.truncated);
  }
  SECTION("sparse pool ids stay sparse") {
    TraceWriter w;
    uint16_t id = w.schema(Builtin::kTaskSpawn);
    std::vector<uint8_t> raw(w.bytes().begin(), w.bytes().end());
    const uint8_t pool[] = {0x03, 1, 0, 0, 0, 0xfe, 0xff, 0xff, 0xff, 1, 0, 0, 0, 'q'};
    raw.insert(raw.end(), std::begin(pool), std::end(pool));
    const uint8_t ev[] = {0x02, static_cast<uint8_t>(id), 0, 1, 0, 0, 5, 0xfe, 0xff, 0xff, 0xff, 1};
    raw.insert(raw.end(), std::begin(ev), std::end(ev));
    auto d = test::decode(raw);
    REQUIRE(d.events.size() == 1);
    CHECK_THAT(d.events[0], Catch::Contains("\"spawn_loc\":\"q\""));
  }
  SECTION("nesting deeper than the limit is corrupt") {
    constexpr FieldDef kList[] = {{"l", t(FieldType::kDynamicList)}};
    TraceWriter w;
    uint16_t id = w.schema(SchemaDef{"Deep", true, kList});
    Encoder& e = w.encoder();
    e.begin_event(id, 1);
    for (int i = 0; i < 40; ++i) {
      e.put_count(1);
      e.put_dynamic_tag(FieldType::kDynamicList);
    }
    e.put_count(0);
    auto d = test::decode(w.bytes());
    CHECK(d.events.empty());
    REQUIRE(d.diagnostics.size() == 1);
    CHECK_THAT(d.diagnostics[0].message, Catch::Contains("nested deeper"));
  }
  SECTION("a presence byte other than 0 or 1 is corrupt") {
    TraceWriter w;
    CpuSample s;
    w.cpu_sample(1, s, {});
    std::vector<uint8_t> raw(w.bytes().begin(), w.bytes().end());
    raw.back() = 0x02;  // the `cpu` presence byte
    auto d = test::decode(raw);
    CHECK(d.events.empty());
    REQUIRE(d.diagnostics.size() == 1);
    CHECK_THAT(d.diagnostics[0].message, Catch::Contains("presence byte"));
  }
  SECTION("an unknown field type rejects the schema") {
    TraceWriter w;
    std::vector<uint8_t> raw(w.bytes().begin(), w.bytes().end());
    const uint8_t schema[] = {0x01, 0, 0, 1, 0, 'S', 1, 1, 0, 1, 0, 'f', 16};
    raw.insert(raw.end(), std::begin(schema), std::end(schema));
    auto d = test::decode(raw);
    REQUIRE(d.diagnostics.size() == 1);
    CHECK_THAT(d.diagnostics[0].message, Catch::Contains("unknown type 16"));
  }
}

TEST_CASE("R12 containers are detected by magic") {
  TraceWriter a;
  for (int i = 0; i < 100; ++i) a.poll_end(static_cast<uint64_t>(i) * 1000, PollEnd{static_cast<uint64_t>(i)});
  TraceWriter b;
  b.poll_end(7, PollEnd{7});
  std::vector<uint8_t> raw = concat({a.bytes(), b.bytes()});
  auto count = [](std::span<const uint8_t> bytes, ReadSummary* out = nullptr) {
    size_t n = 0;
    auto r = read_trace_bytes(bytes, "mem", [&](const Event&) { ++n; });
    INFO((r ? std::string() : r.error().message()));
    REQUIRE(r.has_value());
    if (out) *out = *r;
    return n;
  };
  CHECK(count(raw) == 101);
  auto gz_a = test::gzip(a.bytes());
  auto gz_b = test::gzip(b.bytes());
  ReadSummary sum;
  CHECK(count(concat({gz_a, gz_b}), &sum) == 101);  // multi-member gzip
  CHECK(sum.compression == Compression::kGzip);
  CHECK_FALSE(sum.truncated);
  auto zs_a = test::zstd_compress(a.bytes());
  auto zs_b = test::zstd_compress(b.bytes());
  CHECK(count(concat({zs_a, zs_b}), &sum) == 101);  // multi-frame zstd
  CHECK(sum.compression == Compression::kZstd);

  // Cut compressed data: the events before the cut, reported as truncated.
  auto gz_cut = concat({gz_a, std::span<const uint8_t>(gz_b).first(gz_b.size() - 3)});
  CHECK(count(gz_cut, &sum) >= 100);
  CHECK(sum.truncated);
  CHECK_THAT(sum.truncation, Catch::Contains("gzip member 2 ends early"));
  auto zs_cut = std::span<const uint8_t>(zs_a).first(zs_a.size() - 2);
  count(zs_cut, &sum);
  CHECK(sum.truncated);

  // Junk after a gzip member is an error in the summary, not a crash.
  auto junk = concat({gz_a, std::span<const uint8_t>(reinterpret_cast<const uint8_t*>("junk"), 4)});
  CHECK(count(junk, &sum) == 100);
  CHECK_THAT(sum.container_error, Catch::Contains("not another gzip member"));

  // Not a trace at all, or compressed non-trace data: an error naming it.
  const std::string elf = "\x7f" "ELF\x02\x01\x01";
  auto r = read_trace_bytes({reinterpret_cast<const uint8_t*>(elf.data()), elf.size()}, "prog",
                            [](const Event&) {});
  REQUIRE_FALSE(r.has_value());
  CHECK_THAT(r.error().message(), Catch::Contains("'prog': not a dial9 trace") &&
                                      Catch::Contains("7f 45 4c 46"));
  const std::string text = "hello, world";
  auto gz_text = test::gzip({reinterpret_cast<const uint8_t*>(text.data()), text.size()});
  auto r2 = read_trace_bytes(gz_text, "notes.gz", [](const Event&) {});
  REQUIRE_FALSE(r2.has_value());
  CHECK_THAT(r2.error().message(), Catch::Contains("gzip data but not a dial9 trace"));
  // The file name does not matter.
  CHECK(detect_compression(gz_a).value() == Compression::kGzip);
  CHECK(detect_compression(zs_a).value() == Compression::kZstd);
  CHECK(detect_compression(raw).value() == Compression::kNone);
}

TEST_CASE("R13 decompression bombs and huge zstd windows are refused early") {
  TraceWriter w;
  for (int i = 0; i < 100; ++i) w.poll_end(static_cast<uint64_t>(i) * 1000, PollEnd{static_cast<uint64_t>(i)});
  std::vector<uint8_t> raw(w.bytes().begin(), w.bytes().end());
  raw.resize(raw.size() + (size_t{64} << 20), 0);  // then 64 MiB of zeros
  ReadOptions small_floor;
  small_floor.expansion_floor_bytes = 4 << 20;
  auto read = [&](std::span<const uint8_t> bytes, size_t* events, const ReadOptions& o) {
    *events = 0;
    auto r = read_trace_bytes(bytes, "bomb", [&](const Event&) { ++*events; }, o);
    REQUIRE(r.has_value());
    return *r;
  };
  size_t events = 0;
  for (const auto& bomb : {test::zstd_compress(raw, 1), test::gzip(raw)}) {
    INFO("compressed size " << bomb.size());
    ReadSummary sum = read(bomb, &events, small_floor);
    CHECK(events == 100);  // the events before it are kept
    CHECK_THAT(sum.container_error, Catch::Contains("a decompression bomb, refused") &&
                                        Catch::Contains("more than 1000×"));
  }
  // The guard does not refuse a recorded trace, however repetitive:
  // 300,000 polls of one task 1 ms apart, with the few nanoseconds of
  // jitter any real clock has, stay far below 1000× even at zstd's highest
  // level. (Perfectly regular made-up data can exceed it: polls exactly
  // 1 µs apart compress 10,000×.)
  TraceWriter dull;
  uint64_t ts = 0, jitter = 12345;
  for (int i = 0; i < 300'000; ++i) {
    jitter = jitter * 6364136223846793005ull + 1442695040888963407ull;
    ts += 1'000'000 + (jitter >> 60);  // 0-15 ns of jitter
    dull.poll_end(ts, PollEnd{7});
  }
  auto packed = test::zstd_compress(dull.bytes(), 19);
  INFO("300,000 polls: " << dull.bytes().size() << " -> " << packed.size() << " bytes");
  CHECK(dull.bytes().size() / packed.size() < 100);
  ReadSummary fine = read(packed, &events, small_floor);
  CHECK(events == 300'000);
  CHECK(fine.container_error.empty());

  // A zstd frame demanding a 2 GiB window (windowLog 31) is refused before
  // any allocation: header, window descriptor 21 << 3, one raw last block.
  const uint8_t huge_window[] = {0x28, 0xb5, 0x2f, 0xfd, 0x00, 21 << 3, (4 << 3) | 1, 0, 0, 'T', 'R', 'C', 0};
  auto r = read_trace_bytes(huge_window, "window", [](const Event&) {});
  REQUIRE_FALSE(r.has_value());
  CHECK_THAT(r.error().message(), Catch::Contains("zstd data but not a dial9 trace") &&
                                      Catch::Contains("too much memory"));
}
