// The Symbolizer on trace events: mappings of tests/fixtures/inlines.cpp and
// its stripped copy, the trace's own symbol table, and the Tokio recorder's
// fixture. Files only, no processes.
#include <catch2/catch.hpp>

#include <cstdio>
#include <filesystem>
#include <span>
#include <string>
#include <vector>

#include "format/events.h"
#include "format/trace_file.h"
#include "format/trace_writer.h"
#include "report/symbols/symbolizer.h"
#include "tests/support/test_support.h"
#include "tests/unit/inlines_fixture.h"

using namespace dial9;
using namespace dial9::test::inlines;
using report::FrameName;
using report::Symbolizer;
using report::SymbolizerOptions;

namespace {

constexpr uint32_t kPid = 42;
constexpr uint64_t kBase = 0x555555554000;  // where the fixture is "mapped"

// A trace holding the events `write` writes, fed to a Symbolizer.
template <typename Write>
void observe(Symbolizer& sym, Write write) {
  format::TraceWriter w;
  write(w);
  auto bytes = w.take();
  auto r = format::read_trace_bytes(bytes, "test", [&](const format::Event& e) { sym.observe(e); });
  REQUIRE(r);
}

// Maps the whole file at kBase in kPid, so file offset o is at kBase + o;
// with `build_id`, the mapping records the file's build id, as the kernel
// reports it.
void map_file(format::TraceWriter& w, const std::string& path, bool build_id = false) {
  std::vector<uint8_t> id;
  if (build_id) {
    auto m = open(path);
    id.assign(m->build_id().begin(), m->build_id().end());
  }
  w.mapping(1, format::Mapping{kPid, kBase, fs::file_size(path), 0, path, id, true});
}

struct Named {
  std::string function, module, file;
  uint32_t line;
  bool resolved, inlined;
  bool operator==(const Named&) const = default;
};
std::ostream& operator<<(std::ostream& os, const Named& n) {
  return os << n.function << " [" << n.module << "] " << n.file << ":" << n.line << (n.resolved ? " resolved" : "")
            << (n.inlined ? " inlined" : "");
}

std::vector<Named> named(std::span<const FrameName> frames) {
  std::vector<Named> out;
  for (const auto& f : frames) {
    out.push_back({std::string(f.function), std::string(f.module), std::string(f.file), f.line, f.resolved, f.inlined});
  }
  return out;
}

std::vector<Named> chain_named(const std::string& module) {
  std::vector<Named> out;
  auto c = chain();
  for (size_t i = 0; i < c.size(); ++i) out.push_back({c[i].function, module, c[i].file, c[i].line, true, i + 1 < c.size()});
  return out;
}

}  // namespace

TEST_CASE("Symbolizer: inlined frames, leaf first, and --no-inline folds them", "[symbols]") {
  Code c = inlined_code();
  const std::string module = fs::path(kFixture).filename().string();
  Symbolizer sym;
  observe(sym, [&](format::TraceWriter& w) { map_file(w, kFixture); });
  uint64_t pc = kBase + c.offset;
  CHECK(named(sym.frames(kPid, pc, false)) == chain_named(module));
  // A return address is looked up one byte back, so pc + 1 names pc.
  CHECK(named(sym.frames(kPid, pc + 1, true)) == chain_named(module));
  CHECK(named(std::vector<FrameName>{sym.name(kPid, pc, false)}) ==
        std::vector<Named>{chain_named(module).back()});

  SymbolizerOptions folded;
  folded.inlines = false;
  Symbolizer no_inline(folded);
  observe(no_inline, [&](format::TraceWriter& w) { map_file(w, kFixture); });
  CHECK(named(no_inline.frames(kPid, pc, false)) == std::vector<Named>{chain_named(module).back()});
  CHECK(no_inline.frames(kPid, pc, false).back().inlined == false);
}

