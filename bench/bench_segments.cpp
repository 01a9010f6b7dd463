// bench_segments: what writing segments costs, on real stacks.
//
//   bench_segments --perf-script FILE [--seconds S] [--threads N] [--hz F]
//                  [--batch-ms M] [--json]
//
// FILE is `perf script -F tid,time,ip` output of a `perf record -g` run
// (bench/run_segments.sh makes it). Two measurements per container:
//
//   same-samples  perf's own samples, as CpuSampleEvents in batches of
//                 --batch-ms, through SegmentWriter: bytes per sample,
//                 comparable with perf.data's.
//   rate          --threads threads sampled at --hz for --seconds of
//                 simulated time (each thread replays one perf thread's
//                 stack sequence), through SegmentWriter: the background
//                 thread's CPU time (compression, writing, sealing) as a
//                 share of one core, and bytes per sample.
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <map>
#include <sstream>
#include <string>
#include <vector>

#include "format/segment_writer.h"
#include "format/trace_writer.h"

using namespace dial9::format;
namespace fs = std::filesystem;

namespace {

[[noreturn]] void die(const std::string& m) {
  std::fprintf(stderr, "bench_segments: %s\n", m.c_str());
  std::exit(1);
}

struct Sample {
  uint32_t tid;
  uint64_t ts;
  std::vector<uint64_t> stack;  // leaf first
};

// perf script prints "TID TIME: " then one ip per line, a blank line after.
// User addresses of a PIE come out as small file offsets; lift them to a
// typical mapping base so they look like the addresses a recorder stores.
std::vector<Sample> read_perf_script(const std::string& path) {
  std::ifstream in(path);
  if (!in) die("cannot read " + path);
  std::vector<Sample> out;
  std::string line;
  Sample cur;
  bool open = false;
  while (std::getline(in, line)) {
    if (line.empty()) {
      if (open && !cur.stack.empty()) out.push_back(cur);
      open = false;
      continue;
    }
    if (line[0] != '\t' && line[0] != ' ' ? true : line.find(':') != std::string::npos) {
      std::istringstream ls(line);
      double t = 0;
      char colon;
      cur = Sample{};
      if (ls >> cur.tid >> t >> colon) {
        cur.ts = static_cast<uint64_t>(t * 1e9);
        open = true;
      }
      continue;
    }
    if (open) {
      uint64_t ip = std::strtoull(line.c_str(), nullptr, 16);
      if (ip < (uint64_t{1} << 32)) ip += 0x555555554000ull;
      cur.stack.push_back(ip);
    }
  }
  if (open && !cur.stack.empty()) out.push_back(cur);
  return out;
}

uint64_t dir_bytes(const std::string& dir) {
  uint64_t n = 0;
  for (const auto& e : fs::directory_iterator(dir)) n += e.file_size();
  return n;
}

double cpu_seconds() {
  timespec t{};
  clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &t);
  return static_cast<double>(t.tv_sec) + static_cast<double>(t.tv_nsec) / 1e9;
}

struct Config {
  const char* name;
  Compression c;
  int level;
};

struct Outcome {
  uint64_t samples = 0;
  uint64_t bytes = 0;
  double background_cpu_s = 0;
  double encode_cpu_s = 0;  // building the batches (capture's share, not sealing's)
  double simulated_s = 0;
};

// Writes `samples` (sorted by time) in batches of `batch_ns`.
Outcome write_samples(const Config& cfg, const std::vector<Sample>& samples, uint64_t batch_ns,
                      const std::string& dir) {
  fs::remove_all(dir);
  SegmentOptions o;
  o.dir = dir;
  o.stem = "bench";
  o.compression = cfg.c;
  o.level = cfg.level;
  o.max_total_size = 0;
  o.queue_chunks = 1 << 20;  // fed faster than real time; keep every chunk
  auto w = SegmentWriter::open(o);
  if (!w) die(w.error().message());
  Outcome r;
  TraceWriter tw;
  uint64_t batch_start = samples.empty() ? 0 : samples.front().ts;
  uint64_t first = batch_start, last = batch_start;
  double encode = 0;
  auto emit = [&] {
    (*w)->append(tw.bytes(), first, last);
    tw.reset();
  };
  double t0 = cpu_seconds();
  for (const Sample& s : samples) {
    if (s.ts - batch_start >= batch_ns) {
      emit();
      batch_start = s.ts;
      first = s.ts;
    }
    CpuSample cs;
    cs.worker_id = kWorkerNone;
    cs.tid = s.tid;
    cs.source = 0;
    cs.cpu = s.tid % 2;
    tw.cpu_sample(s.ts, cs, s.stack);
    last = s.ts;
    ++r.samples;
  }
  emit();
  encode = cpu_seconds() - t0;
  if (auto c = (*w)->close(); !c) die(c.error().message());
  auto st = (*w)->stats();
  if (st.dropped_batches) die("the writer dropped batches");
  r.bytes = dir_bytes(dir);
  r.background_cpu_s = st.background_cpu_s;
  r.encode_cpu_s = encode;
  if (!samples.empty()) r.simulated_s = static_cast<double>(samples.back().ts - samples.front().ts) / 1e9;
  fs::remove_all(dir);
  return r;
}

}  // namespace

