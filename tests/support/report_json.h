// `dial9 report --format json ARGS...` run and parsed, for integration tests.
#pragma once

#include <catch2/catch.hpp>

#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "tests/support/test_support.h"

namespace dial9::test {

inline nlohmann::json report_json(const std::vector<std::string>& args) {
  std::vector<std::string> argv = {dial9_binary(), "report", "--format", "json"};
  argv.insert(argv.end(), args.begin(), args.end());
  RunResult r = run(argv);
  INFO(r.err);
  REQUIRE(r.exit_code == 0);
  return nlohmann::json::parse(r.out);
}

}  // namespace dial9::test
