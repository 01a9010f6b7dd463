// Just enough of an ELF file, read with pread, for the controller's work on
// a running program: the build id of a mapped file (so a trace names the
// exact binary), its loadable segments (where its code ends in memory), and
// the address of a dynamic symbol (the functions an injected loader calls).
// Symbolization proper (libdw) lives in report/; this stays dependency-free
// so capture/ and inject/ can both use it.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "base/result.h"
#include "base/unique_fd.h"

namespace dial9 {

struct ElfSegment {
  uint64_t vaddr = 0, memsz = 0, offset = 0, filesz = 0;
  uint32_t flags = 0;  // PF_R | PF_W | PF_X
};

class ElfFile {
 public:
  // Opens and checks the identification. Any ELF opens; class() tells
  // 32- from 64-bit. Only 64-bit little-endian files are parsed further:
  // for others segments() is empty and the lookups fail.
  static Result<ElfFile> open(const std::string& path);

  int elf_class() const { return class_; }  // 32 or 64
  uint16_t machine() const { return machine_; }
  uint16_t type() const { return type_; }   // ET_EXEC, ET_DYN, ...
  bool has_interpreter() const { return interp_; }  // dynamically linked
  const std::vector<ElfSegment>& segments() const { return segments_; }

  // The GNU build id, or empty when the file has none.
  std::vector<uint8_t> build_id() const;
  // The descriptor of the first note of `owner` ("GNU", "dial9") and
  // `type` in a PT_NOTE segment; empty when there is none.
  std::vector<uint8_t> note(std::string_view owner, uint32_t type) const;

  // The value of a defined dynamic symbol (its default version when it has
  // several, as the dynamic linker would bind it): an address relative to
  // the load bias. The error names the symbol and the file.
  Result<uint64_t> dynamic_symbol(std::string_view name) const;

 private:
  ElfFile() = default;
  Result<std::vector<uint8_t>> read_at(uint64_t offset, uint64_t size) const;
  UniqueFd fd_;
  std::string path_;
  uint64_t size_ = 0;
  int class_ = 0;
  uint16_t machine_ = 0, type_ = 0;
  bool interp_ = false;
  std::vector<ElfSegment> segments_;
  uint64_t shoff_ = 0;
  uint16_t shnum_ = 0, shentsize_ = 0;
};

}  // namespace dial9
