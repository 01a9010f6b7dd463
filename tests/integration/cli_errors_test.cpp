// The golden table of bad invocations (tests/golden/bad-invocations.txt):
// every one exits with its code and one line on stderr naming the problem,
// prints nothing on stdout, never aborts or prints a backtrace, and leaves
// no file behind, in the directory it ran in or anywhere it was pointed at.
#include <catch2/catch.hpp>

#include <filesystem>
#include <fstream>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include "tests/support/test_support.h"

namespace fs = std::filesystem;
using namespace dial9::test;

namespace {

struct Case {
  int line = 0;
  int exit_code = 0;
  std::string says;
  std::vector<std::string> args;
};

std::string trim(std::string s) {
  s.erase(0, s.find_first_not_of(' '));
  s.erase(s.find_last_not_of(' ') + 1);
  return s;
}

std::string expand(std::string s, const TempDir& tmp) {
  const std::pair<std::string, std::string> vars[] = {
      {"{file}", tmp.file("a-file")},
      {"{dir}", tmp.file("empty-dir")},
      {"{missing}", tmp.file("missing")},
      {"{trace}", golden_trace_path()},
      {"{configs}", std::string(DIAL9_SOURCE_DIR) + "/tests/golden/configs"},
  };
  for (const auto& [from, to] : vars) {
    for (size_t p = s.find(from); p != std::string::npos; p = s.find(from, p + to.size())) s.replace(p, from.size(), to);
  }
  return s;
}

std::vector<Case> load_cases(const TempDir& tmp) {
  std::ifstream in(std::string(DIAL9_SOURCE_DIR) + "/tests/golden/bad-invocations.txt");
  REQUIRE(in);
  std::vector<Case> out;
  std::string text;
  for (int n = 1; std::getline(in, text); ++n) {
    if (trim(text).empty() || text[0] == '#') continue;
    size_t a = text.find(" | "), b = text.find(" | ", a + 3);
    // The last field may be empty (dial9 with no arguments).
    if (b == std::string::npos && text.size() >= 2 && text.compare(text.size() - 2, 2, " |") == 0) b = text.size() - 2;
    INFO("bad-invocations.txt:" << n << ": " << text);
    REQUIRE(a != std::string::npos);
    REQUIRE(b != std::string::npos);
    Case c;
    c.line = n;
    c.exit_code = std::stoi(text.substr(0, a));
    c.says = expand(trim(text.substr(a + 3, b - a - 3)), tmp);
    std::istringstream words(b + 3 <= text.size() ? text.substr(b + 3) : "");
    for (std::string w; words >> w;) c.args.push_back(expand(w, tmp));
    out.push_back(std::move(c));
  }
  return out;
}

// Every path under `root`, to see that nothing was added.
std::set<std::string> listing(const std::string& root) {
  std::set<std::string> out;
  for (const auto& e : fs::recursive_directory_iterator(root)) out.insert(e.path().string());
  return out;
}

}  // namespace

TEST_CASE("at least 30 bad invocations each get their exit code and one line, and leave nothing behind") {
  TempDir tmp;
  tmp.write("a-file", std::vector<uint8_t>{'x', '\n'});
  fs::create_directories(tmp.file("empty-dir"));
  fs::create_directories(tmp.file("cwd"));
  auto cases = load_cases(tmp);
  CHECK(cases.size() >= 30);
  const auto before = listing(tmp.path());
  for (const Case& c : cases) {
    // Run in a directory of its own: `record` without -o would write there.
    // The user's configuration file is looked for in an empty directory.
    std::vector<std::string> argv = {"env", "-C", tmp.file("cwd"), "XDG_CONFIG_HOME=" + tmp.file("empty-dir")};
    size_t first = 0;
    while (first < c.args.size() && c.args[first].find('=') != std::string::npos && c.args[first][0] != '-') {
      argv.push_back(c.args[first++]);  // NAME=VALUE
    }
    argv.push_back(dial9_binary());
    argv.insert(argv.end(), c.args.begin() + static_cast<std::ptrdiff_t>(first), c.args.end());
    RunResult r = run(argv);
    INFO("bad-invocations.txt:" << c.line << ": dial9 " << [&] {
      std::string s;
      for (const auto& a : c.args) s += a + " ";
      return s;
    }() << "\nstderr: " << r.err << "stdout: " << r.out.substr(0, 500));
    CHECK(r.exit_code == c.exit_code);
    CHECK(r.err.find(c.says) != std::string::npos);
    CHECK(std::count(r.err.begin(), r.err.end(), '\n') == 1);
    CHECK(r.out.empty());
    for (const char* crash : {"terminate called", "Aborted", "what():", "Segmentation", "backtrace"}) {
      CHECK(r.err.find(crash) == std::string::npos);
    }
    CHECK(listing(tmp.path()) == before);
  }
}
