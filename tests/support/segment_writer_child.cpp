// A process that writes segments until it is killed, for the crash tests:
//   segment_writer_child DIR [compression]
// Small segments and frequent flushes, so a SIGKILL lands at every stage
// (mid-frame, mid-seal, mid-retention, mid-recovery at start-up).
#include <time.h>
#include <unistd.h>

#include <cstdio>
#include <cstring>
#include <string>

#include "format/segment_writer.h"
#include "tests/support/test_support.h"

int main(int argc, char** argv) {
  if (argc < 2) {
    std::fprintf(stderr, "usage: %s DIR [zstd|gzip|none]\n", argv[0]);
    return 2;
  }
  dial9::format::SegmentOptions o;
  o.dir = argv[1];
  o.stem = "kill";
  std::string c = argc > 2 ? argv[2] : "zstd";
  o.compression = c == "gzip"   ? dial9::format::Compression::kGzip
                  : c == "none" ? dial9::format::Compression::kNone
                                : dial9::format::Compression::kZstd;
  o.max_file_size = 64 << 10;
  o.max_total_size = 512 << 10;
  o.chunk_bytes = 8 << 10;
  o.log = [](const std::string&) {};
  auto w = dial9::format::SegmentWriter::open(o);
  if (!w) {
    std::fprintf(stderr, "segment_writer_child: %s\n", w.error().message().c_str());
    return 1;
  }
  // Tell the test we are past start-up (recovery) and about to write.
  if (::write(1, "w", 1) != 1) return 1;
  timespec now{};
  clock_gettime(CLOCK_MONOTONIC, &now);
  uint64_t ts = static_cast<uint64_t>(now.tv_sec) * 1000000000u + static_cast<uint64_t>(now.tv_nsec);
  for (uint64_t seed = 1;; ++seed) {
    uint64_t last = 0;
    auto batch = dial9::test::make_sample_batch(ts, 20, seed, &last);
    (*w)->append(batch, ts, last);
    ts = last + 1000000;
    if (seed % 4 == 0) (*w)->flush();
    timespec pause{0, 200000};  // 0.2 ms: about 100k samples/s
    nanosleep(&pause, nullptr);
  }
}
