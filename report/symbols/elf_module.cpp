#include "report/symbols/elf_module.h"

#include <dwarf.h>
#include <elfutils/libdw.h>
#include <elfutils/libdwelf.h>
#include <elfutils/libdwfl.h>
#include <dlfcn.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <gelf.h>
#include <libelf.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <exception>
#include <limits>
#include <new>
#include <unistd.h>

#include "base/hex.h"
#include "base/unique_fd.h"
#include "report/symbols/demangle.h"
#include "report/symbols/dwarf_index.h"

namespace dial9::report {
namespace {

// DWARF register numbers of the x86-64 psABI.
constexpr uint64_t kDwarfRbp = 6;
constexpr uint64_t kDwarfRsp = 7;

struct ElfEnd {
  void operator()(Elf* elf) const { elf_end(elf); }
};
struct DwarfEnd {
  void operator()(Dwarf* dwarf) const { dwarf_end(dwarf); }
};
struct CfiEnd {
  void operator()(Dwarf_CFI* cfi) const { dwarf_cfi_end(cfi); }
};
// dwarf_cfi_addrframe hands back a malloc'd frame.
struct FreeFrame {
  void operator()(Dwarf_Frame* frame) const { std::free(frame); }
};

// One open ELF file. The fd must outlive the Elf handle, so `elf` is
// declared after `fd` and is destroyed first.
struct ElfFile {
  UniqueFd fd;
  std::unique_ptr<Elf, ElfEnd> elf;
};

std::string elf_error() {
  const char* msg = elf_errmsg(-1);
  return msg != nullptr ? msg : "unknown libelf error";
}

bool init_libelf() {
  // elf_version must precede elf_begin; once per process is enough.
  static const bool ok = elf_version(EV_CURRENT) != EV_NONE;
  return ok;
}

Result<ElfFile> open_elf(const std::string& path) {
  if (!init_libelf()) return fail("libelf: " + elf_error());
  ElfFile file;
  // Paths come from traces, which may have been made elsewhere or by
  // someone else: O_NONBLOCK so a FIFO at that path cannot block the open,
  // and only regular files are read (a device could be endless).
  file.fd.reset(::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NONBLOCK));
  if (!file.fd) return fail(Error::from_errno("opening " + path));
  struct stat st {};
  if (fstat(file.fd.get(), &st) != 0) return fail(Error::from_errno("reading the status of " + path));
  if (!S_ISREG(st.st_mode)) return fail(path + ": not a regular file");
  // A read-only mapping: libelf hands out pointers into it instead of
  // copying sections. Package upgrades replace files by rename, which leaves
  // our mapping intact.
  file.elf.reset(elf_begin(file.fd.get(), ELF_C_READ_MMAP, nullptr));
  if (!file.elf) return fail(path + ": " + elf_error());
  // libelf accepts any file (ELF_K_NONE) and archives; only ELF objects count.
  if (elf_kind(file.elf.get()) != ELF_K_ELF) return fail(path + ": not an ELF file");
  return file;
}

std::vector<uint8_t> read_build_id(Elf* elf) {
  const void* bytes = nullptr;
  ssize_t n = dwelf_elf_gnu_build_id(elf, &bytes);
  if (n <= 0 || bytes == nullptr) return {};
  const auto* p = static_cast<const uint8_t*>(bytes);
  return {p, p + n};
}

// CRC-32 with the IEEE polynomial (zlib's), which .gnu_debuglink records
// for the debug file it names.
uint32_t crc32(std::span<const uint8_t> data) {
  static const auto table = [] {
    std::array<uint32_t, 256> t{};
    for (uint32_t i = 0; i < 256; ++i) {
      uint32_t c = i;
      for (int k = 0; k < 8; ++k) c = (c & 1) ? 0xedb88320u ^ (c >> 1) : c >> 1;
      t[i] = c;
    }
    return t;
  }();
  uint32_t c = 0xffffffffu;
  for (uint8_t b : data) c = table[(c ^ b) & 0xff] ^ (c >> 8);
  return c ^ 0xffffffffu;
}

// The bytes of the file's DWARF sections (.debug_*, and the old
// .zdebug_*) once decompressed: what dwarf_begin_elf would hold.
uint64_t dwarf_bytes(Elf* elf) {
  size_t names = 0;
  if (elf_getshdrstrndx(elf, &names) != 0) return 0;
  uint64_t total = 0;
  Elf_Scn* scn = nullptr;
  while ((scn = elf_nextscn(elf, scn)) != nullptr) {
    GElf_Shdr shdr;
    if (gelf_getshdr(scn, &shdr) == nullptr || shdr.sh_type == SHT_NOBITS) continue;
    const char* n = elf_strptr(elf, names, shdr.sh_name);
    if (n == nullptr) continue;
    // A header that cannot be read counts as its stored size.
    uint64_t size = shdr.sh_size;
    if (std::strncmp(n, ".zdebug_", 8) == 0) {
      // "ZLIB", then the decompressed size as a big-endian u64.
      Elf_Data* raw = elf_rawdata(scn, nullptr);
      if (raw != nullptr && raw->d_size >= 12 && std::memcmp(raw->d_buf, "ZLIB", 4) == 0) {
        const auto* b = static_cast<const uint8_t*>(raw->d_buf) + 4;
        size = 0;
        for (int i = 0; i < 8; ++i) size = size << 8 | b[i];
      }
    } else if (std::strncmp(n, ".debug_", 7) != 0) {
      continue;
    } else if (shdr.sh_flags & SHF_COMPRESSED) {
      GElf_Chdr chdr;
      if (gelf_getchdr(scn, &chdr) != nullptr) size = chdr.ch_size;
    }
    // Saturating: a crafted size must not wrap around into the budget.
    total = size > std::numeric_limits<uint64_t>::max() - total ? std::numeric_limits<uint64_t>::max() : total + size;
  }
  return total;
}

bool has_section(Elf* elf, const char* name) {
  size_t names = 0;
  if (elf_getshdrstrndx(elf, &names) != 0) return false;
  Elf_Scn* scn = nullptr;
  while ((scn = elf_nextscn(elf, scn)) != nullptr) {
    GElf_Shdr shdr;
    if (gelf_getshdr(scn, &shdr) == nullptr || shdr.sh_type == SHT_NOBITS) continue;
    const char* n = elf_strptr(elf, names, shdr.sh_name);
    if (n != nullptr && std::strcmp(n, name) == 0) return true;
  }
  return false;
}

std::string dir_name(const std::string& path) {
  size_t slash = path.rfind('/');
  if (slash == std::string::npos) return ".";
  return slash == 0 ? "/" : path.substr(0, slash);
}

// libdebuginfod, loaded on first need: most reports never ask a server, and
// linking it would load libcurl and its dependencies into every dial9 run.
// The three functions as <elfutils/debuginfod.h> declares them.
struct Debuginfod {
  void* (*begin)() = nullptr;
  int (*find_debuginfo)(void* client, const unsigned char* build_id, int build_id_len, char** path) = nullptr;
  void (*end)(void* client) = nullptr;
};

const Debuginfod* debuginfod_library() {
  static const Debuginfod lib = [] {
    Debuginfod d;
    void* handle = dlopen("libdebuginfod.so.1", RTLD_LAZY | RTLD_LOCAL);
    if (handle == nullptr) return d;  // not installed: no servers
    d.begin = reinterpret_cast<decltype(d.begin)>(dlsym(handle, "debuginfod_begin"));
    d.find_debuginfo = reinterpret_cast<decltype(d.find_debuginfo)>(dlsym(handle, "debuginfod_find_debuginfo"));
    d.end = reinterpret_cast<decltype(d.end)>(dlsym(handle, "debuginfod_end"));
    return d;
  }();
  return lib.begin && lib.find_debuginfo && lib.end ? &lib : nullptr;
}

struct DebugFile {
  ElfFile file;
  std::string path;
};

// The separate debug file of a stripped file. First by build id, as Debian's
// -dbg packages lay them out (<dir>/.build-id/ab/cdef....debug), then by the
// name in .gnu_debuglink, where GDB looks for it: beside the file, in .debug/
// beside it, and under each debug dir at the file's own directory (and, for
// a flat directory of debug files given with --debug-dir, at its top).
// Only a file that belongs to this one is used: a stale debug file would
// name the wrong functions. With build ids on both sides they must be equal;
// otherwise the CRC that .gnu_debuglink records must match.
std::optional<DebugFile> find_debug_file(const std::string& path, Elf* elf,
                                         std::span<const uint8_t> build_id,
                                         const std::vector<std::string>& debug_dirs) {
  if (build_id.size() >= 2) {
    for (const auto& dir : debug_dirs) {
      std::string candidate = debug_file_path(dir, build_id);
      auto file = open_elf(candidate);
      if (!file) continue;  // absent is the common case
      auto other = read_build_id(file->elf.get());
      if (std::equal(other.begin(), other.end(), build_id.begin(), build_id.end())) {
        return DebugFile{std::move(*file), std::move(candidate)};
      }
    }
  }
  GElf_Word crc = 0;
  const char* link = dwelf_elf_gnu_debuglink(elf, &crc);
  if (link == nullptr || *link == '\0' || std::strchr(link, '/') != nullptr) return std::nullopt;
  const std::string dir = dir_name(path);
  std::vector<std::string> candidates = {dir + "/" + link, dir + "/.debug/" + link};
  for (const auto& debug_dir : debug_dirs) {
    candidates.push_back(debug_dir + (dir == "/" ? "" : dir) + "/" + link);
    candidates.push_back(debug_dir + "/" + link);
  }
  for (auto& candidate : candidates) {
    if (candidate == path) continue;
    auto file = open_elf(candidate);
    if (!file) continue;
    auto other = read_build_id(file->elf.get());
    bool same;
    if (!build_id.empty() && !other.empty()) {
      same = std::equal(other.begin(), other.end(), build_id.begin(), build_id.end());
    } else {
      size_t size = 0;
      const char* raw = elf_rawfile(file->elf.get(), &size);
      same = raw != nullptr && crc32({reinterpret_cast<const uint8_t*>(raw), size}) == crc;
    }
    if (same) return DebugFile{std::move(*file), std::move(candidate)};
  }
  return std::nullopt;
}

// find_debug_file, then the debuginfod servers.
std::optional<DebugFile> find_or_fetch_debug_file(const std::string& path, Elf* elf,
                                                  std::span<const uint8_t> build_id,
                                                  const std::vector<std::string>& debug_dirs) {
  if (auto local = find_debug_file(path, elf, build_id, debug_dirs)) return local;
  std::string fetched = debuginfod_debug_file(build_id);
  if (fetched.empty()) return std::nullopt;
  auto file = open_elf(fetched);
  if (!file) return std::nullopt;
  auto other = read_build_id(file->elf.get());
  if (!std::equal(other.begin(), other.end(), build_id.begin(), build_id.end())) return std::nullopt;
  return DebugFile{std::move(*file), std::move(fetched)};
}

struct LoadSegment {
  uint64_t offset = 0;
  uint64_t filesz = 0;
  uint64_t vaddr = 0;
  uint64_t memsz = 0;
  bool executable = false;
};

std::vector<LoadSegment> read_load_segments(Elf* elf) {
  std::vector<LoadSegment> out;
  size_t count = 0;
  if (elf_getphdrnum(elf, &count) != 0) return out;
  for (size_t i = 0; i < count; ++i) {
    GElf_Phdr phdr;
    if (gelf_getphdr(elf, static_cast<int>(i), &phdr) == nullptr) continue;
    if (phdr.p_type != PT_LOAD) continue;
    out.push_back({phdr.p_offset, phdr.p_filesz, phdr.p_vaddr, phdr.p_memsz, (phdr.p_flags & PF_X) != 0});
  }
  return out;
}

// A function symbol as read, before deduplication and demangling.
struct RawSymbol {
  uint64_t start = 0;
  uint64_t size = 0;
  int binding_rank = 0;  // lower is preferred: global, weak, then local
  std::string name;
};

int binding_rank(unsigned char binding) {
  switch (binding) {
    case STB_GLOBAL:
      return 0;
    case STB_WEAK:
      return 1;
    default:
      return 2;
  }
}

// Appends the function symbols of the first section of `section_type`
// (SHT_SYMTAB or SHT_DYNSYM); false when the file has no such section.
bool read_function_symbols(Elf* elf, Elf64_Word section_type, std::vector<RawSymbol>& out) {
  Elf_Scn* scn = nullptr;
  while ((scn = elf_nextscn(elf, scn)) != nullptr) {
    GElf_Shdr shdr;
    if (gelf_getshdr(scn, &shdr) == nullptr || shdr.sh_type != section_type) continue;
    Elf_Data* data = elf_getdata(scn, nullptr);
    if (data == nullptr || shdr.sh_entsize == 0) return true;
    size_t count = shdr.sh_size / shdr.sh_entsize;
    for (size_t i = 0; i < count; ++i) {
      GElf_Sym sym;
      if (gelf_getsym(data, static_cast<int>(i), &sym) == nullptr) continue;
      unsigned char type = GELF_ST_TYPE(sym.st_info);
      if (type != STT_FUNC && type != STT_GNU_IFUNC) continue;
      // Undefined symbols are imports; in a non-PIE executable they may carry
      // the address of their PLT stub, which is not the function.
      if (sym.st_value == 0 || sym.st_shndx == SHN_UNDEF) continue;
      const char* name = elf_strptr(elf, shdr.sh_link, sym.st_name);
      if (name == nullptr || *name == '\0') continue;
      out.push_back({sym.st_value, sym.st_size, binding_rank(GELF_ST_BIND(sym.st_info)), name});
    }
    return true;
  }
  return false;
}

// Where a register of the caller is, from dwarf_frame_register. libdw
// (0.188, libdw/dwarf_frame_register.c) encodes the simple rules as:
//   undefined       nops == 0, ops == ops_mem
//   same value      nops == 0, ops == nullptr
//   offset(N)       DW_OP_call_frame_cfa [DW_OP_plus_uconst N]  (omitted when
//                   N == 0; N is signed, stored two's complement in .number)
//   val_offset(N)   the same followed by DW_OP_stack_value (a value, not a slot)
//   register(R)     DW_OP_regx R
// and DW_CFA_expression rules as DW_OP_call_frame_cfa followed by the
// expression, so an expression that is just "plus N" is offset(N) too.
FrameRule::Saved saved_register(Dwarf_Frame* frame, uint64_t regno, int64_t& offset) {
  Dwarf_Op ops_mem[3];
  Dwarf_Op* ops = nullptr;
  size_t nops = 0;
  if (dwarf_frame_register(frame, static_cast<int>(regno), ops_mem, &ops, &nops) != 0) {
    return FrameRule::Saved::kUnsupported;
  }
  if (nops == 0) return ops == nullptr ? FrameRule::Saved::kSameValue : FrameRule::Saved::kUndefined;
  if (ops[0].atom != DW_OP_call_frame_cfa) return FrameRule::Saved::kUnsupported;
  if (nops == 1) {
    offset = 0;
    return FrameRule::Saved::kAtCfaOffset;
  }
  if (nops == 2 && ops[1].atom == DW_OP_plus_uconst) {
    offset = static_cast<int64_t>(ops[1].number);
    return FrameRule::Saved::kAtCfaOffset;
  }
  return FrameRule::Saved::kUnsupported;
}

// The CFA from dwarf_frame_cfa. libdw stores a DW_CFA_def_cfa* rule
// "reg + off" as one DW_OP_bregx op with number = reg and number2 = off
// (libdw/cfi.c, execute_cfi); a DW_CFA_def_cfa_expression comes back parsed,
// and one whose whole expression is DW_OP_bregN off means the same thing.
void cfa_rule(Dwarf_Frame* frame, FrameRule& rule) {
  Dwarf_Op* ops = nullptr;
  size_t nops = 0;
  if (dwarf_frame_cfa(frame, &ops, &nops) != 0 || nops != 1 || ops == nullptr) return;
  uint64_t reg = 0;
  int64_t offset = 0;
  if (ops[0].atom == DW_OP_bregx) {
    reg = ops[0].number;
    offset = static_cast<int64_t>(ops[0].number2);
  } else if (ops[0].atom >= DW_OP_breg0 && ops[0].atom <= DW_OP_breg31) {
    reg = ops[0].atom - DW_OP_breg0;
    offset = static_cast<int64_t>(ops[0].number);
  } else {
    return;
  }
  if (reg == kDwarfRsp) {
    rule.cfa = FrameRule::Cfa::kSpOffset;
  } else if (reg == kDwarfRbp) {
    rule.cfa = FrameRule::Cfa::kBpOffset;
  } else {
    return;
  }
  rule.cfa_offset = offset;
}

}  // namespace

