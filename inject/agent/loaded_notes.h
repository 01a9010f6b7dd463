// The ELF notes of an object loaded in this process (as dl_iterate_phdr
// reports it): the build id the agent sends with mappings, and the app
// API's note (app_api.cpp). Reads only the mapped PT_NOTE segments.
#pragma once

#include <link.h>

#include <cstdint>
#include <cstring>
#include <string_view>

namespace dial9::agent {

// The descriptor of the first note of `owner` ("GNU") and `type` in the
// object, with its size; nullptr when there is none.
inline const uint8_t* find_loaded_note(const dl_phdr_info* info, std::string_view owner, uint32_t type,
                                       uint32_t& size) {
  for (int i = 0; i < info->dlpi_phnum; ++i) {
    const ElfW(Phdr)& ph = info->dlpi_phdr[i];
    if (ph.p_type != PT_NOTE) continue;
    const uint8_t* p = reinterpret_cast<const uint8_t*>(info->dlpi_addr + ph.p_vaddr);
    const uint8_t* end = p + ph.p_memsz;
    while (p + sizeof(ElfW(Nhdr)) <= end) {
      const ElfW(Nhdr)* nh = reinterpret_cast<const ElfW(Nhdr)*>(p);
      const uint8_t* name = p + sizeof(ElfW(Nhdr));
      const uint8_t* desc = name + ((nh->n_namesz + 3) & ~3u);
      if (desc + nh->n_descsz > end) break;
      // The name is stored with its terminating NUL.
      if (nh->n_type == type && nh->n_namesz == owner.size() + 1 && std::memcmp(name, owner.data(), owner.size()) == 0) {
        size = nh->n_descsz;
        return desc;
      }
      p = desc + ((nh->n_descsz + 3) & ~3u);
    }
  }
  return nullptr;
}

}  // namespace dial9::agent
