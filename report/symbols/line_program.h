// Runs DWARF line-number programs (.debug_line, DWARF 2 to 5) into rows, in
// program order.
//
// libdw's dwarf_getsrclines returns a unit's rows sorted by address, which
// interleaves the rows of overlapping sequences, and linked files have
// them: GNU ld relocates the line table of a discarded copy of a COMDAT
// function onto the copy it kept (when their sizes match) or to 0. Only the
// program order says which row belongs to which sequence, so the index runs
// the programs itself. Pure logic over bytes; file names stay with libdw (the file index
// of a row is that of the unit's file table, as dwarf_filesrc numbers it).
#pragma once

#include <cstdint>
#include <span>
#include <vector>

namespace dial9::report {

struct LineRow {
  uint64_t addr = 0;
  uint32_t file = 0;  // index into the unit's file table
  uint32_t line = 0;
  bool end_sequence = false;  // the first address after the sequence
  bool operator==(const LineRow&) const = default;
};

// Appends the rows of the line program at `offset` in `section` to `out`.
// Little-endian targets only (x86-64, AArch64). Returns false, having
// appended the rows decoded up to that point, when the program is cut
// short or its header cannot be read.
bool run_line_program(std::span<const uint8_t> section, uint64_t offset, std::vector<LineRow>& out);

}  // namespace dial9::report
