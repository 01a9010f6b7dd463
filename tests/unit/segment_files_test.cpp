#include <catch2/catch.hpp>

#include "format/frame_codec.h"
#include "format/segment_files.h"
#include "format/trace_writer.h"
#include "tests/support/test_support.h"

using namespace dial9;
using namespace dial9::format;

TEST_CASE("segment names") {
  auto a = parse_segment_name("svc.12.bin.zst");
  REQUIRE(a);
  CHECK((a->stem == "svc" && a->index == 12 && !a->active));
  auto b = parse_segment_name("my.app.3.bin.active");
  REQUIRE(b);
  CHECK((b->stem == "my.app" && b->index == 3 && b->active));
  CHECK(parse_segment_name("x.0.bin.gz")->index == 0);
  CHECK(parse_segment_name("x.7.bin")->index == 7);
  for (const char* bad : {"x.bin", "x.a.bin", ".1.bin", "x.1.bin.zst.active", "x.1.txt", "x.1.bin.gz.tmp",
                          "x..bin", "x.1234567890123456789.bin"}) {
    INFO(bad);
    CHECK_FALSE(parse_segment_name(bad));
  }
}

TEST_CASE("retention deletes the oldest by recorded start time until the budget fits") {
  std::vector<SegmentRecord> s = {
      {"new.9.bin.zst", 100, 3000, 9},  // newest by time, though not by name
      {"old.1.bin.zst", 100, 1000, 1},
      {"mid.5.bin.zst", 100, 2000, 5},
  };
  CHECK(segments_to_delete(s, 0, 300).empty());
  CHECK(segments_to_delete(s, 0, 0).empty());  // unlimited
  CHECK(segments_to_delete(s, 50, 300) == std::vector<size_t>{1});
  CHECK(segments_to_delete(s, 0, 150) == std::vector<size_t>{1, 2});
  CHECK(segments_to_delete(s, 500, 100) == std::vector<size_t>{1, 2, 0});
  // Unknown start times (0) go first; ties break by index.
  s.push_back({"broken.4.bin.zst", 10, 0, 4});
  CHECK(segments_to_delete(s, 0, 300).front() == 3);
}

TEST_CASE("period boundaries are wall-clock multiples") {
  constexpr uint64_t s = 1000000000;
  CHECK(next_period_boundary(61 * s + 5, 60 * s) == 120 * s);
  CHECK(next_period_boundary(120 * s, 60 * s) == 180 * s);  // strictly after
  CHECK(next_period_boundary(0, 10) == 10);
  CHECK(next_period_boundary(5, 0) == UINT64_MAX);
}

TEST_CASE("complete_prefix finds the last whole frame of a cut file") {
  auto b1 = test::make_sample_batch(1000, 50, 1);
  auto b2 = test::make_sample_batch(2000000000, 50, 2);
  for (Compression c : {Compression::kZstd, Compression::kGzip, Compression::kNone}) {
    INFO(compression_name(c));
    auto comp = FrameCompressor::create(c, c == Compression::kNone ? 0 : 3);
    REQUIRE(comp);
    std::vector<uint8_t> f1, f2, file;
    REQUIRE(comp->compress(b1, f1));
    REQUIRE(comp->compress(b2, f2));
    file = f1;
    file.insert(file.end(), f2.begin(), f2.end());
    CHECK(complete_prefix(c, file) == file.size());
    // Cut inside the second frame: only the first survives (raw TRC keeps
    // every complete TRC frame of the second batch too).
    std::span<const uint8_t> cut(file.data(), f1.size() + f2.size() / 2);
    uint64_t keep = complete_prefix(c, cut);
    if (c == Compression::kNone) {
      CHECK(keep > f1.size());
      CHECK(keep <= cut.size());
    } else {
      CHECK(keep == f1.size());
    }
    CHECK(complete_prefix(c, std::span<const uint8_t>(file.data(), 3)) == 0);
    // Each frame on its own is a valid, standard container.
    size_t events = 0;
    auto r = read_trace_bytes(file, "frames", [&](const Event&) { ++events; });
    REQUIRE(r);
    CHECK(events == 100);
    CHECK_FALSE(r->truncated);
  }
}

TEST_CASE("complete_prefix of an uncompressed file stops before a zeroed tail") {
  auto b = test::make_sample_batch(1000, 20, 3);
  std::vector<uint8_t> file = b;
  file.resize(b.size() + 4096, 0);  // what a crash can leave in a file system's last block
  CHECK(complete_prefix(Compression::kNone, file) == b.size());
}