std::string debuginfod_debug_file(std::span<const uint8_t> build_id) {
  const char* urls = std::getenv("DEBUGINFOD_URLS");
  if (urls == nullptr || *urls == '\0' || build_id.empty()) return {};
  const Debuginfod* lib = debuginfod_library();
  if (lib == nullptr) return {};
  void* client = lib->begin();
  if (client == nullptr) return {};
  char* path = nullptr;
  int fd = lib->find_debuginfo(client, build_id.data(), static_cast<int>(build_id.size()), &path);
  lib->end(client);
  std::string out;
  if (fd >= 0) {
    ::close(fd);  // reopened by path, like every other candidate
    if (path != nullptr) out = path;
  }
  std::free(path);
  return out;
}

std::string debug_file_path(const std::string& debug_dir, std::span<const uint8_t> build_id) {
  std::string id = to_hex(build_id);
  if (id.size() < 3) return {};
  return debug_dir + "/.build-id/" + id.substr(0, 2) + "/" + id.substr(2) + ".debug";
}

struct ElfModule::Impl {
  std::string path;
  ElfFile file;
  std::optional<DebugFile> debug_file;  // found by build id or debuglink
  std::vector<uint8_t> build_id;
  std::vector<LoadSegment> segments;
  bool x86_64 = false;

