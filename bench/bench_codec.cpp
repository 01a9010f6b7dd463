// bench_codec: throughput of the TRC codec on one core.
//
//   decode_typed      the decompressed fixture, already in memory, fed whole
//                     to a Decoder; every event read through the typed view of
//                     its built-in kind (every stack frame touched)
//   read_gzip         read_trace_bytes on the gzip'd fixture in memory: gunzip,
//                     decode, the same typed reads in the callback
//   read_zstd         the same on a zstd copy (only with --zstd FILE)
//   encode_writer     TraceWriter: PollStart/PollEnd pairs with a pooled
//                     spawn_loc, and a CpuSample with a 16-frame pooled stack
//                     every --cpu-every events, in batches of --batch events
//                     (each batch's bytes are read, then reset() reuses the
//                     buffer for the next self-contained stream)
//   encode_encoder    the same events through Encoder over one reused
//                     fixed-size buffer, as the in-process agent writes them
//
// Each is run once to warm up, then --runs times; the median, min and max are
// printed (and with --json, one JSON object on stdout). Rates use wall time;
// the thread's CPU time is reported as well because this machine is shared.
// The process pins itself to the CPU it starts on (--cpu N to choose,
// --cpu -1 not to pin).
//
// bench/run_codec.sh builds this in Release (-O2) and runs it next to
// gzip/zstd baselines; results and targets are in docs/BENCHMARKS.md.
#include <sched.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <chrono>
#include <cinttypes>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <string_view>
#include <vector>

#include "base/io.h"
#include "format/decoder.h"
#include "format/encoder.h"
#include "format/events.h"
#include "format/schemas.h"
#include "format/trace_file.h"
#include "format/trace_writer.h"
#include "tests/support/typed_checksum.h"

#ifndef DIAL9_BENCH_FIXTURE
#define DIAL9_BENCH_FIXTURE ""
#endif

