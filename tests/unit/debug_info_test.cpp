// ElfModule::frames_at: source lines and inlined calls from the DWARF of
// tests/fixtures/inlines.cpp, and from its separate debug file when the
// binary is stripped, found through .gnu_debuglink (beside it, in .debug/,
// in a debug dir) or its build id. Files only, no processes.
#include <catch2/catch.hpp>

#include <filesystem>

#include "report/symbols/elf_module.h"
#include "tests/support/test_support.h"
#include "tests/unit/inlines_fixture.h"

using namespace dial9;
using namespace dial9::test::inlines;

TEST_CASE("frames_at gives each inlined call its own frame with its line", "[symbols]") {
  REQUIRE_FALSE(outer_code().empty());
  auto m = open(kFixture);
  Code c = inlined_code();
  CHECK(frames_at(*m, c.vaddr) == chain());
  // Folded: one frame, the real function at the line where the inlined
  // calls start.
  CHECK(frames_at(*m, c.vaddr, false) == std::vector<Frame>{chain().back()});
  // Every address of outer() ends in outer(), inlined or not.
  size_t inlined = 0;
  for (const Code& code : outer_code()) {
    auto f = frames_at(*m, code.vaddr);
    REQUIRE_FALSE(f.empty());
    CHECK(f.back().function == "fixture_inlines::outer(int)");
    CHECK(f.back().file == kSource);
    inlined += f.size() > 1;
  }
  CHECK(inlined > 0);
  CHECK(inlined < outer_code().size());
}

TEST_CASE("frames_at finds the inlined calls of a lambda compiled out of line", "[symbols]") {
  // Its DWARF is nested in a class type inside another function.
  const std::string lambda = "fixture_inlines::run_lambda(int)::{lambda(int)#1}::operator()(int) const";
  auto code = code_of(lambda);
  REQUIRE_FALSE(code.empty());
  auto m = open(kFixture);
  bool found = false;
  for (const Code& c : code) {
    auto f = frames_at(*m, c.vaddr);
    // GCC may clone it ("[clone .isra.0]"): the symbol names the clone.
    found = found || (f.size() == 2 && f[0] == chain().front() && f[1].function.rfind(lambda, 0) == 0 &&
                      f[1].file == kSource && f[1].line == marked_line("lambda"));
  }
  CHECK(found);
}

TEST_CASE("frames_at without a symbol or debug info gives one empty frame", "[symbols]") {
  auto m = open(kFixture + ".nolink");
  Code c = inlined_code();
  CHECK(m->separate_debug_file().empty());
  CHECK(frames_at(*m, c.vaddr) == std::vector<Frame>{{"", "", 0}});
}

TEST_CASE("max_debug_bytes: a module with more DWARF is named from its symbols alone", "[symbols]") {
  Code c = inlined_code();
  auto whole = open(kFixture);
  CHECK(whole->dwarf_skipped() == 0);
  ElfOpenOptions over = dirs({});
  over.max_debug_bytes = 1;
  auto skipped = open(kFixture, over);
  const uint64_t size = skipped->dwarf_skipped();
  CHECK(size > 1000);
  CHECK(frames_at(*skipped, c.vaddr) == std::vector<Frame>{{"fixture_inlines::outer(int)", "", 0}});
  // Compressed sections count decompressed (what libdw would hold), and the
  // separate debug file standing in for a stripped binary is measured too.
  for (const char* copy : {".zlib", ".zlib-gnu", ".stripped"}) {
    INFO(copy);
    CHECK(open(kFixture + copy, over)->dwarf_skipped() == size);
  }
  // The limit is inclusive, and the compressed DWARF within it reads as usual.
  ElfOpenOptions at = dirs({});
  at.max_debug_bytes = size;
  for (const char* copy : {"", ".zlib", ".zlib-gnu", ".stripped"}) {
    INFO(copy);
    auto m = open(kFixture + copy, at);
    CHECK(m->dwarf_skipped() == 0);
    CHECK(frames_at(*m, c.vaddr) == chain());
  }
}

TEST_CASE("a stripped binary symbolizes through .gnu_debuglink beside it", "[symbols]") {
  Code c = inlined_code();
  auto m = open(kFixture + ".stripped");
  CHECK(m->separate_debug_file() == kFixture + ".debug");
  CHECK(frames_at(*m, c.vaddr) == chain());
  CHECK(m->symbol_at(c.vaddr) != nullptr);
}

