#include "report/symbols/dwarf_index.h"

#include <dwarf.h>
#include <elfutils/libdw.h>
#include <gelf.h>

#include <algorithm>
#include <cstring>
#include <limits>
#include <span>
#include <unordered_map>
#include <unordered_set>

#include "report/symbols/demangle.h"
#include "report/symbols/line_program.h"

namespace dial9::report {
namespace {

constexpr uint32_t kNone = std::numeric_limits<uint32_t>::max();

struct DwarfEnd {
  void operator()(Dwarf* dwarf) const { dwarf_end(dwarf); }
};

// One row of the merged line table: from `addr` up to the next row's
// address the code is at file:line. file == kNone ends a sequence (the
// addresses from there on are not covered until the next row).
struct Row {
  uint64_t addr = 0;
  uint32_t file = kNone;
  uint32_t line = 0;
};

// A run of rows of one sequence, before the sequences of all compile units
// are put in address order.
struct Sequence {
  uint64_t start = 0;
  size_t begin = 0, end = 0;  // rows [begin, end) of the unsorted rows
};

// An inlined call: `parent` is the inlined call it sits in (kNone when it is
// inlined directly into a real function).
struct Node {
  uint32_t name = kNone;
  uint32_t parent = kNone;
  uint32_t call_file = kNone;
  uint32_t call_line = 0;
};

// One address range of an inlined call, before the ranges are flattened.
struct InlineRange {
  uint64_t low = 0, high = 0;
  uint32_t depth = 0;  // 1 for a call inlined into a real function
  uint32_t node = kNone;
};

// From `addr` up to the next segment, `node` is the innermost inlined call
// (kNone: the code of a real function itself).
struct Segment {
  uint64_t addr = 0;
  uint32_t node = kNone;
};

// .debug_line, as dwarf_begin_elf left it: decompressed in place.
std::span<const uint8_t> line_section(Elf* elf) {
  size_t names = 0;
  if (elf_getshdrstrndx(elf, &names) != 0) return {};
  Elf_Scn* scn = nullptr;
  while ((scn = elf_nextscn(elf, scn)) != nullptr) {
    GElf_Shdr shdr;
    if (gelf_getshdr(scn, &shdr) == nullptr || shdr.sh_type == SHT_NOBITS) continue;
    const char* name = elf_strptr(elf, names, shdr.sh_name);
    if (name == nullptr || (std::strcmp(name, ".debug_line") != 0 && std::strcmp(name, ".zdebug_line") != 0)) continue;
    Elf_Data* data = elf_getdata(scn, nullptr);
    if (data == nullptr || data->d_buf == nullptr) return {};
    return {static_cast<const uint8_t*>(data->d_buf), data->d_size};
  }
  return {};
}

bool has_code(Dwarf_Die* die) {
  return dwarf_hasattr(die, DW_AT_low_pc) || dwarf_hasattr(die, DW_AT_ranges);
}

uint64_t udata(Dwarf_Die* die, unsigned attr_name) {
  Dwarf_Attribute attr;
  Dwarf_Word value = 0;
  if (dwarf_attr(die, attr_name, &attr) == nullptr || dwarf_formudata(&attr, &value) != 0) return 0;
  return value;
}

// The name to show for a function DIE: its linkage name (demangled later,
// which gives the qualified name with parameters, as the symbol table does),
// else its plain name. Both are looked for through abstract_origin and
// specification, where C++ keeps them.
const char* function_name(Dwarf_Die* die) {
  Dwarf_Attribute attr;
  for (unsigned name : {DW_AT_linkage_name, DW_AT_MIPS_linkage_name, DW_AT_name}) {
    if (dwarf_attr_integrate(die, name, &attr) == nullptr) continue;
    const char* s = dwarf_formstring(&attr);
    if (s != nullptr && *s != '\0') return s;
  }
  return nullptr;
}

// The index's tables; the Builder fills them. Everything is copied out of
// libdw, whose handle (with every unit's parsed line table) is closed once
// the index is built.
struct Tables {
  std::vector<std::string> files;
  std::vector<Row> rows;  // sorted by address
  std::vector<Node> nodes;
  std::vector<Segment> segments;  // sorted by address
  size_t inline_ranges = 0;
  // Raw (mangled) names, NUL-terminated in one arena, demangled on first use.
  std::string raw_arena;
  std::vector<uint32_t> raw_names;  // offsets into raw_arena
  mutable std::vector<std::string> names;
  mutable std::vector<bool> demangled;

