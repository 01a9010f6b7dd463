#include "tests/support/test_support.h"

#include <fcntl.h>
#include <poll.h>
#include <spawn.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>
#include <zlib.h>
#include <zstd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <memory>
#include <sstream>
#include <stdexcept>

#include "format/trace_writer.h"
#include "format/events.h"
#include "report/event_text.h"
#include "report/symbols/symbolizer.h"

extern char** environ;

namespace dial9::test {

std::string shared_dir() { return DIAL9_SHARED_DIR; }

std::optional<std::string> tokio_fixture_path() {
  std::string p = shared_dir() + "/fixtures/tokio-demo-trace.bin.gz";
  if (!std::filesystem::exists(p)) return std::nullopt;
  return p;
}

const std::map<std::string, uint64_t>& tokio_fixture_counts() {
  static const std::map<std::string, uint64_t> counts = {
      {"PollStartEvent", 36801},   {"PollEndEvent", 36801},     {"WakeEventEvent", 35552},
      {"TaskDumpEvent", 12952},    {"CpuSampleEvent", 6949},    {"WorkerParkEvent", 6304},
      {"WorkerUnparkEvent", 6304}, {"SpanCloseEvent", 9890},    {"SymbolTableEntry", 992},
      {"QueueSampleEvent", 464},   {"TaskTerminateEvent", 359}, {"TaskSpawnEvent", 262},
      {"ClockSyncEvent", 2},       {"SegmentMetadataEvent", 1}};
  return counts;
}

std::vector<uint8_t> read_file_bytes(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw std::runtime_error("cannot read " + path);
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

std::vector<uint8_t> gunzip(std::span<const uint8_t> gz) {
  // zlib directly (multi-member aware), independent of the code under test.
  std::vector<uint8_t> out;
  z_stream zs{};
  inflateInit2(&zs, 16 + MAX_WBITS);
  zs.next_in = const_cast<Bytef*>(gz.data());
  zs.avail_in = static_cast<uInt>(gz.size());
  uint8_t buf[1 << 16];
  for (;;) {
    zs.next_out = buf;
    zs.avail_out = sizeof buf;
    int rc = inflate(&zs, Z_NO_FLUSH);
    out.insert(out.end(), buf, buf + (sizeof buf - zs.avail_out));
    if (rc == Z_STREAM_END) {
      if (zs.avail_in == 0) break;
      inflateReset(&zs);
    } else if (rc != Z_OK) {
      break;
    }
  }
  inflateEnd(&zs);
  return out;
}

std::vector<uint8_t> gzip(std::span<const uint8_t> raw) {
  z_stream zs{};
  deflateInit2(&zs, 6, Z_DEFLATED, 16 + MAX_WBITS, 8, Z_DEFAULT_STRATEGY);
  std::vector<uint8_t> out(deflateBound(&zs, raw.size()) + 64);
  zs.next_in = const_cast<Bytef*>(raw.data());
  zs.avail_in = static_cast<uInt>(raw.size());
  zs.next_out = out.data();
  zs.avail_out = static_cast<uInt>(out.size());
  deflate(&zs, Z_FINISH);
  out.resize(zs.total_out);
  deflateEnd(&zs);
  return out;
}

std::vector<uint8_t> zstd_compress(std::span<const uint8_t> raw, int level) {
  std::vector<uint8_t> out(ZSTD_compressBound(raw.size()));
  size_t n = ZSTD_compress(out.data(), out.size(), raw.data(), raw.size(), level);
  out.resize(n);
  return out;
}

std::vector<uint8_t> zstd_decompress(std::span<const uint8_t> packed) {
  std::unique_ptr<ZSTD_DCtx, decltype(&ZSTD_freeDCtx)> dctx(ZSTD_createDCtx(), ZSTD_freeDCtx);
  std::vector<uint8_t> out;
  std::vector<uint8_t> buf(1 << 16);
  ZSTD_inBuffer in{packed.data(), packed.size(), 0};
  size_t rc = 0;
  while (in.pos < in.size || rc != 0) {
    ZSTD_outBuffer o{buf.data(), buf.size(), 0};
    rc = ZSTD_decompressStream(dctx.get(), &o, &in);
    if (ZSTD_isError(rc)) throw std::runtime_error(std::string("zstd: ") + ZSTD_getErrorName(rc));
    out.insert(out.end(), buf.begin(), buf.begin() + static_cast<ptrdiff_t>(o.pos));
    if (o.pos == 0 && in.pos == in.size) break;  // cut short: nothing more will come
  }
  return out;
}

Decoded decode(std::span<const uint8_t> bytes, size_t chunk) {
  Decoded d;
  format::Decoder dec;
  format::Event ev;
  std::string line;
  auto drain = [&] {
    while (dec.next(ev) == format::Decoder::Step::kEvent) {
      line.clear();
      report::render_event_json(ev, line);
      line.pop_back();
      d.events.push_back(line);
    }
  };
  if (chunk == 0) chunk = bytes.size() ? bytes.size() : 1;
  // Feed from a copy per chunk so a decoder that keeps pointers into a
  // chunk after asking for more input would read freed memory (ASan).
  for (size_t off = 0; off < bytes.size(); off += chunk) {
    std::vector<uint8_t> piece(bytes.begin() + static_cast<ptrdiff_t>(off),
                               bytes.begin() + static_cast<ptrdiff_t>(std::min(bytes.size(), off + chunk)));
    dec.feed(piece);
    drain();
  }
  dec.finish();
  drain();
  d.stats = dec.stats();
  d.diagnostics = dec.diagnostics();
  d.truncated = dec.truncated();
  d.truncated_at = dec.truncated_at();
  return d;
}

std::vector<uint8_t> make_sample_batch(uint64_t ts_ns, int events, uint64_t seed, uint64_t* last_ts) {
  format::TraceWriter w;
  uint64_t x = seed * 0x9e3779b97f4a7c15ull + 1;
  auto next = [&] {
    x ^= x << 13;
    x ^= x >> 7;
    x ^= x << 17;
    return x;
  };
  uint64_t ts = ts_ns;
  for (int i = 0; i < events; ++i) {
    uint64_t frames[16];
    size_t depth = 10 + next() % 6;
    for (size_t f = 0; f < depth; ++f) frames[f] = 0x400000 + (next() % 4096) * 0x40 + f * 0x100000;
    format::CpuSample s;
    s.tid = static_cast<uint32_t>(1000 + next() % 8);
    s.thread_name = "worker";
    s.cpu = next() % 2;
    ts = ts_ns + static_cast<uint64_t>(i) * 1000000;
    w.cpu_sample(ts, s, {frames, depth});
  }
  if (last_ts) *last_ts = ts;
  return w.take();
}

std::string dial9_binary() { return DIAL9_BINARY; }

namespace {
// The names listed under "Subcommands:" in a CLI11 help text.
std::vector<std::string> help_subcommands(const std::string& help) {
  std::vector<std::string> out;
  size_t at = help.find("\nSubcommands:\n");
  if (at == std::string::npos) return out;
  std::istringstream lines(help.substr(at + 14));
  for (std::string line; std::getline(lines, line) && line.rfind("  ", 0) == 0;) {
    std::istringstream words(line);
    std::string name;
    words >> name;
    out.push_back(name);
  }
  return out;
}
}  // namespace

std::vector<std::vector<std::string>> dial9_commands() {
  std::vector<std::vector<std::string>> out;
  for (const std::string& name : help_subcommands(run({dial9_binary(), "--help"}).out)) {
    auto nested = help_subcommands(run({dial9_binary(), name, "--help"}).out);
    if (nested.empty()) out.push_back({name});
    for (const std::string& sub : nested) out.push_back({name, sub});
  }
  if (out.size() < 5) throw std::runtime_error("dial9 --help lists too few commands");
  return out;
}

RunResult run(const std::vector<std::string>& argv) {
  int out_pipe[2], err_pipe[2];
  if (pipe2(out_pipe, O_CLOEXEC) != 0 || pipe2(err_pipe, O_CLOEXEC) != 0) {
    throw std::runtime_error("pipe failed");
  }
  posix_spawn_file_actions_t fa;
  posix_spawn_file_actions_init(&fa);
  posix_spawn_file_actions_adddup2(&fa, out_pipe[1], 1);
  posix_spawn_file_actions_adddup2(&fa, err_pipe[1], 2);
  std::vector<char*> args;
  for (const auto& a : argv) args.push_back(const_cast<char*>(a.c_str()));
  args.push_back(nullptr);
  pid_t pid;
  int rc = posix_spawnp(&pid, args[0], &fa, nullptr, args.data(), environ);
  posix_spawn_file_actions_destroy(&fa);
  close(out_pipe[1]);
  close(err_pipe[1]);
  if (rc != 0) {
    close(out_pipe[0]);
    close(err_pipe[0]);
    throw std::runtime_error("cannot spawn " + argv[0]);
  }
  RunResult r;
  pollfd fds[2] = {{out_pipe[0], POLLIN, 0}, {err_pipe[0], POLLIN, 0}};
  std::string* sinks[2] = {&r.out, &r.err};
  int open_fds = 2;
  char buf[65536];
  while (open_fds > 0) {
    if (poll(fds, 2, -1) < 0) continue;
    for (int i = 0; i < 2; ++i) {
      if (fds[i].fd < 0 || fds[i].revents == 0) continue;
      ssize_t n = read(fds[i].fd, buf, sizeof buf);
      if (n > 0) {
        sinks[i]->append(buf, static_cast<size_t>(n));
      } else if (n == 0 || errno != EINTR) {
        close(fds[i].fd);
        fds[i].fd = -1;
        --open_fds;
      }
    }
  }
  int status = 0;
  while (waitpid(pid, &status, 0) < 0 && errno == EINTR) {
  }
  r.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
  return r;
}

TempDir::TempDir() {
  std::string tmpl = (std::filesystem::temp_directory_path() / "dial9-test-XXXXXX").string();
  if (mkdtemp(tmpl.data()) == nullptr) throw std::runtime_error("mkdtemp failed");
  path_ = tmpl;
}

TempDir::~TempDir() {
  std::error_code ec;
  std::filesystem::remove_all(path_, ec);
}

SmallDisk::SmallDisk(const std::string& dir, const std::string& size) : dir_(dir) {
  if (::geteuid() != 0) {
    skip_ = "mounting a small tmpfs needs root";
  } else if (::mkdir(dir.c_str(), 0700) != 0 || ::mount("tmpfs", dir.c_str(), "tmpfs", 0, ("size=" + size).c_str()) != 0) {
    skip_ = std::string("cannot mount a tmpfs here: ") + std::strerror(errno);
  }
}

SmallDisk::~SmallDisk() {
  if (skip_.empty()) ::umount2(dir_.c_str(), MNT_DETACH);
}

void write_file_bytes(const std::string& path, std::span<const uint8_t> data) {
  std::ofstream out(path, std::ios::binary);
  out.write(reinterpret_cast<const char*>(data.data()), static_cast<std::streamsize>(data.size()));
  if (!out.flush()) throw std::runtime_error("cannot write " + path);
}

void TempDir::write(const std::string& name, std::span<const uint8_t> data) const {
  write_file_bytes(file(name), data);
}

std::vector<SymbolizedSample> symbolized_samples(const std::string& dir) {
  std::vector<SymbolizedSample> out;
  report::Symbolizer sym;
  auto inputs = format::expand_trace_inputs({dir});
  if (!inputs) throw std::runtime_error(inputs.error().message());
  for (const auto& in : *inputs) {
    auto r = format::read_trace_file(in.path, [&](const format::Event& e) {
      sym.observe(e);
      if (e.builtin() != format::Builtin::kCpuSample) return;
      auto s = format::as_cpu_sample(e);
      SymbolizedSample ss;
      ss.tid = s.tid;
      ss.thread_name = std::string(s.thread_name.value_or(""));
      uint32_t pid = sym.pid_of(s.tid);
      for (uint32_t i = 0; i < s.callchain.size(); ++i) {
        auto name = sym.name(pid, s.callchain[i], i > 0);
        ss.frames.emplace_back(name.function);
        ss.modules.emplace_back(name.module);
      }
      out.push_back(std::move(ss));
    });
    if (!r) throw std::runtime_error(r.error().message());
  }
  return out;
}

std::string read_text_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

std::string golden_trace_path() { return std::string(DIAL9_SOURCE_DIR) + "/tests/data/golden.bin"; }

long number_before(const std::string& text, const std::string& what) {
  size_t at = text.find(what);
  if (at == std::string::npos || at == 0) return -1;
  size_t start = text.find_last_of(" (", at - 1) + 1;
  return std::strtol(text.c_str() + start, nullptr, 10);
}

}  // namespace dial9::test