TEST_CASE("a stripped binary finds its debuglink file in .debug/ and in a debug dir", "[symbols]") {
  Code c = inlined_code();
  const std::string name = fs::path(kFixture).filename().string();
  test::TempDir tmp;
  fs::create_directories(tmp.path() + "/bin/.debug");
  fs::copy_file(kFixture + ".stripped", tmp.file("bin/" + name));
  fs::copy_file(kFixture + ".debug", tmp.file("bin/.debug/" + name + ".debug"));
  auto in_dot_debug = open(tmp.file("bin/" + name));
  CHECK(in_dot_debug->separate_debug_file() == tmp.file("bin/.debug/" + name + ".debug"));
  CHECK(frames_at(*in_dot_debug, c.vaddr) == chain());

  // --debug-dir DIR: at DIR/<the binary's directory>/<name>, and at DIR/<name>.
  fs::remove(tmp.file("bin/.debug/" + name + ".debug"));
  fs::create_directories(tmp.path() + "/dbg" + tmp.path() + "/bin");
  fs::copy_file(kFixture + ".debug", tmp.path() + "/dbg" + tmp.path() + "/bin/" + name + ".debug");
  auto mirrored = open(tmp.file("bin/" + name), dirs({tmp.file("absent"), tmp.file("dbg")}));
  CHECK(frames_at(*mirrored, c.vaddr) == chain());
  fs::create_directories(tmp.path() + "/flat");
  fs::copy_file(kFixture + ".debug", tmp.file("flat/" + name + ".debug"));
  auto flat = open(tmp.file("bin/" + name), dirs({tmp.file("flat")}));
  CHECK(flat->separate_debug_file() == tmp.file("flat/" + name + ".debug"));
  CHECK(frames_at(*flat, c.vaddr) == chain());
  // Nowhere to be found: no names.
  auto none = open(tmp.file("bin/" + name));
  CHECK(frames_at(*none, c.vaddr) == std::vector<Frame>{{"", "", 0}});
}

TEST_CASE("a debuglink file of another build is not used", "[symbols]") {
  Code c = inlined_code();
  const std::string name = fs::path(kFixture).filename().string();
  test::TempDir tmp;
  fs::copy_file(kFixture + ".stripped", tmp.file(name));
  // The right name, other contents: a debug file of another program (the
  // unit tests themselves). Build ids differ, and so would the CRC.
  fs::copy_file("/proc/self/exe", tmp.file(name + ".debug"));
  auto m = open(tmp.file(name));
  CHECK(m->separate_debug_file().empty());
  CHECK(frames_at(*m, c.vaddr) == std::vector<Frame>{{"", "", 0}});
}

TEST_CASE("without build ids, the CRC in .gnu_debuglink picks the debug file", "[symbols]") {
  Code c = inlined_code();
  auto m = open(kFixture + ".noid");
  CHECK(m->build_id().empty());
  CHECK(m->separate_debug_file() == kFixture + ".noid.debug");
  CHECK(frames_at(*m, c.vaddr) == chain());
  // The same name on a file with other contents: the CRC differs.
  const std::string name = fs::path(kFixture).filename().string();
  test::TempDir tmp;
  fs::copy_file(kFixture + ".noid", tmp.file(name + ".noid"));
  fs::copy_file(kFixture + ".debug", tmp.file(name + ".noid.debug"));
  auto other = open(tmp.file(name + ".noid"));
  CHECK(other->separate_debug_file().empty());
  CHECK(frames_at(*other, c.vaddr) == std::vector<Frame>{{"", "", 0}});
}

TEST_CASE("a stripped binary symbolizes through the build id in an extra debug dir", "[symbols]") {
  Code c = inlined_code();
  auto m = open(kFixture + ".nolink");
  REQUIRE(m->build_id().size() >= 2);
  test::TempDir tmp;
  const std::string path = report::debug_file_path(tmp.path(), m->build_id());
  fs::create_directories(fs::path(path).parent_path());
  fs::copy_file(kFixture + ".debug", path);
  auto with = open(kFixture + ".nolink", dirs({tmp.file("absent"), tmp.path()}));
  CHECK(with->separate_debug_file() == path);
  CHECK(frames_at(*with, c.vaddr) == chain());
}


TEST_CASE("a stripped binary symbolizes through debuginfod when DEBUGINFOD_URLS is set", "[symbols]") {
  if (!DebuginfodServer::available()) DIAL9_SKIP("libdebuginfod.so.1 is not installed (Debian: libdebuginfod1)");
  Code c = inlined_code();
  auto without = open(kFixture + ".nolink");
  CHECK(frames_at(*without, c.vaddr) == std::vector<Frame>{{"", "", 0}});
  DebuginfodServer server(without->build_id());
  auto m = open(kFixture + ".nolink");
  CHECK(m->separate_debug_file().rfind(server.dir.path() + "/cache/", 0) == 0);
  CHECK(frames_at(*m, c.vaddr) == chain());
  // Local debug files come first.
  auto stripped = open(kFixture + ".stripped");
  CHECK(stripped->separate_debug_file() == kFixture + ".debug");
}