TEST_CASE("Symbolizer: --debug-dir finds the debug file of a stripped binary", "[symbols]") {
  Code c = inlined_code();
  auto m = open(kFixture + ".nolink");
  test::TempDir tmp;
  const std::string path = report::debug_file_path(tmp.path(), m->build_id());
  fs::create_directories(fs::path(path).parent_path());
  fs::copy_file(kFixture + ".debug", path);
  const std::string module = fs::path(kFixture + ".nolink").filename().string();

  SymbolizerOptions options;
  options.debug_dirs = {tmp.path()};
  Symbolizer with(options);
  observe(with, [&](format::TraceWriter& w) { map_file(w, kFixture + ".nolink"); });
  CHECK(named(with.frames(kPid, kBase + c.offset, false)) == chain_named(module));

  // Without it: never dropped, named by module and file offset.
  Symbolizer without;
  observe(without, [&](format::TraceWriter& w) { map_file(w, kFixture + ".nolink"); });
  char offset[32];
  std::snprintf(offset, sizeof offset, "+0x%llx", static_cast<unsigned long long>(c.offset));
  CHECK(named(without.frames(kPid, kBase + c.offset, false)) ==
        std::vector<Named>{{module + offset, module, "", 0, false, false}});
  CHECK(without.missing_modules() == 0);
}

TEST_CASE("Symbolizer: a binary that is gone symbolizes through its build id", "[symbols]") {
  Code c = inlined_code();
  auto m = open(kFixture);
  const std::vector<uint8_t> id(m->build_id().begin(), m->build_id().end());
  // As the loader maps it: the executable segment alone, from its first page
  // (the fixture's code is smaller than a page).
  const uint64_t page = c.offset & ~uint64_t{0xfff};
  auto map_gone = [&](format::TraceWriter& w) {
    w.mapping(1, format::Mapping{kPid, kBase + page, 0x1000, page, "/gone/fixture_inlines", id, true});
  };
  Symbolizer without;
  observe(without, map_gone);
  CHECK_FALSE(without.name(kPid, kBase + c.offset, false).resolved);
  CHECK(without.missing_modules() == 1);

  // The debug file alone is the module: from a debug dir, by build id...
  test::TempDir tmp;
  const std::string path = report::debug_file_path(tmp.path(), id);
  fs::create_directories(fs::path(path).parent_path());
  fs::copy_file(kFixture + ".debug", path);
  SymbolizerOptions options;
  options.debug_dirs = {tmp.path()};
  Symbolizer from_dir(options);
  observe(from_dir, map_gone);
  CHECK(named(from_dir.frames(kPid, kBase + c.offset, false)) == chain_named("fixture_inlines"));
  CHECK(from_dir.missing_modules() == 0);

  // ... or from debuginfod.
  if (!DebuginfodServer::available()) DIAL9_SKIP("libdebuginfod.so.1 is not installed (Debian: libdebuginfod1)");
  DebuginfodServer server(id);
  Symbolizer with;
  observe(with, map_gone);
  CHECK(named(with.frames(kPid, kBase + c.offset, false)) == chain_named("fixture_inlines"));
  CHECK(with.missing_modules() == 0);
}

TEST_CASE("Symbolizer: addresses outside any mapping are [kernel] or [unknown]", "[symbols]") {
  Symbolizer sym;
  CHECK(named(sym.frames(1, 0xffffffff81a28b97, false)) ==
        std::vector<Named>{{"[kernel]", "[kernel]", "", 0, false, false}});
  CHECK(named(sym.frames(1, 0x1234, true)) == std::vector<Named>{{"[unknown]", "[unknown]", "", 0, false, false}});
  // A mapped file that is gone counts as missing.
  observe(sym, [&](format::TraceWriter& w) {
    w.mapping(1, format::Mapping{kPid, 0x10000, 0x1000, 0, "/nonexistent/lib.so", {}, true});
  });
  CHECK(named(sym.frames(kPid, 0x10010, false)) ==
        std::vector<Named>{{"lib.so+0x10", "lib.so", "", 0, false, false}});
  CHECK(sym.missing_modules() == 1);
}

