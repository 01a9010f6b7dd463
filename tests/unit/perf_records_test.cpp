// Decoding perf ring records built byte by byte as the kernel lays them out.
#include <catch2/catch.hpp>

#include <linux/perf_event.h>

#include <cstring>

#include "capture/event_spec.h"
#include "capture/perf_records.h"

using namespace dial9::capture;

namespace {

class RecordBuilder {
 public:
  RecordBuilder(uint32_t type, uint16_t misc) {
    perf_event_header h{type, misc, 0};
    put(&h, sizeof h);
  }
  RecordBuilder& u64(uint64_t v) { return put(&v, 8); }
  RecordBuilder& u32(uint32_t v) { return put(&v, 4); }
  RecordBuilder& str(const char* s) {
    size_t n = std::strlen(s) + 1;
    put(s, n);
    bytes_.resize((bytes_.size() + 7) / 8 * 8, 0);
    return *this;
  }
  // sample_id trailer for kSampleType: pid/tid, time, cpu/res, identifier.
  RecordBuilder& trailer(uint32_t pid, uint32_t tid, uint64_t time, uint32_t cpu, uint64_t id) {
    return u32(pid).u32(tid).u64(time).u32(cpu).u32(0).u64(id);
  }
  std::vector<uint8_t> done() {
    uint16_t size = static_cast<uint16_t>(bytes_.size());
    std::memcpy(bytes_.data() + 6, &size, 2);
    return bytes_;
  }

 private:
  RecordBuilder& put(const void* p, size_t n) {
    // resize + memcpy rather than insert: GCC 12 warns falsely
    // (-Wstringop-overflow) on the inlined insert.
    size_t old = bytes_.size();
    bytes_.resize(old + n);
    std::memcpy(bytes_.data() + old, p, n);
    return *this;
  }
  std::vector<uint8_t> bytes_;
};

constexpr uint64_t kType = kSampleType | PERF_SAMPLE_CALLCHAIN;

}  // namespace

TEST_CASE("a sample: ids, time, cpu, period and a callchain without context markers") {
  auto rec = RecordBuilder(PERF_RECORD_SAMPLE, PERF_RECORD_MISC_USER)
                 .u64(77)          // identifier
                 .u64(0x401234)    // ip
                 .u32(100).u32(101)  // pid, tid
                 .u64(123456789)   // time
                 .u32(1).u32(0)    // cpu, res
                 .u64(1001001)     // period
                 .u64(7)           // callchain: nr
                 .u64(static_cast<uint64_t>(PERF_CONTEXT_KERNEL))
                 .u64(0xffffffff81000010)
                 .u64(0xffffffff81000020)
                 .u64(static_cast<uint64_t>(PERF_CONTEXT_USER))
                 .u64(0x401234)
                 .u64(0x401500)
                 .u64(0x7f0000001000)
                 .done();
  ParsedRecord r;
  REQUIRE(parse_record(rec, kType, r));
  CHECK(r.kind == RecordKind::kSample);
  CHECK((r.id == 77 && r.ip == 0x401234 && r.pid == 100 && r.tid == 101));
  CHECK((r.time == 123456789 && r.cpu == 1 && r.period == 1001001));
  CHECK(r.callchain == std::vector<uint64_t>{0xffffffff81000010, 0xffffffff81000020, 0x401234, 0x401500,
                                             0x7f0000001000});
  CHECK(r.kernel_frames == 2);
  // Cut anywhere, it is an error, never a read past the end.
  for (size_t cut = 0; cut < rec.size(); ++cut) {
    std::vector<uint8_t> part(rec.begin(), rec.begin() + static_cast<ptrdiff_t>(cut));
    if (cut >= 8) {  // keep the header's size field honest about the cut
      uint16_t size = static_cast<uint16_t>(cut);
      std::memcpy(part.data() + 6, &size, 2);
    }
    INFO("cut " << cut);
    CHECK_FALSE(parse_record(part, kType, r));
  }
  // A callchain count larger than the record is refused.
  auto lying = rec;
  uint64_t huge = 1u << 20;
  std::memcpy(lying.data() + 8 + 48, &huge, 8);
  CHECK_FALSE(parse_record(lying, kType, r));
}

