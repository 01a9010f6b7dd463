// bench_symbolize: what naming addresses costs, with source lines and
// inlined frames.
//
//   bench_symbolize --elf FILE [--addresses N] [--runs R] [--cpu C] [--seed S]
//                   [--write-addresses PATH] [--write-names PATH]
//                   [--baseline NAME=ADDRESSES_PER_CPU_SECOND]... [--json]
//
// Two measurements, each run --runs times after a warm-up:
//
//   index    ElfModule::open of FILE and its first frames_at, which reads
//            the symbol table and the whole DWARF (of FILE, or of the
//            separate debug file it leads to) into the module's index.
//   lookups  Symbolizer::frames on N unique addresses, each inside a
//            function symbol of FILE, mapped at a PIE-like base in one
//            process; the index is built before the clock starts, so this
//            is the per-address cost: every frame, inlined ones included,
//            with file and line.
//
// Both are also given per CPU-second of this process, which a busy shared
// machine disturbs far less than wall time; --baseline takes a baseline's
// rate that way (bench/run_symbolize.sh measures their user + system time).
//
// --write-addresses writes the addresses (the ELF's virtual addresses, one
// per line) for `addr2line -e FILE`; --write-names writes our frames in the
// format of `addr2line -a -f -i -C`, so bench/run_symbolize.sh can time the
// baselines on the same addresses and compare what each names.
#include <sched.h>
#include <time.h>

#include <algorithm>
#include <cinttypes>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <random>
#include <set>
#include <string>
#include <vector>

#include "format/events.h"
#include "format/trace_file.h"
#include "format/trace_writer.h"
#include "report/symbols/elf_module.h"
#include "report/symbols/symbolizer.h"

using namespace dial9;
namespace fs = std::filesystem;

namespace {

[[noreturn]] void die(const std::string& m) {
  std::fprintf(stderr, "bench_symbolize: %s\n", m.c_str());
  std::exit(1);
}

struct Options {
  std::string elf;
  size_t addresses = 200000;
  int runs = 7;
  int cpu = 0;
  uint64_t seed = 1;
  std::string write_addresses, write_names;
  std::vector<std::pair<std::string, double>> baselines;  // addresses per CPU-second
  bool json = false;
};

Options parse(int argc, char** argv) {
  Options o;
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    auto value = [&]() -> std::string {
      if (i + 1 >= argc) die(a + " needs a value");
      return argv[++i];
    };
    if (a == "--elf") {
      o.elf = value();
    } else if (a == "--addresses") {
      o.addresses = std::stoul(value());
    } else if (a == "--runs") {
      o.runs = std::max(1, std::stoi(value()));
    } else if (a == "--cpu") {
      o.cpu = std::stoi(value());
    } else if (a == "--seed") {
      o.seed = std::stoull(value());
    } else if (a == "--write-addresses") {
      o.write_addresses = value();
    } else if (a == "--write-names") {
      o.write_names = value();
    } else if (a == "--baseline") {
      std::string v = value();
      auto eq = v.rfind('=');
      if (eq == std::string::npos) die("--baseline wants NAME=ADDRESSES_PER_CPU_SECOND, got " + v);
      o.baselines.emplace_back(v.substr(0, eq), std::stod(v.substr(eq + 1)));
    } else if (a == "--json") {
      o.json = true;
    } else {
      std::fprintf(stderr,
                   "usage: %s --elf FILE [--addresses N] [--runs R] [--cpu C|-1] [--seed S]\n"
                   "          [--write-addresses PATH] [--write-names PATH]\n"
                   "          [--baseline NAME=ADDRESSES_PER_CPU_SECOND]... [--json]\n",
                   argv[0]);
      std::exit(a == "--help" || a == "-h" ? 0 : 2);
    }
  }
  if (o.elf.empty()) die("--elf FILE is required");
  return o;
}

double seconds(clockid_t clock) {
  timespec ts;
  clock_gettime(clock, &ts);
  return static_cast<double>(ts.tv_sec) + static_cast<double>(ts.tv_nsec) * 1e-9;
}
double now_s() { return seconds(CLOCK_MONOTONIC); }
// CPU time: on a shared machine it drifts far less than wall time.
double cpu_s() { return seconds(CLOCK_PROCESS_CPUTIME_ID); }

// A measurement's wall and CPU seconds.
struct Timed {
  double wall = 0, cpu = 0;
};

struct Stats {
  double median = 0, min = 0, max = 0;
};
Stats stats(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  size_t n = v.size();
  return {n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2, v.front(), v.back()};
}

