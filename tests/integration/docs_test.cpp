// Documentation is part of the feature: every option a command's --help
// lists must be in its man page and in the README.
#include <catch2/catch.hpp>

#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <regex>
#include <set>
#include <sstream>

#include <nlohmann/json.hpp>

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
  for (const std::vector<std::string>& cmd : dial9_commands()) {
    std::vector<std::string> argv{dial9_binary()};
    argv.insert(argv.end(), cmd.begin(), cmd.end());
    argv.push_back("--help");
    RunResult help = run(argv);
    REQUIRE(help.exit_code == 0);
    // `config show` is documented in dial9-config(1).
    std::string man = unroff(read_source_file("man/dial9-" + cmd[0] + ".1"));
    INFO("dial9 " << cmd[0] << (cmd.size() > 1 ? " " + cmd[1] : ""));
    REQUIRE(!man.empty());
    if (cmd.size() > 1) CHECK(man.find(cmd[1]) != std::string::npos);
    auto options = long_options(help.out);
    for (const std::string& opt : options) {
      INFO("option " << opt);
      CHECK(man.find(opt) != std::string::npos);
      CHECK(readme.find(opt) != std::string::npos);
    }
  }
}

TEST_CASE("every configuration key is in dial9.toml(5) with its environment variable") {
  const std::string page = unroff(read_source_file("man/dial9.toml.5"));
  REQUIRE(!page.empty());
  RunResult show = run({dial9_binary(), "config", "show", "--format", "json"});
  REQUIRE(show.exit_code == 0);
  auto sections = nlohmann::json::parse(show.out);
  size_t keys = 0;
  for (const auto& [section, entries] : sections.items()) {
    CHECK(page.find("[" + section + "]") != std::string::npos);
    for (const auto& [name, entry] : entries.items()) {
      INFO(section << "." << name);
      ++keys;
      // The page lists each key as a tagged paragraph of its own.
      CHECK(page.find("\n.B " + name + "\n") != std::string::npos);
      CHECK(page.find(entry["env"].get<std::string>()) != std::string::npos);
    }
  }
  CHECK(keys >= 30);
}

TEST_CASE("cmake --install puts every man page where man finds it") {
  if (::access("/usr/bin/man", X_OK) != 0) DIAL9_SKIP("man is not installed (Debian package man-db)");
  TempDir prefix;
  RunResult install = run({"cmake", "--install", DIAL9_BUILD_DIR, "--prefix", prefix.path()});
  INFO(install.out << install.err);
  REQUIRE(install.exit_code == 0);
  size_t pages = 0;
  for (const auto& entry : std::filesystem::directory_iterator(std::string(DIAL9_SOURCE_DIR) + "/man")) {
    std::string name = entry.path().stem().string();  // dial9-record, dial9.toml
    std::string section = entry.path().extension().string().substr(1);
    ++pages;
    RunResult where = run({"man", "-M", prefix.file("share/man"), "-w", section, name});
    INFO("man " << section << " " << name << ": " << where.err);
    CHECK(where.exit_code == 0);
    CHECK(where.out.find(prefix.file("share/man/man" + section + "/")) == 0);
  }
  CHECK(pages >= 8);
  // The app API's headers, where a compiler finds them with -I PREFIX/include.
  CHECK(std::filesystem::exists(prefix.file("include/dial9/dial9.h")));
  CHECK(std::filesystem::exists(prefix.file("include/dial9/asio.h")));
  // The installed binary finds its installed agent.
  RunResult rec = run({prefix.file("bin/dial9"), "record", "--sampler", "timer", "-o", prefix.file("trace"), "--",
                       FIXTURE_SPIN, "200"});
  INFO(rec.err);
  CHECK(rec.exit_code == 0);
  CHECK(rec.err.find("timer sampler: 1 process(es)") != std::string::npos);
}

TEST_CASE("dial9(3) documents every function, macro and class of the app API's header") {
  const std::string header = read_source_file("inject/agent/include/dial9/dial9.h");
  const std::string page = unroff(read_source_file("man/dial9.3"));
  REQUIRE(!header.empty());
  std::set<std::string> names;
  // The C calls (static inline dial9_...), the macros a program uses, the
  // C++ classes.
  std::regex c_call(R"(static inline [a-z0-9_ *]*?\b(dial9_[a-z_]+)\()");
  for (std::sregex_iterator it(header.begin(), header.end(), c_call), end; it != end; ++it) names.insert((*it)[1]);
  std::regex macro(R"(#define (DIAL9_(?:EVENT_TYPE|SPAN_SITE|SCOPE|IMPLEMENTATION))\b)");
  for (std::sregex_iterator it(header.begin(), header.end(), macro), end; it != end; ++it) names.insert((*it)[1]);
  for (const char* cls : {"EventType", "SpanSite", "Span"}) names.insert(std::string("dial9::") + cls);
  names.erase("dial9_api_get");  // the slot's reader, not an API call
  CHECK(names.size() >= 20);
  for (const std::string& name : names) {
    INFO(name);
    CHECK(page.find(name) != std::string::npos);
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

// bench/run runs the benchmarks it lists and writes each one's output into
// its section of docs/BENCHMARKS.md: a script it does not list, or one
// without a section, would leave figures that no command regenerates.
TEST_CASE("every bench/run_*.sh is run by bench/run and has its section in BENCHMARKS.md") {
  const std::string run = read_source_file("bench/run");
  const std::string doc = read_source_file("docs/BENCHMARKS.md");
  std::smatch m;
  REQUIRE(std::regex_search(run, m, std::regex(R"(\nall=\(([a-z_ ]+)\))")));
  std::set<std::string> listed;
  std::istringstream words(m[1].str());
  for (std::string w; words >> w;) listed.insert(w);
  std::set<std::string> scripts;
  for (const auto& e : std::filesystem::directory_iterator(std::string(DIAL9_SOURCE_DIR) + "/bench")) {
    const std::string name = e.path().filename().string();
    if (name.rfind("run_", 0) == 0 && e.path().extension() == ".sh") scripts.insert(name.substr(4, name.size() - 7));
  }
  REQUIRE(scripts.size() >= 13);
  CHECK(listed == scripts);
  for (const auto& s : scripts) {
    INFO("bench/run_" << s << ".sh");
    CHECK(doc.find("<!-- bench/run_" + s + ".sh: begin -->") != std::string::npos);
    CHECK(doc.find("<!-- bench/run_" + s + ".sh: end -->") != std::string::npos);
    CHECK(run.find("[" + s + "]=") != std::string::npos);  // its settings
  }
  CHECK(doc.find("<!-- bench/run: begin -->") != std::string::npos);
}
