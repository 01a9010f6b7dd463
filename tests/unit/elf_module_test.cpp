// ElfModule against real files on this machine: the test binary itself (its
// own functions, compiled with frame pointers, see tests/CMakeLists.txt) and
// the libc it runs on.
#include "report/symbols/elf_module.h"

#include <catch2/catch.hpp>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cinttypes>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <future>
#include <optional>
#include <string>

#include "report/symbols/demangle.h"
#include "report/symbols/kallsyms.h"
#include "tests/support/frame_rules.h"
#include "tests/support/test_support.h"

namespace dial9_elf_test {

// Distinct bodies, so identical code folding cannot merge them with anything.
__attribute__((noinline, noclone)) int marker_function(int x) {
  asm volatile("" : "+r"(x));
  return x * 7 + 3;
}

__attribute__((noinline, noclone)) void* return_address_of_call() {
  void* ra = __builtin_return_address(0);
  asm volatile("" : "+r"(ra));
  return ra;
}

// Returns a pc inside itself, after its prologue (the return address of the
// call it makes). The asm after the call keeps it from becoming a tail call.
__attribute__((noinline, noclone)) void* frame_pointer_caller() {
  void* ra = return_address_of_call();
  asm volatile("" : "+r"(ra));
  return ra;
}

}  // namespace dial9_elf_test

namespace {

using dial9::report::ElfModule;
using dial9::report::FrameRule;

struct Mapped {
  std::string path;
  uint64_t file_offset = 0;
};

// The file mapped at `addr` in this process and the file offset it comes
// from, per /proc/self/maps.
std::optional<Mapped> mapping_of(const void* addr) {
  const auto a = reinterpret_cast<uintptr_t>(addr);
  std::ifstream maps("/proc/self/maps");
  std::string line;
  while (std::getline(maps, line)) {
    uint64_t start = 0, end = 0, offset = 0;
    char perms[8] = {};
    int path_at = 0;
    if (std::sscanf(line.c_str(), "%" SCNx64 "-%" SCNx64 " %7s %" SCNx64 " %*s %*u %n", &start,
                    &end, perms, &offset, &path_at) < 4) {
      continue;
    }
    if (a < start || a >= end || path_at <= 0) continue;
    std::string path = line.substr(static_cast<size_t>(path_at));
    if (path.empty() || path[0] != '/') return std::nullopt;
    return Mapped{path, a - start + offset};
  }
  return std::nullopt;
}

// Opens the file mapped at `addr` and returns it with the vaddr of `addr`.
std::pair<std::shared_ptr<const ElfModule>, uint64_t> module_at(
    const void* addr, const dial9::report::ElfOpenOptions& options = {}) {
  auto mapped = mapping_of(addr);
  REQUIRE(mapped);
  auto module = ElfModule::open(mapped->path, options);
  INFO(mapped->path);
  REQUIRE(module);
  auto vaddr = (*module)->vaddr_of_offset(mapped->file_offset);
  REQUIRE(vaddr);
  return {*module, *vaddr};
}

// The name of the symbol at `vaddr`, or "" when there is none.
std::string name_at(const ElfModule& module, uint64_t vaddr) {
  const auto* sym = module.symbol_at(vaddr);
  return sym != nullptr ? sym->name : "";
}

const void* qsort_caller_pc = nullptr;
int compare_ints(const void* a, const void* b) {
  qsort_caller_pc = __builtin_return_address(0);
  return *static_cast<const int*>(a) - *static_cast<const int*>(b);
}

std::string hex(std::span<const uint8_t> bytes) {
  std::string out;
  char b[3];
  for (uint8_t c : bytes) {
    std::snprintf(b, sizeof b, "%02x", c);
    out += b;
  }
  return out;
}

}  // namespace

TEST_CASE("ElfModule finds a function of the test binary by its vaddr", "[elf]") {
  const void* fn = reinterpret_cast<const void*>(&dial9_elf_test::marker_function);
  auto [module, vaddr] = module_at(fn);
  CHECK(module->build_id().size() == 20);

  const auto* sym = module->symbol_at(vaddr);
  REQUIRE(sym != nullptr);
  CHECK(sym->name == "dial9_elf_test::marker_function(int)");
  CHECK(sym->start == vaddr);
  CHECK(sym->size > 0);
  // Inside the function, and past its end.
  CHECK(module->symbol_at(vaddr + 1) == sym);
  const auto* after = module->symbol_at(sym->start + sym->size);
  CHECK(after != sym);

  CHECK(module->symbol_at(0) == nullptr);
  CHECK_FALSE(module->vaddr_of_offset(uint64_t{1} << 60));
}

