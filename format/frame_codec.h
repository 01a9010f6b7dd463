// Compressing flushed data as independently decodable units (one zstd frame
// or one gzip member per flush), and finding how much of a file cut by a
// crash consists of complete units. A file of such units is still a standard
// .zst/.gz that `zstd -d`/`gunzip` expand in one go.
#pragma once

#include <cstdint>
#include <string>
#include <memory>
#include <span>
#include <vector>

#include "base/result.h"
#include "format/trace_file.h"

namespace dial9::format {

// "zstd X.Y.Z, zlib X.Y.Z": the compression libraries linked in, for
// `dial9 --version`.
std::string compression_library_versions();

class FrameCompressor {
 public:
  // `level`: zstd 1..19, gzip 1..9; ignored for kNone.
  static Result<FrameCompressor> create(Compression c, int level);
  FrameCompressor(FrameCompressor&&) noexcept;
  FrameCompressor& operator=(FrameCompressor&&) noexcept;
  ~FrameCompressor();

  Compression compression() const { return c_; }
  // Replaces `out` with `in` as one complete unit.
  Result<void> compress(std::span<const uint8_t> in, std::vector<uint8_t>& out);

 private:
  struct State;
  FrameCompressor(Compression c, std::unique_ptr<State> s);
  Compression c_;
  std::unique_ptr<State> s_;
};

// The length of the longest prefix of `data` made of complete units: zstd
// frames, gzip members, or (raw) complete TRC frames.
uint64_t complete_prefix(Compression c, std::span<const uint8_t> data);

// The file name suffix of a sealed segment: ".bin", ".bin.gz" or ".bin.zst".
const char* sealed_suffix(Compression c);

}  // namespace dial9::format
