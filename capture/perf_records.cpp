#include "capture/perf_records.h"

#include <linux/perf_event.h>

#include <cstring>

namespace dial9::capture {
namespace {

// Reads fixed-size fields off a record, failing once it runs out.
class Cursor {
 public:
  Cursor(const uint8_t* p, const uint8_t* end) : p_(p), end_(end) {}
  bool u64(uint64_t& v) { return take(&v, 8); }
  bool u32(uint32_t& v) { return take(&v, 4); }
  bool skip(size_t n) {
    if (static_cast<size_t>(end_ - p_) < n) return false;
    p_ += n;
    return true;
  }
  const uint8_t* pos() const { return p_; }
  size_t left() const { return static_cast<size_t>(end_ - p_); }

 private:
  bool take(void* v, size_t n) {
    if (left() < n) return false;
    std::memcpy(v, p_, n);
    p_ += n;
    return true;
  }
  const uint8_t* p_;
  const uint8_t* end_;
};

// The sample_id trailer: fields in sample_type order, at the record's end.
bool parse_trailer(const uint8_t* begin, const uint8_t* end, uint64_t st, ParsedRecord& r) {
  size_t n = 0;
  if (st & PERF_SAMPLE_TID) n += 8;
  if (st & PERF_SAMPLE_TIME) n += 8;
  if (st & PERF_SAMPLE_ID) n += 8;
  if (st & PERF_SAMPLE_STREAM_ID) n += 8;
  if (st & PERF_SAMPLE_CPU) n += 8;
  if (st & PERF_SAMPLE_IDENTIFIER) n += 8;
  if (static_cast<size_t>(end - begin) < n) return false;
  Cursor c(end - n, end);
  uint64_t skip64 = 0;
  uint32_t res = 0;
  if (st & PERF_SAMPLE_TID) c.u32(r.pid), c.u32(r.tid);
  if (st & PERF_SAMPLE_TIME) c.u64(r.time);
  if (st & PERF_SAMPLE_ID) c.u64(r.id);
  if (st & PERF_SAMPLE_STREAM_ID) c.u64(skip64);
  if (st & PERF_SAMPLE_CPU) c.u32(r.cpu), c.u32(res);
  if (st & PERF_SAMPLE_IDENTIFIER) c.u64(r.id);
  return true;
}

// A NUL-terminated string padded to 8 bytes, bounded by the record.
std::string read_name(const uint8_t* p, const uint8_t* end) {
  const void* nul = std::memchr(p, 0, static_cast<size_t>(end - p));
  size_t n = nul ? static_cast<size_t>(static_cast<const uint8_t*>(nul) - p) : static_cast<size_t>(end - p);
  return std::string(reinterpret_cast<const char*>(p), n);
}

Result<void> truncated(const char* what) {
  return fail(std::string("perf record too short for its ") + what);
}

}  // namespace

Result<void> parse_record(std::span<const uint8_t> record, uint64_t st, ParsedRecord& r,
                          uint64_t regs_mask) {
  if (record.size() < sizeof(perf_event_header)) return truncated("header");
  perf_event_header h;
  std::memcpy(&h, record.data(), sizeof h);
  if (h.size < sizeof h || h.size > record.size()) return fail("perf record size field is wrong");
  const uint8_t* body = record.data() + sizeof h;
  const uint8_t* end = record.data() + h.size;
  Cursor c(body, end);
  r.misc = h.misc;
  r.callchain.clear();
  r.build_id.clear();
  r.kernel_frames = 0;
  r.user_regs.clear();
  r.user_stack.clear();
  r.raw.clear();
  r.name.clear();
  switch (h.type) {
    case PERF_RECORD_SAMPLE: {
      r.kind = RecordKind::kSample;
      uint32_t res;
      bool ok = true;
      if (st & PERF_SAMPLE_IDENTIFIER) ok = ok && c.u64(r.id);
      if (st & PERF_SAMPLE_IP) ok = ok && c.u64(r.ip);
      if (st & PERF_SAMPLE_TID) ok = ok && c.u32(r.pid) && c.u32(r.tid);
      if (st & PERF_SAMPLE_TIME) ok = ok && c.u64(r.time);
      if (st & PERF_SAMPLE_ADDR) ok = ok && c.skip(8);
      if (st & PERF_SAMPLE_ID) ok = ok && c.u64(r.id);
      if (st & PERF_SAMPLE_STREAM_ID) ok = ok && c.skip(8);
      if (st & PERF_SAMPLE_CPU) ok = ok && c.u32(r.cpu) && c.u32(res);
      if (st & PERF_SAMPLE_PERIOD) ok = ok && c.u64(r.period);
      if (!ok) return truncated("sample fields");
      if (st & PERF_SAMPLE_READ) return fail("PERF_SAMPLE_READ is not supported");
      if (st & PERF_SAMPLE_CALLCHAIN) {
        uint64_t nr;
        if (!c.u64(nr) || nr > c.left() / 8) return truncated("callchain");
        // The kernel marks where kernel and user frames begin with
        // PERF_CONTEXT_* values; dial9 keeps the frames, leaf first.
        bool in_kernel = false;
        for (uint64_t i = 0; i < nr; ++i) {
          uint64_t a = 0;
          c.u64(a);  // cannot fail: nr was checked against the bytes left
          if (a >= static_cast<uint64_t>(PERF_CONTEXT_MAX)) {
            in_kernel = a == static_cast<uint64_t>(PERF_CONTEXT_KERNEL);
            continue;
          }
          r.callchain.push_back(a);
          if (in_kernel) ++r.kernel_frames;
        }
      }
      if (st & PERF_SAMPLE_RAW) {
        uint32_t size;
        if (!c.u32(size) || size > c.left()) return truncated("raw data");
        r.raw.assign(c.pos(), c.pos() + size);
        c.skip(size);
      }
      if (st & PERF_SAMPLE_BRANCH_STACK) return fail("PERF_SAMPLE_BRANCH_STACK is not supported");
      if (st & PERF_SAMPLE_REGS_USER) {
        uint64_t abi;
        if (!c.u64(abi)) return truncated("user registers");
        // abi 0 (PERF_SAMPLE_REGS_ABI_NONE): no user registers, e.g. a
        // kernel thread; then no values follow.
        if (abi != 0) {
          int n = __builtin_popcountll(regs_mask);
          for (int i = 0; i < n; ++i) {
            uint64_t v;
            if (!c.u64(v)) return truncated("user registers");
            r.user_regs.push_back(v);
          }
        }
      }
      if (st & PERF_SAMPLE_STACK_USER) {
        // u64 size; u8 data[size]; u64 dyn_size (only when size != 0).
        uint64_t size;
        if (!c.u64(size) || size > c.left()) return truncated("user stack");
        const uint8_t* data = c.pos();
        c.skip(size);
        if (size != 0) {
          uint64_t dyn;
          if (!c.u64(dyn)) return truncated("user stack size");
          r.user_stack.assign(data, data + (dyn < size ? dyn : size));
        }
      }
      return {};
    }
    case PERF_RECORD_MMAP2: {
      r.kind = RecordKind::kMmap;
      uint32_t maj, min;
      uint64_t ino, ino_gen;
      if (!(c.u32(r.pid) && c.u32(r.tid) && c.u64(r.addr) && c.u64(r.len) && c.u64(r.pgoff))) {
        return truncated("mmap fields");
      }
      if (h.misc & PERF_RECORD_MISC_MMAP_BUILD_ID) {
        // u8 build_id_size, u8 reserved[3], u8 build_id[20]
        if (c.left() < 24) return truncated("build id");
        uint8_t n = c.pos()[0];
        r.build_id.assign(c.pos() + 4, c.pos() + 4 + (n > 20 ? 20 : n));
        c.skip(24);
      } else if (!(c.u32(maj) && c.u32(min) && c.u64(ino) && c.u64(ino_gen))) {
        return truncated("mmap device fields");
      }
      if (!(c.u32(r.prot) && c.u32(r.flags))) return truncated("mmap protection");
      r.name = read_name(c.pos(), end);
      parse_trailer(body, end, st, r);
      return {};
    }
    case PERF_RECORD_COMM:
      r.kind = RecordKind::kComm;
      if (!(c.u32(r.pid) && c.u32(r.tid))) return truncated("comm fields");
      r.name = read_name(c.pos(), end);
      parse_trailer(body, end, st, r);
      return {};
    case PERF_RECORD_FORK:
    case PERF_RECORD_EXIT: {
      r.kind = h.type == PERF_RECORD_FORK ? RecordKind::kFork : RecordKind::kExit;
      uint64_t time;
      if (!(c.u32(r.pid) && c.u32(r.ppid) && c.u32(r.tid) && c.u32(r.ptid) && c.u64(time))) {
        return truncated("fork/exit fields");
      }
      uint32_t pid = r.pid, tid = r.tid;
      parse_trailer(body, end, st, r);
      r.pid = pid;  // the trailer names the reporting thread; keep the subject
      r.tid = tid;
      r.time = time;
      return {};
    }
    case PERF_RECORD_LOST:
      r.kind = RecordKind::kLost;
      if (!(c.u64(r.id) && c.u64(r.lost))) return truncated("lost fields");
      parse_trailer(body, end, st, r);
      return {};
    case PERF_RECORD_LOST_SAMPLES:
      r.kind = RecordKind::kLostSamples;
      if (!c.u64(r.lost)) return truncated("lost-samples fields");
      parse_trailer(body, end, st, r);
      return {};
    case PERF_RECORD_THROTTLE:
    case PERF_RECORD_UNTHROTTLE:
      r.kind = h.type == PERF_RECORD_THROTTLE ? RecordKind::kThrottle : RecordKind::kUnthrottle;
      if (!c.u64(r.time)) return truncated("throttle fields");
      parse_trailer(body, end, st, r);
      return {};
    case PERF_RECORD_SWITCH:
      // No body: who and when are in the sample_id trailer.
      r.kind = RecordKind::kSwitch;
      if (!parse_trailer(body, end, st, r)) return truncated("switch fields");
      return {};
    default:
      r.kind = RecordKind::kOther;
      return {};
  }
}

}  // namespace dial9::capture
