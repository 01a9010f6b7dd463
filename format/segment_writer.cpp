#include "format/segment_writer.h"

#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/utsname.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <condition_variable>
#include <cstdio>
#include <cstring>
#include <deque>
#include <mutex>
#include <thread>

#include "base/dir.h"
#include "base/io.h"
#include "format/frame_codec.h"
#include "format/segment_files.h"
#include "format/trace_writer.h"

extern char** environ;

namespace dial9::format {
namespace {

uint64_t clock_ns(clockid_t id) {
  timespec ts{};
  clock_gettime(id, &ts);
  return static_cast<uint64_t>(ts.tv_sec) * 1000000000u + static_cast<uint64_t>(ts.tv_nsec);
}

// A CLOCK_MONOTONIC time and the CLOCK_REALTIME of the same instant. The two
// clocks cannot be read at once: a thread preempted between the reads pairs
// times milliseconds apart, which shifted a segment's anchor against the
// rotation boundaries (a CI run under load). So the realtime read is
// bracketed by two monotonic ones, a few times, and the tightest bracket's
// midpoint is kept.
struct ClockPair {
  uint64_t mono = 0, real = 0;
};
ClockPair clock_pair() {
  ClockPair best;
  uint64_t best_gap = UINT64_MAX;
  for (int i = 0; i < 5; ++i) {
    const uint64_t a = clock_ns(CLOCK_MONOTONIC);
    const uint64_t real = clock_ns(CLOCK_REALTIME);
    const uint64_t b = clock_ns(CLOCK_MONOTONIC);
    if (b - a < best_gap) {
      best_gap = b - a;
      best = {a + (b - a) / 2, real};
    }
    if (best_gap < 2000) break;  // a couple of microseconds: as good as it gets
  }
  return best;
}

std::string shell_quote(const std::string& s) {
  std::string out = "'";
  for (char c : s) {
    if (c == '\'') {
      out += "'\\''";
    } else {
      out += c;
    }
  }
  return out + "'";
}

// One flushed piece of the trace: whole batches, compressed as one frame.
struct Chunk {
  std::vector<uint8_t> bytes;
  uint64_t first_ts = 0;
  uint64_t last_ts = 0;
  uint64_t batches = 0;
  // Records in the batches (as their producer counted them), and the
  // earlier loss this chunk reports: both are lost if it is dropped too.
  uint64_t records = 0;
  uint64_t reports_lost = 0;
  bool new_segment = false;  // time rotation: seal the current segment first
  // The state before this chunk's first batch (set_preamble), for a segment
  // that starts with this chunk.
  std::shared_ptr<const std::vector<uint8_t>> preamble;
};

}  // namespace

struct SegmentWriter::Impl {
  SegmentOptions opt;
  Dir dir;
  FrameCompressor comp;
  uint64_t mono_to_real = 0;  // realtime - monotonic, at open
  // What every segment says about where it was written (before the caller's
  // own metadata, which may add to it).
  std::vector<std::pair<std::string, std::string>> host_metadata;

  // Recording thread only.
  Chunk cur;
  // Records of dropped chunks not yet reported in the trace: the next chunk
  // that goes out opens with a LostEvent (source 2) that says so.
  uint64_t lost_records = 0;
  std::shared_ptr<const std::vector<uint8_t>> preamble;
  uint64_t next_boundary_mono = 0;
  bool closed = false;
  Result<void> close_result;

  // Shared with the background thread.
  std::mutex mu;
  std::condition_variable cv;
  std::deque<Chunk> queue;
  bool stopping = false;
  bool logged_drop = false;
  std::atomic<bool> stopped_writing{false};  // set once `failed`: drop without queueing
  mutable std::mutex stats_mu;
  SegmentStats st;

  // Background thread only (and open(), before it starts).
  std::thread thread;
  UniqueFd active;
  std::string active_name;
  uint64_t active_index = 0;
  uint64_t active_size = 0;
  uint64_t active_header = 0;
  uint64_t active_start_real = 0;
  uint64_t next_index = 0;
  std::vector<SegmentRecord> sealed;  // this stem's sealed segments, for retention
  std::vector<uint8_t> frame;
  bool started_any = false;  // the first segment needs no preamble
  bool failed = false;
  bool salvaging = false;  // sealing what a write error left: append nothing
  Error error;
  std::vector<std::pair<pid_t, std::string>> children;  // running on-seal commands

