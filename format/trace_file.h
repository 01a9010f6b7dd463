// Reading a trace file: detect its container by magic bytes (raw TRC, gzip
// single or multi-member, zstd single or multi-frame), decompress in bounded
// chunks, and decode events as they come. Memory stays bounded by the chunk
// size plus the largest frame, whatever the file size.
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "base/result.h"
#include "format/decoder.h"

namespace dial9::format {

enum class Compression { kNone, kGzip, kZstd };
const char* compression_name(Compression c);

// The container of a file from its first bytes; an error (naming what was
// expected) when it is none of raw TRC, gzip or zstd.
Result<Compression> detect_compression(std::span<const uint8_t> head);

struct ReadOptions {
  // Decompression stops with an error past this many output bytes (a bomb
  // guard; the 16 GiB default is far above any segment dial9 writes).
  uint64_t max_decompressed_bytes = uint64_t{16} << 30;
  // Past `expansion_floor_bytes` of output, decompression also stops once
  // the output is more than `max_expansion` times the compressed bytes read
  // so far. Traces compress by about an order of magnitude (BENCHMARKS.md,
  // Segments) and never near 1000×;
  // a bomb does (zstd turns 128 KiB into 4 GiB of zeros), and is refused
  // after the floor, in well under a second, instead of after the cap.
  uint64_t max_expansion = 1000;
  uint64_t expansion_floor_bytes = uint64_t{256} << 20;
  DecoderLimits limits;
  // Stop after delivering this many events (peeking at a file's start; the
  // summary's truncation fields then mean nothing).
  uint64_t max_events = UINT64_MAX;
};

struct ReadSummary {
  Compression compression = Compression::kNone;
  DecoderStats stats;
  std::vector<Diagnostic> diagnostics;
  uint64_t diagnostic_count = 0;
  // The data ended early: inside a TRC frame, or inside a gzip member or
  // zstd frame. `truncated_at` is the decompressed offset up to which
  // every frame was decoded; `truncation` says which layer was cut.
  bool truncated = false;
  uint64_t truncated_at = 0;
  std::string truncation;
  // The container itself was corrupt (bad gzip/zstd data, trailing junk,
  // output cap): decoding stopped there. Empty when fine.
  std::string container_error;
};

using EventFn = std::function<void(const Event&)>;

// Decodes every event of `path`. Fails (naming the file) only when the file
// cannot be read or is not a trace at all; truncation and corruption after a
// valid start are reported in the summary, with the events before them
// delivered.
Result<ReadSummary> read_trace_file(const std::string& path, const EventFn& on_event,
                                    const ReadOptions& options = {});

// The same over bytes in memory; `name` is used in messages.
Result<ReadSummary> read_trace_bytes(std::span<const uint8_t> data, const std::string& name,
                                     const EventFn& on_event, const ReadOptions& options = {});

}  // namespace dial9::format

namespace dial9::format {

// Expands command-line inputs: a file stays as it is; a directory becomes its
// trace segments (`<stem>.<N>.bin`, `.bin.gz`, `.bin.zst`, `.bin.active`)
// ordered by their recorded start time (then stem and N), so segments of
// several runs interleave correctly. A directory without segments, or a path
// that does not exist, is an error naming it.
struct TraceInput {
  std::string path;
  // Found in a directory (rather than named): a reader skips it with a
  // warning when it is not a readable trace, instead of failing.
  bool from_directory = false;
  // The path of an earlier segment of the same directory with the same
  // recorded start and the same bytes: a copy (a backup restored beside the
  // original, a file copied twice), which readers skip so nothing counts
  // twice. Empty for all others.
  std::string duplicate_of;
};
Result<std::vector<TraceInput>> expand_trace_inputs(const std::vector<std::string>& inputs);

// The wall-clock start of a segment file: the realtime_ns of its first
// ClockSyncEvent, or nullopt when it has none among its first events.
std::optional<uint64_t> segment_start_realtime(const std::string& path);

}  // namespace dial9::format