TEST_CASE("side-band records: mmap2 with build id, comm, fork, exit, lost") {
  ParsedRecord r;
  auto mmap = RecordBuilder(PERF_RECORD_MMAP2, PERF_RECORD_MISC_USER | PERF_RECORD_MISC_MMAP_BUILD_ID)
                  .u32(100).u32(100)
                  .u64(0x555555554000).u64(0x2000).u64(0x1000)
                  .u32(0x0303'0014)  // build_id_size = 20, 3 reserved bytes
                  .u64(0x0706050403020100).u64(0x0f0e0d0c0b0a0908).u32(0x13121110)
                  .u32(5).u32(2)  // prot, flags
                  .str("/usr/bin/app")
                  .trailer(100, 100, 555, 0, 9)
                  .done();
  REQUIRE(parse_record(mmap, kType, r));
  CHECK(r.kind == RecordKind::kMmap);
  CHECK((r.addr == 0x555555554000 && r.len == 0x2000 && r.pgoff == 0x1000));
  CHECK(r.name == "/usr/bin/app");
  REQUIRE(r.build_id.size() == 20);
  CHECK((r.build_id[0] == 0 && r.build_id[19] == 0x13));
  CHECK((r.time == 555 && r.id == 9 && r.prot == 5));

  auto comm = RecordBuilder(PERF_RECORD_COMM, PERF_RECORD_MISC_COMM_EXEC)
                  .u32(200).u32(201).str("worker-3").trailer(200, 201, 777, 1, 9).done();
  REQUIRE(parse_record(comm, kType, r));
  CHECK(r.kind == RecordKind::kComm);
  CHECK((r.name == "worker-3" && r.pid == 200 && r.tid == 201 && r.time == 777 && r.cpu == 1));
  CHECK((r.misc & PERF_RECORD_MISC_COMM_EXEC) != 0);

  auto fork = RecordBuilder(PERF_RECORD_FORK, 0)
                  .u32(300).u32(200).u32(301).u32(201).u64(888)
                  .trailer(200, 201, 888, 0, 9).done();
  REQUIRE(parse_record(fork, kType, r));
  CHECK(r.kind == RecordKind::kFork);
  CHECK((r.pid == 300 && r.ppid == 200 && r.tid == 301 && r.ptid == 201 && r.time == 888));

  auto exit = RecordBuilder(PERF_RECORD_EXIT, 0).u32(300).u32(200).u32(301).u32(201).u64(999)
                  .trailer(300, 301, 999, 0, 9).done();
  REQUIRE(parse_record(exit, kType, r));
  CHECK((r.kind == RecordKind::kExit && r.tid == 301));

  auto lost = RecordBuilder(PERF_RECORD_LOST, 0).u64(9).u64(42).trailer(0, 0, 1000, 1, 9).done();
  REQUIRE(parse_record(lost, kType, r));
  CHECK((r.kind == RecordKind::kLost && r.lost == 42 && r.cpu == 1));

  auto other = RecordBuilder(PERF_RECORD_KSYMBOL, 0).u64(0).done();
  REQUIRE(parse_record(other, kType, r));
  CHECK(r.kind == RecordKind::kOther);
}

TEST_CASE("a sample with user registers and a stack copy keeps only the valid stack bytes") {
  const uint64_t type = kType | PERF_SAMPLE_REGS_USER | PERF_SAMPLE_STACK_USER;
  const uint64_t mask = (1u << 6) | (1u << 7) | (1u << 8);
  RecordBuilder b(PERF_RECORD_SAMPLE, PERF_RECORD_MISC_USER);
  b.u64(1).u64(0x401000).u32(5).u32(6).u64(99).u32(0).u32(0).u64(1);
  b.u64(1).u64(0x401000);                     // callchain: one frame
  b.u64(2).u64(0x7ffd0010).u64(0x7ffd0000).u64(0x401000);  // abi 64, bp, sp, ip
  b.u64(32);                                  // stack: size, then 32 bytes
  for (uint64_t i = 0; i < 4; ++i) b.u64(0x1111 * (i + 1));
  b.u64(16);                                  // dyn_size: half of it valid
  auto rec = b.done();
  ParsedRecord r;
  REQUIRE(parse_record(rec, type, r, mask));
  REQUIRE(r.user_regs == std::vector<uint64_t>{0x7ffd0010, 0x7ffd0000, 0x401000});
  REQUIRE(r.user_stack.size() == 16);
  uint64_t second;
  std::memcpy(&second, r.user_stack.data() + 8, 8);
  CHECK(second == 0x2222);
  UserRegs regs;
  REQUIRE(user_regs_from(r.user_regs, regs));
  CHECK(regs.ip == 0x401000);
  CHECK(regs.sp == 0x7ffd0000);
  CHECK(regs.bp == 0x7ffd0010);

  // A kernel thread: abi 0, no register values, and an empty stack copy.
  RecordBuilder k(PERF_RECORD_SAMPLE, PERF_RECORD_MISC_KERNEL);
  k.u64(1).u64(0xffffffff81000000).u32(0).u32(0).u64(99).u32(0).u32(0).u64(1);
  k.u64(0).u64(0).u64(0);
  auto krec = k.done();
  REQUIRE(parse_record(krec, type, r, mask));
  CHECK(r.user_regs.empty());
  CHECK(r.user_stack.empty());

  // A stack size larger than the record is refused, not read past the end.
  RecordBuilder bad(PERF_RECORD_SAMPLE, PERF_RECORD_MISC_USER);
  bad.u64(1).u64(0x401000).u32(5).u32(6).u64(99).u32(0).u32(0).u64(1);
  bad.u64(0).u64(0).u64(4096).u64(0);
  auto badrec = bad.done();
  CHECK_FALSE(parse_record(badrec, type, r, mask));
}

TEST_CASE("a switch record: direction and preemption from misc, who and when from the trailer") {
  auto out = RecordBuilder(PERF_RECORD_SWITCH, PERF_RECORD_MISC_SWITCH_OUT | PERF_RECORD_MISC_SWITCH_OUT_PREEMPT)
                 .trailer(10, 11, 5000, 1, 9)
                 .done();
  ParsedRecord r;
  REQUIRE(parse_record(out, kType, r));
  CHECK(r.kind == RecordKind::kSwitch);
  CHECK((r.pid == 10 && r.tid == 11 && r.time == 5000 && r.cpu == 1));
  CHECK((r.misc & PERF_RECORD_MISC_SWITCH_OUT_PREEMPT) != 0);
  // Without its trailer it is refused rather than read with a zero time.
  auto bare = RecordBuilder(PERF_RECORD_SWITCH, 0).done();
  CHECK_FALSE(parse_record(bare, kType, r));
}

TEST_CASE("a tracepoint sample keeps its raw record") {
  auto rec = RecordBuilder(PERF_RECORD_SAMPLE, PERF_RECORD_MISC_KERNEL)
                 .u64(1)             // identifier
                 .u64(0xffffffff81000000)  // ip
                 .u32(5).u32(6)      // pid, tid
                 .u64(42)            // time
                 .u32(0).u32(0)      // cpu, res
                 .u64(1)             // period
                 .u32(12)            // raw size
                 .u32(0x11111111).u32(0x22222222).u32(0x33333333)
                 .u32(0)             // padding to 8 bytes
                 .done();
  ParsedRecord r;
  REQUIRE(parse_record(rec, kSampleType | PERF_SAMPLE_RAW, r));
  REQUIRE(r.raw.size() == 12);
  CHECK(r.raw[4] == 0x22);
  // A raw size beyond the record is an error.
  auto lying = rec;
  uint32_t huge = 4096;
  std::memcpy(lying.data() + 8 + 48, &huge, 4);
  CHECK_FALSE(parse_record(lying, kSampleType | PERF_SAMPLE_RAW, r));
}
