#include "report/symbols/kallsyms.h"

#include <algorithm>
#include <charconv>
#include <numeric>

namespace dial9::report {

KernelSymbols KernelSymbols::parse(std::string_view text) {
  struct Entry {
    uint64_t addr;
    std::string_view name, module;
  };
  std::vector<Entry> entries;
  size_t pos = 0;
  while (pos < text.size()) {
    size_t eol = text.find('\n', pos);
    std::string_view line = text.substr(pos, eol == std::string_view::npos ? std::string_view::npos : eol - pos);
    pos = eol == std::string_view::npos ? text.size() : eol + 1;
    // ADDRESS TYPE NAME [\t[MODULE]]
    size_t a = line.find(' ');
    if (a == std::string_view::npos || a + 3 > line.size() || line[a + 2] != ' ') continue;
    char type = line[a + 1];
    if (type != 't' && type != 'T' && type != 'w' && type != 'W') continue;
    uint64_t addr = 0;
    auto [p, ec] = std::from_chars(line.data(), line.data() + a, addr, 16);
    if (ec != std::errc() || p != line.data() + a || addr == 0) continue;
    std::string_view rest = line.substr(a + 3);
    std::string_view name = rest, module;
    if (size_t tab = rest.find('\t'); tab != std::string_view::npos) {
      name = rest.substr(0, tab);
      module = rest.substr(tab + 1);
    }
    if (name.empty()) continue;
    entries.push_back({addr, name, module});
  }
  // The kernel lists its symbols in address order; sorting ~100k entries
  // that already are took a third of the parse.
  auto by_addr = [](const Entry& x, const Entry& y) { return x.addr < y.addr; };
  if (!std::is_sorted(entries.begin(), entries.end(), by_addr)) std::stable_sort(entries.begin(), entries.end(), by_addr);
  KernelSymbols k;
  k.starts_.reserve(entries.size());
  k.offsets_.reserve(entries.size() + 1);
  for (const Entry& e : entries) {
    // Aliases at one address: the first listed names it.
    if (!k.starts_.empty() && k.starts_.back() == e.addr) continue;
    k.starts_.push_back(e.addr);
    k.offsets_.push_back(static_cast<uint32_t>(k.names_.size()));
    k.names_ += e.name;
    if (!e.module.empty()) {
      k.names_ += ' ';
      k.names_ += e.module;  // "[ext4]", brackets included
    }
  }
  k.offsets_.push_back(static_cast<uint32_t>(k.names_.size()));
  return k;
}

std::string_view KernelSymbols::find(uint64_t addr) const {
  auto it = std::upper_bound(starts_.begin(), starts_.end(), addr);
  if (it == starts_.begin()) return {};
  size_t i = static_cast<size_t>(it - starts_.begin()) - 1;
  if (i + 1 == starts_.size()) return {};  // past the last symbol: its end is unknown
  return std::string_view(names_).substr(offsets_[i], offsets_[i + 1] - offsets_[i]);
}

}  // namespace dial9::report