namespace {

using namespace dial9::format;

struct Options {
  std::string fixture = DIAL9_BENCH_FIXTURE;
  std::string zstd_fixture;
  int runs = 7;
  int cpu = -2;  // -2: the CPU we start on; -1: do not pin
  uint64_t encode_events = 20'000'000;
  uint64_t batch_events = 65'536;
  uint64_t cpu_every = 64;
  std::string only;  // comma-separated benchmark names; empty = all
  bool json = false;
  // External reference timings of the same fixture (e.g. "gzip -dc" -> ms),
  // measured by bench/run_codec.sh; printed as ratios, since absolute times
  // drift on a shared machine.
  std::vector<std::pair<std::string, double>> baselines;
};

[[noreturn]] void die(const std::string& message) {
  std::fprintf(stderr, "bench_codec: %s\n", message.c_str());
  std::exit(1);
}

void usage(const char* argv0) {
  std::printf(
      "usage: %s [--fixture FILE.gz] [--zstd FILE.zst] [--runs N] [--cpu N|-1]\n"
      "          [--encode-events N] [--batch N] [--cpu-every N] [--only NAME,...]\n"
      "          [--baseline NAME=MILLISECONDS]... [--json]\n"
      "benchmarks: decode_typed read_gzip read_zstd encode_writer encode_encoder\n",
      argv0);
}

Options parse_args(int argc, char** argv) {
  Options o;
  for (int i = 1; i < argc; ++i) {
    std::string_view a = argv[i];
    auto value = [&]() -> std::string {
      if (i + 1 >= argc) die("option " + std::string(a) + " needs a value");
      return argv[++i];
    };
    auto number = [&]() -> uint64_t {
      std::string v = value();
      char* end = nullptr;
      unsigned long long n = std::strtoull(v.c_str(), &end, 10);
      if (v.empty() || *end != '\0') die("option " + std::string(a) + ": not a number: " + v);
      return n;
    };
    if (a == "--fixture") {
      o.fixture = value();
    } else if (a == "--zstd") {
      o.zstd_fixture = value();
    } else if (a == "--runs") {
      o.runs = static_cast<int>(std::max<uint64_t>(1, number()));
    } else if (a == "--cpu") {
      std::string v = value();
      o.cpu = std::atoi(v.c_str());
    } else if (a == "--encode-events") {
      o.encode_events = std::max<uint64_t>(2, number());
    } else if (a == "--batch") {
      o.batch_events = std::max<uint64_t>(2, number());
    } else if (a == "--cpu-every") {
      o.cpu_every = std::max<uint64_t>(1, number());
    } else if (a == "--only") {
      o.only = "," + value() + ",";
    } else if (a == "--baseline") {
      std::string v = value();
      size_t eq = v.rfind('=');
      char* end = nullptr;
      double ms = eq == std::string::npos ? 0 : std::strtod(v.c_str() + eq + 1, &end);
      if (eq == std::string::npos || end == nullptr || *end != '\0' || !(ms > 0)) {
        die("--baseline wants NAME=MILLISECONDS, got " + v);
      }
      o.baselines.emplace_back(v.substr(0, eq), ms);
    } else if (a == "--json") {
      o.json = true;
    } else if (a == "-h" || a == "--help") {
      usage(argv[0]);
      std::exit(0);
    } else {
      usage(argv[0]);
      die("unknown option " + std::string(a));
    }
  }
  if (o.fixture.empty()) die("no fixture: pass --fixture FILE.gz");
  return o;
}

bool wanted(const Options& o, std::string_view name) {
  return o.only.empty() || o.only.find("," + std::string(name) + ",") != std::string::npos;
}

// ---- input ------------------------------------------------------------------

std::vector<uint8_t> read_file(const std::string& path) {
  auto s = dial9::read_small_file(path, size_t{1} << 30);
  if (!s) die(s.error().message());
  return std::vector<uint8_t>(s->begin(), s->end());
}

// gunzip through the gzip CLI: the bench links only format and base, and
// zlib's headers belong to format/ (ARCHITECTURE.md, "narrow headers").
std::vector<uint8_t> gunzip(const std::string& path) {
  int fds[2];
  if (::pipe(fds) != 0) die("pipe: " + std::string(std::strerror(errno)));
  pid_t pid = ::fork();
  if (pid < 0) die("fork: " + std::string(std::strerror(errno)));
  if (pid == 0) {
    ::dup2(fds[1], 1);
    ::close(fds[0]);
    ::close(fds[1]);
    ::execlp("gzip", "gzip", "-dc", "--", path.c_str(), static_cast<char*>(nullptr));
    std::_Exit(127);
  }
  ::close(fds[1]);
  std::vector<uint8_t> out;
  uint8_t buf[1 << 16];
  for (;;) {
    ssize_t n = ::read(fds[0], buf, sizeof buf);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;
    out.insert(out.end(), buf, buf + n);
  }
  ::close(fds[0]);
  int status = 0;
  while (::waitpid(pid, &status, 0) < 0 && errno == EINTR) {
  }
  if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) die("gzip -dc " + path + " failed");
  return out;
}

// ---- timing -----------------------------------------------------------------

struct Sample {
  double wall_s;
  double cpu_s;
};

double thread_cpu_seconds() {
  timespec ts{};
  ::clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
  return static_cast<double>(ts.tv_sec) + static_cast<double>(ts.tv_nsec) * 1e-9;
}

template <typename Fn>
Sample time_once(Fn&& fn) {
  double c0 = thread_cpu_seconds();
  auto t0 = std::chrono::steady_clock::now();
  fn();
  auto t1 = std::chrono::steady_clock::now();
  double c1 = thread_cpu_seconds();
  return {std::chrono::duration<double>(t1 - t0).count(), c1 - c0};
}

struct Stats {
  double median, min, max;
};

Stats stats_of(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  size_t n = v.size();
  double med = n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
  return {med, v.front(), v.back()};
}

struct Result {
  std::string name;
  std::string what;
  uint64_t events = 0;        // per run
  uint64_t bytes = 0;         // per run: decoded input, or encoded output
  uint64_t input_bytes = 0;   // per run: compressed input (read_*), else 0
  std::vector<Sample> samples;

  Stats events_per_s() const { return rate(static_cast<double>(events), false); }
  Stats cpu_events_per_s() const { return rate(static_cast<double>(events), true); }
  Stats mb_per_s() const { return rate(static_cast<double>(bytes) / 1e6, false); }
  Stats input_mb_per_s() const { return rate(static_cast<double>(input_bytes) / 1e6, false); }
  Stats wall_ms() const {
    std::vector<double> v;
    for (const Sample& s : samples) v.push_back(s.wall_s * 1e3);
    return stats_of(v);
  }

 private:
  Stats rate(double amount, bool cpu) const {
    std::vector<double> v;
    for (const Sample& s : samples) v.push_back(amount / (cpu ? s.cpu_s : s.wall_s));
    return stats_of(v);
  }
};

