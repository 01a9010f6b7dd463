#include "report/symbols/kallsyms.h"

#include <algorithm>
#include <charconv>
#include <numeric>

namespace dial9::report {

KernelSymbols KernelSymbols::parse(std::string_view text) {
  Builder b;
  size_t pos = 0;
  while (pos < text.size()) {
    size_t eol = text.find('\n', pos);
    if (eol == std::string_view::npos) eol = text.size();
    b.add_line(text.substr(pos, eol - pos));
    pos = eol + 1;
  }
  return std::move(b).finish();
}

void KernelSymbols::Builder::add_line(std::string_view line) {
  // ADDRESS TYPE NAME [\t[MODULE]]
  size_t a = line.find(' ');
  if (a == std::string_view::npos || a + 3 > line.size() || line[a + 2] != ' ') return;
  char type = line[a + 1];
  if (type != 't' && type != 'T' && type != 'w' && type != 'W') return;
  uint64_t addr = 0;
  auto [p, ec] = std::from_chars(line.data(), line.data() + a, addr, 16);
  if (ec != std::errc() || p != line.data() + a || addr == 0) return;
  std::string_view rest = line.substr(a + 3);
  std::string_view name = rest, module;
  if (size_t tab = rest.find('\t'); tab != std::string_view::npos) {
    name = rest.substr(0, tab);
    module = rest.substr(tab + 1);
  }
  if (name.empty()) return;
  if (!starts_.empty()) {
    // Aliases at one address: the first listed names it (finish() keeps
    // that rule for text out of order).
    if (sorted_ && addr == starts_.back()) return;
    if (addr < starts_.back()) sorted_ = false;
  }
  starts_.push_back(addr);
  offsets_.push_back(static_cast<uint32_t>(names_.size()));
  names_ += name;
  if (!module.empty()) {
    names_ += ' ';
    names_ += module;  // "[ext4]", brackets included
  }
}

KernelSymbols KernelSymbols::Builder::finish() && {
  offsets_.push_back(static_cast<uint32_t>(names_.size()));
  KernelSymbols k;
  if (sorted_) {
    // The kernel lists its own symbols in address order: kept as read.
    k.starts_ = std::move(starts_);
    k.offsets_ = std::move(offsets_);
    k.names_ = std::move(names_);
    return k;
  }
  std::vector<uint32_t> order(starts_.size());
  std::iota(order.begin(), order.end(), 0u);
  std::stable_sort(order.begin(), order.end(), [&](uint32_t x, uint32_t y) { return starts_[x] < starts_[y]; });
  k.starts_.reserve(order.size());
  k.offsets_.reserve(order.size() + 1);
  for (uint32_t i : order) {
    if (!k.starts_.empty() && k.starts_.back() == starts_[i]) continue;
    k.starts_.push_back(starts_[i]);
    k.offsets_.push_back(static_cast<uint32_t>(k.names_.size()));
    k.names_.append(names_, offsets_[i], offsets_[i + 1] - offsets_[i]);
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