  Impl(SegmentOptions o, Dir d, FrameCompressor c)
      : opt(std::move(o)), dir(std::move(d)), comp(std::move(c)) {}

  // Both threads log; the callback is called under a lock, one line at a time.
  std::mutex log_mu;
  void log(const std::string& line) {
    std::lock_guard<std::mutex> lk(log_mu);
    if (opt.log) {
      opt.log(line);
    } else {
      std::fprintf(stderr, "dial9: %s\n", line.c_str());
    }
  }
  template <typename F>
  void count(F f) {
    std::lock_guard<std::mutex> lk(stats_mu);
    f(st);
  }

  // Counts a chunk that will never be written (either thread).
  void drop(const Chunk& c) {
    count([&](SegmentStats& s) {
      // The caller's batches: a chunk holds at most one LostEvent of ours.
      s.dropped_batches += c.batches - (c.reports_lost > 0 ? 1 : 0);
      s.dropped_bytes += c.bytes.size();
      s.dropped_records += c.records;
    });
  }

  // ---- recording side ----
  // `closing`: nothing is capturing any more, so a full queue is waited out
  // (by queueing past the limit) rather than dropping the last chunk.
  void hand_over(bool closing = false) {
    if (cur.batches == 0) return;
    bool dropped = false;
    bool rotate = cur.new_segment;
    {
      std::lock_guard<std::mutex> lk(mu);
      if (stopped_writing || (!closing && queue.size() >= opt.queue_chunks)) {
        dropped = true;
      } else {
        queue.push_back(std::move(cur));
      }
    }
    if (dropped) {
      // Once writing has stopped nothing more reaches the trace to say so.
      if (!stopped_writing) lost_records += cur.records + cur.reports_lost;
      drop(cur);
      if (!logged_drop && !stopped_writing) {
        logged_drop = true;
        log("the segment writer is behind (slow disk?): dropping trace data; the drops are counted");
      }
    } else {
      cv.notify_one();
    }
    cur = Chunk{};
    cur.bytes.reserve(opt.chunk_bytes + opt.chunk_bytes / 4);
    // A dropped chunk must not take a time rotation with it.
    if (dropped) cur.new_segment = rotate;
  }

  // Puts a LostEvent for the records of dropped chunks into the current
  // chunk (as a stream of its own, before the batch that follows), so the
  // trace says what it is missing. Its count travels with the chunk: should
  // this one be dropped too, it is reported by the next.
  void report_lost(uint64_t ts) {
    if (lost_records == 0 || stopped_writing) return;
    TraceWriter tw;
    tw.lost(ts, Lost{static_cast<uint8_t>(LostSource::kWriterQueue), 0, lost_records});
    if (cur.batches == 0) {
      cur.first_ts = ts;
      cur.preamble = preamble;
    }
    auto bytes = tw.bytes();
    cur.bytes.insert(cur.bytes.end(), bytes.begin(), bytes.end());
    cur.last_ts = std::max(cur.last_ts, ts);
    cur.batches++;
    cur.reports_lost += lost_records;
    lost_records = 0;
  }

  // ---- background side ----
  std::string sealed_name(uint64_t index, Compression c) const {
    return opt.stem + "." + std::to_string(index) + sealed_suffix(c);
  }

  // Records the first failure, logs it once, and stops all further writing.
  void fail(Error e) {
    if (failed) return;
    failed = true;
    stopped_writing = true;
    // A directory removed under us fails every call with ENOENT, which
    // names a file; say what really happened.
    struct stat dir_st {};
    if (fstat(dir.fd(), &dir_st) == 0 && dir_st.st_nlink == 0) {
      e = Error("the output directory '" + dir.path() +
                    "' was deleted while recording, so nothing more can be written (record into a directory "
                    "that stays)",
                ENOENT);
    } else if (e.errno_value() == ENOSPC) {
      e = Error(e.message() + " (free space on that filesystem, or keep the recording within a total-size budget)",
                ENOSPC);
    }
    error = e;
    log(e.message() + "; recording stops writing (dropped data is counted), sealed segments are untouched");
  }

