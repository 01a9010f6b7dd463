// ARCHITECTURE.md's dependency table, enforced: each module includes only the
// modules and third-party headers it may use, and third-party headers appear
// only in .cpp files (narrow headers).
#include <catch2/catch.hpp>

#include <filesystem>
#include <fstream>
#include <map>
#include <regex>
#include <set>

namespace fs = std::filesystem;

namespace {

const std::map<std::string, std::set<std::string>> kAllowedModules = {
    {"base", {"base"}},
    {"format", {"format", "base"}},
    {"capture", {"capture", "format", "base"}},
    {"inject", {"inject", "format", "base"}},
    {"report", {"report", "format", "base"}},
    {"cli", {"cli", "capture", "inject", "report", "format", "base"}},
};

// Third-party include prefixes and the module that owns each.
const std::vector<std::pair<std::string, std::string>> kThirdParty = {
    {"zstd.h", "format"},        {"zlib.h", "format"},      {"perfmon/", "capture"},
    {"elfutils/", "report"},     {"dwarf.h", "report"},     {"libelf.h", "report"},
    {"gelf.h", "report"},        {"nlohmann/", "report"},
    {"google/protobuf", "report"}, {"boost/process", "inject"}, {"CLI/", "cli"},
    {"toml++/", "cli"},          {"catch2/", "tests"},
};

}  // namespace

TEST_CASE("modules include only what ARCHITECTURE.md allows") {
  const fs::path root = DIAL9_SOURCE_DIR;
  const std::regex include_re(R"(^\s*#\s*include\s*([<"])([^>"]+)[>"])");
  std::vector<std::string> violations;
  size_t files = 0;
  for (const auto& [module, allowed] : kAllowedModules) {
    if (!fs::exists(root / module)) continue;
    for (const auto& entry : fs::recursive_directory_iterator(root / module)) {
      auto ext = entry.path().extension().string();
      if (ext != ".h" && ext != ".cpp") continue;
      ++files;
      bool header = ext == ".h";
      std::ifstream in(entry.path());
      std::string line;
      int lineno = 0;
      while (std::getline(in, line)) {
        ++lineno;
        std::smatch m;
        if (!std::regex_search(line, m, include_re)) continue;
        std::string inc = m[2];
        std::string where = fs::relative(entry.path(), root).string() + ":" + std::to_string(lineno);
        if (m[1] == "\"") {
          auto slash = inc.find('/');
          std::string target = slash == std::string::npos ? "" : inc.substr(0, slash);
          if (kAllowedModules.count(target) && !allowed.count(target)) {
            violations.push_back(where + ": " + module + " must not include " + inc);
          }
          continue;
        }
        for (const auto& [prefix, owner] : kThirdParty) {
          if (inc.rfind(prefix, 0) != 0) continue;
          if (owner != module) {
            violations.push_back(where + ": " + inc + " belongs to " + owner + "/");
          } else if (header) {
            violations.push_back(where + ": third-party header " + inc + " in a header");
          }
        }
      }
    }
  }
  CHECK(files > 10);
  for (const auto& v : violations) FAIL_CHECK(v);
}