  // Sorted by start, one per address; symbol_ends[i] is where symbols[i]
  // stops covering (its size, else the next symbol or the segment's end).
  std::vector<Symbol> symbols;
  std::vector<uint64_t> symbol_ends;

  std::unique_ptr<Dwarf_CFI, CfiEnd> eh_cfi;  // .eh_frame; null when absent
  // .debug_frame, opened on first need: dwarf_begin_elf reads (and
  // decompresses) every debug section, which most lookups never need.
  bool debug_frame_tried = false;
  std::vector<std::unique_ptr<Dwarf, DwarfEnd>> dwarfs;
  Dwarf_CFI* debug_frame_cfi = nullptr;  // owned by its Dwarf

  // Line tables and inlined calls, read on first need (a one-time cost per
  // module, paid only by modules that samples land in).
  Elf* dwarf_elf = nullptr;  // the file with the DWARF: this one or the debug file
  uint64_t dwarf_skipped = 0;  // its size, when over max_debug_bytes (then dwarf_elf is null)
  bool index_tried = false;
  std::unique_ptr<DwarfIndex> index;
  // Without whole_module_index: every unit's ranges (read at the first
  // lookup), and an index of each unit an address was asked in, by offset.
  bool whole_module_index = true;
  size_t max_unit_indexes = 64;
  std::vector<DwarfIndex::UnitRange> unit_ranges;
  std::vector<std::pair<uint64_t, std::unique_ptr<DwarfIndex>>> unit_indexes;
  std::vector<uint64_t> covering;  // scratch for dwarf_lookup
  std::vector<DwarfIndex::Inlined> chain;  // scratch for frames_at

