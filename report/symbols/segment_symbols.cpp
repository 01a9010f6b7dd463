#include "report/symbols/segment_symbols.h"

#include <unordered_set>
#include <vector>

#include "format/events.h"
#include "format/schemas.h"
#include "format/trace_file.h"
#include "format/trace_writer.h"

namespace dial9::report {
namespace {

// x86-64 kernel addresses have the top bit set.
bool is_kernel(uint64_t addr) { return (addr >> 63) != 0; }

}  // namespace

namespace {

// A segment names few addresses, and a recorder's memory and its time to
// close matter: read only the compile units those addresses are in.
SymbolizerOptions for_sealing(SymbolizerOptions o) {
  o.whole_module_index = false;
  return o;
}

}  // namespace

SegmentSymbolTable::SegmentSymbolTable(SymbolizerOptions options, std::function<KernelSymbols()> kernel_symbols)
    : symbolizer_(for_sealing(std::move(options))), kernel_symbols_(std::move(kernel_symbols)) {}

std::vector<uint8_t> SegmentSymbolTable::build(const std::string& path) {
  format::TraceWriter out;
  std::unordered_set<uint64_t> seen;  // one entry set per address and segment
  uint64_t last_ts = 0;
  uint64_t named = 0;
  // Kernel addresses are named last: the kernel's symbols may still be on
  // their way (a recording that just started reads /proc/kallsyms on a
  // thread of its own, 60-100 ms), and naming the user addresses, which can
  // mean reading a module's DWARF, overlaps with that wait.
  std::vector<uint64_t> kernel_addrs;
  auto name_chain = [&](uint32_t pid, format::StackView chain) {
    for (uint32_t i = 0; i < chain.size(); ++i) {
      uint64_t addr = chain[i];
      if (!seen.insert(addr).second) continue;
      ++stats_.addresses;
      if (is_kernel(addr)) {
        kernel_addrs.push_back(addr);
        continue;
      }
      // Named now, with the mappings of this moment (a later exec may map
      // other code at the same address). The table is keyed by the exact
      // callchain value; a return address is named at its call site.
      auto frames = symbolizer_.frames(pid, addr, i > 0);
      if (!frames.back().resolved) continue;  // a report may do better later
      for (size_t k = 0; k < frames.size(); ++k) {
        const FrameName& f = frames[k];
        format::SymbolTableEntry e;
        e.addr = addr;
        e.symbol_name = f.function;
        e.inline_depth = frames.size() - 1 - k;  // depth 0 = the real function, last in the span
        e.source_file = f.file;
        e.source_line = f.line;
        out.symbol(last_ts, e);
      }
      ++named;
    }
  };
  auto read = format::read_trace_file(path, [&](const format::Event& e) {
    symbolizer_.observe(e);
    if (e.timestamp_ns > last_ts && e.builtin() != format::Builtin::kClockSync) last_ts = e.timestamp_ns;
    switch (e.builtin()) {
      case format::Builtin::kCpuSample: {
        auto s = format::as_cpu_sample(e);
        name_chain(symbolizer_.pid_of(s.tid), s.callchain);
        break;
      }
      case format::Builtin::kAlloc: {
        auto a = format::as_alloc(e);
        name_chain(symbolizer_.pid_of(a.tid), a.callchain);
        break;
      }
      case format::Builtin::kWakerStack: {
        // In the waker's process, which may not be the recorded one: its
        // kernel frames are named, its user frames only when its mappings
        // were recorded.
        auto w = format::as_waker_stack(e);
        name_chain(w.waker_pid, w.callchain);
        break;
      }
      default:
        break;
    }
  });
  if (read && !kernel_addrs.empty()) {
    if (!kernel_) kernel_ = kernel_symbols_ ? kernel_symbols_() : KernelSymbols{};
    for (uint64_t addr : kernel_addrs) {
      std::string_view fn = kernel_->find(addr);
      if (fn.empty()) continue;
      format::SymbolTableEntry e;
      e.addr = addr;
      e.symbol_name = fn;
      out.symbol(last_ts, e);
      ++named;
    }
  }
  if (!read) return {};  // nothing of it is written, so nothing counts as named
  stats_.named += named;
  if (named == 0) return {};
  return out.take();
}

}  // namespace dial9::report