TEST_CASE("ElfModule names an exported libc function", "[elf]") {
  const void* fn = reinterpret_cast<const void*>(&getpid);
  auto mapped = mapping_of(fn);
  REQUIRE(mapped);
  INFO(mapped->path);
  REQUIRE(mapped->path.find("libc") != std::string::npos);

  // With the default debug dirs (Debian's libc6-dbg, when installed, gives
  // the full .symtab) and with none (libc is stripped: .dynsym only).
  for (const auto& dirs : {std::vector<std::string>{"/usr/lib/debug"}, std::vector<std::string>{}}) {
    dial9::report::ElfOpenOptions options;
    options.debug_dirs = dirs;
    auto [module, vaddr] = module_at(fn, options);
    CHECK(module->build_id().size() == 20);
    const auto* sym = module->symbol_at(vaddr);
    REQUIRE(sym != nullptr);
    CHECK(sym->name.find("getpid") != std::string::npos);
    CHECK(sym->start == vaddr);
  }
}

TEST_CASE("ElfModule gives the CFI rule at a function's entry", "[elf]") {
  const void* fn = reinterpret_cast<const void*>(&dial9_elf_test::marker_function);
  auto [module, vaddr] = module_at(fn);
  auto rule = module->frame_rule(vaddr);
  REQUIRE(rule);
  CHECK(*rule == dial9::test::sp_frame_rule(8));  // rbp: same value

  CHECK_FALSE(module->frame_rule(0));
}

TEST_CASE("ElfModule gives the rbp-based CFI rule after a frame-pointer prologue", "[elf]") {
  const void* pc = dial9_elf_test::frame_pointer_caller();
  auto [module, vaddr] = module_at(pc);
  const auto* sym = module->symbol_at(vaddr);
  REQUIRE(sym != nullptr);
  CHECK(sym->name == "dial9_elf_test::frame_pointer_caller()");

  auto rule = module->frame_rule(vaddr);
  REQUIRE(rule);
  CHECK(*rule == dial9::test::rbp_frame_rule());
}

TEST_CASE("ElfModule gives the CFI rule inside libc", "[elf]") {
  // getpid is a leaf without a frame: CFA = rsp + 8 throughout.
  const void* fn = reinterpret_cast<const void*>(&getpid);
  auto [module, vaddr] = module_at(fn);
  auto rule = module->frame_rule(vaddr);
  REQUIRE(rule);
  CHECK(*rule == dial9::test::sp_frame_rule(8));
}

TEST_CASE("ElfModule rejects a file that is not ELF, naming it", "[elf]") {
  dial9::test::TempDir dir;
  const std::string text = "not an ELF file, just text\n";
  dir.write("notes.txt", {reinterpret_cast<const uint8_t*>(text.data()), text.size()});
  auto module = ElfModule::open(dir.file("notes.txt"));
  REQUIRE_FALSE(module);
  CHECK(module.error().message().find(dir.file("notes.txt")) != std::string::npos);
  CHECK(module.error().message().find("not an ELF file") != std::string::npos);
}

TEST_CASE("ElfModule reports a missing file with its path and errno", "[elf]") {
  dial9::test::TempDir dir;
  auto module = ElfModule::open(dir.file("missing"));
  REQUIRE_FALSE(module);
  CHECK(module.error().message().find(dir.file("missing")) != std::string::npos);
  CHECK(module.error().errno_value() == ENOENT);
}

