#include "format/trace_file.h"

#include <sys/stat.h>
#include <zlib.h>
#include <zstd.h>

#include <algorithm>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <memory>

#include "base/io.h"
#include "format/events.h"
#include "format/segment_files.h"

namespace dial9::format {
namespace {

constexpr size_t kInChunk = 256 << 10;
constexpr size_t kOutChunk = 1 << 20;
constexpr uint8_t kGzipMagic[2] = {0x1f, 0x8b};
constexpr uint8_t kZstdMagic[4] = {0x28, 0xb5, 0x2f, 0xfd};
// zstd limits the window a frame may demand; 2^27 (128 MiB) is zstd's own
// default for streaming and bounds memory against a hostile header.
constexpr int kZstdWindowLogMax = 27;

// Pulls input in chunks from a file or a memory span.
class Source {
 public:
  virtual ~Source() = default;
  // Next chunk; empty at end of input.
  virtual Result<std::span<const uint8_t>> next() = 0;
  virtual uint64_t position() const = 0;
};

class MemorySource : public Source {
 public:
  explicit MemorySource(std::span<const uint8_t> d) : d_(d) {}
  Result<std::span<const uint8_t>> next() override {
    size_t n = std::min(kInChunk, d_.size() - pos_);
    auto s = d_.subspan(pos_, n);
    pos_ += n;
    return s;
  }
  uint64_t position() const override { return pos_; }

 private:
  std::span<const uint8_t> d_;
  size_t pos_ = 0;
};

class FileSource : public Source {
 public:
  explicit FileSource(UniqueFd fd) : fd_(std::move(fd)), buf_(kInChunk) {}
  Result<std::span<const uint8_t>> next() override {
    auto n = read_full(fd_.get(), buf_);
    if (!n) return fail(n.error());
    pos_ += *n;
    return std::span<const uint8_t>(buf_.data(), *n);
  }
  uint64_t position() const override { return pos_; }

 private:
  UniqueFd fd_;
  std::vector<uint8_t> buf_;
  uint64_t pos_ = 0;
};

std::string hex_prefix(std::span<const uint8_t> head) {
  std::string out;
  char b[4];
  for (size_t i = 0; i < head.size() && i < 8; ++i) {
    std::snprintf(b, sizeof b, "%s%02x", i ? " " : "", head[i]);
    out += b;
  }
  return out;
}

// Feeds decompressed bytes to the decoder and delivers the events.
class Sink {
 public:
  // `compressed` is where the container's bytes come from, for the
  // expansion guard; nullptr for raw TRC.
  Sink(const EventFn& fn, const ReadOptions& o, ReadSummary& s, const Source* compressed)
      : fn_(fn), opts_(o), sum_(s), dec_(o.limits), compressed_(compressed) {}
  // False to stop reading: the output cap or the expansion limit was
  // exceeded, or enough events were delivered (ReadOptions::max_events).
  bool push(std::span<const uint8_t> data) {
    if (done()) return false;
    total_ += data.size();
    if (total_ > opts_.max_decompressed_bytes) {
      sum_.container_error = "decompressed data exceeds the " +
                             std::to_string(opts_.max_decompressed_bytes >> 20) + " MiB limit";
      return false;
    }
    if (compressed_ && total_ > opts_.expansion_floor_bytes &&
        total_ / std::max<uint64_t>(compressed_->position(), 1) > opts_.max_expansion) {
      sum_.container_error = std::to_string(compressed_->position() >> 10) + " KiB of compressed data expand to over " +
                             std::to_string(total_ >> 20) + " MiB (more than " +
                             std::to_string(opts_.max_expansion) +
                             "×, which no trace compresses): a decompression bomb, refused";
      return false;
    }
    dec_.feed(data);
    drain();
    return !done();
  }
  bool done() const { return delivered_ >= opts_.max_events; }
  void finish() {
    dec_.finish();
    drain();
  }
  Decoder& decoder() { return dec_; }
  uint64_t total() const { return total_; }

