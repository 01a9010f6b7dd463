#include "report/symbols/module_cache.h"

#include <algorithm>
#include <cstdlib>

#include "base/hex.h"

namespace dial9::report {
namespace {

bool same_build_id(std::span<const uint8_t> a, const std::vector<uint8_t>& b) {
  return std::equal(a.begin(), a.end(), b.begin(), b.end());
}

}  // namespace

const ElfModule* ModuleCache::get(const MappedFile& f) {
  if (!f.path) return nullptr;
  auto fast = by_path_ptr_.find(f.path);
  if (fast != by_path_ptr_.end()) return fast->second;
  static const std::vector<uint8_t> kNone;
  const ElfModule* m = open_for(*f.path, f.build_id ? *f.build_id : kNone);
  by_path_ptr_.emplace(f.path, m);
  return m;
}

std::optional<const ElfModule*> ModuleCache::peek(const MappedFile& f) const {
  if (!f.path) return nullptr;
  if (auto fast = by_path_ptr_.find(f.path); fast != by_path_ptr_.end()) return fast->second;
  auto it = by_key_.find(*f.path + '\0' + (f.build_id ? to_hex(*f.build_id) : std::string()));
  if (it == by_key_.end()) return std::nullopt;
  return it->second.module.get();
}

const ElfModule* ModuleCache::open_for(const std::string& path, const std::vector<uint8_t>& build_id) {
  std::string key = path + '\0' + to_hex(build_id);
  auto it = by_key_.find(key);
  if (it != by_key_.end()) return it->second.module.get();
  std::shared_ptr<const ElfModule> found;
  ModuleOutcome outcome{path, to_hex(build_id), nullptr, "", "", ""};
  // Pseudo-files ([vdso], [heap], //anon) have no file to open.
  if (!path.empty() && path[0] == '/') {
    auto m = ElfModule::open(path, options_);
    if (m && (build_id.empty() || (*m)->build_id().empty() || same_build_id((*m)->build_id(), build_id))) {
      found = *m;
    } else {
      outcome.why = m ? "the file's build id is " + to_hex((*m)->build_id()) + ", not the recorded one (rebuilt or replaced since)"
                      : m.error().message();
    }
  } else {
    outcome.why = "not a file";
  }
  if (!found && build_id.size() > 1) {
    // The debug file alone, which has the symbols and the DWARF.
    auto try_open = [&](const std::string& candidate) {
      if (candidate.empty()) return false;
      auto m = ElfModule::open(candidate, options_);
      if (!m || !same_build_id((*m)->build_id(), build_id)) return false;
      found = *m;
      return true;
    };
    bool local = std::any_of(options_.debug_dirs.begin(), options_.debug_dirs.end(),
                             [&](const std::string& dir) { return try_open(debug_file_path(dir, build_id)); });
    if (!local && !try_open(debuginfod_debug_file(build_id))) {
      std::string dirs;
      for (const auto& d : options_.debug_dirs) dirs += (dirs.empty() ? "" : ", ") + d;
      outcome.why += "; no debug file with its build id in " + (dirs.empty() ? std::string("no debug dir") : dirs) +
                     (std::getenv("DEBUGINFOD_URLS") ? " or from debuginfod" : " (DEBUGINFOD_URLS is not set)");
    }
  }
  if (found) {
    outcome.module = found.get();
    outcome.symbols_from = found->path();
    outcome.debug_file = found->separate_debug_file();
    outcome.dwarf_skipped = found->dwarf_skipped();
    outcome.why.clear();
  } else {
    ++missing_;
  }
  const ElfModule* m = found.get();
  by_key_.emplace(std::move(key), Entry{std::move(found), std::move(outcome)});
  return m;
}

std::vector<ModuleOutcome> ModuleCache::outcomes() const {
  std::vector<ModuleOutcome> out;
  out.reserve(by_key_.size());
  for (const auto& [key, e] : by_key_) out.push_back(e.outcome);
  return out;
}

}  // namespace dial9::report