std::shared_ptr<const report::ElfModule> open_module(const std::string& path) {
  auto m = report::ElfModule::open(path);
  if (!m) die(m.error().message());
  return *m;
}

// The first frames_at builds the index; vaddr 0 holds no code.
Timed index_seconds(const std::string& path) {
  double w0 = now_s(), c0 = cpu_s();
  auto m = open_module(path);
  std::vector<report::SourceFrame> out;
  m->frames_at(0, true, out);
  return {now_s() - w0, cpu_s() - c0};
}

struct Address {
  uint64_t offset, vaddr;
};

// N distinct addresses inside function symbols, drawn uniformly over the
// file's bytes (so big functions get more, as samples would).
std::vector<Address> pick_addresses(const report::ElfModule& m, uint64_t file_size, size_t n, uint64_t seed) {
  std::mt19937_64 rng(seed);
  std::uniform_int_distribution<uint64_t> any(0, file_size - 1);
  std::set<uint64_t> seen;
  std::vector<Address> out;
  for (uint64_t tries = 0; out.size() < n && tries < 400 * n + 1000000; ++tries) {
    uint64_t off = any(rng);
    auto vaddr = m.vaddr_of_offset(off);
    if (!vaddr || m.symbol_at(*vaddr) == nullptr || !seen.insert(off).second) continue;
    out.push_back({off, *vaddr});
  }
  return out;
}

constexpr uint32_t kPid = 1;
constexpr uint64_t kBase = 0x555555554000;

// A Symbolizer that sees FILE mapped whole at kBase (file offset o at kBase + o).
std::unique_ptr<report::Symbolizer> mapped_symbolizer(const std::string& path, uint64_t file_size) {
  auto sym = std::make_unique<report::Symbolizer>();
  format::TraceWriter w;
  w.mapping(1, format::Mapping{kPid, kBase, file_size, 0, path, {}, true});
  auto bytes = w.take();
  auto r = format::read_trace_bytes(bytes, "bench", [&](const format::Event& e) { sym->observe(e); });
  if (!r) die(r.error().message());
  return sym;
}

void write_files(const Options& o, const std::vector<Address>& addrs, report::Symbolizer& sym) {
  if (!o.write_addresses.empty()) {
    FILE* f = std::fopen(o.write_addresses.c_str(), "w");
    if (f == nullptr) die("cannot write " + o.write_addresses);
    for (const auto& a : addrs) std::fprintf(f, "0x%" PRIx64 "\n", a.vaddr);
    std::fclose(f);
  }
  if (!o.write_names.empty()) {
    FILE* f = std::fopen(o.write_names.c_str(), "w");
    if (f == nullptr) die("cannot write " + o.write_names);
    for (const auto& a : addrs) {
      std::fprintf(f, "0x%016" PRIx64 "\n", a.vaddr);
      for (const auto& fr : sym.frames(kPid, kBase + a.offset, false)) {
        std::string file = fr.file.empty() ? "??" : std::string(fr.file);
        std::string line = fr.line == 0 ? "?" : std::to_string(fr.line);
        std::fprintf(f, "%s\n%s:%s\n", fr.resolved ? std::string(fr.function).c_str() : "??", file.c_str(),
                     fr.file.empty() ? "0" : line.c_str());
      }
    }
    std::fclose(f);
  }
}

}  // namespace

