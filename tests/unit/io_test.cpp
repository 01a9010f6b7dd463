// base/io: whole-file reads.
#include <catch2/catch.hpp>

#include <cerrno>
#include <stop_token>
#include <string>

#include "base/io.h"

using dial9::read_small_file;

TEST_CASE("read_small_file: reads a whole file, refuses one over the limit, and stops when asked") {
  // /proc/self/status: formatted by the kernel as it is read, like /proc/kallsyms.
  auto whole = read_small_file("/proc/self/status", 1 << 20);
  REQUIRE(whole);
  CHECK(whole->find("Name:") == 0);
  CHECK(whole->back() == '\n');

  auto too_big = read_small_file("/proc/self/status", 16);
  REQUIRE(!too_big);
  CHECK(too_big.error().message().find("larger than 16 bytes") != std::string::npos);

  std::stop_source stop;
  stop.request_stop();
  auto stopped = read_small_file("/proc/self/status", 1 << 20, stop.get_token());
  REQUIRE(!stopped);
  CHECK(stopped.error().errno_value() == ECANCELED);
}
