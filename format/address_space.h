// Which file is mapped where in each process, rebuilt from a trace's (or a
// live session's) MappingEvent, ThreadStart (fork) and ThreadName (exec)
// events, so an address in a sample can be traced to a file offset in a
// module even after the process is gone.
//
// Feed events in time order: a forked child starts with a copy of its
// parent's mappings (the kernel reports no mmap records for them), an exec
// starts it over, and a new mapping replaces whatever it overlaps, as mmap
// does. Not thread-safe. Used by the recorder (for unwinding and for each
// segment's preamble) and by the symbolizer alike.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <unordered_map>
#include <vector>

#include <functional>

#include "format/events.h"

namespace dial9::format {

struct MappedFile {
  uint64_t start = 0, end = 0;  // [start, end)
  uint64_t file_offset = 0;     // of `start`
  uint64_t ts = 0;              // when it was mapped (trace time)
  // Shared between the processes that inherited the mapping.
  std::shared_ptr<const std::string> path;
  std::shared_ptr<const std::vector<uint8_t>> build_id;  // may be empty
};

class AddressSpaces {
 public:
  // Only executable mappings are kept: samples and return addresses point
  // into code.
  void map(const Mapping& m, uint64_t ts = 0);
  void fork(uint32_t parent_pid, uint32_t child_pid);
  void exec(uint32_t pid);
  void exit(uint32_t pid);

  // The mapping of `pid` holding `addr`, or nullptr.
  const MappedFile* find(uint32_t pid, uint64_t addr) const;

  size_t processes() const { return spaces_.size(); }

  // Every mapping of every process, by pid then address.
  void for_each(const std::function<void(uint32_t pid, const MappedFile&)>& fn) const;

 private:
  // Per process: mappings keyed by start address, never overlapping.
  using Space = std::map<uint64_t, MappedFile>;
  std::unordered_map<uint32_t, Space> spaces_;
};

}  // namespace dial9::format
