#include "base/elf_file.h"

#include <elf.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstring>

#include "base/io.h"

namespace dial9 {
namespace {

template <typename T>
T load(const std::vector<uint8_t>& bytes, size_t at) {
  T v;
  std::memcpy(&v, bytes.data() + at, sizeof v);
  return v;
}

}  // namespace

Result<ElfFile> ElfFile::open(const std::string& path) {
  auto fd = open_read(path);
  if (!fd) return fail(fd.error());
  ElfFile f;
  f.fd_ = std::move(*fd);
  f.path_ = path;
  struct stat st {};
  if (::fstat(f.fd_.get(), &st) != 0) return fail(Error::from_errno("cannot stat '" + path + "'"));
  f.size_ = static_cast<uint64_t>(st.st_size);
  auto ident = f.read_at(0, sizeof(Elf64_Ehdr));
  if (!ident || std::memcmp(ident->data(), ELFMAG, SELFMAG) != 0) return fail("'" + path + "' is not an ELF file");
  const uint8_t cls = (*ident)[EI_CLASS];
  f.class_ = cls == ELFCLASS64 ? 64 : cls == ELFCLASS32 ? 32 : 0;
  if (f.class_ == 0) return fail("'" + path + "' has an unknown ELF class");
  if (f.class_ != 64 || (*ident)[EI_DATA] != ELFDATA2LSB) {
    f.machine_ = load<uint16_t>(*ident, offsetof(Elf64_Ehdr, e_machine));  // same offset in both classes
    return f;
  }
  auto eh = load<Elf64_Ehdr>(*ident, 0);
  f.machine_ = eh.e_machine;
  f.type_ = eh.e_type;
  f.shoff_ = eh.e_shoff;
  f.shnum_ = eh.e_shnum;
  f.shentsize_ = eh.e_shentsize;
  if (eh.e_phentsize != sizeof(Elf64_Phdr) || eh.e_phnum > 4096) return fail("'" + path + "' has a malformed program header table");
  auto ph = f.read_at(eh.e_phoff, uint64_t{eh.e_phnum} * sizeof(Elf64_Phdr));
  if (!ph) return fail(ph.error());
  for (size_t i = 0; i < eh.e_phnum; ++i) {
    auto p = load<Elf64_Phdr>(*ph, i * sizeof(Elf64_Phdr));
    if (p.p_type == PT_INTERP) f.interp_ = true;
    if (p.p_type == PT_LOAD) f.segments_.push_back(ElfSegment{p.p_vaddr, p.p_memsz, p.p_offset, p.p_filesz, p.p_flags});
  }
  return f;
}

Result<std::vector<uint8_t>> ElfFile::read_at(uint64_t offset, uint64_t size) const {
  if (offset > size_ || size > size_ - offset) return fail("'" + path_ + "' is truncated");
  std::vector<uint8_t> out(size);
  size_t done = 0;
  while (done < size) {
    ssize_t n = ::pread(fd_.get(), out.data() + done, size - done, static_cast<off_t>(offset + done));
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return fail(Error::from_errno("cannot read '" + path_ + "'", n == 0 ? EIO : errno));
    done += static_cast<size_t>(n);
  }
  return out;
}

std::vector<uint8_t> ElfFile::build_id() const { return note("GNU", NT_GNU_BUILD_ID); }

std::vector<uint8_t> ElfFile::note(std::string_view owner, uint32_t type) const {
  if (class_ != 64) return {};
  // The notes are in a PT_NOTE segment's file range; read the program
  // headers again rather than keep the PT_NOTE ones around.
  auto eh = read_at(0, sizeof(Elf64_Ehdr));
  if (!eh) return {};
  auto h = load<Elf64_Ehdr>(*eh, 0);
  auto ph = read_at(h.e_phoff, uint64_t{h.e_phnum} * sizeof(Elf64_Phdr));
  if (!ph) return {};
  for (size_t i = 0; i < h.e_phnum; ++i) {
    auto p = load<Elf64_Phdr>(*ph, i * sizeof(Elf64_Phdr));
    if (p.p_type != PT_NOTE || p.p_filesz > (1u << 20)) continue;
    auto notes = read_at(p.p_offset, p.p_filesz);
    if (!notes) continue;
    const uint64_t align = p.p_align == 8 ? 8 : 4;
    auto up = [align](uint64_t v) { return (v + align - 1) & ~(align - 1); };
    for (uint64_t at = 0; at + sizeof(Elf64_Nhdr) <= notes->size();) {
      auto n = load<Elf64_Nhdr>(*notes, at);
      uint64_t name_at = at + sizeof(Elf64_Nhdr);
      uint64_t desc_at = name_at + up(n.n_namesz);
      uint64_t next = desc_at + up(n.n_descsz);
      if (next > notes->size() || desc_at + n.n_descsz > notes->size()) break;
      // The name is stored with its terminating NUL.
      if (n.n_type == type && n.n_namesz == owner.size() + 1 &&
          std::memcmp(notes->data() + name_at, owner.data(), owner.size()) == 0) {
        return std::vector<uint8_t>(notes->begin() + static_cast<ptrdiff_t>(desc_at),
                                    notes->begin() + static_cast<ptrdiff_t>(desc_at + n.n_descsz));
      }
      at = next;
    }
  }
  return {};
}

Result<uint64_t> ElfFile::dynamic_symbol(std::string_view name) const {
  auto missing = [&] { return fail("'" + path_ + "' does not define " + std::string(name)); };
  if (class_ != 64 || shentsize_ != sizeof(Elf64_Shdr) || shnum_ == 0) return missing();
  auto sh = read_at(shoff_, uint64_t{shnum_} * sizeof(Elf64_Shdr));
  if (!sh) return fail(sh.error());
  auto section = [&](size_t i) { return load<Elf64_Shdr>(*sh, i * sizeof(Elf64_Shdr)); };
  for (size_t i = 0; i < shnum_; ++i) {
    Elf64_Shdr sym = section(i);
    if (sym.sh_type != SHT_DYNSYM || sym.sh_entsize != sizeof(Elf64_Sym) || sym.sh_link >= shnum_) continue;
    Elf64_Shdr str = section(sym.sh_link);
    // The symbol versions (.gnu.version), parallel to .dynsym: a hidden
    // version (bit 15) is an old one kept for old binaries, not the default.
    std::vector<uint8_t> versym;
    for (size_t j = 0; j < shnum_; ++j) {
      Elf64_Shdr v = section(j);
      if (v.sh_type == SHT_GNU_versym && v.sh_link == i) {
        if (auto r = read_at(v.sh_offset, v.sh_size)) versym = std::move(*r);
      }
    }
    auto syms = read_at(sym.sh_offset, sym.sh_size);
    auto strs = read_at(str.sh_offset, str.sh_size);
    if (!syms || !strs) return fail(!syms ? syms.error() : strs.error());
    const size_t count = syms->size() / sizeof(Elf64_Sym);
    uint64_t hidden_match = 0;
    for (size_t k = 1; k < count; ++k) {
      auto s = load<Elf64_Sym>(*syms, k * sizeof(Elf64_Sym));
      if (s.st_shndx == SHN_UNDEF || s.st_name >= strs->size() || s.st_value == 0) continue;
      const char* n = reinterpret_cast<const char*>(strs->data()) + s.st_name;
      size_t len = strnlen(n, strs->size() - s.st_name);
      if (std::string_view(n, len) != name) continue;
      bool hidden = versym.size() >= (k + 1) * 2 && (load<uint16_t>(versym, k * 2) & 0x8000) != 0;
      if (!hidden) return s.st_value;
      hidden_match = s.st_value;
    }
    if (hidden_match) return hidden_match;
  }
  return missing();
}

}  // namespace dial9
