// Opens the ELF file behind each mapped file once, for the symbolizer and the
// unwinder, and remembers failures so a missing file costs one attempt.
//
// A mapping's build id (when the kernel recorded one) must match: when the
// file at the recorded path was rebuilt or replaced since (or is gone), the
// separate debug file with that build id is used instead (from the debug
// dirs, else from debuginfod when DEBUGINFOD_URLS is set), and failing that
// the mapping has no module, so a report never names the wrong function.
// Not thread-safe.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <unordered_map>
#include <vector>

#include "format/address_space.h"
#include "report/symbols/elf_module.h"

namespace dial9::report {

using format::AddressSpaces;
using format::MappedFile;

// A code address within one module: the key of per-address caches (CFI
// rules, symbol names), so an address shared by many processes is looked up
// once.
struct ModuleAddress {
  const void* module = nullptr;
  uint64_t addr = 0;
  bool operator==(const ModuleAddress&) const = default;
};
struct ModuleAddressHash {
  size_t operator()(const ModuleAddress& k) const {
    return std::hash<uint64_t>()(k.addr * 0x9e3779b97f4a7c15ull ^ reinterpret_cast<uintptr_t>(k.module));
  }
};

// What became of one mapped file (path and build id), for `--verbose`.
struct ModuleOutcome {
  std::string path;
  std::string build_id;      // hex, "" when the kernel recorded none
  const ElfModule* module;   // nullptr: no symbols from this file
  std::string symbols_from;  // the file read: the path itself, or a debug file standing in
  std::string debug_file;    // its separate debug file, "" when none
  std::string why;           // when module is nullptr: why not
  uint64_t dwarf_skipped = 0;  // its DWARF's size, when over max_debug_bytes (ElfModule::dwarf_skipped)
};

class ModuleCache {
 public:
  explicit ModuleCache(ElfOpenOptions options = {}) : options_(std::move(options)) {}

  // The module for `f`, or nullptr (a pseudo-file such as [vdso], a file that
  // is gone, or one whose build id differs).
  const ElfModule* get(const MappedFile& f);
  // What get() would return, when `f`'s file was looked up already (its
  // module, or nullptr for none); nullopt when it was not: nothing is opened.
  std::optional<const ElfModule*> peek(const MappedFile& f) const;

  // How many mapped files had no module, for the report's degradation notes.
  size_t missing() const { return missing_; }

  // Every file looked up so far, by path.
  std::vector<ModuleOutcome> outcomes() const;

 private:
  const ElfModule* open_for(const std::string& path, const std::vector<uint8_t>& build_id);
  ElfOpenOptions options_;
  // By path and build id: the module (nullptr when none) and how it was
  // found or why not. Holding the shared_ptr keeps the module alive.
  struct Entry {
    std::shared_ptr<const ElfModule> module;
    ModuleOutcome outcome;
  };
  std::map<std::string, Entry> by_key_;
  // By the mapping's shared path string: the fast path for repeated lookups.
  // Holding the shared_ptr keeps the address from being reused.
  std::unordered_map<std::shared_ptr<const std::string>, const ElfModule*> by_path_ptr_;
  size_t missing_ = 0;
};

}  // namespace dial9::report