  // libdw handles refer into the Elf handles, which need their fds: release
  // them in that order whatever the members' order.
  ~Impl() {
    index.reset();
    unit_indexes.clear();
    debug_frame_cfi = nullptr;
    dwarfs.clear();
    eh_cfi.reset();
    debug_file.reset();
    file.elf.reset();
    file.fd.reset();
  }

  void load_symbols(const ElfOpenOptions& options) {
    Elf* elf = file.elf.get();
    bool own_dwarf = has_section(elf, ".debug_info") || has_section(elf, ".zdebug_info");
    std::vector<RawSymbol> raw;
    bool own_symtab = read_function_symbols(elf, SHT_SYMTAB, raw);
    if (!own_symtab || !own_dwarf) debug_file = find_or_fetch_debug_file(path, elf, build_id, options.debug_dirs);
    // Symbol values in the debug file are the same virtual addresses: it is
    // the same link, with the code sections emptied (SHT_NOBITS).
    if (!own_symtab && !(debug_file && read_function_symbols(debug_file->file.elf.get(), SHT_SYMTAB, raw))) {
      read_function_symbols(elf, SHT_DYNSYM, raw);
    }
    dwarf_elf = own_dwarf ? elf : debug_file ? debug_file->file.elf.get() : nullptr;
    if (dwarf_elf != nullptr && options.max_debug_bytes != 0) {
      uint64_t bytes = dwarf_bytes(dwarf_elf);
      if (bytes > options.max_debug_bytes) {
        dwarf_skipped = bytes;
        dwarf_elf = nullptr;
      }
    }
    // Aliases share an address (getpid and __getpid); keep the most
    // informative: a sized symbol, then a global one, then the shorter name.
    std::sort(raw.begin(), raw.end(), [](const RawSymbol& a, const RawSymbol& b) {
      if (a.start != b.start) return a.start < b.start;
      if ((a.size > 0) != (b.size > 0)) return a.size > 0;
      if (a.binding_rank != b.binding_rank) return a.binding_rank < b.binding_rank;
      if (a.name.size() != b.name.size()) return a.name.size() < b.name.size();
      return a.name < b.name;
    });
    for (auto& s : raw) {
      if (!symbols.empty() && symbols.back().start == s.start) continue;
      symbols.push_back({s.start, s.size, demangle(s.name.c_str())});
    }
    symbol_ends.resize(symbols.size());
    for (size_t i = 0; i < symbols.size(); ++i) {
      const Symbol& s = symbols[i];
      if (s.size > 0) {
        symbol_ends[i] = s.start + std::min(s.size, std::numeric_limits<uint64_t>::max() - s.start);
        continue;
      }
      // A size-0 symbol (hand-written assembly) runs to the next symbol, but
      // not past its segment: the last one would otherwise cover everything.
      uint64_t end = s.start + 1;
      for (const auto& seg : segments) {
        if (s.start >= seg.vaddr && s.start - seg.vaddr < seg.memsz) end = seg.vaddr + seg.memsz;
      }
      if (i + 1 < symbols.size()) end = std::min(end, symbols[i + 1].start);
      symbol_ends[i] = std::max(end, s.start + 1);
    }
  }

