// The StackResolver the report uses: locates each callchain address through
// the Symbolizer while the trace is read (so mappings, forks and execs are
// those in force when the sample was taken) and names each unique location
// once.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <unordered_map>
#include <vector>

#include "report/model/trace_model.h"
#include "report/symbols/symbolizer.h"

namespace dial9::report {

class TraceResolver final : public StackResolver {
 public:
  explicit TraceResolver(Symbolizer& symbolizer) : sym_(symbolizer) {}

  void observe(const format::Event& e) override;
  uint32_t locate(uint32_t pid, uint64_t addr, bool return_address) override;
  uint32_t locations() const override { return static_cast<uint32_t>(locs_.size()); }
  void frames(uint32_t location, std::vector<ResolvedFrame>& out) override;

  // The callchain value a location was found at, and the file mapped there
  // when it was sampled (nullopt when none was), for exporters that keep
  // addresses (pprof). `location` < locations().
  uint64_t address(uint32_t location) const { return locs_[location].addr; }
  const std::optional<MappedFile>& mapping(uint32_t location) const { return locs_[location].mapping; }

 private:
  struct Key {
    uint32_t pid, generation;
    uint64_t addr;
    bool ret;
    bool operator==(const Key&) const = default;
  };
  struct KeyHash {
    size_t operator()(const Key& k) const {
      return std::hash<uint64_t>()(k.addr * 0x9e3779b97f4a7c15ull ^ (uint64_t{k.pid} << 33) ^
                                   (uint64_t{k.generation} << 1) ^ k.ret);
    }
  };
  struct Location {
    uint64_t addr;
    bool ret;
    std::optional<MappedFile> mapping;  // as of the sample's time
  };
  Symbolizer& sym_;
  std::unordered_map<uint32_t, uint32_t> generation_;  // per pid, bumped at each exec
  std::unordered_map<Key, uint32_t, KeyHash> ids_;
  std::vector<Location> locs_;
  std::unordered_map<uint64_t, std::string> raw_names_;  // "0x..." for unmapped addresses
};

}  // namespace dial9::report
