// Helpers shared by the unit and integration tests.
#pragma once

#include <cstdint>
#include <cstdio>
#include <map>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "format/decoder.h"
#include "format/trace_file.h"

namespace dial9::test {

// Catch2 v2 has no SKIP: a test that cannot run prints this marker and
// returns; ctest's SKIP_REGULAR_EXPRESSION turns it into "Skipped".
#define DIAL9_SKIP(reason)                                   \
  do {                                                       \
    std::printf("DIAL9_SKIP: %s\n", std::string(reason).c_str()); \
    std::fflush(stdout);                                     \
    return;                                                  \
  } while (0)

// ../shared beside the checkout (set by CMake).
std::string shared_dir();
// The Tokio recorder's fixture, or nullopt when ../shared is absent.
std::optional<std::string> tokio_fixture_path();
// Events per schema name in that fixture, as ../shared/design/FORMAT.md lists
// them (SpanEnter/SpanExit are counted separately: see kTokioFixtureSpans).
const std::map<std::string, uint64_t>& tokio_fixture_counts();
inline constexpr uint64_t kTokioFixtureSpans = 28503;  // enters, and as many exits
std::vector<uint8_t> read_file_bytes(const std::string& path);
// A whole file as a string ("" when it cannot be read).
std::string read_text_file(const std::string& path);
// tests/data/golden.bin: the small committed trace of the report golden test.
std::string golden_trace_path();
std::vector<uint8_t> gunzip(std::span<const uint8_t> gz);
std::vector<uint8_t> gzip(std::span<const uint8_t> raw);
std::vector<uint8_t> zstd_compress(std::span<const uint8_t> raw, int level = 3);
// Every frame of a zstd file, decompressed (throws on corrupt data).
std::vector<uint8_t> zstd_decompress(std::span<const uint8_t> packed);
// Writes (creates or replaces) a whole file.
void write_file_bytes(const std::string& path, std::span<const uint8_t> data);

// Decodes bytes fed in chunks of `chunk` bytes (0 = all at once) and
// returns each event as its JSON line (without the newline): a canonical,
// comparable form of everything the decoder produced.
struct Decoded {
  std::vector<std::string> events;
  format::DecoderStats stats;
  std::vector<format::Diagnostic> diagnostics;
  bool truncated = false;
  uint64_t truncated_at = 0;
};
Decoded decode(std::span<const uint8_t> bytes, size_t chunk = 0);

// One self-contained TRC stream of `events` CpuSampleEvents starting at
// `ts_ns`, 1 ms apart, with stacks drawn at random from `seed` (about 20
// bytes a sample after zstd: less compressible than real profiles, so tests
// fill segments quickly). Returns the last timestamp in *last_ts.
std::vector<uint8_t> make_sample_batch(uint64_t ts_ns, int events, uint64_t seed,
                                       uint64_t* last_ts = nullptr);

// The path of the dial9 binary under test (set by CMake).
std::string dial9_binary();

struct RunResult {
  int exit_code = -1;  // or 128+signal
  std::string out;
  std::string err;
};
// Runs argv (no shell; argv[0] searched in PATH), capturing stdout and stderr.
RunResult run(const std::vector<std::string>& argv);

// The number just before `what` in `text` ("3 switch-out stack(s) taken":
// 3), or -1 when `what` is not there.
long number_before(const std::string& text, const std::string& what);

// Every command of `dial9 --help`, with the commands nested under one
// (`config show`), as the words that name it: {"record"}, {"config", "show"}.
// Tests of --help, man pages and completions go through this list, so a new
// command is covered without editing them.
std::vector<std::vector<std::string>> dial9_commands();

// A fresh temporary directory removed at scope exit.
class TempDir {
 public:
  TempDir();
  ~TempDir();
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  const std::string& path() const { return path_; }
  std::string file(const std::string& name) const { return path_ + "/" + name; }
  void write(const std::string& name, std::span<const uint8_t> data) const;

 private:
  std::string path_;
};

// A small tmpfs mounted at `dir` (created) for the scope, so a test can fill
// a disk. Needs root; `skip_reason()` says why it could not be mounted
// ("" when it was).
class SmallDisk {
 public:
  SmallDisk(const std::string& dir, const std::string& size);
  ~SmallDisk();
  SmallDisk(const SmallDisk&) = delete;
  SmallDisk& operator=(const SmallDisk&) = delete;
  const std::string& skip_reason() const { return skip_; }

 private:
  std::string dir_, skip_;
};

// The CPU samples of a trace directory, symbolized with report's Symbolizer:
// function names leaf first.
struct SymbolizedSample {
  uint32_t tid = 0;
  std::string thread_name;
  std::vector<std::string> frames;
  std::vector<std::string> modules;  // each frame's file name
};
std::vector<SymbolizedSample> symbolized_samples(const std::string& dir);

}  // namespace dial9::test