  std::string_view name(uint32_t id) const {
    if (id == kNone) return {};
    if (!demangled[id]) {
      names[id] = demangle(raw_arena.c_str() + raw_names[id]);
      demangled[id] = true;
    }
    return names[id];
  }
  std::string_view file(uint32_t id) const { return id == kNone ? std::string_view() : files[id]; }
};

// State while reading the compile units.
class Builder {
 public:
  Builder(Tables& out, const std::function<bool(uint64_t)>& is_code, std::span<const uint8_t> line_section)
      : out_(out), is_code_(is_code), line_section_(line_section) {}

  void unit(Dwarf_Die* cudie) {
    comp_dir_ = nullptr;
    Dwarf_Attribute attr;
    if (dwarf_attr(cudie, DW_AT_comp_dir, &attr) != nullptr) comp_dir_ = dwarf_formstring(&attr);
    files_ = nullptr;
    nfiles_ = 0;
    if (dwarf_getsrcfiles(cudie, &files_, &nfiles_) != 0) files_ = nullptr;
    file_ids_.assign(nfiles_, kNone - 1);
    lines(cudie);
    dies(cudie);
  }

  void finish() {
    sort_rows();
    flatten_ranges();
  }

 private:
  uint32_t file_id(const char* path) {
    if (path == nullptr) return kNone;
    auto [it, added] = file_by_ptr_.try_emplace(path, 0);
    if (!added) return it->second;
    std::string full = path;
    // libdw joins the line table's directory already; what stays relative is
    // relative to the compilation directory.
    if (!full.empty() && full[0] != '/' && comp_dir_ != nullptr && *comp_dir_ != '\0') {
      full = std::string(comp_dir_) + "/" + full;
    }
    auto [by_name, name_added] = file_by_name_.try_emplace(full, static_cast<uint32_t>(out_.files.size()));
    if (name_added) out_.files.push_back(full);
    it->second = by_name->second;
    return it->second;
  }

  // A file of this unit's file table (the call_file of an inlined call, the
  // file register of a line row), by index.
  uint32_t unit_file_id(uint64_t index) {
    if (files_ == nullptr || index >= nfiles_) return kNone;
    uint32_t& id = file_ids_[index];
    if (id == kNone - 1) id = file_id(dwarf_filesrc(files_, index, nullptr, nullptr));
    return id;
  }

  // Appends this unit's line table, cut into sequences (see line_program.h
  // for why it is not read through dwarf_getsrclines).
  void lines(Dwarf_Die* cudie) {
    Dwarf_Attribute attr;
    Dwarf_Word offset = 0;
    if (line_section_.empty() || dwarf_attr(cudie, DW_AT_stmt_list, &attr) == nullptr ||
        dwarf_formudata(&attr, &offset) != 0) {
      return;
    }
    program_.clear();
    run_line_program(line_section_, offset, program_);
    auto& rows = unsorted_rows_;
    bool open = false, keep = false;
    Sequence seq;
    for (const LineRow& row : program_) {
      if (!open) {
        open = true;
        // Code the linker dropped keeps its sequences, relocated to 0 (or
        // onto the copy it kept: see first_at).
        keep = is_code_(row.addr);
        seq = {row.addr, rows.size(), rows.size()};
      }
      if (keep) {
        if (row.end_sequence) {
          rows.push_back({row.addr, kNone, 0});
        } else {
          uint32_t file = unit_file_id(row.file);
          bool in_seq = rows.size() > seq.begin;
          if (in_seq && rows.back().file == file && rows.back().line == row.line) {
            // The same place continues (a new column or view): one row.
          } else if (in_seq && rows.back().addr == row.addr) {
            rows.back() = {row.addr, file, row.line};  // the last row at an address applies
          } else {
            rows.push_back({row.addr, file, row.line});
          }
        }
      }
      if (row.end_sequence) {
        open = false;
        if (keep && rows.size() > seq.begin) {
          seq.end = rows.size();
          sequences_.push_back(seq);
        }
      }
    }
    // A sequence without its end_sequence row (a cut program) is dropped:
    // where it ends is unknown.
  }