int main(int argc, char** argv) {
  std::string perf_script;
  double seconds = 10;
  int threads = 64, hz = 999, batch_ms = 100;
  bool json = false;
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    auto val = [&]() -> std::string {
      if (i + 1 >= argc) die(a + " needs a value");
      return argv[++i];
    };
    if (a == "--perf-script") perf_script = val();
    else if (a == "--seconds") seconds = std::atof(val().c_str());
    else if (a == "--threads") threads = std::atoi(val().c_str());
    else if (a == "--hz") hz = std::atoi(val().c_str());
    else if (a == "--batch-ms") batch_ms = std::atoi(val().c_str());
    else if (a == "--json") json = true;
    else if (a == "--help") {
      std::printf("usage: bench_segments --perf-script FILE [--seconds S] [--threads N] [--hz F] "
                  "[--batch-ms M] [--json]\n");
      return 0;
    } else die("unknown option " + a);
  }
  if (perf_script.empty()) die("--perf-script FILE is required (see bench/run_segments.sh)");
  auto real = read_perf_script(perf_script);
  if (real.size() < 100) die("too few samples in " + perf_script);
  std::sort(real.begin(), real.end(), [](const Sample& a, const Sample& b) { return a.ts < b.ts; });

  // The rate workload: each simulated thread replays one perf thread.
  std::map<uint32_t, std::vector<const Sample*>> by_tid;
  for (const auto& s : real) by_tid[s.tid].push_back(&s);
  std::vector<std::vector<const Sample*>> seqs;
  for (auto& [tid, v] : by_tid) seqs.push_back(v);
  std::vector<Sample> rate;
  const uint64_t period = 1000000000ull / static_cast<uint64_t>(hz);
  const uint64_t n_per_thread = static_cast<uint64_t>(seconds * hz);
  rate.reserve(n_per_thread * static_cast<uint64_t>(threads));
  for (uint64_t i = 0; i < n_per_thread; ++i) {
    for (int t = 0; t < threads; ++t) {
      const auto& seq = seqs[static_cast<size_t>(t) % seqs.size()];
      const Sample* src = seq[i % seq.size()];
      rate.push_back(Sample{static_cast<uint32_t>(100000 + t), 1'000'000'000 + i * period + static_cast<uint64_t>(t) * 1000, src->stack});
    }
  }
  size_t depth_sum = 0;
  for (const auto& s : real) depth_sum += s.stack.size();

  const Config configs[] = {{"zstd-1", Compression::kZstd, 1}, {"zstd-3", Compression::kZstd, 3},
                            {"zstd-6", Compression::kZstd, 6}, {"zstd-9", Compression::kZstd, 9},
                            {"gzip-6", Compression::kGzip, 6}, {"none", Compression::kNone, 0}};
  std::string tmp = (fs::temp_directory_path() / ("dial9-bench-segments-" + std::to_string(getpid()))).string();
  const uint64_t batch_ns = static_cast<uint64_t>(batch_ms) * 1000000;
  if (!json) {
    std::printf("perf samples: %zu (mean depth %.1f frames); rate workload: %d threads x %d Hz x %.0f s = %zu samples; batches of %d ms\n\n",
                real.size(), static_cast<double>(depth_sum) / static_cast<double>(real.size()), threads, hz, seconds, rate.size(), batch_ms);
    std::printf("%-8s  %16s  %16s  %18s  %14s\n", "config", "B/sample (perf's)", "B/sample (rate)",
                "sealing, % of core", "encode, % core");
  } else {
    std::printf("{\"perf_samples\":%zu,\"rate_samples\":%zu,\"threads\":%d,\"hz\":%d,\"seconds\":%g,\"batch_ms\":%d,\"configs\":[",
                real.size(), rate.size(), threads, hz, seconds, batch_ms);
  }
  bool first_cfg = true;
  for (const Config& cfg : configs) {
    Outcome same = write_samples(cfg, real, batch_ns, tmp);
    Outcome r = write_samples(cfg, rate, batch_ns, tmp);
    double bps_same = static_cast<double>(same.bytes) / static_cast<double>(same.samples);
    double bps_rate = static_cast<double>(r.bytes) / static_cast<double>(r.samples);
    double cost = 100.0 * r.background_cpu_s / r.simulated_s;
    double enc = 100.0 * r.encode_cpu_s / r.simulated_s;
    if (!json) {
      std::printf("%-8s  %16.2f  %16.2f  %17.2f%%  %13.2f%%\n", cfg.name, bps_same, bps_rate, cost, enc);
    } else {
      std::printf("%s{\"config\":\"%s\",\"bytes_per_sample_perf_samples\":%.3f,\"bytes_per_sample_rate\":%.3f,"
                  "\"sealing_core_percent\":%.3f,\"encode_core_percent\":%.3f}",
                  first_cfg ? "" : ",", cfg.name, bps_same, bps_rate, cost, enc);
    }
    first_cfg = false;
  }
  if (json) std::printf("]}\n");
  return 0;
}
