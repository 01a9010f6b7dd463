// Writes a trace as rotating, self-contained, compressed segments.
//
// Threading: append() and flush() are called from one recording thread and
// never touch the disk: they copy batches into a chunk and hand full chunks
// to a bounded queue. A background thread owns every file: it compresses
// each chunk as one independent zstd frame or gzip member (so a crash loses
// at most the chunk being written), rotates by size and wall-clock period,
// seals (fsync, rename without replacing, fsync of the directory), applies
// the retention budget, and starts the on-seal command. When the queue is
// full the chunk is dropped and counted: a slow disk never stalls capture.
//
// Files: see docs/FORMAT.md, "Segments on disk". The directory is created
// 0700, segments 0600; every file is opened relative to the directory fd
// with O_NOFOLLOW, new ones with O_EXCL, so a planted symlink is refused.
//
// Errors: a write error (ENOSPC, EIO, EDQUOT, ...) is logged once with the
// path and errno; the segment is cut back to its last complete frame and
// sealed, nothing more is written (dropped data is counted), and close()
// returns the error.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <span>
#include <string>
#include <utility>
#include <vector>

#include "base/result.h"
#include "format/trace_file.h"

namespace dial9::format {

struct SegmentOptions {
  std::string dir;
  std::string stem = "dial9";
  Compression compression = Compression::kZstd;
  int level = 3;                              // see docs/BENCHMARKS.md, "Segments"
  uint64_t max_file_size = uint64_t{64} << 20;  // per segment, compressed bytes on disk
  uint64_t max_total_size = uint64_t{1} << 30;  // all segments of `stem`; 0 = unlimited
  uint64_t rotation_period_ns = 0;            // 0 = rotate by size only
  // Uncompressed bytes per compressed frame; also bounds what a crash loses.
  // Clamped to a quarter of max_file_size so a frame always fits a segment.
  uint64_t chunk_bytes = 1 << 20;
  // A chunk older than this (by event time) is handed over even if small.
  uint64_t flush_interval_ns = 1'000'000'000;
  size_t queue_chunks = 16;  // chunks waiting for the background thread
  // Written into every segment's SegmentMetadataEvent (host, kernel,
  // command line, sampling settings, what was degraded and why, ...).
  std::vector<std::pair<std::string, std::string>> metadata;
  // Shell command run for each sealed segment, `{}` replaced by its quoted
  // path; run in the background, failures logged and counted.
  // Retention keeps a segment while its command runs. At close, running
  // commands are waited for up to on_seal_wait_ns, then left to finish alone.
  std::string on_seal;
  uint64_t on_seal_wait_ns = 60'000'000'000;
  // Called on the background thread for each segment of this writer just
  // before it is sealed, with the path of its .active file (complete
  // frames only); the TRC stream it returns is appended as one more frame.
  // dial9 record passes the segment's symbol table, so a sealed segment
  // names its own addresses. The appended bytes may take a segment past
  // max_file_size; retention counts them. Must not throw; an empty result
  // appends nothing.
  std::function<std::vector<uint8_t>(const std::string& active_path)> seal_appendix;
  // Receives warnings, one line each (default: stderr with a "dial9: "
  // prefix). Called from both threads, never concurrently.
  std::function<void(const std::string&)> log;
};

struct SegmentStats {
  uint64_t batches = 0;          // appended
  uint64_t bytes_in = 0;         // uncompressed bytes appended
  uint64_t bytes_written = 0;    // compressed bytes written
  uint64_t segments_sealed = 0;  // by this writer, recovered ones included
  uint64_t segments_recovered = 0;
  uint64_t segments_deleted = 0;  // by retention
  uint64_t dropped_batches = 0;   // queue full or writing stopped after an error
  uint64_t dropped_bytes = 0;
  uint64_t dropped_records = 0;   // the records those batches held (append's count)
  uint64_t on_seal_failures = 0;
  double background_cpu_s = 0;  // CPU time of the background thread
};

class SegmentWriter {
 public:
  // Creates the directory, recovers `.active` segments of `stem` left by a
  // crashed run, applies retention to what is there, starts the thread.
  static Result<std::unique_ptr<SegmentWriter>> open(SegmentOptions options);
  ~SegmentWriter();  // close() if not yet closed
  SegmentWriter(const SegmentWriter&) = delete;
  SegmentWriter& operator=(const SegmentWriter&) = delete;

  // Appends one self-contained TRC stream (starting with its header) whose
  // events lie between first_ts_ns and last_ts_ns (CLOCK_MONOTONIC).
  // `records`: how many records it holds. When a full queue drops chunks,
  // the next chunk written opens with a LostEvent (source 2, cpu 0) whose
  // count is the records they held (FORMAT.md), or close() writes it.
  void append(std::span<const uint8_t> stream, uint64_t first_ts_ns, uint64_t last_ts_ns,
              uint64_t records = 0);
  // The state a reader needs before the data appended from now on (thread
  // names, mappings), as one self-contained TRC stream. Every segment but
  // the writer's first opens with the preamble in force when its first
  // chunk began, right after its metadata, so each segment stands alone.
  void set_preamble(std::vector<uint8_t> stream);
  // Hands the current chunk to the background thread now.
  void flush();
  // Flushes, seals the last segment, waits for the thread and for on-seal
  // commands. Returns the write error, if one happened.
  Result<void> close();

  SegmentStats stats() const;

  struct Impl;

 private:
  explicit SegmentWriter(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace dial9::format