  // Walks the DIE tree for inlined calls. Only DIEs that can hold code are
  // entered: most of the DWARF is types and declarations. Functions may sit
  // in namespaces and, as the member functions of local classes (a lambda's
  // operator()), in class types inside other functions, even inside an
  // abstract instance (no code of its own) of an inline function.
  void dies(Dwarf_Die* cudie) {
    std::vector<Level>& stack = stack_;
    stack.clear();
    Dwarf_Die child;
    if (dwarf_child(cudie, &child) == 0) stack.push_back({child, kNone, 0, false});
    while (!stack.empty()) {
      // dwarf_tag caches the DIE's abbreviation in it, before the copy and
      // before dwarf_siblingof needs it: each lookup takes a lock in libdw.
      int tag = dwarf_tag(&stack.back().die);
      Dwarf_Die die = stack.back().die;
      Level next{die, stack.back().parent, stack.back().depth, stack.back().in_function};
      if (dwarf_siblingof(&stack.back().die, &stack.back().die) != 0) stack.pop_back();

      bool enter = false;
      switch (tag) {
        case DW_TAG_subprogram:
          // A function: inlined calls in it start a new chain. One without
          // code is entered for the local classes it may define; a
          // declaration defines nothing.
          if (has_code(&die)) {
            enter = first_at(&die);
          } else {
            enter = !dwarf_hasattr(&die, DW_AT_declaration);
          }
          next.parent = kNone;
          next.depth = 0;
          next.in_function = true;
          break;
        case DW_TAG_inlined_subroutine:
          enter = has_code(&die);
          if (enter) {
            next.parent = inlined(&die, next.parent, next.depth + 1);
            ++next.depth;
          }
          break;
        case DW_TAG_structure_type:
        case DW_TAG_class_type:
        case DW_TAG_union_type:
          enter = next.in_function;  // a local class; others only declare
          break;
        case DW_TAG_lexical_block:
        case DW_TAG_try_block:
        case DW_TAG_catch_block:
        case DW_TAG_namespace:
        case DW_TAG_module:
          enter = true;
          break;
        default:
          break;
      }
      if (enter && dwarf_haschildren(&die) > 0 && dwarf_child(&die, &child) == 0) {
        next.die = child;
        stack.push_back(next);
      }
    }
  }

  // Whether `die` is the first function seen at its address. GNU ld
  // relocates the DWARF of a discarded copy of a COMDAT function (an inline
  // or template function that several units compiled) onto the copy it kept
  // when their sizes match (else to 0, which is_code drops). It keeps the
  // first copy in link order, and units come in link order: later functions
  // at the same address describe code that is not in the file.
  bool first_at(Dwarf_Die* die) {
    Dwarf_Addr low = 0;
    if (dwarf_lowpc(die, &low) != 0) {
      Dwarf_Addr base = 0, end = 0;
      if (dwarf_ranges(die, 0, &base, &low, &end) <= 0) return true;
    }
    return functions_.insert(low).second;
  }

  uint32_t inlined(Dwarf_Die* die, uint32_t parent, uint32_t depth) {
    Node node;
    node.parent = parent;
    node.call_file = unit_file_id(udata(die, DW_AT_call_file));
    node.call_line = static_cast<uint32_t>(udata(die, DW_AT_call_line));
    node.name = name_id(die);
    auto id = static_cast<uint32_t>(out_.nodes.size());
    out_.nodes.push_back(node);
    Dwarf_Addr base = 0, start = 0, end = 0;
    ptrdiff_t offset = 0;
    while ((offset = dwarf_ranges(die, offset, &base, &start, &end)) > 0) {
      if (start < end && is_code_(start)) ranges_.push_back({start, end, depth, id});
    }
    return id;
  }

  // Inlined calls of one function share its abstract instance: its name is
  // looked up once.
  uint32_t name_id(Dwarf_Die* die) {
    Dwarf_Attribute attr;
    Dwarf_Die origin;
    const void* key = nullptr;
    if (dwarf_attr(die, DW_AT_abstract_origin, &attr) != nullptr &&
        dwarf_formref_die(&attr, &origin) != nullptr) {
      key = origin.addr;  // unique across the main and an alternate (dwz) file
      auto it = name_by_origin_.find(key);
      if (it != name_by_origin_.end()) return it->second;
    }
    // From the origin itself: through `die`, libdw would find it again.
    const char* name = function_name(key != nullptr ? &origin : die);
    uint32_t id = kNone;
    if (name != nullptr) {
      auto [it, added] = name_by_ptr_.try_emplace(name, static_cast<uint32_t>(out_.raw_names.size()));
      if (added) {
        out_.raw_names.push_back(static_cast<uint32_t>(out_.raw_arena.size()));
        out_.raw_arena.append(name).push_back('\0');
      }
      id = it->second;
    }
    if (key != nullptr) name_by_origin_.emplace(key, id);
    return id;
  }