// ---- typed reads --------------------------------------------------------------

// What a consumer of the typed API does with each event: switch on the kind,
// call the matching accessor, use every field (tests/support/typed_checksum.h).
uint64_t consume(const Event& e) { return dial9::test::typed_checksum(e); }

volatile uint64_t g_sink;

// ---- benchmarks ----------------------------------------------------------------

template <typename Fn>
Result measure(const Options& o, std::string name, std::string what, Fn&& run_once) {
  Result r;
  r.name = std::move(name);
  r.what = std::move(what);
  run_once(r);  // warm-up; also fills events/bytes
  const uint64_t events = r.events;
  for (int i = 0; i < o.runs; ++i) {
    r.samples.push_back(time_once([&] { run_once(r); }));
    if (r.events != events) die(r.name + ": event count changed between runs");
  }
  return r;
}

Result bench_decode(const Options& o, const std::vector<uint8_t>& raw) {
  return measure(o, "decode_typed", "Decoder over the raw fixture + typed accessors", [&](Result& r) {
    Decoder dec;
    dec.feed(raw);
    dec.finish();
    Event e;
    uint64_t n = 0, acc = 0;
    while (dec.next(e) == Decoder::Step::kEvent) {
      acc += consume(e);
      ++n;
    }
    if (dec.diagnostic_count() != 0) die("decode_typed: the fixture decoded with diagnostics");
    g_sink = acc;
    r.events = n;
    r.bytes = raw.size();
  });
}

Result bench_read(const Options& o, const char* name, const std::vector<uint8_t>& compressed,
                  uint64_t raw_size) {
  return measure(o, name, "read_trace_bytes (decompress + decode) + typed accessors",
                 [&](Result& r) {
                   uint64_t n = 0, acc = 0;
                   auto sum = read_trace_bytes(compressed, name, [&](const Event& e) {
                     acc += consume(e);
                     ++n;
                   });
                   if (!sum) die(std::string(name) + ": " + sum.error().message());
                   if (sum->diagnostic_count != 0 || !sum->container_error.empty() || sum->truncated) {
                     die(std::string(name) + ": the fixture read with errors");
                   }
                   g_sink = acc;
                   r.events = n;
                   r.bytes = raw_size;
                   r.input_bytes = compressed.size();
                 });
}

// The encode workload, shared by both encoders.
struct EncodeMix {
  static constexpr size_t kLocs = 8;
  static constexpr size_t kStacks = 64;
  std::array<std::string, kLocs> locs;
  std::vector<std::vector<uint64_t>> stacks;
  EncodeMix() {
    for (size_t i = 0; i < kLocs; ++i) {
      locs[i] = "src/service/handlers.rs:" + std::to_string(100 + 17 * i) + ":9";
    }
    for (size_t s = 0; s < kStacks; ++s) {
      std::vector<uint64_t> frames(16);
      for (size_t f = 0; f < frames.size(); ++f) frames[f] = 0x55d0c0de0000 + s * 0x10000 + f * 0x111;
      stacks.push_back(std::move(frames));
    }
  }
};

// Events in `bytes`; fails on any diagnostic.
uint64_t decoded_events(const std::vector<uint8_t>& bytes) {
  Decoder dec;
  dec.feed(bytes);
  dec.finish();
  Event e;
  uint64_t n = 0;
  while (dec.next(e) == Decoder::Step::kEvent) ++n;
  if (dec.diagnostic_count() != 0) die("encoded output decodes with diagnostics");
  return n;
}

// Calls poll(ts, worker, task, loc_index, is_start) and sample(ts, stack_index)
// for `n` events of the mix.
template <typename PollFn, typename SampleFn>
void generate(uint64_t first, uint64_t n, uint64_t cpu_every, PollFn&& poll, SampleFn&& sample) {
  for (uint64_t i = first; i < first + n; ++i) {
    uint64_t ts = 1'000'000 + i * 37;
    if (i % cpu_every == cpu_every - 1) {
      sample(ts, (i / cpu_every) % EncodeMix::kStacks);
      continue;
    }
    uint64_t pair = i / 2;
    poll(ts, pair & 1, pair % 4096, pair % EncodeMix::kLocs, (i & 1) == 0);
  }
}

