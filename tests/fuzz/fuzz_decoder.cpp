// libFuzzer target for the TRC decoder and everything that reads its events.
//
// Every input goes through two checks:
//
// 1. Containers and consumers. The input is read with read_trace_bytes, so
//    the raw, gzip and zstd paths (multi-member, truncated, corrupt, bombs
//    against the output cap) all run. Every event is rendered as text
//    and as JSON (which walks composite values lazily, through
//    CompositeReader) and read through the typed view of its built-in kind,
//    touching every stack frame. Each JSON line must parse as JSON: the
//    renderer promises valid JSON Lines whatever the input.
//
// 2. Streaming. The input is decoded by a Decoder in one chunk, and in two
//    chunks split at an offset taken from the input's last bytes, and again
//    split inside one of the stream headers it contains (if any). Each
//    chunk lives in its own heap block that is freed as soon as the decoder
//    says it needs more input, so ASan sees any view that outlives it. The
//    decodes must agree on every event (offset, timestamp, rendered
//    fields), on the statistics and on the diagnostics; if not, the target
//    aborts with both versions printed.
//
// Build: configure with -DDIAL9_FUZZ=ON (see tests/fuzz/CMakeLists.txt);
// run: tests/fuzz/run_fuzzer.sh build-fuzz/tests/fuzz/fuzz_decoder 60.
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <nlohmann/json.hpp>
#include <span>
#include <string>
#include <vector>

#include "format/decoder.h"
#include "format/events.h"
#include "format/trace_file.h"
#include "report/event_text.h"
#include "tests/support/typed_checksum.h"