  // Puts the sequences of all units in address order. Sorting whole
  // sequences (already sorted inside) costs far less than sorting rows.
  void sort_rows() {
    // Stable: of the sequences that start at one address, the first unit's
    // is that of the code the linker kept (see first_at).
    std::stable_sort(sequences_.begin(), sequences_.end(),
                     [](const Sequence& a, const Sequence& b) { return a.start < b.start; });
    auto& rows = out_.rows;
    rows.reserve(unsorted_rows_.size());
    for (const Sequence& seq : sequences_) {
      // An overlapping sequence describes a discarded copy: keep the first.
      if (!rows.empty() && seq.start < rows.back().addr) continue;
      if (!rows.empty() && rows.back().addr == seq.start) rows.pop_back();  // its end row: this starts there
      rows.insert(rows.end(), unsorted_rows_.begin() + static_cast<ptrdiff_t>(seq.begin),
                  unsorted_rows_.begin() + static_cast<ptrdiff_t>(seq.end));
    }
    rows.shrink_to_fit();
    std::vector<Row>().swap(unsorted_rows_);
  }

  // Turns the nested ranges of inlined calls into segments that each name
  // the innermost call covering them: one binary search per lookup, the
  // outer calls following through `parent`.
  void flatten_ranges() {
    out_.inline_ranges = ranges_.size();
    std::sort(ranges_.begin(), ranges_.end(), [](const InlineRange& a, const InlineRange& b) {
      if (a.low != b.low) return a.low < b.low;
      if (a.depth != b.depth) return a.depth < b.depth;
      return a.high > b.high;
    });
    auto& segments = out_.segments;
    auto emit = [&](uint64_t addr, uint32_t node) {
      if (!segments.empty() && segments.back().addr == addr) {
        segments.back().node = node;
        // Merging may leave two neighbours naming the same call.
        if (segments.size() > 1 && segments[segments.size() - 2].node == node) segments.pop_back();
      } else if (segments.empty() || segments.back().node != node) {
        segments.push_back({addr, node});
      }
    };
    std::vector<std::pair<uint64_t, uint32_t>> open;  // (end, node), innermost last
    auto close_until = [&](uint64_t addr) {
      while (!open.empty() && open.back().first <= addr) {
        uint64_t end = open.back().first;
        open.pop_back();
        emit(end, open.empty() ? kNone : open.back().second);
      }
    };
    for (const InlineRange& r : ranges_) {
      close_until(r.low);
      // A range reaching past the call it is inlined in is malformed: clip it.
      uint64_t high = open.empty() ? r.high : std::min(r.high, open.back().first);
      emit(r.low, r.node);
      open.emplace_back(high, r.node);
    }
    close_until(std::numeric_limits<uint64_t>::max());
    segments.shrink_to_fit();
    std::vector<InlineRange>().swap(ranges_);
  }