Result bench_encode_writer(const Options& o, const EncodeMix& mix) {
  auto run = [&](Result& r, uint64_t total, std::vector<uint8_t>* keep_first) {
    TraceWriter w;
    uint64_t bytes = 0;
    for (uint64_t done = 0; done < total;) {
      uint64_t n = std::min(o.batch_events, total - done);
      generate(
          done, n, o.cpu_every,
          [&](uint64_t ts, uint64_t worker, uint64_t task, size_t loc, bool start) {
            if (start) {
              w.poll_start(ts, PollStart{worker, 0, task, mix.locs[loc]});
            } else {
              w.poll_end(ts, PollEnd{worker});
            }
          },
          [&](uint64_t ts, size_t stack) {
            CpuSample s;
            s.worker_id = 0;
            s.tid = 4242;
            s.source = 0;
            w.cpu_sample(ts, s, mix.stacks[stack]);
          });
      // A real caller hands bytes() to the segment writer, then reuses the
      // buffer for the next self-contained batch.
      auto batch = w.bytes();
      bytes += batch.size();
      if (keep_first != nullptr && done == 0) keep_first->assign(batch.begin(), batch.end());
      w.reset();
      done += n;
    }
    r.events = total;
    r.bytes = bytes;
  };
  // Check once that what is measured decodes to the events written.
  Result scratch;
  std::vector<uint8_t> first;
  const uint64_t one_batch = std::min(o.encode_events, o.batch_events);
  run(scratch, one_batch, &first);
  if (decoded_events(first) != one_batch) die("encode_writer: a batch does not decode to its events");
  return measure(o, "encode_writer",
                 "TraceWriter, batches of " + std::to_string(o.batch_events) + " events, buffer reused via reset()",
                 [&](Result& r) { run(r, o.encode_events, nullptr); });
}

// The agent's way: Encoder over one fixed buffer that is reused; when it is
// nearly full the batch is "sent" (here: dropped) and a new stream begins.
Result bench_encode_encoder(const Options& o, const EncodeMix& mix) {
  constexpr size_t kBufferBytes = 1 << 20;
  constexpr size_t kHeadroom = 512;  // > the largest event plus its pool frames
  std::vector<uint8_t> storage(kBufferBytes);
  auto run = [&](Result& r, std::vector<uint8_t>* keep_first) {
    ByteBuffer buf{storage.data(), 0, storage.size(), nullptr, nullptr};
    Encoder enc(buf);
    uint16_t start_id = 0, end_id = 0, cpu_id = 0;
    std::array<int64_t, EncodeMix::kLocs> loc_ids{};
    std::array<int64_t, EncodeMix::kStacks> stack_ids{};
    uint64_t bytes = 0;
    bool first_batch = true;
    auto begin_batch = [&] {
      buf.size = 0;
      enc.begin_stream();
      start_id = enc.define(builtin_schema(Builtin::kPollStart).def());
      end_id = enc.define(builtin_schema(Builtin::kPollEnd).def());
      cpu_id = enc.define(builtin_schema(Builtin::kCpuSample).def());
      loc_ids.fill(-1);
      stack_ids.fill(-1);
    };
    auto end_batch = [&] {
      if (!enc.ok()) die("encode_encoder: the buffer overflowed");
      bytes += buf.size;
      if (keep_first != nullptr && first_batch) keep_first->assign(storage.data(), storage.data() + buf.size);
      first_batch = false;
    };
    begin_batch();
    generate(
        0, o.encode_events, o.cpu_every,
        [&](uint64_t ts, uint64_t worker, uint64_t task, size_t loc, bool start) {
          if (buf.size > kBufferBytes - kHeadroom) {
            end_batch();
            begin_batch();
          }
          if (start) {
            if (loc_ids[loc] < 0) loc_ids[loc] = enc.add_string(mix.locs[loc]);
            enc.begin_event(start_id, ts);
            enc.put_varint(worker);
            enc.put_u8(0);
            enc.put_varint(task);
            enc.put_pool_ref(static_cast<uint32_t>(loc_ids[loc]));
          } else {
            enc.begin_event(end_id, ts);
            enc.put_varint(worker);
          }
        },
        [&](uint64_t ts, size_t stack) {
          if (buf.size > kBufferBytes - kHeadroom) {
            end_batch();
            begin_batch();
          }
          if (stack_ids[stack] < 0) stack_ids[stack] = enc.add_stack(mix.stacks[stack]);
          enc.begin_event(cpu_id, ts);
          enc.put_varint(0);
          enc.put_u32(4242);
          enc.put_u8(0);
          enc.put_absent();
          enc.put_pool_ref(static_cast<uint32_t>(stack_ids[stack]));
          enc.put_absent();
        });
    end_batch();
    r.events = o.encode_events;
    r.bytes = bytes;
  };
  {
    Result scratch;
    std::vector<uint8_t> first;
    run(scratch, &first);
    if (decoded_events(first) == 0) die("encode_encoder: output does not decode");
  }
  return measure(o, "encode_encoder",
                 "Encoder over a reused " + std::to_string(kBufferBytes >> 20) + " MiB buffer",
                 [&](Result& r) { run(r, nullptr); });
}

