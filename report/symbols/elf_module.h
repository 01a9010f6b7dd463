// One ELF file on disk, as symbolization and stack unwinding need it: its
// build id, where its file offsets land in its virtual addresses, its
// function symbols, source lines and inlined calls, and its call-frame
// information (CFI).
//
// Addresses here are the ELF's own virtual addresses (as in its headers), not
// runtime addresses: callers translate a runtime pc through the mapping's
// file offset (vaddr_of_offset) first, so one ElfModule serves every process
// that maps the file, at any load address.
//
// Owns libelf/libdw handles; third-party headers stay in the .cpp. What it
// answers is fixed by open(), so one module may be shared (shared_ptr) by
// several users, but lookups fill libdw's internal caches (and open
// .debug_frame on first need), so calls are not synchronised: use one thread
// at a time.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "base/result.h"

namespace dial9::report {

// "elfutils X.Y" (libdw/libelf), for `dial9 --version`.
std::string elfutils_version();

// How to find the caller's frame at one pc, on x86-64. These are the CFI
// shapes compilers emit for ordinary code; anything else (DWARF expressions,
// stack realignment through a register other than rsp/rbp) is kUnsupported so
// the unwinder stops instead of guessing.
struct FrameRule {
  enum class Cfa : uint8_t { kSpOffset, kBpOffset, kUnsupported };
  Cfa cfa = Cfa::kUnsupported;
  int64_t cfa_offset = 0;  // CFA = (rsp or rbp) + cfa_offset

  // Where a register of the caller is found.
  enum class Saved : uint8_t {
    kAtCfaOffset,  // in memory at CFA + offset
    kSameValue,    // unchanged in this frame
    kUndefined,    // none (the return address of a thread's outermost frame)
    kUnsupported,
  };
  Saved ra = Saved::kUnsupported;  // the return address
  int64_t ra_offset = 0;
  Saved bp = Saved::kSameValue;  // the caller's rbp
  int64_t bp_offset = 0;

  bool operator==(const FrameRule&) const = default;
};

struct Symbol {
  uint64_t start = 0;  // ELF virtual address
  uint64_t size = 0;
  std::string name;    // demangled
};

// One frame at a code address: a function and the place in it.
struct SourceFrame {
  std::string_view function;  // demangled; empty when no symbol names it
  std::string_view file;      // source file, "" when unknown
  uint32_t line = 0;          // 0 when unknown
};

struct ElfOpenOptions {
  // Where separate debug files are looked up, in order, when the file itself
  // has no .symtab or no DWARF: by build id (<dir>/.build-id/ab/cdef....debug)
  // and by the name in .gnu_debuglink (<dir><the file's directory>/<name>,
  // then <dir>/<name>), after the file's own directory and its .debug/.
  // Failing those, debuginfod (see debuginfod_debug_file).
  std::vector<std::string> debug_dirs = {"/usr/lib/debug"};
  // Line tables and inlined calls: the whole file's, read at the first
  // lookup (a report names many addresses), or only those of the compile
  // units that hold the addresses asked so far, read as they are asked
  // (recording names a segment's few, and glibc's whole debug file costs
  // hundreds of ms and tens of MB), until max_unit_indexes units were read
  // that way: then the whole file's (each unit read alone walks the list of
  // every unit, so many of them would cost more than the whole index).
  // Either way an address gets the same frames.
  bool whole_module_index = true;
  size_t max_unit_indexes = 64;
  // The most DWARF, in bytes once decompressed, a module's line tables and
  // inlined calls may come from; 0: no limit. libdw decompresses a file's
  // debug sections whole at the first lookup and holds them as long as the
  // module, so this bounds what frames_at costs in memory per module (not
  // frame_rule's .debug_frame fallback, nor dwz's alternate files). A
  // module over it is named from its symbol tables alone (dwarf_skipped()).
  uint64_t max_debug_bytes = 0;
};

// Where a separate debug file with this build id lives under `debug_dir`, as
// Debian's -dbg packages lay them out: <dir>/.build-id/ab/cdef....debug.
std::string debug_file_path(const std::string& debug_dir, std::span<const uint8_t> build_id);

// The debug file with this build id from the debuginfod servers listed in
// DEBUGINFOD_URLS (fetched, or found in the client's cache, by
// libdebuginfod.so.1, loaded on first use): its path, or "" when the
// variable is unset or empty, the library is not installed, or no server
// has it. Blocks on the network (the client honours DEBUGINFOD_TIMEOUT);
// ElfModule::open asks only after the local debug dirs had nothing.
std::string debuginfod_debug_file(std::span<const uint8_t> build_id);

class ElfModule {
 public:
  // Errors: the file cannot be opened, or it is not an ELF file (the message
  // names the path).
  static Result<std::shared_ptr<const ElfModule>> open(const std::string& path,
                                                       const ElfOpenOptions& options = {});
  ~ElfModule();
  ElfModule(const ElfModule&) = delete;
  ElfModule& operator=(const ElfModule&) = delete;

  const std::string& path() const;
  // The GNU build id note, empty when the file has none.
  std::span<const uint8_t> build_id() const;

  // The virtual address of a file offset, through the PT_LOAD segment that
  // holds it; nullopt when no loadable segment does.
  std::optional<uint64_t> vaddr_of_offset(uint64_t file_offset) const;

  // vaddr_of_offset for an offset in a mapping of the file that starts at
  // file offset `mapping_offset`. A separate debug file standing in for a
  // binary that is gone keeps the load segments' addresses but not their
  // file offsets; then the mapping is taken to start at the first page of
  // the executable segment, as the loader maps it.
  std::optional<uint64_t> vaddr_of_mapped_offset(uint64_t file_offset, uint64_t mapping_offset) const;

  // The function symbol containing `vaddr` (start <= vaddr < start + size;
  // a symbol of size 0 covers up to the next symbol, but not past its
  // PT_LOAD segment). Symbols come from .symtab, else from the separate
  // debug file found by build id (used only when its build id matches),
  // else from .dynsym. Aliases at one address are reported once (a sized
  // symbol, then a global one, preferred). nullptr when none contains it.
  // The pointer lives as long as the module.
  const Symbol* symbol_at(uint64_t vaddr) const;

  // The frames at `vaddr`, appended to `out` innermost first: with
  // `inlines`, one per inlined call covering it, each at the place the
  // address is in that function, then always the function that owns the
  // code (named by symbol_at; an empty name when there is no symbol), at the
  // call site of the outermost inlined call or, without one, at the
  // address's own line. Lines come from the DWARF of the file or of its
  // separate debug file, read into an index on the first call (a one-time
  // cost per module, see DwarfIndex); without DWARF, file and line are
  // empty. Views live as long as the module.
  void frames_at(uint64_t vaddr, bool inlines, std::vector<SourceFrame>& out) const;

  // The size of the module's DWARF (decompressed) when max_debug_bytes left
  // it unread, else 0.
  uint64_t dwarf_skipped() const;

  // The separate debug file in use (found by build id or .gnu_debuglink),
  // or "" when there is none.
  const std::string& separate_debug_file() const;

  // The CFI rule in effect at `vaddr`, from .eh_frame (else .debug_frame of
  // the file or of its separate debug file); nullopt when no CFI covers it,
  // or the CFI there cannot be parsed. In a file that is not x86-64, a
  // covered pc gets a rule whose every part is kUnsupported.
  std::optional<FrameRule> frame_rule(uint64_t vaddr) const;

 private:
  ElfModule();
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace dial9::report
