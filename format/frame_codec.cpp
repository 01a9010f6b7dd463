#include "format/frame_codec.h"

#include <zlib.h>
#include <zstd.h>

#include <algorithm>

#include "format/decoder.h"

namespace dial9::format {

struct FrameCompressor::State {
  ZSTD_CCtx* zstd = nullptr;
  z_stream gz{};
  bool gz_init = false;
  ~State() {
    if (zstd) ZSTD_freeCCtx(zstd);
    if (gz_init) deflateEnd(&gz);
  }
};

FrameCompressor::FrameCompressor(Compression c, std::unique_ptr<State> s)
    : c_(c), s_(std::move(s)) {}
FrameCompressor::FrameCompressor(FrameCompressor&&) noexcept = default;
FrameCompressor& FrameCompressor::operator=(FrameCompressor&&) noexcept = default;
FrameCompressor::~FrameCompressor() = default;

Result<FrameCompressor> FrameCompressor::create(Compression c, int level) {
  auto s = std::make_unique<State>();
  if (c == Compression::kZstd) {
    if (level < 1 || level > ZSTD_maxCLevel()) {
      return fail("zstd level must be 1.." + std::to_string(ZSTD_maxCLevel()) + ", not " +
                  std::to_string(level));
    }
    s->zstd = ZSTD_createCCtx();
    if (!s->zstd) return fail("cannot allocate a zstd context");
    ZSTD_CCtx_setParameter(s->zstd, ZSTD_c_compressionLevel, level);
    // A checksum per frame lets readers tell a damaged frame from a valid one.
    ZSTD_CCtx_setParameter(s->zstd, ZSTD_c_checksumFlag, 1);
  } else if (c == Compression::kGzip) {
    if (level < 1 || level > 9) return fail("gzip level must be 1..9, not " + std::to_string(level));
    if (deflateInit2(&s->gz, level, Z_DEFLATED, 16 + MAX_WBITS, 8, Z_DEFAULT_STRATEGY) != Z_OK) {
      return fail("cannot initialise zlib");
    }
    s->gz_init = true;
  }
  return FrameCompressor(c, std::move(s));
}

Result<void> FrameCompressor::compress(std::span<const uint8_t> in, std::vector<uint8_t>& out) {
  switch (c_) {
    case Compression::kNone:
      out.assign(in.begin(), in.end());
      return {};
    case Compression::kZstd: {
      out.resize(ZSTD_compressBound(in.size()));
      size_t n = ZSTD_compress2(s_->zstd, out.data(), out.size(), in.data(), in.size());
      if (ZSTD_isError(n)) return fail(std::string("zstd compression failed: ") + ZSTD_getErrorName(n));
      out.resize(n);
      return {};
    }
    case Compression::kGzip: {
      z_stream& zs = s_->gz;
      deflateReset(&zs);
      out.resize(deflateBound(&zs, static_cast<uLong>(in.size())) + 32);
      zs.next_in = const_cast<Bytef*>(in.data());
      zs.avail_in = static_cast<uInt>(in.size());
      zs.next_out = out.data();
      zs.avail_out = static_cast<uInt>(out.size());
      if (deflate(&zs, Z_FINISH) != Z_STREAM_END) return fail("gzip compression failed");
      out.resize(out.size() - zs.avail_out);
      return {};
    }
  }
  return fail("unknown compression");
}

uint64_t complete_prefix(Compression c, std::span<const uint8_t> data) {
  switch (c) {
    case Compression::kNone: {
      Decoder d;
      d.feed(data);
      d.finish();
      Event e;
      while (d.next(e) == Decoder::Step::kEvent) {
      }
      uint64_t keep = d.truncated() ? d.truncated_at() : d.stats().bytes;
      // Nothing after a damaged frame is kept (a crash can leave a zeroed
      // tail, which the decoder would otherwise skip over).
      for (const Diagnostic& g : d.diagnostics()) {
        if (g.kind == Diagnostic::Kind::kCorrupt) keep = std::min(keep, g.offset);
      }
      return keep;
    }
    case Compression::kZstd: {
      uint64_t off = 0;
      while (off < data.size()) {
        size_t n = ZSTD_findFrameCompressedSize(data.data() + off, data.size() - off);
        if (ZSTD_isError(n)) break;
        off += n;
      }
      return off;
    }
    case Compression::kGzip: {
      // Inflate member by member (the output is discarded) and remember where
      // the last complete one ended.
      z_stream zs{};
      if (inflateInit2(&zs, 16 + MAX_WBITS) != Z_OK) return 0;
      uint64_t good = 0;
      std::vector<uint8_t> sink(1 << 16);
      zs.next_in = const_cast<Bytef*>(data.data());
      zs.avail_in = static_cast<uInt>(data.size());
      for (;;) {
        zs.next_out = sink.data();
        zs.avail_out = static_cast<uInt>(sink.size());
        int rc = inflate(&zs, Z_NO_FLUSH);
        if (rc == Z_STREAM_END) {
          good = data.size() - zs.avail_in;
          if (zs.avail_in == 0) break;
          inflateReset(&zs);
        } else if (rc != Z_OK) {
          break;  // cut (Z_BUF_ERROR) or damaged
        }
      }
      inflateEnd(&zs);
      return good;
    }
  }
  return 0;
}

const char* sealed_suffix(Compression c) {
  switch (c) {
    case Compression::kNone:
      return ".bin";
    case Compression::kGzip:
      return ".bin.gz";
    case Compression::kZstd:
      return ".bin.zst";
  }
  return ".bin";
}

std::string compression_library_versions() {
  return std::string("zstd ") + ZSTD_versionString() + ", zlib " + zlibVersion();
}

}  // namespace dial9::format