  bool is_code(uint64_t vaddr) const {
    return std::any_of(segments.begin(), segments.end(), [&](const LoadSegment& seg) {
      return seg.executable && vaddr >= seg.vaddr && vaddr - seg.vaddr < seg.memsz;
    });
  }

  // The inlined calls at `vaddr` (innermost first) into `calls`, and the
  // line-table row there; false when the module has no DWARF.
  bool dwarf_lookup(uint64_t vaddr, std::vector<DwarfIndex::Inlined>& calls, DwarfIndex::Location& line) {
    calls.clear();
    line = {};
    if (!whole_module_index && unit_indexes.size() >= max_unit_indexes) {
      // Many units asked: the whole index from now on (ElfOpenOptions).
      whole_module_index = true;
      index_tried = false;
      unit_indexes.clear();
      unit_ranges = {};
    }
    if (whole_module_index) {
      if (!index_tried) {
        index_tried = true;
        if (dwarf_elf != nullptr) index = DwarfIndex::build(dwarf_elf, [this](uint64_t a) { return is_code(a); });
      }
      if (!index) return false;
      index->inlined_at(vaddr, calls);
      line = index->line_at(vaddr);
      return true;
    }
    if (dwarf_elf == nullptr) return false;
    if (!index_tried) {
      index_tried = true;
      unit_ranges = DwarfIndex::unit_ranges(dwarf_elf);
    }
    // The units covering the address, in file order: where copies of one
    // function's code overlap (the linker kept the first), the first unit
    // that answers wins, as in the whole index.
    covering.clear();
    for (const auto& r : unit_ranges) {
      if (r.low > vaddr) break;
      if (vaddr < r.high) covering.push_back(r.unit);
    }
    std::sort(covering.begin(), covering.end());
    covering.erase(std::unique(covering.begin(), covering.end()), covering.end());
    for (uint64_t unit : covering) {
      const DwarfIndex* ix = unit_index(unit);
      if (ix == nullptr) continue;
      if (calls.empty()) ix->inlined_at(vaddr, calls);
      if (line.file.empty() && line.line == 0) line = ix->line_at(vaddr);
    }
    return true;
  }