  bool write_frame(std::span<const uint8_t> data) {
    auto r = write_all(active.get(), data);
    if (!r) {
      int e = r.error().errno_value();
      fail(Error("cannot write '" + dir.path_of(active_name) + "': " + std::strerror(e), e));
      salvage_active();
      return false;
    }
    active_size += data.size();
    count([&](SegmentStats& s) { s.bytes_written += data.size(); });
    return true;
  }

  bool start_segment(const Chunk& first) {
    // A name already taken (another writer of the stem, or a file or
    // symlink someone planted) is skipped, never followed or overwritten.
    Result<UniqueFd> fd = dial9::fail("no segment name was free");
    uint64_t index = 0;
    std::string name;
    for (int attempt = 0; attempt < 1000; ++attempt) {
      index = next_index++;
      name = opt.stem + "." + std::to_string(index) + ".bin.active";
      fd = dir.create_exclusive(name);
      if (fd || fd.error().errno_value() != EEXIST) break;
      log(fd.error().message().substr(0, fd.error().message().find(';')) +
          "; skipped (not followed, not overwritten)");
    }
    if (!fd) {
      fail(fd.error());
      return false;
    }
    // Held until the segment is sealed: a second writer of the same stem
    // sees it and does not "recover" a live segment.
    ::flock(fd->get(), LOCK_EX | LOCK_NB);
    active = std::move(*fd);
    active_name = name;
    active_index = index;
    active_size = 0;
    // The segment's own header stream: the clock anchor and the metadata,
    // so this file can be read without any other.
    const ClockPair now = clock_pair();
    const uint64_t mono = now.mono, real = now.real;
    active_start_real = real;
    TraceWriter w;
    w.clock_sync(mono, ClockSync{real});
    auto meta = host_metadata;
    meta.insert(meta.end(), opt.metadata.begin(), opt.metadata.end());
    meta.emplace_back("segment", std::to_string(index));
    meta.emplace_back("stem", opt.stem);
    w.segment_metadata(mono, meta);
    std::vector<uint8_t> head(w.bytes().begin(), w.bytes().end());
    // A later segment also opens with the state its data relies on (thread
    // names, mappings), so it can be read and symbolized alone after the
    // earlier ones are deleted. The first has that state in its own data.
    if (started_any && first.preamble) head.insert(head.end(), first.preamble->begin(), first.preamble->end());
    started_any = true;
    std::vector<uint8_t> header;  // not `frame`: it may hold the chunk to write next
    if (auto r = comp.compress(head, header); !r) {
      fail(r.error());
      return false;
    }
    if (!write_frame(header)) return false;
    active_header = active_size;
    return true;
  }

  // Seals the active segment: fsync, rename without replacing, fsync of the
  // directory; then on-seal and retention.
  void seal() {
    if (!active) return;
    if (opt.seal_appendix && !failed && !salvaging) {
      std::vector<uint8_t> extra = opt.seal_appendix(dir.path_of(active_name));
      if (!extra.empty()) {
        if (auto r = comp.compress(extra, frame); !r) {
          log("cannot compress the symbol table of '" + dir.path_of(active_name) + "': " + r.error().message());
        } else if (!write_frame(frame)) {
          return;  // write_frame failed and salvaged (sealed) the segment
        }
      }
    }
    auto synced = sync_fd(active.get());
    if (!synced) {
      active.reset();
      fail(Error("cannot sync '" + dir.path_of(active_name) + "': " + synced.error().message(),
                 synced.error().errno_value()));
      return;  // left as .active: the next run recovers it
    }
    // Rename while still holding the file (and its lock). If the sealed name
    // is taken, use the next free number rather than replace anything.
    std::string final_name = sealed_name(active_index, comp.compression());
    Result<void> renamed = dir.rename_noreplace(active_name, final_name);
    for (int attempt = 0; !renamed && renamed.error().errno_value() == EEXIST && attempt < 1000; ++attempt) {
      log("'" + dir.path_of(final_name) + "' already exists; sealing as the next free number instead");
      final_name = sealed_name(next_index++, comp.compression());
      renamed = dir.rename_noreplace(active_name, final_name);
    }
    active.reset();
    if (!renamed) {
      fail(renamed.error());
      return;
    }
    (void)dir.sync();
    sealed.push_back(SegmentRecord{final_name, active_size, active_start_real, active_index});
    count([](SegmentStats& s) { s.segments_sealed++; });
    run_on_seal(final_name);
    apply_retention();
  }