// ---- output -----------------------------------------------------------------------

std::string cpu_model() {
  auto s = dial9::read_small_file("/proc/cpuinfo", size_t{16} << 20);
  if (!s) return "unknown";
  size_t p = s->find("model name");
  if (p == std::string::npos) return "unknown";
  size_t colon = s->find(':', p);
  size_t eol = s->find('\n', p);
  if (colon == std::string::npos || colon > eol) return "unknown";
  std::string m = s->substr(colon + 1, eol - colon - 1);
  while (!m.empty() && m.front() == ' ') m.erase(m.begin());
  return m;
}

std::string json_escape(const std::string& s) {
  std::string out;
  for (char c : s) {
    if (c == '"' || c == '\\') {
      out += '\\';
      out += c;
    } else if (static_cast<unsigned char>(c) < 0x20) {
      char b[8];
      std::snprintf(b, sizeof b, "\\u%04x", c);
      out += b;
    } else {
      out += c;
    }
  }
  return out;
}

void print_text(const Options& o, int pinned, const std::vector<Result>& results) {
  std::printf("bench_codec: %d runs each after a warm-up; %s; cpu: %s; nproc %ld\nfixture: %s\n",
              o.runs, pinned >= 0 ? ("pinned to CPU " + std::to_string(pinned)).c_str() : "not pinned",
              cpu_model().c_str(), ::sysconf(_SC_NPROCESSORS_ONLN), o.fixture.c_str());
  for (const Result& r : results) {
    Stats ev = r.events_per_s(), cpu = r.cpu_events_per_s(), mb = r.mb_per_s(), ms = r.wall_ms();
    std::printf("\n%-15s %s\n", r.name.c_str(), r.what.c_str());
    std::printf("  %" PRIu64 " events, %" PRIu64 " bytes %s per run; %.2f ms median\n", r.events,
                r.bytes, r.name.rfind("encode", 0) == 0 ? "written" : "decoded", ms.median);
    std::printf("  events/s   median %7.2f M   min %7.2f M   max %7.2f M   (per CPU-second: %.2f M)\n",
                ev.median / 1e6, ev.min / 1e6, ev.max / 1e6, cpu.median / 1e6);
    std::printf("  MB/s       median %7.1f     min %7.1f     max %7.1f     (%s)\n", mb.median, mb.min,
                mb.max, r.name.rfind("encode", 0) == 0 ? "output" : "decompressed TRC");
    if (r.input_bytes != 0) {
      Stats in = r.input_mb_per_s();
      std::printf("  MB/s in    median %7.1f     min %7.1f     max %7.1f     (compressed input)\n",
                  in.median, in.min, in.max);
    }
  }
}

bool decodes_fixture(const Result& r) { return r.name.rfind("encode", 0) != 0; }

void print_baselines_text(const Options& o, const std::vector<Result>& results, uint64_t raw_bytes) {
  if (o.baselines.empty()) return;
  std::printf("\nbaselines (the same fixture through a CLI to /dev/null, median, process start included)\n");
  for (const auto& [name, ms] : o.baselines) {
    std::printf("  %-12s %8.2f ms  %7.1f MB/s decompressed\n", name.c_str(), ms,
                raw_bytes ? static_cast<double>(raw_bytes) / 1e6 / (ms / 1e3) : 0.0);
  }
  for (const Result& r : results) {
    if (!decodes_fixture(r)) continue;
    std::printf("  %-15s median time =", r.name.c_str());
    for (const auto& [name, ms] : o.baselines) {
      std::printf("  %.2fx %s", r.wall_ms().median / ms, name.c_str());
    }
    std::printf("\n");
  }
}