  Tables& out_;
  const std::function<bool(uint64_t)>& is_code_;
  std::span<const uint8_t> line_section_;
  std::vector<LineRow> program_;  // one unit's rows, reused
  const char* comp_dir_ = nullptr;
  Dwarf_Files* files_ = nullptr;
  size_t nfiles_ = 0;
  std::vector<uint32_t> file_ids_;  // this unit's file index -> id; kNone - 1 = not yet
  std::unordered_map<const char*, uint32_t> file_by_ptr_;
  std::unordered_map<std::string, uint32_t> file_by_name_;
  std::unordered_map<const void*, uint32_t> name_by_origin_;
  std::unordered_map<const char*, uint32_t> name_by_ptr_;
  std::vector<Row> unsorted_rows_;
  std::vector<Sequence> sequences_;
  std::vector<InlineRange> ranges_;
  std::unordered_set<uint64_t> functions_;  // entry addresses, see first_at
  // The DIE walk's stack: the next sibling to visit at each open level.
  struct Level {
    Dwarf_Die die;
    uint32_t parent;   // the inlined call the level sits in
    uint32_t depth;    // of inlined calls
    bool in_function;  // inside a function's DIE
  };
  std::vector<Level> stack_;
};

}  // namespace

struct DwarfIndex::Impl : Tables {};

DwarfIndex::DwarfIndex() : impl_(std::make_unique<Impl>()) {}
DwarfIndex::~DwarfIndex() = default;

std::unique_ptr<DwarfIndex> DwarfIndex::build(Elf* elf, const std::function<bool(uint64_t)>& is_code,
                                              const std::vector<uint64_t>* units) {
  // Fails (not an error for us) when the file has no DWARF.
  std::unique_ptr<Dwarf, DwarfEnd> dwarf(dwarf_begin_elf(elf, DWARF_C_READ, nullptr));
  if (!dwarf) return nullptr;
  std::unique_ptr<DwarfIndex> index(new DwarfIndex());
  Impl& impl = *index->impl_;
  Builder builder(impl, is_code, line_section(elf));
  Dwarf_CU* cu = nullptr;
  Dwarf_Half version = 0;
  uint8_t unit_type = 0;
  Dwarf_Die cudie, subdie;
  while (dwarf_get_units(dwarf.get(), cu, &cu, &version, &unit_type, &cudie, &subdie) == 0) {
    // Type units hold no code; partial units (dwz) hold what several units
    // share, which is types and abstract functions, not code either.
    if (unit_type != DW_UT_compile) continue;
    if (units != nullptr && !std::binary_search(units->begin(), units->end(), dwarf_dieoffset(&cudie))) continue;
    builder.unit(&cudie);
  }
  builder.finish();
  impl.names.resize(impl.raw_names.size());
  impl.demangled.assign(impl.raw_names.size(), false);
  impl.raw_arena.shrink_to_fit();
  return index;
}

std::vector<DwarfIndex::UnitRange> DwarfIndex::unit_ranges(Elf* elf) {
  std::vector<UnitRange> out;
  std::unique_ptr<Dwarf, DwarfEnd> dwarf(dwarf_begin_elf(elf, DWARF_C_READ, nullptr));
  if (!dwarf) return out;
  Dwarf_CU* cu = nullptr;
  Dwarf_Half version = 0;
  uint8_t unit_type = 0;
  Dwarf_Die cudie, subdie;
  while (dwarf_get_units(dwarf.get(), cu, &cu, &version, &unit_type, &cudie, &subdie) == 0) {
    if (unit_type != DW_UT_compile) continue;  // as build() does
    Dwarf_Addr base = 0, low = 0, high = 0;
    for (ptrdiff_t at = 0; (at = dwarf_ranges(&cudie, at, &base, &low, &high)) > 0;) {
      if (high > low) out.push_back({low, high, dwarf_dieoffset(&cudie)});
    }
  }
  std::sort(out.begin(), out.end(), [](const UnitRange& a, const UnitRange& b) { return a.low < b.low; });
  return out;
}

DwarfIndex::Location DwarfIndex::line_at(uint64_t vaddr) const {
  const auto& rows = impl_->rows;
  auto it = std::upper_bound(rows.begin(), rows.end(), vaddr,
                             [](uint64_t v, const Row& r) { return v < r.addr; });
  if (it == rows.begin()) return {};
  --it;
  return {impl_->file(it->file), it->line};
}

void DwarfIndex::inlined_at(uint64_t vaddr, std::vector<Inlined>& out) const {
  const auto& segments = impl_->segments;
  auto it = std::upper_bound(segments.begin(), segments.end(), vaddr,
                             [](uint64_t v, const Segment& s) { return v < s.addr; });
  if (it == segments.begin()) return;
  --it;
  // Parents come before their children, so this walk ends.
  for (uint32_t id = it->node; id != kNone; id = impl_->nodes[id].parent) {
    const Node& node = impl_->nodes[id];
    out.push_back({impl_->name(node.name), {impl_->file(node.call_file), node.call_line}});
  }
}

size_t DwarfIndex::line_rows() const { return impl_->rows.size(); }
size_t DwarfIndex::inline_ranges() const { return impl_->inline_ranges; }

}  // namespace dial9::report
