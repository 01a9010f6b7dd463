#include "report/symbols/symbolizer.h"

#include <algorithm>
#include <cinttypes>
#include <cstdio>

#include "format/events.h"
#include "format/schemas.h"

namespace dial9::report {
namespace {

// Where the x86-64 kernel's half of the address space starts.
constexpr uint64_t kKernelStart = 0xffff800000000000ull;
constexpr size_t kChunkFrames = 4096;

std::string_view base_name(std::string_view path) {
  size_t slash = path.rfind('/');
  return slash == std::string_view::npos ? path : path.substr(slash + 1);
}

std::string with_offset(std::string_view module, uint64_t offset) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "+0x%" PRIx64, offset);
  return std::string(module) + buf;
}

ElfOpenOptions by_unit(ElfOpenOptions o) {
  o.whole_module_index = false;
  return o;
}

ElfOpenOptions elf_options(const SymbolizerOptions& o) {
  ElfOpenOptions out;
  std::vector<std::string> dirs = o.debug_dirs;
  dirs.insert(dirs.end(), out.debug_dirs.begin(), out.debug_dirs.end());
  out.debug_dirs = std::move(dirs);
  out.whole_module_index = o.whole_module_index;
  out.max_debug_bytes = o.max_debug_bytes;
  return out;
}

}  // namespace

Symbolizer::Symbolizer(SymbolizerOptions options)
    : inlines_(options.inlines), modules_(elf_options(options)), refine_modules_(by_unit(elf_options(options))) {}

Symbolizer::Symbolizer(ElfOpenOptions options)
    : inlines_(true), modules_(options), refine_modules_(by_unit(options)) {}

std::vector<ModuleOutcome> Symbolizer::module_outcomes() const {
  // Each file is in one cache only (from_module), so no line repeats.
  std::vector<ModuleOutcome> out = modules_.outcomes();
  for (ModuleOutcome& o : refine_modules_.outcomes()) out.push_back(std::move(o));
  return out;
}

void Symbolizer::observe(const format::Event& e) {
  using format::Builtin;
  switch (e.builtin()) {
    case Builtin::kMapping:
      spaces_.map(format::as_mapping(e));
      break;
    case Builtin::kThreadStart: {
      auto t = format::as_thread_start(e);
      pid_of_tid_[t.tid] = t.pid;
      if (t.pid == t.tid) spaces_.fork(t.ppid, t.pid);
      break;
    }
    case Builtin::kThreadName: {
      auto t = format::as_thread_name(e);
      pid_of_tid_[t.tid] = t.pid;
      if (t.exec) spaces_.exec(t.pid);
      break;
    }
    case Builtin::kSymbolTableEntry: {
      auto s = format::as_symbol_table_entry(e);
      // The recorder writes "[unknown] 0x...", "[kernel] 0x..." and
      // "[symbolize-failed] 0x..." where it could not name an address: those
      // are no names, and the mapped module may still have one.
      if (s.symbol_name.empty() || s.symbol_name[0] == '[') break;
      auto& symbols = trace_symbols_[s.addr];
      // Every segment repeats the entries of the addresses it holds.
      if (std::any_of(symbols.begin(), symbols.end(),
                      [&](const TraceSymbol& t) { return t.depth == s.inline_depth; })) {
        break;
      }
      TraceSymbol t{s.inline_depth, intern(s.symbol_name), intern(s.source_file),
                    static_cast<uint32_t>(std::min<uint64_t>(s.source_line, UINT32_MAX))};
      // Kept innermost (deepest) first, the order frames() returns.
      auto at = std::find_if(symbols.begin(), symbols.end(), [&](const TraceSymbol& o) { return o.depth < t.depth; });
      symbols.insert(at, t);
      break;
    }
    default:
      break;
  }
}

uint32_t Symbolizer::pid_of(uint32_t tid) const {
  auto it = pid_of_tid_.find(tid);
  return it == pid_of_tid_.end() ? tid : it->second;
}

std::string_view Symbolizer::intern(std::string_view s) {
  auto it = strings_.find(s);
  if (it == strings_.end()) it = strings_.emplace(s).first;
  return *it;
}

Symbolizer::Span Symbolizer::store(std::span<const FrameName> frames) {
  if (chunk_size_ - chunk_used_ < frames.size()) {
    chunk_size_ = std::max(kChunkFrames, frames.size());
    chunks_.push_back(std::make_unique<FrameName[]>(chunk_size_));
    chunk_used_ = 0;
  }
  FrameName* out = chunks_.back().get() + chunk_used_;
  std::copy(frames.begin(), frames.end(), out);
  chunk_used_ += frames.size();
  return {out, static_cast<uint32_t>(frames.size())};
}

std::optional<MappedFile> Symbolizer::mapping_of(uint32_t pid, uint64_t addr, bool return_address) const {
  const MappedFile* f = spaces_.find(pid, return_address && addr > 0 ? addr - 1 : addr);
  return f ? std::optional<MappedFile>(*f) : std::nullopt;
}

