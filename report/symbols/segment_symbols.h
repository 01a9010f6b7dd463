// The symbol table a recorder appends to each segment when it seals it
// (docs/FORMAT.md, "Symbols are events"): a SymbolTableEntry for every
// callchain address of the segment that the recording machine can name, so
// the sealed segment is self-contained and a report made elsewhere, or after
// the binary is gone, still names its frames. Read by dial9 report and by
// the Tokio recorder's viewer alike.
//
// Runs on the segment writer's background thread. Give it the segments in
// the order they were written: mappings carry over from one to the next
// (each also starts with its own), and the modules' indexes and names are
// kept, so an address is named once per recording. Not thread-safe.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "report/symbols/kallsyms.h"
#include "report/symbols/symbolizer.h"

namespace dial9::report {

class SegmentSymbolTable {
 public:
  // `kernel_symbols` returns the kernel's symbols (KernelSymbols::parse of
  // /proc/kallsyms; empty when unreadable); called once, by the first
  // segment with kernel addresses, after its user addresses are named (so a
  // slow source overlaps with that work), and never by recordings without
  // kernel frames.
  explicit SegmentSymbolTable(SymbolizerOptions options, std::function<KernelSymbols()> kernel_symbols = {});

  // The symbol table of the segment file at `path` as one TRC stream, or
  // empty when nothing in it could be named (or it cannot be read).
  std::vector<uint8_t> build(const std::string& path);

  struct Stats {
    uint64_t addresses = 0;  // unique callchain addresses seen, per segment, summed
    uint64_t named = 0;      // of those, written to a table
  };
  Stats stats() const { return stats_; }
  // Every module the tables named addresses from, and how (whether
  // max_debug_bytes left its DWARF unread, among others).
  std::vector<ModuleOutcome> module_outcomes() const { return symbolizer_.module_outcomes(); }

 private:
  Symbolizer symbolizer_;
  std::function<KernelSymbols()> kernel_symbols_;
  std::optional<KernelSymbols> kernel_;  // loaded by the first segment with kernel addresses
  Stats stats_;
};

}  // namespace dial9::report
