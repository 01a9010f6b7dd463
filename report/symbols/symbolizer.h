// Names for the addresses in a trace's callchains: functions (C++
// demangled), source file and line, and the calls inlined at each address.
//
// Rebuilds each process's mappings from the trace's own events (MappingEvent,
// ThreadStart for forks, ThreadName for execs), so it needs nothing from the
// live process: only the mapped files, found by path and checked by build
// id, or their separate debug files (by build id or .gnu_debuglink, in
// SymbolizerOptions::debug_dirs and then /usr/lib/debug, then from the
// debuginfod servers when DEBUGINFOD_URLS is set). A trace that
// carries its own symbol table (SymbolTableEntry events, written by the Tokio
// recorder) is used first: the binary may be gone.
//
// Each module's symbols, line tables and inlined calls are read once into an
// index (see DwarfIndex; only the compile units asked, for a module read to
// refine the trace's name-only entries), and each address is named once.
// Feed every event to observe() in trace order, then ask for names. Not
// thread-safe.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <unordered_map>
#include <unordered_set>
#include <vector>

#include "format/address_space.h"
#include "format/decoder.h"
#include "report/symbols/module_cache.h"

namespace dial9::report {

struct FrameName {
  std::string_view function;  // demangled; "module+0xoffset" when unknown
  std::string_view module;    // base name of the mapped file; "[unknown]"/"[kernel]"
  std::string_view file;      // source file path, "" when unknown
  uint32_t line = 0;          // 0 when unknown
  bool resolved = false;      // function came from a symbol or debug info
  bool inlined = false;       // this frame was inlined into the next one in the span
};

struct SymbolizerOptions {
  // Extra directories for separate debug files (--debug-dir), searched
  // before /usr/lib/debug.
  std::vector<std::string> debug_dirs;
  // Inlined calls as frames of their own; false folds them into the real
  // function that contains them (--no-inline).
  bool inlines = true;
  // See ElfOpenOptions::whole_module_index: false for few addresses.
  bool whole_module_index = true;
  // See ElfOpenOptions::max_debug_bytes (0: no limit).
  uint64_t max_debug_bytes = 0;
};

class Symbolizer {
 public:
  explicit Symbolizer(SymbolizerOptions options = {});
  // Debug dirs exactly as given (nothing appended), inlines on.
  explicit Symbolizer(ElfOpenOptions options);

  // Tracks processes, threads and mappings, and collects the trace's
  // SymbolTableEntry events; ignores other events.
  void observe(const format::Event& e);

  // The process a thread belongs to (the thread itself when never told).
  uint32_t pid_of(uint32_t tid) const;

  // All frames at one callchain address, leaf first: the innermost inlined
  // call first, the real (outermost) function last; `inlined` is set on all
  // but the last. Never empty: an address nothing names is one frame,
  // "module+0xOFFSET" (the file offset), or "[kernel]"/"[unknown]" without a
  // mapping.
  //
  // Callchain entries after the leaf are return addresses, which may point
  // just past the end of the calling function: with `return_address` the
  // module is looked up at addr - 1. The trace's own symbol table is keyed by
  // the exact callchain value, as the Tokio recorder writes it, and wins
  // over the module when it has an entry for `addr` (in any process; kernel
  // addresses included), unless the entries are a name only (no source
  // place): then the module, when it is the recorded build and has lines
  // there, names the address. Views and the span stay valid for the
  // Symbolizer's lifetime.
  std::span<const FrameName> frames(uint32_t pid, uint64_t addr, bool return_address);

  // The mapping that holds a callchain address in `pid` now, copied so it
  // outlives a later exec or exit; nullopt when none does. With
  // frames_in(), an address can be located while the trace is read and
  // named once it has been read (the trace's symbol table comes last).
  std::optional<MappedFile> mapping_of(uint32_t pid, uint64_t addr, bool return_address) const;
  // frames() for an address located earlier with mapping_of().
  std::span<const FrameName> frames_in(const std::optional<MappedFile>& mapping, uint64_t addr,
                                       bool return_address);

  // The real function at the address: frames(...).back().
  FrameName name(uint32_t pid, uint64_t addr, bool return_address) {
    return frames(pid, addr, return_address).back();
  }

  // How many mapped files had no module, for the report's degradation notes.
  size_t missing_modules() const { return modules_.missing() + refine_modules_.missing(); }
  // Every mapped file looked up, and where its symbols came from (--verbose).
  std::vector<ModuleOutcome> module_outcomes() const;

 private:
  // One SymbolTableEntry, strings interned.
  struct TraceSymbol {
    uint64_t depth = 0;
    std::string_view function, file;
    uint32_t line = 0;
  };
  // A run of frames in storage_.
  struct Span {
    const FrameName* data = nullptr;
    uint32_t size = 0;
  };

  std::span<const FrameName> frames_for(const MappedFile* f, uint64_t addr, bool return_address);
  // `refining`: for a name-only entry of the trace (refine_modules_).
  std::span<const FrameName> from_module(bool refining, const MappedFile& f, uint64_t lookup);
  Span store(std::span<const FrameName> frames);
  std::string_view intern(std::string_view s);

  bool inlines_;
  AddressSpaces spaces_;
  ModuleCache modules_;
  // The modules first read to add lines to the trace's name-only entries:
  // few addresses each (those the recording sampled), so only the compile
  // units they are in are indexed, not the whole module (whose index, for
  // glibc's debug file, took longer and more memory than the rest of a
  // small report). A file is looked up in one of the two caches only: the
  // one that asked for it first (ModuleCache::peek), so it is never opened
  // twice, and either index gives the same frames.
  ModuleCache refine_modules_;
  std::unordered_map<uint32_t, uint32_t> pid_of_tid_;
  std::unordered_map<uint64_t, std::vector<TraceSymbol>> trace_symbols_;  // by callchain value
  // Named spans, by module (or mapped path) and address: module lookups by
  // file offset, the trace table's by callchain value. A module missing
  // from its cache is keyed by its path string, which names the same frames
  // whichever cache was asked.
  std::unordered_map<ModuleAddress, Span, ModuleAddressHash> by_module_;
  std::unordered_map<ModuleAddress, Span, ModuleAddressHash> by_trace_;
  Span unmapped_[2];  // "[unknown]", "[kernel]"
  // Frames live in chunks that never move, so spans stay valid.
  std::vector<std::unique_ptr<FrameName[]>> chunks_;
  size_t chunk_used_ = 0, chunk_size_ = 0;
  struct StringHash {
    using is_transparent = void;
    size_t operator()(std::string_view s) const { return std::hash<std::string_view>()(s); }
  };
  // Node-based: the strings never move, so views into them stay valid.
  std::unordered_set<std::string, StringHash, std::equal_to<>> strings_;
  std::vector<SourceFrame> scratch_;
  std::vector<FrameName> names_;
};

}  // namespace dial9::report
