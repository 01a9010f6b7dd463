// The source lines and inlined calls of one file's DWARF, read once into
// sorted tables so that each address is answered by binary searches instead
// of a walk of the debug information per lookup (which is what makes
// eu-addr2line slow on many addresses).
//
// Built from every compile unit: the line tables (dwarf_getsrclines) and the
// DW_TAG_inlined_subroutine DIEs with their ranges, call_file and call_line.
// Addresses are the ELF's own virtual addresses. What it keeps is copied out
// of libdw, whose handle is closed once the index is built: the index needs
// nothing else. Not thread-safe (names are demangled on first use).
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

// libelf's handle, declared so that this header needs no elfutils header.
struct Elf;

namespace dial9::report {

class DwarfIndex {
 public:
  struct Location {
    std::string_view file;  // "" when unknown
    uint32_t line = 0;      // 0 when unknown
  };
  struct Inlined {
    std::string_view function;  // demangled
    Location call;              // the call site, in the caller
  };

  // Reads the DWARF of `elf`; nullptr when it has none (no .debug_info) or
  // libdw cannot read it. `is_code(addr)` says whether an address lies in
  // the module's code: sequences and ranges outside it are those of code the
  // linker discarded (relocated to 0) and are dropped. With `units` (sorted
  // offsets of compile units, as unit_ranges gives them), only those units
  // are read: what a caller naming a few addresses needs, at a fraction of
  // the time and memory of the whole file's (glibc's debug file: hundreds of
  // milliseconds and tens of MB). An address is answered as the whole
  // index would answer it when every unit whose ranges cover it is read.
  static std::unique_ptr<DwarfIndex> build(Elf* elf, const std::function<bool(uint64_t)>& is_code,
                                           const std::vector<uint64_t>* units = nullptr);

  // The code ranges [low, high) of every compile unit of `elf`'s DWARF,
  // sorted by low; empty when it has none. Reading them touches only each
  // unit's first DIE, not its lines or functions.
  struct UnitRange {
    uint64_t low = 0, high = 0;
    uint64_t unit = 0;  // the unit's offset, for build()
  };
  static std::vector<UnitRange> unit_ranges(Elf* elf);
  ~DwarfIndex();
  DwarfIndex(const DwarfIndex&) = delete;
  DwarfIndex& operator=(const DwarfIndex&) = delete;

  // The line-table row covering `vaddr`; an empty Location when no sequence
  // covers it.
  Location line_at(uint64_t vaddr) const;

  // The inlined calls whose code covers `vaddr`, innermost first, appended to
  // `out`. Each names the inlined function and where its caller called it.
  void inlined_at(uint64_t vaddr, std::vector<Inlined>& out) const;

  // Sizes, for benchmarks and tests.
  size_t line_rows() const;
  size_t inline_ranges() const;

 private:
  DwarfIndex();
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace dial9::report
