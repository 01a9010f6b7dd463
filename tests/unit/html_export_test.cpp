// The HTML viewer's page assembly, without a browser: data escaped so no
// string can leave its <script> element, every placeholder filled, the
// script allowed by its hash. The browser tests are in
// tests/integration/html_test.cpp.
#include <catch2/catch.hpp>

#include <string>

#include "report/export/html.h"

using namespace dial9::report;

TEST_CASE("script_safe_json escapes what could end a script element or a JavaScript line") {
  CHECK(script_safe_json(R"({"a":"</script><b>&x"})") == R"({"a":"\u003c/script\u003e\u003cb\u003e\u0026x"})");
  CHECK(script_safe_json("[\"a\xe2\x80\xa8" "b\xe2\x80\xa9" "c\"]") == R"(["a\u2028b\u2029c"])");
  // Other multi-byte characters, and a lone 0xE2, pass unchanged.
  CHECK(script_safe_json("[\"\xe2\x82\xac\xe2\"]") == "[\"\xe2\x82\xac\xe2\"]");
}

TEST_CASE("html_viewer fills the template and pins its script by hash") {
  TraceModel m;
  Report r;
  const std::string page = html_viewer(m, r);
  CHECK(page.rfind("<!DOCTYPE html>", 0) == 0);
  CHECK(page.find("{{") == std::string::npos);
  CHECK(page.find("script-src 'sha256-") != std::string::npos);
  CHECK(page.find("default-src 'none'") != std::string::npos);
  CHECK(page.find("id=\"dial9-data\">{\"version\":1,") != std::string::npos);
  CHECK(page.find("id=\"dial9-report\">{") != std::string::npos);
  size_t closes = 0;
  for (size_t p = page.find("</script>"); p != std::string::npos; p = page.find("</script>", p + 1)) ++closes;
  CHECK(closes == 3);
}
