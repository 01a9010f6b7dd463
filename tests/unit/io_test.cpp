// base/io: whole-file and line-at-a-time reads.
#include <catch2/catch.hpp>

#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <stop_token>
#include <string>
#include <vector>

#include "base/io.h"

using dial9::for_each_line;
using dial9::read_small_file;

namespace {

// A temporary file holding `text`, removed at the end of the test.
struct TempFile {
  std::string path;
  explicit TempFile(const std::string& text) {
    char name[] = "/tmp/dial9-io-test.XXXXXX";
    int fd = ::mkstemp(name);
    REQUIRE(fd >= 0);
    REQUIRE(::write(fd, text.data(), text.size()) == static_cast<ssize_t>(text.size()));
    ::close(fd);
    path = name;
  }
  ~TempFile() { ::unlink(path.c_str()); }
};

std::vector<std::string> lines_of(const std::string& path) {
  std::vector<std::string> out;
  auto ok = for_each_line(path, [&](std::string_view l) { out.emplace_back(l); });
  REQUIRE(ok);
  return out;
}

}  // namespace

TEST_CASE("read_small_file: reads a whole file and refuses one over the limit") {
  // /proc/self/status: formatted by the kernel as it is read.
  auto whole = read_small_file("/proc/self/status", 1 << 20);
  REQUIRE(whole);
  CHECK(whole->find("Name:") == 0);
  CHECK(whole->back() == '\n');

  auto too_big = read_small_file("/proc/self/status", 16);
  REQUIRE(!too_big);
  CHECK(too_big.error().message().find("larger than 16 bytes") != std::string::npos);
}

TEST_CASE("for_each_line: every line once, across chunk boundaries, and stops when asked") {
  // Lines that straddle the 64 KiB chunks, one longer than a chunk, and a
  // last line without its newline.
  std::string text;
  std::vector<std::string> expect;
  for (int i = 0; i < 5000; ++i) expect.push_back("line " + std::to_string(i) + std::string(static_cast<size_t>(i % 37), 'x'));
  expect.push_back(std::string(200000, 'L'));
  expect.push_back("");
  expect.push_back("the end, unterminated");
  for (size_t i = 0; i < expect.size(); ++i) text += expect[i] + (i + 1 < expect.size() ? "\n" : "");
  TempFile f(text);
  CHECK(lines_of(f.path) == expect);

  TempFile empty("");
  CHECK(lines_of(empty.path).empty());

  std::stop_source stop;
  stop.request_stop();
  int calls = 0;
  auto stopped = for_each_line(f.path, [&](std::string_view) { ++calls; }, stop.get_token());
  REQUIRE(!stopped);
  CHECK(stopped.error().errno_value() == ECANCELED);
  CHECK(calls == 0);

  auto missing = for_each_line("/nonexistent/dial9", [](std::string_view) {});
  REQUIRE(!missing);
  CHECK(missing.error().message().find("/nonexistent/dial9") != std::string::npos);
}
