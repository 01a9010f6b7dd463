// SegmentWriter against real files, processes and (when root) a full disk.
#include <catch2/catch.hpp>

#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <filesystem>
#include <random>
#include <thread>

#include "format/events.h"
#include "format/segment_files.h"
#include "format/segment_writer.h"
#include "format/trace_file.h"
#include "tests/support/test_support.h"

using namespace dial9;
using namespace dial9::format;
namespace fs = std::filesystem;

namespace {

uint64_t mono_now() {
  timespec t{};
  clock_gettime(CLOCK_MONOTONIC, &t);
  return static_cast<uint64_t>(t.tv_sec) * 1000000000u + static_cast<uint64_t>(t.tv_nsec);
}

struct Segments {
  std::vector<std::string> sealed, active;
  uint64_t bytes = 0;
};
Segments list_segments(const std::string& dir, const std::string& stem) {
  Segments out;
  std::error_code ec;
  for (const auto& e : fs::directory_iterator(dir, ec)) {
    auto n = parse_segment_name(e.path().filename().string());
    if (!n || n->stem != stem) continue;
    (n->active ? out.active : out.sealed).push_back(e.path().string());
    out.bytes += e.file_size(ec);
  }
  // In segment order (t.2 before t.10).
  auto index = [](const std::string& p) { return parse_segment_name(fs::path(p).filename().string())->index; };
  std::sort(out.sealed.begin(), out.sealed.end(),
            [&](const std::string& a, const std::string& b) { return index(a) < index(b); });
  return out;
}

struct FileCheck {
  bool ok = false;  // readable as a trace at all
  uint64_t events = 0;
  bool truncated = false;
  uint64_t corrupt = 0;
  std::string error;
  std::map<std::string, std::string> meta;
};
FileCheck check_file(const std::string& path) {
  FileCheck c;
  auto r = read_trace_file(path, [&](const Event& e) {
    ++c.events;
    if (e.builtin() == Builtin::kSegmentMetadata) {
      for_each_metadata(e, [&](std::string_view k, std::string_view v) { c.meta[std::string(k)] = v; });
    }
  });
  if (!r) {
    c.error = r.error().message();
    return c;
  }
  c.ok = true;
  c.truncated = r->truncated;
  c.corrupt = r->stats.corrupt_frames + (r->container_error.empty() ? 0 : 1);
  return c;
}

// Every sealed segment must decode completely.
void require_sealed_intact(const Segments& s) {
  for (const auto& p : s.sealed) {
    INFO(p);
    auto c = check_file(p);
    REQUIRE(c.ok);
    REQUIRE_FALSE(c.truncated);
    REQUIRE(c.corrupt == 0);
    REQUIRE(c.events >= 2);  // at least the clock sync and metadata
  }
}

// Appends `batches` sample batches of `per_batch` events, back to back in
// time from `ts`; returns the timestamp after the last one.
uint64_t append_batches(SegmentWriter& w, int batches, int per_batch, uint64_t ts, int pause_every = 0) {
  for (int i = 0; i < batches; ++i) {
    uint64_t last = 0;
    auto b = test::make_sample_batch(ts, per_batch, static_cast<uint64_t>(i), &last);
    w.append(b, ts, last);
    ts = last + 1;
    if (pause_every && i % pause_every == 0) std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  return ts;
}

SegmentOptions small_options(const std::string& dir) {
  SegmentOptions o;
  o.dir = dir;
  o.stem = "t";
  o.max_file_size = 64 << 10;
  o.max_total_size = 256 << 10;
  o.chunk_bytes = 8 << 10;
  // Tests append in tight loops, far faster than real capture; a deep queue
  // keeps the writer's drop-when-behind policy out of what they measure.
  o.queue_chunks = 100000;
  o.log = [](const std::string&) {};
  return o;
}

}  // namespace

TEST_CASE("sustained writing stays within the budget plus one segment") {
  test::TempDir tmp;
  SegmentOptions o = small_options(tmp.path());
  auto w = SegmentWriter::open(o);
  REQUIRE(w);
  std::atomic<bool> done{false};
  uint64_t max_seen = 0, samples = 0;
  std::thread sampler([&] {
    while (!done) {
      max_seen = std::max(max_seen, list_segments(tmp.path(), "t").bytes);
      ++samples;
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
  });
  auto until = std::chrono::steady_clock::now() + std::chrono::seconds(30);
  uint64_t ts = mono_now();
  for (uint64_t seed = 1; std::chrono::steady_clock::now() < until; ++seed) {
    uint64_t last = 0;
    auto batch = test::make_sample_batch(ts, 20, seed, &last);
    (*w)->append(batch, ts, last);
    ts = last + 1000000;
    std::this_thread::sleep_for(std::chrono::microseconds(500));
  }
  REQUIRE((*w)->close());
  done = true;
  sampler.join();
  auto st = (*w)->stats();
  INFO("sealed " << st.segments_sealed << " deleted " << st.segments_deleted << " max " << max_seen);
  CHECK(samples > 1000);
  CHECK(st.segments_sealed > 20);  // it really rotated, many times
  CHECK(st.segments_deleted > 10);
  CHECK(st.dropped_batches == 0);
  CHECK(max_seen <= o.max_total_size + o.max_file_size);
  auto s = list_segments(tmp.path(), "t");
  CHECK(s.active.empty());
  CHECK(s.bytes <= o.max_total_size);
  require_sealed_intact(s);
}

TEST_CASE("segments are self-contained, standard files with the metadata, modes 0700/0600") {
  test::TempDir tmp;
  for (Compression c : {Compression::kZstd, Compression::kGzip, Compression::kNone}) {
    INFO(compression_name(c));
    std::string dir = tmp.file(std::string("out-") + compression_name(c) + "/nested");
    SegmentOptions o = small_options(dir);
    o.compression = c;
    o.max_total_size = 0;
    o.metadata = {{"service", "unit-test"}, {"pid", "42"}};
    auto w = SegmentWriter::open(o);
    REQUIRE(w);
    append_batches(**w, 1000, 10, mono_now());
    REQUIRE((*w)->close());
    struct stat st {};
    REQUIRE(::stat(dir.c_str(), &st) == 0);
    CHECK((st.st_mode & 0777) == 0700);
    auto s = list_segments(dir, "t");
    REQUIRE(s.sealed.size() >= 2);
    CHECK(s.active.empty());
    uint64_t events = 0;
    for (const auto& p : s.sealed) {
      REQUIRE(::stat(p.c_str(), &st) == 0);
      CHECK((st.st_mode & 0777) == 0600);
      auto f = check_file(p);
      REQUIRE(f.ok);
      CHECK(f.meta["service"] == "unit-test");
      CHECK(f.meta.count("segment") == 1);
      for (const char* key : {"host", "kernel", "dial9_version", "writer_pid", "compression"}) {
        CHECK(!f.meta[key].empty());
      }
      events += f.events - 2;
      // The stock tools expand it to a valid TRC stream.
      std::vector<std::string> tool;
      if (c == Compression::kZstd) tool = {"/usr/bin/zstd", "-dc", p};
      if (c == Compression::kGzip) tool = {"/bin/gzip", "-dc", p};
      if (!tool.empty()) {
        auto r = test::run(tool);
        REQUIRE(r.exit_code == 0);
        auto d = test::decode({reinterpret_cast<const uint8_t*>(r.out.data()), r.out.size()});
        CHECK(d.events.size() == f.events);
        CHECK_FALSE(d.truncated);
      }
    }
    CHECK(events == 10000);
  }
}

TEST_CASE("time rotation makes non-overlapping segments aligned to the period") {
  test::TempDir tmp;
  SegmentOptions o = small_options(tmp.path());
  o.max_total_size = 0;
  o.max_file_size = 64 << 20;
  o.rotation_period_ns = 500'000'000;  // 0.5 s
  auto w = SegmentWriter::open(o);
  REQUIRE(w);
  auto until = std::chrono::steady_clock::now() + std::chrono::milliseconds(2200);
  for (uint64_t seed = 1; std::chrono::steady_clock::now() < until; ++seed) {
    uint64_t ts = mono_now(), last = 0;
    auto b = test::make_sample_batch(ts, 1, seed, &last);
    (*w)->append(b, ts, last);
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  REQUIRE((*w)->close());
  auto s = list_segments(tmp.path(), "t");
  REQUIRE(s.sealed.size() >= 4);
  std::vector<std::pair<uint64_t, uint64_t>> ranges;  // realtime [min, max] of samples
  for (const auto& p : s.sealed) {
    uint64_t offset = 0, lo = UINT64_MAX, hi = 0;
    REQUIRE(read_trace_file(p, [&](const Event& e) {
      if (e.builtin() == Builtin::kClockSync && offset == 0) offset = as_clock_sync(e).realtime_ns - e.timestamp_ns;
      if (e.builtin() != Builtin::kCpuSample) return;
      lo = std::min(lo, e.timestamp_ns + offset);
      hi = std::max(hi, e.timestamp_ns + offset);
    }));
    if (hi == 0) continue;
    INFO(p);
    // All samples of a segment fall in one period window, give or take
    // what the segment's clock anchor and the writer's differ by (each a
    // pair of clock reads; microseconds, unless both were preempted).
    constexpr uint64_t kAnchorSlackNs = 1'000'000;
    CHECK((lo + kAnchorSlackNs) / o.rotation_period_ns == (hi - kAnchorSlackNs) / o.rotation_period_ns);
    ranges.emplace_back(lo, hi);
  }
  std::sort(ranges.begin(), ranges.end());
  for (size_t i = 1; i < ranges.size(); ++i) CHECK(ranges[i - 1].second < ranges[i].first);
}

TEST_CASE("retention counts the segments of an earlier run") {
  test::TempDir tmp;
  SegmentOptions o = small_options(tmp.path());
  o.max_total_size = 0;  // the first run keeps everything
  o.compression = Compression::kNone;  // predictable sizes
  {
    auto w = SegmentWriter::open(o);
    REQUIRE(w);
    append_batches(**w, 400, 20, mono_now());
    REQUIRE((*w)->close());
  }
  auto first = list_segments(tmp.path(), "t");
  REQUIRE(first.bytes > 600u << 10);
  // The second run has a 256 KiB budget: the first run's oldest go.
  o.max_total_size = 256 << 10;
  auto w = SegmentWriter::open(o);
  REQUIRE(w);
  CHECK((*w)->stats().segments_deleted > 0);
  uint64_t ts = mono_now();
  uint64_t last = 0;
  auto b = test::make_sample_batch(ts, 20, 7, &last);
  (*w)->append(b, ts, last);
  REQUIRE((*w)->close());
  auto second = list_segments(tmp.path(), "t");
  CHECK(second.bytes <= o.max_total_size);
  CHECK_FALSE(fs::exists(first.sealed.front()));  // the oldest of run 1 is gone
  // The newest of run 1 is kept, and numbering continued after it.
  CHECK(fs::exists(first.sealed.back()) == (second.sealed.size() > 1));
  auto n = parse_segment_name(fs::path(second.sealed.back()).filename().string());
  CHECK(n->index >= first.sealed.size());
}

TEST_CASE("a batch that is not a self-contained stream is dropped, not written") {
  test::TempDir tmp;
  SegmentOptions o = small_options(tmp.path());
  std::vector<std::string> logs;
  o.log = [&](const std::string& l) { logs.push_back(l); };
  auto w = SegmentWriter::open(o);
  REQUIRE(w);
  auto good = test::make_sample_batch(mono_now(), 3, 1);
  std::vector<uint8_t> headless(good.begin() + 5, good.end());
  (*w)->append(headless, 1, 2);
  (*w)->append(good, 1, 2);
  REQUIRE((*w)->close());
  CHECK((*w)->stats().dropped_batches == 1);
  CHECK(logs.size() == 1);
  auto s = list_segments(tmp.path(), "t");
  REQUIRE(s.sealed.size() == 1);
  CHECK(check_file(s.sealed[0]).events == 5);  // header stream + the good batch
}

TEST_CASE("a planted symlink at the next segment path is not followed") {
  test::TempDir tmp;
  std::string outside = tmp.file("outside.txt");
  std::string content = "precious";
  tmp.write("outside.txt", std::vector<uint8_t>(content.begin(), content.end()));
  std::string dir = tmp.file("out");
  REQUIRE(::mkdir(dir.c_str(), 0700) == 0);
  REQUIRE(::symlink(outside.c_str(), (dir + "/t.0.bin.active").c_str()) == 0);
  REQUIRE(::symlink(outside.c_str(), (dir + "/t.1.bin.zst").c_str()) == 0);
  SegmentOptions o = small_options(dir);
  std::vector<std::string> logs;
  o.log = [&](const std::string& l) { logs.push_back(l); };
  auto w = SegmentWriter::open(o);
  REQUIRE(w);
  append_batches(**w, 3, 5, mono_now());
  REQUIRE((*w)->close());
  // The outside file is untouched, the symlinks are still symlinks, and
  // the data went to the next free number.
  CHECK(test::read_file_bytes(outside) == std::vector<uint8_t>(content.begin(), content.end()));
  CHECK(fs::is_symlink(dir + "/t.0.bin.active"));
  CHECK(fs::is_symlink(dir + "/t.1.bin.zst"));
  auto s = list_segments(dir, "t");
  REQUIRE(s.sealed.size() == 2);  // the symlink t.1 and the real t.2
  CHECK(check_file(dir + "/t.2.bin.zst").events == 2 + 15);
  CHECK(logs.empty());  // t.0/t.1 were taken at open: numbering starts after them
  // A symlink planted after open is met at create time: skipped, said why.
  REQUIRE(::symlink(outside.c_str(), (dir + "/t.3.bin.active").c_str()) == 0);
  auto w2 = SegmentWriter::open(o);
  REQUIRE(w2);
  REQUIRE(::unlink((dir + "/t.3.bin.active").c_str()) == 0);
  REQUIRE(::symlink(outside.c_str(), (dir + "/t.4.bin.active").c_str()) == 0);
  append_batches(**w2, 1, 5, mono_now());
  REQUIRE((*w2)->close());
  REQUIRE(logs.size() == 1);
  CHECK_THAT(logs[0], Catch::Contains("refusing to write '" + dir + "/t.4.bin.active'") &&
                          Catch::Contains("not followed"));
  CHECK(test::read_file_bytes(outside) == std::vector<uint8_t>(content.begin(), content.end()));
  CHECK(fs::exists(dir + "/t.5.bin.zst"));
}

TEST_CASE("two writers of one stem in one directory do not disturb each other") {
  test::TempDir tmp;
  SegmentOptions o = small_options(tmp.path());
  o.max_total_size = 0;
  auto a = SegmentWriter::open(o);
  REQUIRE(a);
  append_batches(**a, 50, 20, mono_now());
  (*a)->flush();
  std::this_thread::sleep_for(std::chrono::milliseconds(100));  // a's .active exists now
  auto b = SegmentWriter::open(o);  // must not "recover" a's live segment
  REQUIRE(b);
  CHECK((*b)->stats().segments_recovered == 0);
  append_batches(**b, 50, 20, mono_now());
  append_batches(**a, 50, 20, mono_now());
  REQUIRE((*a)->close());
  REQUIRE((*b)->close());
  auto s = list_segments(tmp.path(), "t");
  CHECK(s.active.empty());
  require_sealed_intact(s);
  uint64_t samples = 0;
  for (const auto& p : s.sealed) samples += check_file(p).events - 2;
  CHECK(samples == 3 * 50 * 20);
}

TEST_CASE("no segment outgrows max_file_size, whatever the batch size") {
  test::TempDir tmp;
  SegmentOptions o = small_options(tmp.path());
  o.max_total_size = 0;
  o.max_file_size = 8192;
  o.compression = Compression::kNone;
  std::vector<std::string> logs;
  o.log = [&](const std::string& l) { logs.push_back(l); };
  auto w = SegmentWriter::open(o);
  REQUIRE(w);
  append_batches(**w, 40, 12, mono_now());                                    // ~1.7 KB batches
  auto huge = test::make_sample_batch(mono_now(), 200, 99);                    // ~28 KB: cannot fit
  (*w)->append(huge, 1, 2);
  REQUIRE((*w)->close());
  auto s = list_segments(tmp.path(), "t");
  REQUIRE(s.sealed.size() > 3);
  for (const auto& p : s.sealed) CHECK(fs::file_size(p) <= o.max_file_size);
  require_sealed_intact(s);
  CHECK((*w)->stats().dropped_batches == 1);
  REQUIRE(logs.size() == 1);
  CHECK_THAT(logs[0], Catch::Contains("does not fit"));
}

TEST_CASE("on-seal runs a command per sealed segment, failures are counted") {
  test::TempDir tmp;
  std::string shipped = tmp.file("shipped");
  REQUIRE(::mkdir(shipped.c_str(), 0700) == 0);
  SegmentOptions o = small_options(tmp.file("out"));
  o.max_total_size = 0;
  o.max_file_size = 16 << 10;
  o.on_seal = "cp {} " + shipped + "/";
  auto w = SegmentWriter::open(o);
  REQUIRE(w);
  append_batches(**w, 100, 20, mono_now());
  REQUIRE((*w)->close());
  auto s = list_segments(tmp.file("out"), "t");
  REQUIRE(s.sealed.size() >= 2);
  for (const auto& p : s.sealed) {
    INFO(p);
    CHECK(test::read_file_bytes(shipped + "/" + fs::path(p).filename().string()) == test::read_file_bytes(p));
  }
  CHECK((*w)->stats().on_seal_failures == 0);

  SegmentOptions bad = small_options(tmp.file("out2"));
  bad.on_seal = "exit 3";
  std::vector<std::string> logs;
  bad.log = [&](const std::string& l) { logs.push_back(l); };
  auto w2 = SegmentWriter::open(bad);
  REQUIRE(w2);
  auto b = test::make_sample_batch(mono_now(), 5, 1);
  (*w2)->append(b, 1, 2);
  REQUIRE((*w2)->close());  // a failing command never fails recording
  CHECK((*w2)->stats().on_seal_failures == 1);
  REQUIRE(logs.size() == 1);
  CHECK_THAT(logs[0], Catch::Contains("on-seal command") && Catch::Contains("exit status 3"));
}

TEST_CASE("SIGKILL at 200 random moments loses nothing that was sealed, .active is recovered") {
  test::TempDir tmp;
  const std::string child = SEGMENT_WRITER_CHILD;
  std::mt19937 rng(20261122);
  std::uniform_int_distribution<int> delay_us(2000, 60000);
  uint64_t active_seen = 0, recovered = 0;
  for (int round = 0; round < 200; ++round) {
    // Even rounds kill at a random moment after spawning (start-up and
    // recovery included); odd rounds once the child reports it is writing.
    int ready[2];
    REQUIRE(::pipe(ready) == 0);
    pid_t pid = fork();
    REQUIRE(pid >= 0);
    if (pid == 0) {
      ::dup2(ready[1], 1);
      ::close(ready[0]);
      execl(child.c_str(), child.c_str(), tmp.path().c_str(), round % 3 == 1 ? "gzip" : "zstd",
            static_cast<char*>(nullptr));
      _exit(127);
    }
    ::close(ready[1]);
    if (round % 2 == 1) {
      char c;
      REQUIRE(::read(ready[0], &c, 1) == 1);
    }
    std::this_thread::sleep_for(std::chrono::microseconds(delay_us(rng)));
    ::kill(pid, SIGKILL);
    ::close(ready[0]);
    int status = 0;
    REQUIRE(::waitpid(pid, &status, 0) == pid);
    REQUIRE(WIFSIGNALED(status));  // it was still writing: we killed it
    auto s = list_segments(tmp.path(), "kill");
    INFO("round " << round);
    require_sealed_intact(s);
    for (const auto& p : s.active) {
      ++active_seen;
      auto c = check_file(p);
      // Decodes up to its last complete frame: never corrupt, at worst cut.
      if (c.ok) REQUIRE(c.corrupt == 0);
    }
  }
  // A final start in the same directory recovers what the last kill left.
  SegmentOptions o = small_options(tmp.path());
  o.stem = "kill";
  o.max_total_size = 512 << 10;
  auto w = SegmentWriter::open(o);
  REQUIRE(w);
  recovered = (*w)->stats().segments_recovered;
  REQUIRE((*w)->close());
  auto s = list_segments(tmp.path(), "kill");
  CHECK(s.active.empty());
  require_sealed_intact(s);
  CHECK(active_seen > 100);
  bool any_recovered = false;
  for (const auto& p : s.sealed) any_recovered = any_recovered || check_file(p).meta["recovered"] == "true";
  CHECK((recovered > 0 || any_recovered));
}

TEST_CASE("a full disk is reported once, sealed segments stay intact") {
  test::TempDir tmp;
  std::string mnt = tmp.file("small");
  test::SmallDisk disk(mnt, "1m");
  if (!disk.skip_reason().empty()) DIAL9_SKIP(disk.skip_reason());
  SegmentOptions o = small_options(mnt);
  o.max_total_size = 0;  // no budget: the disk fills up
  o.max_file_size = 128 << 10;
  o.compression = Compression::kNone;  // fill it fast
  std::vector<std::string> logs;
  o.log = [&](const std::string& l) { logs.push_back(l); };
  auto w = SegmentWriter::open(o);
  REQUIRE(w);
  append_batches(**w, 3000, 20, mono_now(), 50);
  auto r = (*w)->close();
  REQUIRE_FALSE(r);
  CHECK(r.error().errno_value() == ENOSPC);
  CHECK_THAT(r.error().message(), Catch::Contains("No space left on device") && Catch::Contains(mnt));
  for (const auto& l : logs) UNSCOPED_INFO("log: " << l);
  // Reported once (a "writer is behind" warning may come before it: the
  // loop appends faster than a 2-core machine compresses).
  CHECK(std::count_if(logs.begin(), logs.end(), [](const std::string& l) {
          return l.find("No space left on device") != std::string::npos;
        }) == 1);
  CHECK((*w)->stats().dropped_batches > 0);
  auto s = list_segments(mnt, "t");
  CHECK(s.sealed.size() >= 5);
  CHECK(s.active.empty());
  require_sealed_intact(s);
}

// A slow disk fills the writer's queue and whole chunks are dropped. The
// trace must say how many records it is missing (LostEvent, source 2), so a
// report's loss figure is right: every record appended is either read back
// or counted as lost, exactly.
TEST_CASE("chunks dropped for a full queue are counted in the trace as LostEvent source 2") {
  test::TempDir tmp;
  SegmentOptions o = small_options(tmp.path());
  o.max_total_size = 0;      // keep every segment, to count everything
  o.max_file_size = 32 << 10;
  o.chunk_bytes = 4 << 10;
  o.queue_chunks = 1;
  // Sealing that takes 20 ms stands in for a slow disk.
  o.seal_appendix = [](const std::string&) {
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
    return std::vector<uint8_t>{};
  };
  auto w = SegmentWriter::open(o);
  REQUIRE(w);
  const int batches = 400, per_batch = 40;
  uint64_t ts = mono_now();
  for (int i = 0; i < batches; ++i) {
    uint64_t last = 0;
    auto b = test::make_sample_batch(ts, per_batch, static_cast<uint64_t>(i), &last);
    (*w)->append(b, ts, last, per_batch);
    ts = last + 1;
  }
  REQUIRE((*w)->close());
  const SegmentStats st = (*w)->stats();
  INFO("dropped " << st.dropped_batches << " batches, " << st.dropped_records << " records");
  REQUIRE(st.dropped_batches > 0);
  REQUIRE(st.dropped_records == st.dropped_batches * per_batch);

  uint64_t samples = 0, lost = 0, lost_events = 0;
  for (const auto& path : list_segments(tmp.path(), "t").sealed) {
    auto r = read_trace_file(path, [&](const Event& e) {
      if (e.builtin() == Builtin::kCpuSample) ++samples;
      if (e.builtin() == Builtin::kLost) {
        Lost l = as_lost(e);
        CHECK(l.source == static_cast<uint8_t>(LostSource::kWriterQueue));
        CHECK(l.cpu == 0);
        lost += l.count;
        ++lost_events;
      }
    });
    REQUIRE(r);
  }
  CHECK(lost_events > 0);
  CHECK(lost == st.dropped_records);
  CHECK(samples + lost == static_cast<uint64_t>(batches) * per_batch);
}