  // One compile unit's index, read on first need.
  const DwarfIndex* unit_index(uint64_t unit) {
    auto it = std::lower_bound(unit_indexes.begin(), unit_indexes.end(), unit,
                               [](const auto& e, uint64_t u) { return e.first < u; });
    if (it == unit_indexes.end() || it->first != unit) {
      const std::vector<uint64_t> one{unit};
      it = unit_indexes.emplace(it, unit, DwarfIndex::build(dwarf_elf, [this](uint64_t a) { return is_code(a); }, &one));
    }
    return it->second.get();
  }

  Dwarf_CFI* find_debug_frame() {
    if (debug_frame_tried) return debug_frame_cfi;
    debug_frame_tried = true;
    for (Elf* elf : {file.elf.get(), debug_file ? debug_file->file.elf.get() : nullptr}) {
      // dwarf_begin_elf decompresses every debug section of the file and
      // libelf keeps them until the file is closed: 10 MiB for glibc's
      // debug file, which has no .debug_frame at all (Debian's debug files
      // rarely do). Look before paying for it.
      if (elf == nullptr || !(has_section(elf, ".debug_frame") || has_section(elf, ".zdebug_frame"))) continue;
      // Fails (not an error for us) when the file has no DWARF sections.
      std::unique_ptr<Dwarf, DwarfEnd> dwarf(dwarf_begin_elf(elf, DWARF_C_READ, nullptr));
      if (!dwarf) continue;
      Dwarf_CFI* cfi = dwarf_getcfi(dwarf.get());
      dwarfs.push_back(std::move(dwarf));
      if (cfi != nullptr) {
        debug_frame_cfi = cfi;
        break;
      }
    }
    return debug_frame_cfi;
  }
};

