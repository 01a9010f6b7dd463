// The DWARF line-program reader on hand-assembled programs: every opcode
// kind, DWARF 4 and 5 headers (32- and 64-bit), and cut input.
#include "report/symbols/line_program.h"

#include <catch2/catch.hpp>

#include <cstdint>
#include <vector>

using dial9::report::LineRow;
using dial9::report::run_line_program;

namespace {

struct Bytes {
  std::vector<uint8_t> b;
  Bytes& u8(uint64_t v) {
    b.push_back(static_cast<uint8_t>(v));
    return *this;
  }
  Bytes& fixed(uint64_t v, int n) {
    for (int i = 0; i < n; ++i) b.push_back(static_cast<uint8_t>(v >> (8 * i)));
    return *this;
  }
  Bytes& uleb(uint64_t v) {
    do {
      uint8_t byte = v & 0x7f;
      v >>= 7;
      b.push_back(static_cast<uint8_t>(byte | (v ? 0x80 : 0)));
    } while (v);
    return *this;
  }
  Bytes& str(const char* s) {
    while (*s) b.push_back(static_cast<uint8_t>(*s++));
    b.push_back(0);
    return *this;
  }
  Bytes& append(const Bytes& o) {
    b.insert(b.end(), o.b.begin(), o.b.end());
    return *this;
  }
};

// line_base -5, line_range 14, opcode_base 13: GCC's values.
constexpr int kLineBase = -5, kLineRange = 14, kOpcodeBase = 13;

Bytes opcode_lengths() {
  Bytes b;
  for (int n : {0, 1, 1, 1, 1, 0, 0, 0, 1, 0, 0, 1}) b.u8(static_cast<uint64_t>(n));
  return b;
}

uint8_t special(int addr_advance, int line_advance) {
  return static_cast<uint8_t>((line_advance - kLineBase) + kLineRange * addr_advance + kOpcodeBase);
}

// Two sequences: every standard opcode, a special one, and extended ones
// the reader must skip.
Bytes program() {
  Bytes p;
  p.u8(0).uleb(9).u8(2).fixed(0x1000, 8);  // set_address 0x1000
  p.u8(3).uleb(9);                          // advance_line: line 10
  p.u8(5).uleb(7);                          // set_column (ignored)
  p.u8(1);                                  // copy: 0x1000 file 1 line 10
  p.u8(special(4, 1));                      // 0x1004 line 11
  p.u8(4).uleb(2);                          // set_file 2
  p.u8(6).u8(7);                            // negate_stmt, set_basic_block
  p.u8(2).uleb(8);                          // advance_pc: 0x100c
  p.u8(0).uleb(2).u8(4).uleb(3);            // set_discriminator (skipped)
  p.u8(1);                                  // copy: 0x100c file 2 line 11
  p.u8(8);                                  // const_add_pc: +17
  p.u8(9).fixed(3, 2);                      // fixed_advance_pc: +3 = 0x1020
  p.u8(0).uleb(1).u8(1);                    // end_sequence at 0x1020
  p.u8(0).uleb(9).u8(2).fixed(0x2000, 8);   // a new sequence: registers reset
  p.u8(1);                                  // 0x2000 file 1 line 1
  p.u8(0).uleb(3).u8(0x80).u8(0xaa).u8(0xbb);  // a vendor extended opcode
  p.u8(2).uleb(2).u8(0).uleb(1).u8(1);      // end_sequence at 0x2002
  return p;
}

const std::vector<LineRow> kExpected = {
    {0x1000, 1, 10, false}, {0x1004, 1, 11, false}, {0x100c, 2, 11, false},
    {0x1020, 2, 11, true},  {0x2000, 1, 1, false},  {0x2002, 1, 1, true},
};

// A whole unit: DWARF 4 (32-bit) or 5 (64-bit), the header's directory and
// file tables present but not read (header_length skips them).
Bytes unit(int version, const Bytes& prog) {
  const int offset_size = version >= 5 ? 8 : 4;
  Bytes rest;  // after header_length
  rest.u8(1);                      // minimum_instruction_length
  rest.u8(1);                      // maximum_operations_per_instruction
  rest.u8(1);                      // default_is_stmt
  rest.u8(static_cast<uint8_t>(kLineBase)).u8(kLineRange).u8(kOpcodeBase);
  rest.append(opcode_lengths());
  if (version >= 5) {
    rest.u8(1).uleb(1).uleb(0x08);           // directory format: path, string
    rest.uleb(1).str("/src");
    rest.u8(2).uleb(1).uleb(0x08).uleb(2).uleb(0x0b);  // file format: path string, dir data1
    rest.uleb(2).str("a.c").u8(0).str("b.c").u8(0);
  } else {
    rest.str("/src").u8(0);
    rest.str("a.c").uleb(1).uleb(0).uleb(0).str("b.c").uleb(1).uleb(0).uleb(0).u8(0);
  }
  Bytes after_length;
  after_length.fixed(static_cast<uint64_t>(version), 2);
  if (version >= 5) after_length.u8(8).u8(0);  // address_size, segment_selector_size
  after_length.fixed(rest.b.size(), offset_size).append(rest).append(prog);
  Bytes u;
  if (offset_size == 8) u.fixed(0xffffffffu, 4).fixed(after_length.b.size(), 8);
  else u.fixed(after_length.b.size(), 4);
  return u.append(after_length);
}

}  // namespace

TEST_CASE("line program: a DWARF 4 unit gives its rows in program order", "[dwarf]") {
  std::vector<LineRow> rows;
  CHECK(run_line_program(unit(4, program()).b, 0, rows));
  CHECK(rows == kExpected);
}

TEST_CASE("line program: a 64-bit DWARF 5 unit at an offset in the section", "[dwarf]") {
  Bytes section;
  section.append(unit(4, Bytes().u8(0).uleb(1).u8(1)));  // another unit first
  size_t offset = section.b.size();
  section.append(unit(5, program()));
  std::vector<LineRow> rows;
  CHECK(run_line_program(section.b, offset, rows));
  CHECK(rows == kExpected);
}

TEST_CASE("line program: cut input gives the rows before the cut and false", "[dwarf]") {
  Bytes whole = unit(4, program());
  // The unit's length still claims the whole program: the section ends first.
  std::vector<uint8_t> cut(whole.b.begin(), whole.b.end() - 12);
  std::vector<LineRow> rows;
  CHECK_FALSE(run_line_program(cut, 0, rows));
  CHECK_FALSE(run_line_program(whole.b, whole.b.size(), rows));
  std::vector<uint8_t> header_only(whole.b.begin(), whole.b.begin() + 20);
  CHECK_FALSE(run_line_program(header_only, 0, rows));
  // A unit whose length is right but whose last opcode is cut.
  Bytes prog = program();
  prog.b.resize(prog.b.size() - 1);
  rows.clear();
  CHECK_FALSE(run_line_program(unit(4, prog).b, 0, rows));
  REQUIRE(rows.size() == kExpected.size() - 1);
  CHECK(std::equal(rows.begin(), rows.end(), kExpected.begin()));
}

TEST_CASE("line program: versions it does not know are refused", "[dwarf]") {
  Bytes u = unit(4, program());
  u.b[4] = 6;  // version 6
  std::vector<LineRow> rows;
  CHECK_FALSE(run_line_program(u.b, 0, rows));
  CHECK(rows.empty());
}