  // After a write error: cut the active segment back to its last complete
  // frame and seal it, so everything written so far stays readable.
  void salvage_active() {
    if (!active) return;
    if (active_size == 0 || ::ftruncate(active.get(), static_cast<off_t>(active_size)) != 0) {
      active.reset();
      if (active_size == 0) (void)dir.remove(active_name);
      return;
    }
    bool was_failed = failed;
    Error first = error;
    failed = false;  // let seal() run; it reports its own errors
    salvaging = true;  // no appendix: the disk just refused a write
    seal();
    salvaging = false;
    if (was_failed) {
      failed = true;
      error = first;  // close() reports the error that stopped writing
    }
  }

  void apply_retention() {
    // A segment whose on-seal command is still running (an upload, say) is
    // kept until it finishes; it still counts against the budget, and
    // retention runs again when the command ends.
    std::vector<SegmentRecord> candidates;
    std::vector<size_t> where;
    uint64_t busy = 0;
    for (size_t i = 0; i < sealed.size(); ++i) {
      bool shipping = std::any_of(children.begin(), children.end(),
                                  [&](const auto& c) { return c.second == dir.path_of(sealed[i].name); });
      if (shipping) {
        busy += sealed[i].size;
      } else {
        candidates.push_back(sealed[i]);
        where.push_back(i);
      }
    }
    for (size_t k : segments_to_delete(candidates, (active ? active_size : 0) + busy, opt.max_total_size)) {
      size_t i = where[k];
      auto r = dir.remove(sealed[i].name);
      if (!r && r.error().errno_value() != ENOENT) log(r.error().message());
      sealed[i].size = 0;
      sealed[i].name.clear();
      count([](SegmentStats& s) { s.segments_deleted++; });
    }
    std::erase_if(sealed, [](const SegmentRecord& s) { return s.name.empty(); });
  }

  void run_on_seal(const std::string& name) {
    if (opt.on_seal.empty()) return;
    std::string path = dir.path_of(name);
    std::string cmd = opt.on_seal;
    std::string quoted = shell_quote(path);
    if (cmd.find("{}") == std::string::npos) {
      cmd += " " + quoted;
    } else {
      for (size_t p = cmd.find("{}"); p != std::string::npos; p = cmd.find("{}", p + quoted.size())) {
        cmd.replace(p, 2, quoted);
      }
    }
    posix_spawn_file_actions_t fa;
    posix_spawn_file_actions_init(&fa);
    posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
    // The command starts with default signal handling and nothing blocked,
    // whatever the recorder does with its own signals.
    posix_spawnattr_t attr;
    posix_spawnattr_init(&attr);
    sigset_t none, all;
    sigemptyset(&none);
    sigfillset(&all);
    posix_spawnattr_setsigmask(&attr, &none);
    posix_spawnattr_setsigdefault(&attr, &all);
    posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF);
    const char* argv[] = {"sh", "-c", cmd.c_str(), nullptr};
    pid_t pid;
    int rc = posix_spawn(&pid, "/bin/sh", &fa, &attr, const_cast<char* const*>(argv), environ);
    posix_spawnattr_destroy(&attr);
    posix_spawn_file_actions_destroy(&fa);
    if (rc != 0) {
      log("cannot run the on-seal command for '" + path + "': " + std::strerror(rc));
      count([](SegmentStats& s) { s.on_seal_failures++; });
      return;
    }
    children.emplace_back(pid, path);
  }