TEST_CASE("Symbolizer: the trace's symbol table wins, keyed by the exact callchain value", "[symbols]") {
  Code c = inlined_code();
  const std::string module = fs::path(kFixture).filename().string();
  const uint64_t pc = kBase + c.offset;
  const uint64_t kernel = 0xffffffff81a28b97;
  SymbolizerOptions options;
  Symbolizer sym(options);
  observe(sym, [&](format::TraceWriter& w) {
    map_file(w, kFixture);
    // As the Tokio recorder writes them: depth 0 the real function, each
    // entry at the place the address is in that function; in any order,
    // and repeated by later segments.
    for (int copy = 0; copy < 2; ++copy) {
      w.symbol(0, {pc, 0, "inner", 1, "/src/inner.rs", 7});
      w.symbol(0, {pc, 0, "outer", 0, "/src/outer.rs", 70});
    }
    w.symbol(0, {kernel, 0, "__schedule", 0, "", 0});
    w.symbol(0, {pc + 3, 0, "[unknown] 0x5555", 0, "", 0});  // the recorder's placeholder
  });
  CHECK(named(sym.frames(kPid, pc, true)) ==
        std::vector<Named>{{"inner", module, "/src/inner.rs", 7, true, true},
                           {"outer", module, "/src/outer.rs", 70, true, false}});
  CHECK(sym.name(kPid, pc, false).function == "outer");
  // Kernel addresses, in any process.
  CHECK(named(sym.frames(7, kernel, true)) ==
        std::vector<Named>{{"__schedule", "[kernel]", "", 0, true, false}});
  // A placeholder is no name: the module names the address.
  CHECK(sym.name(kPid, pc + 3, false).resolved);
  CHECK(sym.name(kPid, pc + 3, false).function == "fixture_inlines::outer(int)");
  // Nothing at pc + 1: the module, at pc for a return address.
  CHECK(named(sym.frames(kPid, pc + 1, true)) == chain_named(module));

  SymbolizerOptions folded;
  folded.inlines = false;
  Symbolizer no_inline(folded);
  observe(no_inline, [&](format::TraceWriter& w) {
    w.symbol(0, {pc, 0, "inner", 1, "/src/inner.rs", 7});
    w.symbol(0, {pc, 0, "outer", 0, "/src/outer.rs", 70});
  });
  CHECK(named(no_inline.frames(kPid, pc, true)) ==
        std::vector<Named>{{"outer", "[unknown]", "/src/outer.rs", 70, true, false}});
}

TEST_CASE("Symbolizer: a name-only entry gives way to the module's lines where it has them", "[symbols]") {
  Code c = inlined_code();
  const uint64_t pc = kBase + c.offset;
  // As dial9 record writes a module whose DWARF it left unread: the name
  // alone (FORMAT.md R6).
  auto name_only = [&](format::TraceWriter& w) { w.symbol(0, {pc, 0, "outer_by_name", 0, "", 0}); };
  const std::string module = fs::path(kFixture).filename().string();
  Symbolizer sym;
  observe(sym, [&](format::TraceWriter& w) {
    map_file(w, kFixture, /*build_id=*/true);
    name_only(w);
  });
  CHECK(named(sym.frames(kPid, pc, false)) == chain_named(module));
  // An address of the same file without an entry is named from the module
  // read for the entry: the file is opened once.
  CHECK(named(sym.frames(kPid, pc + 1, true)) == chain_named(module));
  CHECK(sym.module_outcomes().size() == 1);
  // A module without lines adds nothing: the entry's name stays.
  Symbolizer stripped;
  observe(stripped, [&](format::TraceWriter& w) {
    map_file(w, kFixture + ".nolink", true);
    name_only(w);
  });
  const std::string nolink = fs::path(kFixture + ".nolink").filename().string();
  CHECK(named(stripped.frames(kPid, pc, false)) == std::vector<Named>{{"outer_by_name", nolink, "", 0, true, false}});
  // Nor does a file whose build is unknown (the mapping recorded no build
  // id): it may be a rebuild with other code at that address.
  Symbolizer unknown;
  observe(unknown, [&](format::TraceWriter& w) {
    map_file(w, kFixture);
    name_only(w);
  });
  CHECK(named(unknown.frames(kPid, pc, false)) == std::vector<Named>{{"outer_by_name", module, "", 0, true, false}});
}