namespace {

using dial9::format::Builtin;
using dial9::format::CompositeReader;
using dial9::format::Decoder;
using dial9::format::DecoderLimits;
using dial9::format::Event;
using dial9::format::StackView;
using dial9::format::Value;

// Somewhere the optimiser cannot see through, so reads are not dropped.
volatile uint64_t g_sink;

[[noreturn]] void fail(const char* what, const std::string& detail) {
  std::fprintf(stderr, "fuzz_decoder: %s\n%s\n", what, detail.c_str());
  std::fflush(stderr);
  std::abort();
}

using dial9::test::touch;

// Reads an event through the typed view of its kind.
uint64_t read_typed(const Event& e) {
  if (e.builtin() == Builtin::kSpanEnter || e.builtin() == Builtin::kSpanExit) {
    if (dial9::format::as_span(e).first_extra_field > e.values.size()) {
      fail("as_span: first_extra_field out of range", e.name());
    }
  }
  return dial9::test::typed_checksum(e);
}

// Walks every field by name and every composite entry by hand, besides what
// the renderers do.
uint64_t read_generic(const Event& e) {
  uint64_t acc = 0;
  for (size_t i = 0; i < e.schema->fields.size(); ++i) {
    if (const Value* v = e.field(e.schema->fields[i].name)) acc += v->len + v->count;
    const Value& v = e.values[i];
    if (!v.present) continue;
    if (v.is_stack()) acc += touch(v.stack());
    if (v.type == dial9::format::FieldType::kStringMap ||
        v.type == dial9::format::FieldType::kDynamicMap) {
      CompositeReader r(v);
      Value k, val;
      while (!r.done()) {
        r.next_pair(k, val);
        acc += k.len + val.len;
      }
    } else if (v.type == dial9::format::FieldType::kDynamicList) {
      CompositeReader r(v);
      Value item;
      while (!r.done()) {
        r.next_value(item);
        acc += item.len;
      }
    }
  }
  for (int s = 0; s < static_cast<int>(dial9::format::kMaxBuiltinFields); ++s) {
    if (const Value* v = e.slot(s)) acc += v->num.u;
  }
  return acc;
}

// ---- 1. containers and consumers -------------------------------------------

// Small enough that a compression bomb of a few KiB reaches the cap (gzip
// expands at most ~1000x, zstd far more), large enough for any seed.
constexpr uint64_t kMaxDecompressed = uint64_t{16} << 20;
constexpr uint64_t kMaxRenderedEvents = 20000;

void check_read_trace_bytes(std::span<const uint8_t> input) {
  dial9::format::ReadOptions options;
  options.max_decompressed_bytes = kMaxDecompressed;
  options.limits.max_frame_bytes = 16u << 10;
  options.limits.max_diagnostics = 8;
  std::string text, json;
  uint64_t acc = 0;
  uint64_t seen = 0;
  auto sum = dial9::format::read_trace_bytes(input, "fuzz-input", [&](const Event& e) {
    acc += read_typed(e);
    // A small compressed input can expand to millions of events; rendering
    // the first ones is enough and keeps every run far below the timeout.
    if (++seen > kMaxRenderedEvents) return;
    text.clear();
    json.clear();
    dial9::report::render_event_text(e, text);
    dial9::report::render_event_json(e, json);
    if (text.empty() || text.back() != '\n') fail("render_event_text: line does not end in \\n", text);
    if (json.empty() || json.back() != '\n') fail("render_event_json: line does not end in \\n", json);
    if (!nlohmann::json::accept(json)) fail("render_event_json: output is not valid JSON", json);
    acc += text.size() + json.size() + read_generic(e);
  }, options);
  if (sum) acc += sum->stats.events + sum->diagnostic_count;
  g_sink = acc;
}

// ---- 2. streaming ------------------------------------------------------------

// Everything a decode produced, in owned memory, for comparison.
struct Decoded {
  std::string events;  // one line per event: offset, timestamp, JSON
  std::string summary;
};

void snapshot_event(const Event& e, std::string& out) {
  out += std::to_string(e.offset);
  out += ' ';
  out += std::to_string(e.timestamp_ns);
  out += ' ';
  dial9::report::render_event_json(e, out);
}

void snapshot_end(const Decoder& d, Decoded& out) {
  const auto& s = d.stats();
  std::string& o = out.summary;
  o += "streams=" + std::to_string(s.streams) + " events=" + std::to_string(s.events) +
       " bytes=" + std::to_string(s.bytes) + " skipped=" + std::to_string(s.skipped_bytes) +
       " corrupt=" + std::to_string(s.corrupt_frames) + " truncated=" +
       std::to_string(d.truncated()) + "@" + std::to_string(d.truncated_at()) +
       " diagnostics=" + std::to_string(d.diagnostic_count()) + "\n";
  for (const auto& diag : d.diagnostics()) {
    o += diag.kind == dial9::format::Diagnostic::Kind::kCorrupt ? "corrupt@" : "truncated@";
    o += std::to_string(diag.offset) + ": " + diag.message + "\n";
  }
}

// Decodes `input` fed as the given chunks. Each chunk is copied into its own
// heap block, which is freed once the decoder has asked for more input.
Decoded decode_chunked(std::span<const uint8_t> input, std::span<const size_t> cuts) {
  DecoderLimits limits;
  // No frame limit in this mode: whether a frame exceeds it depends on how
  // much of it was buffered, so it would legitimately differ between splits.
  limits.max_frame_bytes = SIZE_MAX;
  limits.max_diagnostics = 16;
  Decoder dec(limits);
  Decoded out;
  Event e;
  size_t begin = 0;
  for (size_t i = 0; i <= cuts.size(); ++i) {
    size_t end = i < cuts.size() ? cuts[i] : input.size();
    std::unique_ptr<uint8_t[]> block;
    if (end > begin) {
      block.reset(new uint8_t[end - begin]);
      std::memcpy(block.get(), input.data() + begin, end - begin);
      dec.feed({block.get(), end - begin});
    }
    if (i == cuts.size()) dec.finish();
    Decoder::Step step;
    while ((step = dec.next(e)) == Decoder::Step::kEvent) snapshot_event(e, out.events);
    if (i == cuts.size() && step != Decoder::Step::kEnd) {
      fail("Decoder::next did not return kEnd after finish()", out.events);
    }
    if (i < cuts.size() && step != Decoder::Step::kNeedInput) {
      fail("Decoder::next returned kEnd before finish()", out.events);
    }
    begin = end;
    // `block` is freed here: the decoder must have copied what it still needs.
  }
  snapshot_end(dec, out);
  return out;
}

// Compares a decode in one chunk with a decode in two chunks split at `cut`.
void compare_split(std::span<const uint8_t> input, const Decoded& whole, size_t cut) {
  const size_t cuts[] = {cut};
  Decoded split = decode_chunked(input, cuts);
  if (whole.events != split.events || whole.summary != split.summary) {
    std::string detail = "input size " + std::to_string(input.size()) + ", split at " +
                         std::to_string(cut) + "\n--- one chunk:\n" + whole.summary +
                         whole.events + "--- two chunks:\n" + split.summary + split.events;
    fail("decoding in two chunks differs from decoding in one", detail);
  }
}

void check_streaming(std::span<const uint8_t> input) {
  // Split choices come from the input's last four bytes, so the fuzzer can
  // move them without changing the trace's head.
  uint32_t pick = 0;
  for (size_t i = input.size() >= 4 ? input.size() - 4 : 0; i < input.size(); ++i) {
    pick = (pick << 8) | input[i];
  }
  Decoded whole = decode_chunked(input, {});
  // 1. Anywhere.
  compare_split(input, whole, static_cast<size_t>(pick) % (input.size() + 1));
  // 2. Inside a stream header ("TRC\0"), 1 to 3 bytes of it in the first
  //    chunk: the boundary where a streaming decoder must remember a partial
  //    match, and one a random split almost never hits.
  std::vector<size_t> headers;
  const uint8_t* magic = dial9::format::kMagic;
  for (const uint8_t* p = input.data(); !input.empty() && headers.size() < 64;) {
    size_t left = static_cast<size_t>(input.data() + input.size() - p);
    auto* hit = static_cast<const uint8_t*>(memmem(p, left, magic, 4));
    if (hit == nullptr) break;
    headers.push_back(static_cast<size_t>(hit - input.data()));
    p = hit + 1;
  }
  if (!headers.empty()) {
    size_t at = headers[(pick >> 8) % headers.size()];
    compare_split(input, whole, at + 1 + (pick % 3));
  }
  g_sink = whole.events.size();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::span<const uint8_t> input(data, size);
  check_read_trace_bytes(input);
  check_streaming(input);
  return 0;
}