 private:
  void drain() {
    Event ev;
    while (!done() && dec_.next(ev) == Decoder::Step::kEvent) {
      ++delivered_;
      fn_(ev);
    }
  }
  const EventFn& fn_;
  const ReadOptions& opts_;
  ReadSummary& sum_;
  Decoder dec_;
  const Source* compressed_;
  uint64_t total_ = 0;
  uint64_t delivered_ = 0;
};

// Each decompressor returns false to stop (an error is in the summary).
bool pump_raw(Source& src, std::span<const uint8_t> first, Sink& sink, ReadSummary& sum) {
  for (auto chunk = first; !chunk.empty();) {
    if (!sink.push(chunk)) return false;
    auto next = src.next();
    if (!next) {
      sum.container_error = next.error().message();
      return false;
    }
    chunk = *next;
  }
  return true;
}

bool pump_gzip(Source& src, std::span<const uint8_t> first, Sink& sink, ReadSummary& sum) {
  z_stream zs{};
  // 16 + MAX_WBITS: gzip wrapper only (a zlib or raw deflate stream is not a
  // trace container).
  if (inflateInit2(&zs, 16 + MAX_WBITS) != Z_OK) {
    sum.container_error = "cannot initialise zlib";
    return false;
  }
  std::unique_ptr<z_stream, decltype(&inflateEnd)> guard(&zs, inflateEnd);
  std::vector<uint8_t> out(kOutChunk);
  bool in_member = true;  // between a member's header and its trailer
  uint64_t members = 0;
  for (auto chunk = first; !chunk.empty();) {
    zs.next_in = const_cast<Bytef*>(chunk.data());
    zs.avail_in = static_cast<uInt>(chunk.size());
    while (zs.avail_in > 0) {
      if (!in_member) {
        // Another member must follow; anything else is trailing junk.
        if (zs.next_in[0] != kGzipMagic[0] || (zs.avail_in > 1 && zs.next_in[1] != kGzipMagic[1])) {
          sum.container_error = "data after gzip member " + std::to_string(members) +
                                " is not another gzip member";
          return false;
        }
        inflateReset(&zs);
        in_member = true;
      }
      zs.next_out = out.data();
      zs.avail_out = static_cast<uInt>(out.size());
      int rc = inflate(&zs, Z_NO_FLUSH);
      size_t produced = out.size() - zs.avail_out;
      if (produced > 0 && !sink.push({out.data(), produced})) return false;
      if (rc == Z_STREAM_END) {
        in_member = false;
        ++members;
      } else if (rc == Z_BUF_ERROR) {
        if (zs.avail_in == 0) break;  // wants more input
      } else if (rc != Z_OK) {
        sum.container_error = std::string("gzip data is corrupt (") + (zs.msg ? zs.msg : "zlib error") +
                              ") at compressed byte " + std::to_string(src.position() - chunk.size() +
                                                                       (chunk.size() - zs.avail_in));
        return false;
      }
    }
    auto next = src.next();
    if (!next) {
      sum.container_error = next.error().message();
      return false;
    }
    chunk = *next;
  }
  // Drain output still buffered inside zlib for the last member.
  while (in_member) {
    zs.next_out = out.data();
    zs.avail_out = static_cast<uInt>(out.size());
    int rc = inflate(&zs, Z_NO_FLUSH);
    size_t produced = out.size() - zs.avail_out;
    if (produced > 0 && !sink.push({out.data(), produced})) return false;
    if (rc == Z_STREAM_END) {
      in_member = false;
      break;
    }
    if (produced == 0) break;
  }
  if (in_member) {
    sum.truncated = true;
    sum.truncation = "gzip member " + std::to_string(members + 1) +
                     " ends early (compressed file cut at byte " + std::to_string(src.position()) + ")";
  }
  return true;
}

bool pump_zstd(Source& src, std::span<const uint8_t> first, Sink& sink, ReadSummary& sum) {
  std::unique_ptr<ZSTD_DCtx, decltype(&ZSTD_freeDCtx)> dctx(ZSTD_createDCtx(), ZSTD_freeDCtx);
  if (!dctx) {
    sum.container_error = "cannot initialise zstd";
    return false;
  }
  ZSTD_DCtx_setParameter(dctx.get(), ZSTD_d_windowLogMax, kZstdWindowLogMax);
  std::vector<uint8_t> out(kOutChunk);
  size_t last = 0;  // 0 once a frame is complete and flushed
  for (auto chunk = first; !chunk.empty();) {
    ZSTD_inBuffer in{chunk.data(), chunk.size(), 0};
    bool out_full = false;
    while (in.pos < in.size || out_full) {
      ZSTD_outBuffer o{out.data(), out.size(), 0};
      last = ZSTD_decompressStream(dctx.get(), &o, &in);
      if (ZSTD_isError(last)) {
        sum.container_error = std::string("zstd data is corrupt (") + ZSTD_getErrorName(last) + ")";
        return false;
      }
      if (o.pos > 0 && !sink.push({out.data(), o.pos})) return false;
      out_full = o.pos == o.size;
    }
    auto next = src.next();
    if (!next) {
      sum.container_error = next.error().message();
      return false;
    }
    chunk = *next;
  }
  if (last != 0) {
    sum.truncated = true;
    sum.truncation = "the last zstd frame ends early (compressed file cut at byte " +
                     std::to_string(src.position()) + ")";
  }
  return true;
}

Result<ReadSummary> read_from(Source& src, const std::string& name, const EventFn& on_event,
                              const ReadOptions& options) {
  auto first = src.next();
  if (!first) return fail(std::move(first.error()).with_context(name));
  if (first->empty()) {
    return fail("'" + name + "' is empty; expected a dial9 trace (TRC stream, raw or gzip/zstd)");
  }
  auto kind = detect_compression(*first);
  if (!kind) return fail(std::move(kind.error()).with_context("'" + name + "'"));
  ReadSummary sum;
  sum.compression = *kind;
  Sink sink(on_event, options, sum, *kind == Compression::kNone ? nullptr : &src);
  switch (*kind) {
    case Compression::kNone:
      pump_raw(src, *first, sink, sum);
      break;
    case Compression::kGzip:
      pump_gzip(src, *first, sink, sum);
      break;
    case Compression::kZstd:
      pump_zstd(src, *first, sink, sum);
      break;
  }
  sink.finish();
  const Decoder& dec = sink.decoder();
  // Nothing decodable and no sign of a cut: this is not a trace. (A file cut
  // before its first complete frame is a truncated trace, reported below.)
  if (!dec.saw_header() && !sum.truncated && !dec.truncated()) {
    std::string why = !sum.container_error.empty()     ? sum.container_error
                      : !dec.diagnostics().empty() ? dec.diagnostics().front().message
                                                   : "no TRC stream header inside";
    if (*kind == Compression::kNone) return fail("'" + name + "' is not a dial9 trace: " + why);
    return fail("'" + name + "' is " + compression_name(*kind) + " data but not a dial9 trace (" +
                why + ")");
  }
  sum.stats = dec.stats();
  sum.diagnostics = dec.diagnostics();
  sum.diagnostic_count = dec.diagnostic_count();
  if (dec.truncated()) {
    std::string what = "the trace ends inside a frame";
    sum.truncation = sum.truncated ? sum.truncation + "; " + what : what;
    sum.truncated = true;
    sum.truncated_at = dec.truncated_at();
  } else if (sum.truncated) {
    sum.truncated_at = sink.total();
  }
  return sum;
}

}  // namespace

const char* compression_name(Compression c) {
  switch (c) {
    case Compression::kNone:
      return "raw";
    case Compression::kGzip:
      return "gzip";
    case Compression::kZstd:
      return "zstd";
  }
  return "?";
}

Result<Compression> detect_compression(std::span<const uint8_t> head) {
  // A file shorter than a magic number that matches its start is a cut file
  // of that kind, which the decompressor or decoder then reports as truncated.
  auto starts_with = [&](const uint8_t* magic, size_t len) {
    size_t n = std::min(head.size(), len);
    return n > 0 && std::memcmp(head.data(), magic, n) == 0;
  };
  if (starts_with(kGzipMagic, sizeof kGzipMagic)) return Compression::kGzip;
  if (starts_with(kZstdMagic, sizeof kZstdMagic)) return Compression::kZstd;
  if (starts_with(kMagic, sizeof kMagic)) return Compression::kNone;
  return fail("not a dial9 trace: expected a TRC stream (raw, gzip or zstd), found bytes " +
              hex_prefix(head));
}

Result<ReadSummary> read_trace_file(const std::string& path, const EventFn& on_event,
                                    const ReadOptions& options) {
  auto fd = open_read(path);
  if (!fd) return fail(fd.error());
  FileSource src(std::move(*fd));
  return read_from(src, path, on_event, options);
}

Result<ReadSummary> read_trace_bytes(std::span<const uint8_t> data, const std::string& name,
                                     const EventFn& on_event, const ReadOptions& options) {
  MemorySource src(data);
  return read_from(src, name, on_event, options);
}

namespace {

// Whether two files hold the same bytes (false when either is unreadable).
bool same_bytes(const std::string& a, const std::string& b) {
  struct stat sa {}, sb {};
  if (::stat(a.c_str(), &sa) != 0 || ::stat(b.c_str(), &sb) != 0 || sa.st_size != sb.st_size) return false;
  auto fa = open_read(a);
  auto fb = open_read(b);
  if (!fa || !fb) return false;
  std::vector<uint8_t> ba(kInChunk), bb(kInChunk);
  for (;;) {
    auto na = read_full(fa->get(), ba);
    auto nb = read_full(fb->get(), bb);
    if (!na || !nb || *na != *nb) return false;
    if (*na == 0) return true;
    if (std::memcmp(ba.data(), bb.data(), *na) != 0) return false;
  }
}

struct SegmentKey {
  uint64_t start;
  std::string stem;
  uint64_t index;
  std::string name;
  bool operator<(const SegmentKey& o) const {
    return std::tie(start, stem, index, name) < std::tie(o.start, o.stem, o.index, o.name);
  }
};

}  // namespace

Result<std::vector<TraceInput>> expand_trace_inputs(const std::vector<std::string>& inputs) {
  std::vector<TraceInput> out;
  for (const std::string& in : inputs) {
    struct stat st {};
    if (::stat(in.c_str(), &st) != 0) return fail(Error::from_errno("cannot open '" + in + "'"));
    if (!S_ISDIR(st.st_mode)) {
      out.push_back(TraceInput{in, false, {}});
      continue;
    }
    std::vector<SegmentKey> found;
    std::error_code ec;
    for (const auto& entry : std::filesystem::directory_iterator(in, ec)) {
      std::string name = entry.path().filename().string();
      auto seg = parse_segment_name(name);
      std::error_code entry_ec;  // a dangling symlink is skipped, not an error
      if (!seg || !entry.is_regular_file(entry_ec)) continue;
      uint64_t start = segment_start_realtime(entry.path().string()).value_or(0);
      found.push_back(SegmentKey{start, seg->stem, seg->index, name});
    }
    if (ec) return fail("cannot list directory '" + in + "': " + ec.message(), ec.value());
    if (found.empty()) {
      return fail("'" + in + "' holds no trace segments (*.bin, *.bin.gz, *.bin.zst, *.bin.active)");
    }
    std::sort(found.begin(), found.end());
    const size_t base = out.size();
    for (size_t j = 0; j < found.size(); ++j) {
      TraceInput input{(std::filesystem::path(in) / found[j].name).string(), true, {}};
      // A copy has the same recorded start, so it sorts next to its original.
      for (size_t i = j; found[j].start != 0 && i-- > 0 && found[i].start == found[j].start;) {
        const TraceInput& earlier = out[base + i];
        if (earlier.duplicate_of.empty() && same_bytes(earlier.path, input.path)) {
          input.duplicate_of = earlier.path;
          break;
        }
      }
      out.push_back(std::move(input));
    }
  }
  return out;
}


std::optional<uint64_t> segment_start_realtime(const std::string& path) {
  std::optional<uint64_t> start;
  ReadOptions o;
  o.max_events = 8;  // the clock anchor is the first event of a segment
  (void)read_trace_file(
      path,
      [&](const Event& e) {
        if (!start && e.builtin() == Builtin::kClockSync) start = as_clock_sync(e).realtime_ns;
      },
      o);
  return start;
}

}  // namespace dial9::format
