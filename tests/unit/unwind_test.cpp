// Completing callchains: address spaces from trace events, unwinding a
// synthetic stack copy with given CFI rules, and joining the result with a
// frame-pointer chain. Pure logic, no processes.
#include <catch2/catch.hpp>

#include <cstring>
#include <map>

#include "format/address_space.h"
#include "report/symbols/cfi_unwinder.h"
#include "tests/support/frame_rules.h"

using namespace dial9;
using namespace dial9::report;
using format::AddressSpaces;

namespace {

format::Mapping mapping(uint32_t pid, uint64_t start, uint64_t len, uint64_t off, const char* path, bool exec = true) {
  return format::Mapping{pid, start, len, off, path, {}, exec};
}

// A stack copy: u64 words from `sp` upwards.
struct Stack {
  uint64_t sp;
  std::vector<uint64_t> words;
  std::span<const uint8_t> bytes() const {
    return {reinterpret_cast<const uint8_t*>(words.data()), words.size() * 8};
  }
};

using test::rbp_frame_rule;
using test::sp_frame_rule;

}  // namespace

TEST_CASE("address spaces: mappings replace what they overlap, forks copy, execs start over") {
  AddressSpaces a;
  a.map(mapping(1, 0x1000, 0x3000, 0, "/bin/a"));
  REQUIRE(a.find(1, 0x2000));
  CHECK(*a.find(1, 0x2000)->path == "/bin/a");
  CHECK_FALSE(a.find(1, 0x4000));
  CHECK_FALSE(a.find(2, 0x2000));
  // A new mapping in the middle splits the old one; offsets stay right.
  a.map(mapping(1, 0x2000, 0x1000, 0x10000, "/lib/b"));
  CHECK(*a.find(1, 0x1800)->path == "/bin/a");
  CHECK(*a.find(1, 0x2800)->path == "/lib/b");
  REQUIRE(a.find(1, 0x3800));
  CHECK(*a.find(1, 0x3800)->path == "/bin/a");
  CHECK(a.find(1, 0x3800)->file_offset == 0x2000);
  // A data mapping over code removes the code, and is not kept itself.
  a.map(mapping(1, 0x3000, 0x1000, 0, "/dev/zero", false));
  CHECK_FALSE(a.find(1, 0x3800));
  a.fork(1, 2);
  REQUIRE(a.find(2, 0x2800));
  CHECK(*a.find(2, 0x2800)->path == "/lib/b");
  a.exec(2);
  CHECK_FALSE(a.find(2, 0x2800));
  CHECK(a.find(1, 0x2800));
  a.exit(1);
  CHECK_FALSE(a.find(1, 0x2800));
}

TEST_CASE("unwinding a stack copy with CFI rules through a function without frame pointers") {
  // leaf (no frame pointer, 24 bytes of frame) called from `mid` (rbp
  // frame) called from `top`, whose return address is beyond the copy.
  const uint64_t sp = 0x7000;
  Stack s{sp, {0, 0, 0, /*ra into mid*/ 0x2010, /*mid's locals*/ 0, /*saved rbp of top*/ 0x7040,
               /*ra into top*/ 0x3010}};
  std::map<uint64_t, FrameRule> rules = {{0x1005, sp_frame_rule(32)}, {0x200f, rbp_frame_rule()}, {0x300f, sp_frame_rule(8)}};
  auto lookup = [&](uint64_t pc) -> std::optional<FrameRule> {
    auto it = rules.find(pc);
    if (it == rules.end()) return std::nullopt;
    return it->second;
  };
  UnwindInput in;
  in.ip = 0x1005;
  in.sp = sp;
  in.bp = 0x7028;  // mid's frame pointer: the leaf left rbp alone
  in.stack = s.bytes();
  std::vector<uint64_t> frames;
  bool complete = unwind_stack_copy(in, lookup, frames);
  // top's rule needs memory past the copy: unwinding stops there.
  CHECK_FALSE(complete);
  CHECK(frames == std::vector<uint64_t>{0x1005, 0x2010, 0x3010});

  // A return address the CFI marks undefined ends the thread's stack.
  rules[0x300f].ra = FrameRule::Saved::kUndefined;
  CHECK(unwind_stack_copy(in, lookup, frames));
  CHECK(frames == std::vector<uint64_t>{0x1005, 0x2010, 0x3010});

  // No rule for the leaf: only the leaf.
  in.ip = 0x9999;
  CHECK_FALSE(unwind_stack_copy(in, lookup, frames));
  CHECK(frames == std::vector<uint64_t>{0x9999});

  // A rule that does not move up the stack cannot loop.
  rules[0x1005] = sp_frame_rule(0);
  rules[0x1005].ra_offset = 24;  // a plausible return address
  in.ip = 0x1005;
  CHECK_FALSE(unwind_stack_copy(in, lookup, frames));
  CHECK(frames.size() == 1);
}

TEST_CASE("splicing: unwound frames first, then the frame-pointer frames beyond them") {
  std::vector<uint64_t> out;
  // The frame-pointer walk skipped memcpy's caller (C): the unwound frames
  // reach B, which both have; the rest comes from the frame pointers.
  splice_callchains(std::vector<uint64_t>{0xa, 0xc, 0xb}, false, std::vector<uint64_t>{0xa, 0xb, 0xd, 0xe}, out);
  CHECK(out == std::vector<uint64_t>{0xa, 0xc, 0xb, 0xd, 0xe});
  // The unwinding ran out before any shared frame: it found the skipped
  // frames, and everything after the frame-pointer leaf follows.
  splice_callchains(std::vector<uint64_t>{0xa, 0xc}, false, std::vector<uint64_t>{0xa, 0xb, 0xd}, out);
  CHECK(out == std::vector<uint64_t>{0xa, 0xc, 0xb, 0xd});
  // ... unless it reached the outermost frame.
  splice_callchains(std::vector<uint64_t>{0xa, 0xc}, true, std::vector<uint64_t>{0xa, 0xb, 0xd}, out);
  CHECK(out == std::vector<uint64_t>{0xa, 0xc});
  // Nothing unwound past the leaf: the frame-pointer chain as it is.
  splice_callchains(std::vector<uint64_t>{0xa}, false, std::vector<uint64_t>{0xa, 0xb, 0xd}, out);
  CHECK(out == std::vector<uint64_t>{0xa, 0xb, 0xd});
  // Recursion: the k-th unwound r matches the k-th r of the frame pointers.
  splice_callchains(std::vector<uint64_t>{0xa, 0x5, 0x5}, false,
                    std::vector<uint64_t>{0xa, 0x5, 0x5, 0x5, 0x5, 0xf}, out);
  CHECK(out == std::vector<uint64_t>{0xa, 0x5, 0x5, 0x5, 0x5, 0xf});
  // The deepest shared frame wins: frame pointers that went wrong inside a
  // callback (qsort's comparator) are replaced by the unwound frames.
  splice_callchains(std::vector<uint64_t>{0xa, 0x1, 0x2, 0x3, 0x4}, false,
                    std::vector<uint64_t>{0xa, 0x1, 0x4, 0x9}, out);
  CHECK(out == std::vector<uint64_t>{0xa, 0x1, 0x2, 0x3, 0x4, 0x9});
  // No frame-pointer chain at all.
  splice_callchains(std::vector<uint64_t>{0xa, 0x1}, false, std::vector<uint64_t>{}, out);
  CHECK(out == std::vector<uint64_t>{0xa, 0x1});
}
