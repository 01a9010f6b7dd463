#include "format/address_space.h"

#include <algorithm>
#include <vector>

namespace dial9::format {

void AddressSpaces::map(const Mapping& m, uint64_t ts) {
  if (m.length == 0) return;
  Space& space = spaces_[m.pid];
  const uint64_t start = m.start, end = m.start + m.length;
  // A new mapping replaces what it overlaps: trim or drop the old ones,
  // keeping the parts outside [start, end).
  auto it = space.upper_bound(start);
  if (it != space.begin()) --it;
  while (it != space.end() && it->second.start < end) {
    MappedFile old = it->second;
    if (old.end <= start) {
      ++it;
      continue;
    }
    it = space.erase(it);
    if (old.start < start) {
      MappedFile left = old;
      left.end = start;
      space.emplace(left.start, left);
    }
    if (old.end > end) {
      MappedFile right = old;
      right.file_offset += end - old.start;
      right.start = end;
      it = space.emplace(right.start, right).first;
      ++it;
    }
  }
  if (!m.executable) return;
  MappedFile f;
  f.start = start;
  f.end = end;
  f.file_offset = m.file_offset;
  f.ts = ts;
  f.path = std::make_shared<const std::string>(m.path);
  f.build_id = std::make_shared<const std::vector<uint8_t>>(m.build_id.begin(), m.build_id.end());
  space.emplace(start, std::move(f));
}

void AddressSpaces::fork(uint32_t parent_pid, uint32_t child_pid) {
  if (parent_pid == child_pid) return;
  auto parent = spaces_.find(parent_pid);
  if (parent == spaces_.end()) return;
  Space copy = parent->second;  // mappings share their path and build id
  spaces_[child_pid] = std::move(copy);
}

void AddressSpaces::exec(uint32_t pid) { spaces_.erase(pid); }

void AddressSpaces::exit(uint32_t pid) { spaces_.erase(pid); }

void AddressSpaces::for_each(const std::function<void(uint32_t pid, const MappedFile&)>& fn) const {
  // unordered_map: sort the pids so the output is stable.
  std::vector<uint32_t> pids;
  for (const auto& [pid, space] : spaces_) pids.push_back(pid);
  std::sort(pids.begin(), pids.end());
  for (uint32_t pid : pids) {
    for (const auto& [start, f] : spaces_.at(pid)) fn(pid, f);
  }
}

const MappedFile* AddressSpaces::find(uint32_t pid, uint64_t addr) const {
  auto s = spaces_.find(pid);
  if (s == spaces_.end()) return nullptr;
  auto it = s->second.upper_bound(addr);
  if (it == s->second.begin()) return nullptr;
  --it;
  return addr < it->second.end ? &it->second : nullptr;
}

}  // namespace dial9::format
