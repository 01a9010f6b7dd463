// tests/fixtures/inlines.cpp as the symbolization tests see it: where its
// inlined calls are and what their frames must be. The fixture is built
// -O2 -g, and split_debug.sh leaves beside it FIXTURE.debug (its debug
// information), FIXTURE.stripped (with a .gnu_debuglink) and FIXTURE.nolink
// (without one).
#pragma once

#include <catch2/catch.hpp>
#include <dlfcn.h>

#include <cstdlib>
#include <filesystem>
#include <optional>
#include <fstream>
#include <memory>
#include <ostream>
#include <string>
#include <vector>

#include "report/symbols/elf_module.h"
#include "tests/support/test_support.h"

namespace dial9::test::inlines {

namespace fs = std::filesystem;
using report::ElfModule;
using report::ElfOpenOptions;
using report::SourceFrame;

inline const std::string kFixture = FIXTURE_INLINES;
inline const std::string kSource = std::string(DIAL9_SOURCE_DIR) + "/tests/fixtures/inlines.cpp";

// The line of tests/fixtures/inlines.cpp that carries "LINE:<tag>".
inline uint32_t marked_line(const std::string& tag) {
  std::ifstream in(kSource);
  std::string text;
  for (uint32_t n = 1; std::getline(in, text); ++n) {
    if (text.find("// LINE:" + tag) != std::string::npos) return n;
  }
  FAIL("no LINE:" << tag << " in " << kSource);
  return 0;
}

inline ElfOpenOptions dirs(std::vector<std::string> d) {
  ElfOpenOptions o;
  o.debug_dirs = std::move(d);
  return o;
}

inline std::shared_ptr<const ElfModule> open(const std::string& path, const ElfOpenOptions& options = dirs({})) {
  auto m = ElfModule::open(path, options);
  INFO(path);
  REQUIRE(m);
  return *m;
}

// A code address of the fixture: where it is in the file and in the ELF's
// virtual addresses.
struct Code {
  uint64_t offset = 0, vaddr = 0;
};

// Every address of `function` (or of its clones: "function [clone .isra.0]"),
// found through the symbol table of the unstripped fixture (stripped copies
// have the same layout).
inline std::vector<Code> code_of(const std::string& function) {
  auto m = open(kFixture);
  std::vector<Code> out;
  for (uint64_t off = 0; off < fs::file_size(kFixture); ++off) {
    auto vaddr = m->vaddr_of_offset(off);
    if (!vaddr) continue;
    const auto* sym = m->symbol_at(*vaddr);
    if (sym != nullptr && (sym->name == function || sym->name.rfind(function + " [clone ", 0) == 0)) {
      out.push_back({off, *vaddr});
    }
  }
  return out;
}

inline const std::vector<Code>& outer_code() {
  static const std::vector<Code> code = code_of("fixture_inlines::outer(int)");
  return code;
}

struct Frame {
  std::string function, file;
  uint32_t line;
  bool operator==(const Frame&) const = default;
};
inline std::ostream& operator<<(std::ostream& os, const Frame& f) {
  return os << f.function << " " << f.file << ":" << f.line;
}

inline std::vector<Frame> frames_at(const ElfModule& m, uint64_t vaddr, bool inlines = true) {
  std::vector<SourceFrame> out;
  m.frames_at(vaddr, inlines, out);
  std::vector<Frame> frames;
  for (const auto& f : out) frames.push_back({std::string(f.function), std::string(f.file), f.line});
  return frames;
}

// What the fixture's inlined chain looks like, innermost first.
inline std::vector<Frame> chain() {
  return {{"fixture_inlines::leaf(int)", kSource, marked_line("leaf")},
          {"fixture_inlines::middle(int)", kSource, marked_line("call-leaf")},
          {"fixture_inlines::outer(int)", kSource, marked_line("call-middle")}};
}

// The first address of outer() whose frames are the whole inlined chain
// (the call of step() in leaf()).
inline Code inlined_code() {
  auto m = open(kFixture);
  for (const Code& c : outer_code()) {
    if (frames_at(*m, c.vaddr) == chain()) return c;
  }
  FAIL("no address of outer() is in leaf() inlined into middle() inlined into outer()");
  return {};
}

// Sets an environment variable for a scope, then puts back what was there.
class ScopedEnv {
 public:
  ScopedEnv(const char* name, const std::string& value) : name_(name) {
    if (const char* old = std::getenv(name)) old_ = old;
    ::setenv(name, value.c_str(), 1);
  }
  ~ScopedEnv() {
    if (old_) {
      ::setenv(name_, old_->c_str(), 1);
    } else {
      ::unsetenv(name_);
    }
  }
  ScopedEnv(const ScopedEnv&) = delete;
  ScopedEnv& operator=(const ScopedEnv&) = delete;

 private:
  const char* name_;
  std::optional<std::string> old_;
};

// A debuginfod "server" holding the fixture's debug file: a directory laid
// out as a server's URLs are (buildid/<hex>/debuginfo), which the client
// reads through a file:// URL, with the client's cache in the same temporary
// directory. No process, no network.
struct DebuginfodServer {
  TempDir dir;
  std::optional<ScopedEnv> urls, cache;
  static bool available() { return dlopen("libdebuginfod.so.1", RTLD_LAZY | RTLD_LOCAL) != nullptr; }
  explicit DebuginfodServer(std::span<const uint8_t> build_id) {
    std::string hex;
    char b[3];
    for (uint8_t c : build_id) {
      std::snprintf(b, sizeof b, "%02x", c);
      hex += b;
    }
    fs::create_directories(dir.path() + "/server/buildid/" + hex);
    fs::copy_file(kFixture + ".debug", dir.path() + "/server/buildid/" + hex + "/debuginfo");
    urls.emplace("DEBUGINFOD_URLS", "file://" + dir.path() + "/server");
    cache.emplace("DEBUGINFOD_CACHE_PATH", dir.path() + "/cache");
  }
};

}  // namespace dial9::test::inlines