  // Collects finished on-seal commands; returns how many finished.
  size_t reap() {
    size_t finished = 0;
    for (auto it = children.begin(); it != children.end();) {
      int status = 0;
      pid_t r;
      do {
        r = ::waitpid(it->first, &status, WNOHANG);
      } while (r < 0 && errno == EINTR);
      if (r == 0) {
        ++it;
        continue;
      }
      ++finished;
      // ECHILD: someone else reaped it (SIGCHLD ignored); its status is
      // unknown, which is not a failure we can report.
      bool ok = (r < 0 && errno == ECHILD) || (r > 0 && WIFEXITED(status) && WEXITSTATUS(status) == 0);
      if (!ok) {
        std::string why = r < 0                 ? std::strerror(errno)
                          : WIFEXITED(status) ? "exit status " + std::to_string(WEXITSTATUS(status))
                                              : "killed by signal " + std::to_string(WTERMSIG(status));
        log("the on-seal command for '" + it->second + "' failed (" + why + ")");
        count([](SegmentStats& s) { s.on_seal_failures++; });
      }
      it = children.erase(it);
    }
    return finished;
  }

  // At close: wait for on-seal commands, but not forever.
  void reap_all() {
    auto deadline = std::chrono::steady_clock::now() + std::chrono::nanoseconds(opt.on_seal_wait_ns);
    while (!children.empty() && std::chrono::steady_clock::now() < deadline) {
      if (reap() == 0) std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    if (!children.empty()) {
      log(std::to_string(children.size()) + " on-seal command(s) still running at exit; not waiting for them");
    }
  }


  void process(Chunk& c) {
    if (!failed && c.new_segment && active && active_size > active_header) seal();
    if (!failed) {
      if (auto r = comp.compress(c.bytes, frame); !r) {
        fail(r.error());
        salvage_active();
      }
    }
    if (!failed && !active) start_segment(c);
    if (!failed && active_header + frame.size() > opt.max_file_size) {
      // Not even an empty segment can hold it: a segment never outgrows
      // max_file_size, so this one chunk is dropped.
      log("a chunk of " + std::to_string(frame.size()) + " compressed bytes does not fit in a " +
          std::to_string(opt.max_file_size) + "-byte segment; dropped");
      drop(c);
      return;
    }
    // Rotate before a segment would outgrow its limit, never after.
    if (!failed && active_size + frame.size() > opt.max_file_size && active_size > active_header) {
      seal();
      if (!failed) start_segment(c);
    }
    if (failed || !write_frame(frame)) drop(c);
  }

  void run() {
    for (;;) {
      Chunk c;
      bool have = false;
      {
        std::unique_lock<std::mutex> lk(mu);
        cv.wait_for(lk, std::chrono::milliseconds(200), [&] { return stopping || !queue.empty(); });
        if (!queue.empty()) {
          c = std::move(queue.front());
          queue.pop_front();
          have = true;
        } else if (stopping) {
          break;
        }
      }
      if (have) process(c);
      if (reap() > 0) apply_retention();
      double cpu = static_cast<double>(clock_ns(CLOCK_THREAD_CPUTIME_ID)) / 1e9;
      count([&](SegmentStats& s) { s.background_cpu_s = cpu; });
    }
    if (!failed) {
      seal();
    } else {
      salvage_active();
    }
    reap_all();
    double cpu = static_cast<double>(clock_ns(CLOCK_THREAD_CPUTIME_ID)) / 1e9;
    count([&](SegmentStats& s) { s.background_cpu_s = cpu; });
  }

  // ---- open ----
  // A `.active` left by a crashed run: keep its complete frames, mark it
  // recovered in a metadata stream of its own, and seal it.
  void recover(const std::string& name, uint64_t index) {
    auto fd = dir.open_file(name, true);
    if (!fd) {
      if (fd.error().errno_value() != ENOENT) log("cannot recover: " + fd.error().message());
      return;  // ENOENT: its writer sealed it meanwhile
    }
    if (::flock(fd->get(), LOCK_EX | LOCK_NB) != 0) return;  // a running writer holds it
    std::vector<uint8_t> data;
    auto size = file_size(fd->get());
    if (size) {
      data.resize(*size);
      auto n = read_full(fd->get(), data);
      data.resize(n ? *n : 0);
    }
    auto kind = detect_compression(data);
    uint64_t keep = kind ? complete_prefix(*kind, data) : 0;
    if (keep == 0) {
      (void)dir.remove(name);
      log("removed '" + dir.path_of(name) + "' left by an earlier run: it holds no complete frame");
      return;
    }
    auto c = FrameCompressor::create(*kind, 3);
    TraceWriter w;
    std::vector<std::pair<std::string, std::string>> meta = {
        {"recovered", "true"}, {"recovered_discarded_bytes", std::to_string(data.size() - keep)}};
    w.segment_metadata(clock_ns(CLOCK_MONOTONIC), meta);
    std::vector<uint8_t> tail;
    if (!c || !c->compress(w.bytes(), tail) ||
        ::ftruncate(fd->get(), static_cast<off_t>(keep)) != 0 ||
        ::lseek(fd->get(), 0, SEEK_END) < 0 || !write_all(fd->get(), tail) || !sync_fd(fd->get())) {
      log("cannot recover '" + dir.path_of(name) + "': " + std::strerror(errno) + "; left as it is");
      return;
    }
    std::string final_name = sealed_name(index, *kind);
    if (auto r = dir.rename_noreplace(name, final_name); !r) {
      log("cannot recover: " + r.error().message());
      return;
    }
    (void)dir.sync();
    log("recovered '" + dir.path_of(name) + "' left by an earlier run as '" + final_name + "' (" +
        std::to_string(data.size() - keep) + " bytes of an unfinished frame discarded)");
    count([](SegmentStats& s) {
      s.segments_recovered++;
      s.segments_sealed++;
    });
  }

  Result<void> scan_existing() {
    auto entries = dir.list();
    if (!entries) return dial9::fail(entries.error());
    std::vector<std::pair<std::string, uint64_t>> actives;
    for (const auto& e : *entries) {
      auto n = parse_segment_name(e.name);
      if (!n || n->stem != opt.stem) continue;
      // Every taken number counts, whatever sits there (even a symlink).
      next_index = std::max(next_index, n->index + 1);
      if (n->active && e.regular) actives.emplace_back(e.name, n->index);
    }
    for (const auto& [name, index] : actives) recover(name, index);
    // Index the sealed segments (recovered ones included) for retention.
    auto after = dir.list();
    if (!after) return dial9::fail(after.error());
    for (const auto& e : *after) {
      auto n = parse_segment_name(e.name);
      if (!n || n->stem != opt.stem || n->active || !e.regular) continue;
      uint64_t start = segment_start_realtime(dir.path_of(e.name)).value_or(0);
      sealed.push_back(SegmentRecord{e.name, e.size, start, n->index});
    }
    apply_retention();
    return {};
  }
};

SegmentWriter::SegmentWriter(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}

SegmentWriter::~SegmentWriter() { (void)close(); }

Result<std::unique_ptr<SegmentWriter>> SegmentWriter::open(SegmentOptions o) {
  if (o.stem.empty() || o.stem.find('/') != std::string::npos) {
    return fail("the segment name stem '" + o.stem + "' must be non-empty and contain no '/'");
  }
  if (o.max_total_size != 0 && o.max_file_size > o.max_total_size) {
    return fail("max_file_size (" + std::to_string(o.max_file_size) +
                " bytes) must not exceed max_total_size (" + std::to_string(o.max_total_size) +
                " bytes)");
  }
  if (o.max_file_size < 4096) return fail("max_file_size must be at least 4096 bytes");
  o.chunk_bytes = std::clamp<uint64_t>(o.chunk_bytes, 1024, o.max_file_size / 4);
  if (o.queue_chunks == 0) o.queue_chunks = 1;
  auto dir = Dir::open_or_create(o.dir);
  if (!dir) return fail(dir.error());
  auto comp = FrameCompressor::create(o.compression, o.level);
  if (!comp) return fail(comp.error());
  auto impl = std::make_unique<Impl>(std::move(o), std::move(*dir), std::move(*comp));
  const ClockPair now = clock_pair();
  impl->mono_to_real = now.real - now.mono;
  struct utsname u {};
  if (::uname(&u) == 0) {
    impl->host_metadata = {{"host", u.nodename},
                           {"kernel", std::string(u.sysname) + " " + u.release + " " + u.machine}};
  }
  impl->host_metadata.emplace_back("dial9_version", DIAL9_VERSION);
  impl->host_metadata.emplace_back("writer_pid", std::to_string(::getpid()));
  impl->host_metadata.emplace_back("compression", compression_name(impl->opt.compression));
  impl->cur.bytes.reserve(impl->opt.chunk_bytes + impl->opt.chunk_bytes / 4);
  if (auto r = impl->scan_existing(); !r) return fail(r.error());
  Impl* raw = impl.get();
  impl->thread = std::thread([raw] { raw->run(); });
  return std::unique_ptr<SegmentWriter>(new SegmentWriter(std::move(impl)));
}

void SegmentWriter::append(std::span<const uint8_t> stream, uint64_t first_ts, uint64_t last_ts,
                           uint64_t records) {
  Impl& m = *impl_;
  if (m.closed) return;
  // Each batch must be a self-contained stream (FORMAT.md R1), or it would
  // be decoded with the previous batch's schemas and pools.
  if (stream.size() < kHeaderSize || std::memcmp(stream.data(), kMagic, sizeof kMagic) != 0) {
    m.count([&](SegmentStats& s) {
      s.dropped_batches++;
      s.dropped_bytes += stream.size();
    });
    m.log("a batch that is not a self-contained TRC stream was dropped (a bug in its producer)");
    return;
  }
  if (m.opt.rotation_period_ns != 0 && first_ts >= m.next_boundary_mono) {
    // Cut the trace at the wall-clock boundary: what follows goes to a new
    // segment, so segments do not overlap and line up with the period.
    bool had_boundary = m.next_boundary_mono != 0;
    m.hand_over();
    m.cur.new_segment = had_boundary;
    m.next_boundary_mono =
        next_period_boundary(first_ts + m.mono_to_real, m.opt.rotation_period_ns) - m.mono_to_real;
  }
  // Keep units within chunk_bytes (a bigger batch becomes a unit of its own).
  if (m.cur.batches > 0 && m.cur.bytes.size() + stream.size() > m.opt.chunk_bytes) m.hand_over();
  m.report_lost(first_ts);
  if (m.cur.batches == 0) {
    m.cur.first_ts = first_ts;
    m.cur.preamble = m.preamble;
  }
  m.cur.bytes.insert(m.cur.bytes.end(), stream.begin(), stream.end());
  m.cur.last_ts = std::max(m.cur.last_ts, last_ts);
  m.cur.batches++;
  m.cur.records += records;
  m.count([&](SegmentStats& s) {
    s.batches++;
    s.bytes_in += stream.size();
  });
  // (Batches may arrive out of time order: no unsigned wrap-around here.)
  if (m.cur.bytes.size() >= m.opt.chunk_bytes ||
      (last_ts > m.cur.first_ts && last_ts - m.cur.first_ts >= m.opt.flush_interval_ns)) {
    m.hand_over();
  }
}

void SegmentWriter::set_preamble(std::vector<uint8_t> stream) {
  impl_->preamble = std::make_shared<const std::vector<uint8_t>>(std::move(stream));
}

void SegmentWriter::flush() {
  if (!impl_->closed) impl_->hand_over();
}

Result<void> SegmentWriter::close() {
  Impl& m = *impl_;
  if (m.closed) return m.close_result;
  // A loss not yet reported goes into the last chunk (at the last time seen).
  m.report_lost(std::max(m.cur.last_ts, m.cur.first_ts));
  m.hand_over(/*closing=*/true);
  {
    std::lock_guard<std::mutex> lk(m.mu);
    m.stopping = true;
  }
  m.cv.notify_one();
  if (m.thread.joinable()) m.thread.join();
  m.closed = true;
  if (m.failed) m.close_result = fail(m.error);
  return m.close_result;
}

SegmentStats SegmentWriter::stats() const {
  std::lock_guard<std::mutex> lk(impl_->stats_mu);
  return impl_->st;
}

}  // namespace dial9::format