TEST_CASE("Symbolizer: max_debug_bytes names a module with more DWARF from its symbols", "[symbols]") {
  Code c = inlined_code();
  const std::string module = fs::path(kFixture).filename().string();
  SymbolizerOptions options;
  options.max_debug_bytes = 1;
  Symbolizer sym(options);
  observe(sym, [&](format::TraceWriter& w) { map_file(w, kFixture); });
  CHECK(named(sym.frames(kPid, kBase + c.offset, false)) ==
        std::vector<Named>{{"fixture_inlines::outer(int)", module, "", 0, true, false}});
  auto outcomes = sym.module_outcomes();
  REQUIRE(outcomes.size() == 1);
  CHECK(outcomes[0].dwarf_skipped > 1000);
}

TEST_CASE("Symbolizer: spans stay valid while more addresses are named", "[symbols]") {
  Symbolizer sym;
  observe(sym, [&](format::TraceWriter& w) { map_file(w, kFixture); });
  auto first = sym.frames(kPid, kBase + outer_code().front().offset, false);
  auto copy = named(first);
  for (uint64_t off = 0; off < 20000; ++off) sym.frames(kPid, kBase + off, false);
  CHECK(named(first) == copy);
}

TEST_CASE("Symbolizer: the Tokio fixture's callchains name their inlined frames", "[symbols]") {
  auto path = test::tokio_fixture_path();
  if (!path) DIAL9_SKIP("../shared/fixtures/tokio-demo-trace.bin.gz is absent (not in this checkout)");
  Symbolizer sym;
  std::vector<std::pair<uint32_t, std::vector<uint64_t>>> chains;
  auto r = format::read_trace_file(*path, [&](const format::Event& e) {
    sym.observe(e);
    if (e.builtin() != format::Builtin::kCpuSample) return;
    auto s = format::as_cpu_sample(e);
    std::vector<uint64_t> chain;
    for (uint32_t i = 0; i < s.callchain.size(); ++i) chain.push_back(s.callchain[i]);
    chains.emplace_back(s.tid, std::move(chain));
  });
  REQUIRE(r);
  // The recorder's table covers the callchain values themselves (not the
  // return address minus one): almost every frame is named.
  size_t frames = 0, resolved = 0;
  for (const auto& [tid, chain] : chains) {
    for (size_t i = 0; i < chain.size(); ++i) {
      ++frames;
      resolved += sym.name(sym.pid_of(tid), chain[i], i > 0).resolved;
    }
  }
  CHECK(resolved > frames * 99 / 100);

  // An address with four calls inlined into the real function.
  auto f = named(sym.frames(31710, 0x55dc0d643ec9, true));
  REQUIRE(f.size() == 5);
  CHECK(f.front().function == "<core::cell::BorrowRefMut>::new");
  CHECK(f.front().inlined);
  CHECK(f.back().function == "tokio::runtime::scheduler::multi_thread::worker::Context::park_internal");
  CHECK(f.back().line == 876);
  CHECK_FALSE(f.back().inlined);
  CHECK(sym.name(31710, 0xffffffff81a28b97, false).function == "__schedule");
  CHECK(sym.name(31710, 0xffffffff81a28b97, false).module == "[kernel]");
}
