#include "report/symbols/trace_resolver.h"

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
  // Named now, while the process's mappings are those of this sample: by
  // the end of the trace the process may have exec'd or exited.
  Location loc{pid, addr, return_address, {}};
  loc.eager.push_back(sym_.name(pid, addr, return_address));
  locs_.push_back(std::move(loc));
  return it->second;
}

void TraceResolver::frames(uint32_t location, std::vector<ResolvedFrame>& out) {
  const Location& loc = locs_[location];
  std::vector<FrameName> names = loc.eager;
  // A trace's symbol table comes after the samples it covers: what was
  // unknown while reading may be named by it now.
  if (!names.back().resolved) {
    FrameName late = sym_.name(loc.pid, loc.addr, loc.ret);
    if (late.resolved) names = {late};
  }
  for (const FrameName& n : names) out.push_back({n.function, n.module, {}, 0, false});
}

}  // namespace dial9::report
