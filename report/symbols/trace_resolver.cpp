#include "report/symbols/trace_resolver.h"

#include <cinttypes>
#include <cstdio>

#include "format/events.h"
#include "format/schemas.h"

namespace dial9::report {

void TraceResolver::observe(const format::Event& e) {
  sym_.observe(e);
  if (e.builtin() == format::Builtin::kThreadName) {
    auto t = format::as_thread_name(e);
    if (t.exec) ++generation_[t.pid];
  }
}

uint32_t TraceResolver::locate(uint32_t pid, uint64_t addr, bool return_address) {
  auto gen = generation_.find(pid);
  Key key{pid, gen == generation_.end() ? 0 : gen->second, addr, return_address};
  auto [it, fresh] = ids_.try_emplace(key, static_cast<uint32_t>(locs_.size()));
  if (!fresh) return it->second;
  // Located now, while the process's mappings are those of this sample (by
  // the end of the trace it may have exec'd or exited); named at the end,
  // when the trace's own symbol table, which comes last, is known too.
  locs_.push_back({addr, return_address, sym_.mapping_of(pid, addr, return_address)});
  return it->second;
}

void TraceResolver::frames(uint32_t location, std::vector<ResolvedFrame>& out) {
  const Location& loc = locs_[location];
  std::span<const FrameName> names = sym_.frames_in(loc.mapping, loc.addr, loc.ret);
  // An address in no known mapping keeps its value, as perf and the Tokio
  // toolkit show it, instead of merging every such address into one frame.
  if (names.size() == 1 && !names[0].resolved && (names[0].function == "[unknown]" || names[0].function == "[kernel]")) {
    char hex[24];
    std::snprintf(hex, sizeof hex, "0x%" PRIx64, loc.addr);
    auto it = raw_names_.emplace(loc.addr, hex).first;
    out.push_back({it->second, names[0].module, {}, 0, false});
    return;
  }
  for (const FrameName& n : names) out.push_back({n.function, n.module, n.file, n.line, n.inlined});
}

}  // namespace dial9::report