std::span<const FrameName> Symbolizer::frames(uint32_t pid, uint64_t addr, bool return_address) {
  return frames_for(spaces_.find(pid, return_address && addr > 0 ? addr - 1 : addr), addr, return_address);
}

std::span<const FrameName> Symbolizer::frames_in(const std::optional<MappedFile>& mapping, uint64_t addr,
                                                 bool return_address) {
  return frames_for(mapping ? &*mapping : nullptr, addr, return_address);
}

std::span<const FrameName> Symbolizer::frames_for(const MappedFile* f, uint64_t addr, bool return_address) {
  // The Tokio recorder symbolizes each callchain value as it is (see
  // docs/FORMAT.md, R6); modules are looked up at the call instruction.
  uint64_t lookup = return_address && addr > 0 ? addr - 1 : addr;
  auto trace = trace_symbols_.find(addr);
  if (trace != trace_symbols_.end()) {
    std::string_view module = f ? intern(base_name(*f->path)) : intern(addr >= kKernelStart ? "[kernel]" : "[unknown]");
    // By the mapped file's whole path: what the module adds depends on the file.
    ModuleAddress key{f ? intern(*f->path).data() : module.data(), addr};
    auto it = by_trace_.find(key);
    if (it == by_trace_.end()) {
      Span chosen;
      // Entries without a source place are names only (FORMAT.md R6; a
      // recorder may leave a big module's DWARF unread): the module adds
      // its lines and inlined calls when this machine has the same build
      // (the mapping's recorded build id, which ModuleCache matches; a file
      // at the path without one may be a rebuild) and names the address.
      bool name_only = std::all_of(trace->second.begin(), trace->second.end(),
                                   [](const TraceSymbol& t) { return t.file.empty() && t.line == 0; });
      if (name_only && f && f->build_id && !f->build_id->empty()) {
        auto named = from_module(/*refining=*/true, *f, lookup);
        if (named.back().resolved &&
            std::any_of(named.begin(), named.end(), [](const FrameName& n) { return !n.file.empty(); })) {
          chosen = {named.data(), static_cast<uint32_t>(named.size())};
        }
      }
      if (chosen.data == nullptr) {
        names_.clear();
        // Innermost first; the depth-0 entry (the real function) is last.
        for (const TraceSymbol& t : trace->second) {
          if (!inlines_ && &t != &trace->second.back()) continue;
          names_.push_back({t.function, module, t.file, t.line, true, true});
        }
        names_.back().inlined = false;
        chosen = store(names_);
      }
      it = by_trace_.emplace(key, chosen).first;
    }
    return {it->second.data, it->second.size};
  }
  if (f) return from_module(false, *f, lookup);

  Span& unmapped = unmapped_[addr >= kKernelStart ? 1 : 0];
  if (unmapped.data == nullptr) {
    FrameName n;
    n.module = intern(addr >= kKernelStart ? "[kernel]" : "[unknown]");
    n.function = n.module;
    unmapped = store({&n, 1});
  }
  return {unmapped.data, unmapped.size};
}

std::span<const FrameName> Symbolizer::from_module(bool refining, const MappedFile& f, uint64_t lookup) {
  uint64_t offset = lookup - f.start + f.file_offset;
  ModuleCache& mine = refining ? refine_modules_ : modules_;
  const ModuleCache& other = refining ? modules_ : refine_modules_;
  // Asked this cache first: after a file's first address that is one
  // lookup by the mapping's path pointer, with no key string built.
  auto known = mine.peek(f);
  if (!known) known = other.peek(f);
  const ElfModule* m = known ? *known : mine.get(f);
  ModuleAddress key{m ? static_cast<const void*>(m) : static_cast<const void*>(f.path.get()), offset};
  auto it = by_module_.find(key);
  if (it != by_module_.end()) return {it->second.data, it->second.size};

  std::string_view module = intern(base_name(*f.path));
  scratch_.clear();
  if (m) {
    if (auto vaddr = m->vaddr_of_mapped_offset(offset, f.file_offset)) m->frames_at(*vaddr, inlines_, scratch_);
  }
  names_.clear();
  std::string_view unknown;
  // The module's strings live as long as the module, which the ModuleCache
  // keeps as long as this Symbolizer: no copies.
  for (const SourceFrame& s : scratch_) {
    FrameName n{s.function, module, s.file, s.line, !s.function.empty(), true};
    if (!n.resolved) {
      if (unknown.empty()) unknown = intern(with_offset(module, offset));
      n.function = unknown;
    }
    names_.push_back(n);
  }
  if (names_.empty()) names_.push_back({intern(with_offset(module, offset)), module, {}, 0, false, false});
  names_.back().inlined = false;
  it = by_module_.emplace(key, store(names_)).first;
  return {it->second.data, it->second.size};
}

}  // namespace dial9::report