ElfModule::ElfModule() : impl_(std::make_unique<Impl>()) {}
ElfModule::~ElfModule() = default;

Result<std::shared_ptr<const ElfModule>> ElfModule::open(const std::string& path,
                                                         const ElfOpenOptions& options) {
  // Nothing here throws on purpose, but allocation can: keep the Result
  // contract anyway.
  try {
    auto file = open_elf(path);
    if (!file) return fail(std::move(file).error());
    std::shared_ptr<ElfModule> module(new ElfModule());
    Impl& impl = *module->impl_;
    impl.path = path;
    impl.file = std::move(*file);
    Elf* elf = impl.file.elf.get();
    GElf_Ehdr ehdr;
    if (gelf_getehdr(elf, &ehdr) == nullptr) return fail(path + ": " + elf_error());
    impl.x86_64 = ehdr.e_machine == EM_X86_64;
    impl.build_id = read_build_id(elf);
    impl.segments = read_load_segments(elf);
    impl.whole_module_index = options.whole_module_index;
    impl.max_unit_indexes = options.max_unit_indexes;
    impl.load_symbols(options);
    impl.eh_cfi.reset(dwarf_getcfi_elf(elf));
    return std::shared_ptr<const ElfModule>(std::move(module));
  } catch (const std::bad_alloc&) {
    return fail(Error(path + ": out of memory", ENOMEM));
  } catch (const std::exception& e) {
    return fail(path + ": " + e.what());
  }
}

const std::string& ElfModule::path() const { return impl_->path; }

std::span<const uint8_t> ElfModule::build_id() const { return impl_->build_id; }

