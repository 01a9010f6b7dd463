// Documentation is part of the feature: every option a command's --help
// lists must be in its man page and in the README.
#include <catch2/catch.hpp>

#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <regex>
#include <set>
#include <sstream>

#include "tests/support/test_support.h"

using namespace dial9::test;

namespace {

std::string read_source_file(const std::string& rel) {
  std::ifstream in(std::string(DIAL9_SOURCE_DIR) + "/" + rel);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

// roff writes a hyphen as "\-": compare with plain hyphens.
std::string unroff(std::string s) {
  std::string out;
  for (size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '\\' && i + 1 < s.size() && s[i + 1] == '-') continue;
    out += s[i];
  }
  return out;
}

std::set<std::string> long_options(const std::string& help) {
  std::set<std::string> out;
  std::regex re("--[a-z][a-z0-9-]*");
  for (auto it = std::sregex_iterator(help.begin(), help.end(), re); it != std::sregex_iterator(); ++it) {
    if (it->str() != "--help") out.insert(it->str());
  }
  return out;
}

}  // namespace

TEST_CASE("every option in --help is in the man page and the README") {
  const std::string readme = read_source_file("README.md");
  for (const char* cmd : {"record", "report", "export", "dump", "doctor"}) {
    RunResult help = run({dial9_binary(), cmd, "--help"});
    REQUIRE(help.exit_code == 0);
    std::string man = unroff(read_source_file(std::string("man/dial9-") + cmd + ".1"));
    REQUIRE(!man.empty());
    auto options = long_options(help.out);
    CHECK(options.size() >= 2);  // the parse found the options at all
    for (const std::string& opt : options) {
      INFO("dial9 " << cmd << " " << opt);
      CHECK(man.find(opt) != std::string::npos);
      CHECK(readme.find(opt) != std::string::npos);
    }
  }
}

TEST_CASE("every man page renders with groff without warnings") {
  if (::access("/usr/bin/groff", X_OK) != 0) DIAL9_SKIP("groff is not installed (Debian package groff-base)");
  size_t pages = 0;
  for (const auto& entry : std::filesystem::directory_iterator(std::string(DIAL9_SOURCE_DIR) + "/man")) {
    if (entry.path().extension() != ".1" && entry.path().extension() != ".5" && entry.path().extension() != ".3") continue;
    ++pages;
    RunResult r = run({"groff", "-ww", "-z", "-man", entry.path().string()});
    INFO(entry.path().filename().string() << ": " << r.err);
    CHECK(r.exit_code == 0);
    CHECK(r.err.empty());
  }
  CHECK(pages >= 5);
}

TEST_CASE("dial9 --version names the release, the commit, the build type and the libraries") {
  RunResult r = run({dial9_binary(), "--version"});
  REQUIRE(r.exit_code == 0);
  INFO(r.out);
  CHECK(std::regex_search(r.out, std::regex(R"(^dial9 \d+\.\d+\.\d+ \(\S+, \S+ build\)\n)")));
  for (const char* lib : {"zstd ", "zlib ", "libpfm4 ", "elfutils ", "CLI11 "}) CHECK(r.out.find(lib) != std::string::npos);
}
