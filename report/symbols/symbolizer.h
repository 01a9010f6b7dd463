// Names for the addresses in a trace's callchains.
//
// Rebuilds each process's mappings from the trace's own events (MappingEvent,
// ThreadStart for forks, ThreadName for execs), so it needs nothing from the
// live process: only the mapped files, found by path and checked by build
// id, or their separate debug files. Feed every event to observe() in trace
// order, then ask for names. Not thread-safe.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "format/decoder.h"
#include "format/address_space.h"
#include "report/symbols/module_cache.h"

namespace dial9::report {

struct FrameName {
  std::string_view function;  // demangled; "module+0xoffset" when unknown
  std::string_view module;    // the file's base name; "[unknown]" without a mapping
  bool resolved = false;      // `function` came from a symbol
};

class Symbolizer {
 public:
  explicit Symbolizer(ElfOpenOptions options = {}) : modules_(std::move(options)) {}

  // Tracks processes, threads and mappings; ignores other events.
  void observe(const format::Event& e);

  // The process a thread belongs to (the thread itself when never told).
  uint32_t pid_of(uint32_t tid) const;

  // Names the code at `addr` in process `pid`. Callchain entries after the
  // leaf are return addresses, which may point just past the end of the
  // calling function: `return_address` looks up addr - 1 instead. Views stay
  // valid for the Symbolizer's lifetime.
  FrameName name(uint32_t pid, uint64_t addr, bool return_address);

  size_t missing_modules() const { return modules_.missing(); }

 private:
  std::string_view intern(std::string s);
  AddressSpaces spaces_;
  ModuleCache modules_;
  std::unordered_map<uint32_t, uint32_t> pid_of_tid_;
  std::unordered_map<ModuleAddress, FrameName, ModuleAddressHash> cache_;  // by module and vaddr
  std::unordered_map<std::string, std::string_view> strings_;
  std::vector<std::unique_ptr<std::string>> storage_;
};

}  // namespace dial9::report