// A trace names the files it mapped; one made elsewhere may name a FIFO or
// a device here, which must be refused, not read (or waited on).
TEST_CASE("ElfModule refuses a FIFO or a device at once, naming it", "[elf]") {
  dial9::test::TempDir dir;
  const std::string fifo = dir.file("fifo");
  REQUIRE(mkfifo(fifo.c_str(), 0600) == 0);
  auto opening = std::async(std::launch::async, [&] { return ElfModule::open(fifo); });
  if (opening.wait_for(std::chrono::seconds(5)) != std::future_status::ready) {
    // Release the blocked open() so the test can end, then fail.
    int w = ::open(fifo.c_str(), O_WRONLY | O_NONBLOCK);
    opening.wait();
    if (w >= 0) ::close(w);
    FAIL("ElfModule::open blocked on a FIFO");
  }
  auto module = opening.get();
  REQUIRE_FALSE(module);
  CHECK(module.error().message() == fifo + ": not a regular file");

  auto device = ElfModule::open("/dev/zero");
  REQUIRE_FALSE(device);
  CHECK(device.error().message() == "/dev/zero: not a regular file");
}

TEST_CASE("ElfModule takes .symtab from the debug file with the same build id", "[elf]") {
  namespace fs = std::filesystem;
  // A pc inside libc's sorting code, which is not exported: only the full
  // .symtab of the separate debug file names it.
  int values[] = {3, 1, 2, 0};
  std::qsort(values, 4, sizeof values[0], compare_ints);
  REQUIRE(qsort_caller_pc != nullptr);
  auto mapped = mapping_of(qsort_caller_pc);
  REQUIRE(mapped);
  INFO(mapped->path);

  dial9::report::ElfOpenOptions no_debug;
  no_debug.debug_dirs = {};
  auto [stripped, vaddr] = module_at(qsort_caller_pc, no_debug);
  const std::string id = hex(stripped->build_id());
  REQUIRE(id.size() == 40);
  const std::string debug_file = "/usr/lib/debug/.build-id/" + id.substr(0, 2) + "/" + id.substr(2) + ".debug";
  if (!fs::exists(debug_file)) DIAL9_SKIP("no debug file for " + mapped->path + " (install libc6-dbg)");

  auto with_debug_dir = [&](const std::string& target) {
    dial9::test::TempDir dir;
    fs::create_directories(dir.path() + "/.build-id/" + id.substr(0, 2));
    fs::create_symlink(target, dir.path() + "/.build-id/" + id.substr(0, 2) + "/" + id.substr(2) + ".debug");
    dial9::report::ElfOpenOptions options;
    options.debug_dirs = {dir.path() + "/absent", dir.path()};
    auto module = ElfModule::open(mapped->path, options);
    REQUIRE(module);
    return name_at(**module, vaddr);
  };
  const std::string full_name = with_debug_dir(debug_file);
  CHECK_FALSE(full_name.empty());
  CHECK(full_name != name_at(*stripped, vaddr));
  // A file at the build-id path with another build id is ignored.
  auto self = mapping_of(reinterpret_cast<const void*>(&dial9_elf_test::marker_function));
  REQUIRE(self);
  CHECK(with_debug_dir(self->path) == name_at(*stripped, vaddr));
}

namespace {

// frames_at of `whole` and `units` (the same file, whole-module and
// per-unit DWARF) at `count` addresses from `start` on, `step` apart, that a
// symbol covers; returns how many were compared, failing on the first
// difference.
int compare_index_modes(const ElfModule& whole, const ElfModule& units, uint64_t start, uint64_t step, int count) {
  int compared = 0;
  std::vector<dial9::report::SourceFrame> a, b;
  for (int i = 0; i < count; ++i) {
    const uint64_t vaddr = start + static_cast<uint64_t>(i) * step;
    if (whole.symbol_at(vaddr) == nullptr) continue;
    a.clear();
    b.clear();
    whole.frames_at(vaddr, true, a);
    units.frames_at(vaddr, true, b);
    INFO("vaddr 0x" << std::hex << vaddr);
    REQUIRE(a.size() == b.size());
    for (size_t f = 0; f < a.size(); ++f) {
      INFO("frame " << f << ": " << a[f].function << " at " << a[f].file << ":" << std::dec << a[f].line);
      REQUIRE(a[f].function == b[f].function);
      REQUIRE(a[f].file == b[f].file);
      REQUIRE(a[f].line == b[f].line);
    }
    ++compared;
  }
  return compared;
}

}  // namespace

