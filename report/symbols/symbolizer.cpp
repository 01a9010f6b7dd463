#include "report/symbols/symbolizer.h"

#include <cinttypes>
#include <cstdio>

#include "format/events.h"
#include "format/schemas.h"

namespace dial9::report {
namespace {

std::string_view base_name(std::string_view path) {
  size_t slash = path.rfind('/');
  return slash == std::string_view::npos ? path : path.substr(slash + 1);
}

std::string with_offset(std::string_view module, uint64_t offset) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "+0x%" PRIx64, offset);
  return std::string(module) + buf;
}

}  // namespace

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
    default:
      break;
  }
}

uint32_t Symbolizer::pid_of(uint32_t tid) const {
  auto it = pid_of_tid_.find(tid);
  return it == pid_of_tid_.end() ? tid : it->second;
}

std::string_view Symbolizer::intern(std::string s) {
  auto it = strings_.find(s);
  if (it != strings_.end()) return it->second;
  storage_.push_back(std::make_unique<std::string>(std::move(s)));
  std::string_view v = *storage_.back();
  strings_.emplace(*storage_.back(), v);
  return v;
}

FrameName Symbolizer::name(uint32_t pid, uint64_t addr, bool return_address) {
  uint64_t lookup = return_address && addr > 0 ? addr - 1 : addr;
  const MappedFile* f = spaces_.find(pid, lookup);
  if (!f) {
    FrameName n;
    // x86-64 kernel addresses have the top bit set.
    n.module = intern(addr >> 63 ? "[kernel]" : "[unknown]");
    n.function = n.module;
    return n;
  }
  uint64_t offset = lookup - f->start + f->file_offset;
  const ElfModule* m = modules_.get(*f);
  ModuleAddress key{m ? static_cast<const void*>(m) : static_cast<const void*>(f->path.get()), offset};
  auto it = cache_.find(key);
  if (it != cache_.end()) return it->second;
  FrameName n;
  n.module = intern(std::string(base_name(*f->path)));
  const Symbol* sym = nullptr;
  if (m) {
    if (auto vaddr = m->vaddr_of_offset(offset)) sym = m->symbol_at(*vaddr);
  }
  if (sym) {
    n.function = intern(sym->name);
    n.resolved = true;
  } else {
    n.function = intern(with_offset(n.module, offset));
  }
  if (cache_.size() > (1u << 22)) cache_.clear();
  cache_.emplace(key, n);
  return n;
}

}  // namespace dial9::report