void print_json(const Options& o, int pinned, const std::vector<Result>& results) {
  std::printf("{\"bench\":\"codec\",\"runs\":%d,\"pinned_cpu\":%d,\"nproc\":%ld,\"cpu_model\":\"%s\","
              "\"fixture\":\"%s\",\"results\":[",
              o.runs, pinned, ::sysconf(_SC_NPROCESSORS_ONLN), json_escape(cpu_model()).c_str(),
              json_escape(o.fixture).c_str());
  for (size_t i = 0; i < results.size(); ++i) {
    const Result& r = results[i];
    Stats ev = r.events_per_s(), cpu = r.cpu_events_per_s(), mb = r.mb_per_s(), ms = r.wall_ms();
    std::printf("%s{\"name\":\"%s\",\"events\":%" PRIu64 ",\"bytes\":%" PRIu64
                ",\"events_per_s\":{\"median\":%.0f,\"min\":%.0f,\"max\":%.0f},"
                "\"cpu_events_per_s_median\":%.0f,"
                "\"mb_per_s\":{\"median\":%.2f,\"min\":%.2f,\"max\":%.2f},"
                "\"wall_ms\":{\"median\":%.3f,\"min\":%.3f,\"max\":%.3f}",
                i ? "," : "", r.name.c_str(), r.events, r.bytes, ev.median, ev.min, ev.max,
                cpu.median, mb.median, mb.min, mb.max, ms.median, ms.min, ms.max);
    if (r.input_bytes != 0) {
      Stats in = r.input_mb_per_s();
      std::printf(",\"input_bytes\":%" PRIu64
                  ",\"input_mb_per_s\":{\"median\":%.2f,\"min\":%.2f,\"max\":%.2f}",
                  r.input_bytes, in.median, in.min, in.max);
    }
    if (decodes_fixture(r) && !o.baselines.empty()) {
      std::printf(",\"time_ratio_to_baseline\":{");
      for (size_t b = 0; b < o.baselines.size(); ++b) {
        std::printf("%s\"%s\":%.4f", b ? "," : "", json_escape(o.baselines[b].first).c_str(),
                    r.wall_ms().median / o.baselines[b].second);
      }
      std::printf("}");
    }
    std::printf("}");
  }
  std::printf("],\"baselines\":[");
  for (size_t b = 0; b < o.baselines.size(); ++b) {
    std::printf("%s{\"name\":\"%s\",\"wall_ms_median\":%.3f}", b ? "," : "",
                json_escape(o.baselines[b].first).c_str(), o.baselines[b].second);
  }
  std::printf("]}\n");
}

int pin(int cpu) {
  if (cpu == -1) return -1;
  if (cpu == -2) cpu = ::sched_getcpu();
  if (cpu < 0) return -1;
  cpu_set_t set;
  CPU_ZERO(&set);
  CPU_SET(cpu, &set);
  if (::sched_setaffinity(0, sizeof set, &set) != 0) {
    std::fprintf(stderr, "bench_codec: cannot pin to CPU %d (%s); running unpinned\n", cpu,
                 std::strerror(errno));
    return -1;
  }
  return cpu;
}

}  // namespace

int main(int argc, char** argv) {
  Options o = parse_args(argc, argv);
  int pinned = pin(o.cpu);

  std::vector<Result> results;
  uint64_t raw_size = 0;
  const bool need_fixture = wanted(o, "decode_typed") || wanted(o, "read_gzip") ||
                            (!o.zstd_fixture.empty() && wanted(o, "read_zstd"));
  if (need_fixture) {
    std::vector<uint8_t> gz = read_file(o.fixture);
    std::vector<uint8_t> raw = gunzip(o.fixture);
    raw_size = raw.size();
    if (wanted(o, "decode_typed")) results.push_back(bench_decode(o, raw));
    if (wanted(o, "read_gzip")) results.push_back(bench_read(o, "read_gzip", gz, raw.size()));
    if (!o.zstd_fixture.empty() && wanted(o, "read_zstd")) {
      std::vector<uint8_t> zst = read_file(o.zstd_fixture);
      results.push_back(bench_read(o, "read_zstd", zst, raw.size()));
    }
  }
  EncodeMix mix;
  if (wanted(o, "encode_writer")) results.push_back(bench_encode_writer(o, mix));
  if (wanted(o, "encode_encoder")) results.push_back(bench_encode_encoder(o, mix));
  if (results.empty()) die("--only selected no benchmark");

  if (o.json) {
    print_json(o, pinned, results);
  } else {
    print_text(o, pinned, results);
    print_baselines_text(o, results, raw_size);
  }
  return 0;
}