// The recorder names each sealed segment's few addresses with only the
// compile units they are in (whole_module_index = false); a report, with the
// whole file's index. Both must give every address the same frames,
// including where the linker kept one of several copies of a function (this
// test binary is C++ full of them: Catch2, libstdc++ templates).
TEST_CASE("ElfModule: per-unit DWARF gives the frames the whole-module index gives") {
  dial9::report::ElfOpenOptions per_unit;
  per_unit.whole_module_index = false;
  auto [whole, start] = module_at(reinterpret_cast<const void*>(&compare_index_modes));
  auto [units, same] = module_at(reinterpret_cast<const void*>(&compare_index_modes), per_unit);
  REQUIRE(start == same);
  // Both ways from a function of this file, across most of its code.
  int compared = compare_index_modes(*whole, *units, start > 0x200000 ? start - 0x200000 : 0, 0x1f1, 4000);
  CHECK(compared > 1000);

  // glibc, through its separate debug file when libc6-dbg is installed (its
  // units have code from assembly, and many functions per unit).
  auto [libc_whole, qsort_vaddr] = module_at(reinterpret_cast<const void*>(&qsort));
  auto [libc_units, qsort_same] = module_at(reinterpret_cast<const void*>(&qsort), per_unit);
  REQUIRE(qsort_vaddr == qsort_same);
  int libc_compared = compare_index_modes(*libc_whole, *libc_units, qsort_vaddr > 0x60000 ? qsort_vaddr - 0x60000 : 0,
                                          0x3b, 6000);
  CHECK(libc_compared > 1000);
  if (libc_whole->separate_debug_file().empty()) WARN("no separate debug file for glibc (libc6-dbg): names only");
}

TEST_CASE("ElfModule gives the CFI rule of code described in .debug_frame only", "[elf]") {
  // fixture_debug_frame is built without unwind tables: .eh_frame has no
  // entry for its functions, so the rule must come from .debug_frame.
  auto module = ElfModule::open(FIXTURE_DEBUG_FRAME);
  REQUIRE(module);
  std::optional<uint64_t> entry;
  for (uint64_t off = 0; off < std::filesystem::file_size(FIXTURE_DEBUG_FRAME) && !entry; ++off) {
    auto vaddr = (*module)->vaddr_of_offset(off);
    const auto* sym = vaddr ? (*module)->symbol_at(*vaddr) : nullptr;
    if (sym != nullptr && sym->name == "debug_frame_leaf" && sym->start == *vaddr) entry = vaddr;
  }
  REQUIRE(entry);
  auto rule = (*module)->frame_rule(*entry);
  REQUIRE(rule);
  CHECK(*rule == dial9::test::sp_frame_rule(8));

  // The same file without .debug_frame has no rule there.
  auto without = ElfModule::open(std::string(FIXTURE_DEBUG_FRAME) + ".no-debug-frame");
  REQUIRE(without);
  CHECK_FALSE((*without)->frame_rule(*entry));
}

TEST_CASE("ElfModule: the same frames from units read one by one, then past max_unit_indexes from the whole index") {
  // Code of this test binary from four compile units.
  const void* code[] = {reinterpret_cast<const void*>(&dial9_elf_test::marker_function),
                        reinterpret_cast<const void*>(&ElfModule::open),
                        reinterpret_cast<const void*>(&dial9::report::demangle),
                        reinterpret_cast<const void*>(&dial9::report::KernelSymbols::parse)};
  dial9::report::ElfOpenOptions by_unit;
  by_unit.whole_module_index = false;
  by_unit.max_unit_indexes = 1;  // the second unit asked switches to the whole index
  auto whole = module_at(code[0]).first;
  auto switched = module_at(code[0], by_unit).first;
  auto frames = [](const ElfModule& m, uint64_t vaddr) {
    std::vector<dial9::report::SourceFrame> out;
    m.frames_at(vaddr, true, out);
    std::string text;
    for (const auto& f : out) text += std::string(f.function) + " " + std::string(f.file) + ":" + std::to_string(f.line) + "; ";
    return text;
  };
  for (const void* pc : code) {
    uint64_t vaddr = module_at(pc).second;
    std::string expected = frames(*whole, vaddr);
    INFO(expected);
    CHECK(expected.find(".cpp:") != std::string::npos);  // the DWARF named it
    CHECK(frames(*switched, vaddr) == expected);
  }
}