std::optional<uint64_t> ElfModule::vaddr_of_offset(uint64_t file_offset) const {
  for (const auto& seg : impl_->segments) {
    // Only the file-backed part: past p_filesz the segment is zero fill
    // (.bss), and those file offsets hold whatever follows in the file.
    if (file_offset >= seg.offset && file_offset - seg.offset < seg.filesz) {
      return file_offset - seg.offset + seg.vaddr;
    }
  }
  return std::nullopt;
}

std::optional<uint64_t> ElfModule::vaddr_of_mapped_offset(uint64_t file_offset, uint64_t mapping_offset) const {
  if (auto vaddr = vaddr_of_offset(file_offset)) return vaddr;
  if (file_offset < mapping_offset) return std::nullopt;
  constexpr uint64_t kPage = 4096;
  for (const auto& seg : impl_->segments) {
    // objcopy --only-keep-debug leaves p_filesz 0: the bytes are not there.
    if (!seg.executable || seg.filesz != 0) continue;
    uint64_t vaddr = (seg.vaddr & ~(kPage - 1)) + (file_offset - mapping_offset);
    if (vaddr >= seg.vaddr && vaddr - seg.vaddr < seg.memsz) return vaddr;
  }
  return std::nullopt;
}

uint64_t ElfModule::dwarf_skipped() const { return impl_->dwarf_skipped; }

const std::string& ElfModule::separate_debug_file() const {
  static const std::string kNone;
  return impl_->debug_file ? impl_->debug_file->path : kNone;
}

void ElfModule::frames_at(uint64_t vaddr, bool inlines, std::vector<SourceFrame>& out) const {
  Impl& impl = *impl_;
  SourceFrame outer;
  if (const Symbol* sym = symbol_at(vaddr)) outer.function = sym->name;
  // Each frame is at the call site of the one inlined into it; the
  // innermost is where the line table puts the address.
  DwarfIndex::Location here;
  if (impl.dwarf_lookup(vaddr, impl.chain, here)) {
    for (const auto& call : impl.chain) {
      if (inlines) out.push_back({call.function, here.file, here.line});
      here = call.call;
    }
    outer.file = here.file;
    outer.line = here.line;
  }
  out.push_back(outer);
}

const Symbol* ElfModule::symbol_at(uint64_t vaddr) const {
  const auto& symbols = impl_->symbols;
  auto it = std::upper_bound(symbols.begin(), symbols.end(), vaddr,
                             [](uint64_t v, const Symbol& s) { return v < s.start; });
  if (it == symbols.begin()) return nullptr;
  size_t i = static_cast<size_t>(it - symbols.begin()) - 1;
  return vaddr < impl_->symbol_ends[i] ? &symbols[i] : nullptr;
}

std::optional<FrameRule> ElfModule::frame_rule(uint64_t vaddr) const {
  Dwarf_Frame* raw = nullptr;
  if (!impl_->eh_cfi || dwarf_cfi_addrframe(impl_->eh_cfi.get(), vaddr, &raw) != 0) {
    raw = nullptr;
    Dwarf_CFI* cfi = impl_->find_debug_frame();
    if (cfi == nullptr || dwarf_cfi_addrframe(cfi, vaddr, &raw) != 0) return std::nullopt;
  }
  std::unique_ptr<Dwarf_Frame, FreeFrame> frame(raw);

  FrameRule rule;
  if (!impl_->x86_64) {
    // Register numbers below are x86-64's; elsewhere, stop the unwinder.
    rule.bp = FrameRule::Saved::kUnsupported;
    return rule;
  }
  cfa_rule(frame.get(), rule);
  int ra_regno = dwarf_frame_info(frame.get(), nullptr, nullptr, nullptr);
  if (ra_regno >= 0) rule.ra = saved_register(frame.get(), static_cast<uint64_t>(ra_regno), rule.ra_offset);
  rule.bp = saved_register(frame.get(), kDwarfRbp, rule.bp_offset);
  return rule;
}

std::string elfutils_version() { return std::string("elfutils ") + dwfl_version(nullptr); }

}  // namespace dial9::report