int main(int argc, char** argv) {
  Options o = parse(argc, argv);
  if (o.cpu >= 0) {
    cpu_set_t set;
    CPU_ZERO(&set);
    CPU_SET(o.cpu, &set);
    if (sched_setaffinity(0, sizeof set, &set) != 0) std::perror("bench_symbolize: sched_setaffinity");
  }
  const uint64_t file_size = fs::file_size(o.elf);
  auto module = open_module(o.elf);
  const std::string debug = module->separate_debug_file();
  const uint64_t debug_size = debug.empty() ? file_size : fs::file_size(debug);

  // Index build: one warm-up (page cache), then the runs.
  index_seconds(o.elf);
  std::vector<double> index_s, index_cpu;
  for (int r = 0; r < o.runs; ++r) {
    Timed t = index_seconds(o.elf);
    index_s.push_back(t.wall);
    index_cpu.push_back(t.cpu);
  }

  auto addrs = pick_addresses(*module, file_size, o.addresses, o.seed);
  if (addrs.empty()) die(o.elf + ": no address inside a function symbol");

  // Lookups: a fresh Symbolizer per run (each address named once), its
  // index built before the clock starts.
  std::vector<double> rate, cpu_rate;
  size_t frames = 0, inlined_addrs = 0, with_line = 0;
  for (int r = 0; r <= o.runs; ++r) {
    auto sym = mapped_symbolizer(o.elf, file_size);
    sym->frames(kPid, kBase + addrs.front().offset, false);
    double t0 = now_s(), c0 = cpu_s();
    size_t n = 0;
    for (const auto& a : addrs) n += sym->frames(kPid, kBase + a.offset, false).size();
    double dt = now_s() - t0, dc = cpu_s() - c0;
    if (r == 0) {  // the warm-up run: also the figures and the files
      frames = n;
      for (const auto& a : addrs) {
        auto f = sym->frames(kPid, kBase + a.offset, false);
        inlined_addrs += f.size() > 1;
        with_line += f.front().line != 0;
      }
      write_files(o, addrs, *sym);
      continue;
    }
    rate.push_back(static_cast<double>(addrs.size()) / dt);
    cpu_rate.push_back(static_cast<double>(addrs.size()) / dc);
  }

  Stats is = stats(index_s), ic = stats(index_cpu), rs = stats(rate), rc = stats(cpu_rate);
  const double n = static_cast<double>(addrs.size());
  if (o.json) {
    std::printf("{\"elf\":\"%s\",\"debug_file\":\"%s\",\"debug_bytes\":%" PRIu64
                ",\"index_ms\":{\"median\":%.1f,\"min\":%.1f,\"max\":%.1f,\"cpu\":%.1f},\"addresses\":%zu,"
                "\"frames_per_address\":%.3f,\"inlined_share\":%.3f,\"line_share\":%.3f,"
                "\"lookups_per_s\":{\"median\":%.0f,\"min\":%.0f,\"max\":%.0f,\"per_cpu_s\":%.0f},"
                "\"with_index_per_cpu_s\":%.0f",
                o.elf.c_str(), debug.c_str(), debug_size, is.median * 1e3, is.min * 1e3, is.max * 1e3, ic.median * 1e3,
                addrs.size(),
                static_cast<double>(frames) / n, static_cast<double>(inlined_addrs) / n,
                static_cast<double>(with_line) / n, rs.median, rs.min, rs.max, rc.median,
                n / (ic.median + n / rc.median));
    std::printf(",\"baselines\":{");
    for (size_t i = 0; i < o.baselines.size(); ++i) {
      std::printf("%s\"%s\":{\"per_cpu_s\":%.0f,\"ratio_with_index\":%.2f}", i ? "," : "",
                  o.baselines[i].first.c_str(), o.baselines[i].second,
                  n / (ic.median + n / rc.median) / o.baselines[i].second);
    }
    std::printf("}}\n");
    return 0;
  }
  std::printf("module        %s\n", o.elf.c_str());
  std::printf("debug info    %s (%.1f MB)\n", debug.empty() ? "in the module itself" : debug.c_str(),
              static_cast<double>(debug_size) / 1e6);
  std::printf("index build   median %.1f ms (min %.1f, max %.1f; %d runs), %.1f ms of CPU: open, symbols, every line table and inlined call\n",
              is.median * 1e3, is.min * 1e3, is.max * 1e3, o.runs, ic.median * 1e3);
  std::printf("addresses     %zu unique, inside function symbols; %.2f frames each, %.0f%% with inlined calls, %.0f%% with a line\n",
              addrs.size(), static_cast<double>(frames) / n, 100.0 * static_cast<double>(inlined_addrs) / n,
              100.0 * static_cast<double>(with_line) / n);
  std::printf("lookups       median %.0f addresses/s (min %.0f, max %.0f; %d runs), %.0f per CPU-second; all frames with file:line\n",
              rs.median, rs.min, rs.max, o.runs, rc.median);
  // What a run of a tool on these addresses costs: the index, then the lookups.
  const double whole_cpu = n / (ic.median + n / rc.median);
  std::printf("with index    %.0f addresses per CPU-second (index build + lookups, as a tool run on these addresses)\n",
              whole_cpu);
  for (const auto& [name, per_s] : o.baselines) {
    std::printf("baseline      %-14s %.0f addresses per CPU-second (process start and its DWARF reading included): "
                "ours %.1fx as fast with the index build, %.1fx lookups alone\n",
                name.c_str(), per_s, whole_cpu / per_s, rc.median / per_s);
  }
  return 0;
}
