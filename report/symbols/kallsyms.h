// Kernel function names from a snapshot of /proc/kallsyms, for the kernel
// frames of callchains. The recorder takes the snapshot (the addresses are
// those of the running kernel, randomized at boot) and writes the names it
// needs into each segment's symbol table, so reports elsewhere name them.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace dial9::report {

class KernelSymbols {
 public:
  // Parses /proc/kallsyms text ("ADDRESS TYPE NAME [MODULE]" per line),
  // keeping code symbols (types t, T, w, W). When the kernel hides
  // addresses from the reader (kernel.kptr_restrict), every address reads
  // as 0 and the result is empty.
  static KernelSymbols parse(std::string_view text);

  // The same, a line at a time, so a reader need not hold the whole text
  // (5 MB and more) beside the table it becomes.
  class Builder {
   public:
    void add_line(std::string_view line);
    KernelSymbols finish() &&;

   private:
    std::vector<uint64_t> starts_;
    std::vector<uint32_t> offsets_;  // into names_, where each name starts
    std::string names_;
    bool sorted_ = true;  // every address so far at or above the one before
  };

  bool empty() const { return starts_.empty(); }
  size_t size() const { return starts_.size(); }

  // The function containing `addr`: the nearest symbol at or below it, or
  // "" below the first one or past the last (the end of kernel text is not
  // known, so an address far past it would be misnamed: callers pass only
  // kernel callchain addresses). A module's function reads "name [module]".
  std::string_view find(uint64_t addr) const;

 private:
  std::vector<uint64_t> starts_;   // sorted
  std::vector<uint32_t> offsets_;  // into names_, one past the end included
  std::string names_;
};

}  // namespace dial9::report
