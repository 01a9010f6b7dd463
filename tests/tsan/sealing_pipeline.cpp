// The controller's concurrent part under ThreadSanitizer: format::SegmentWriter,
// whose recording thread (append, set_preamble, flush, stats) hands chunks to
// a background thread that compresses, rotates by size and by time, seals
// (with a seal-time appendix, as dial9 record's symbol table), applies
// retention and runs on-seal commands. Everything else dial9 record does
// runs on one thread (capture/session's loop), so this is where a data race
// can hide.
//
//   tsan_sealing_pipeline DIR [SECONDS]
//
// Drives every path of the writer for SECONDS (default 3) with a small queue
// (so chunks are dropped too), then checks what it can: close() succeeds,
// no .active file is left, every remaining segment decodes whole, and every
// event read back was appended. Exits 0 when all hold, 1 otherwise; a race
// makes TSan end it with its own exit code (ctest sets halt_on_error).
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <atomic>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <mutex>
#include <set>
#include <string>
#include <vector>

#include "format/decoder.h"
#include "format/events.h"
#include "format/schemas.h"
#include "format/segment_writer.h"
#include "format/trace_file.h"
#include "format/trace_writer.h"

using namespace dial9::format;
namespace fs = std::filesystem;

namespace {

uint64_t now_ns() {
  timespec ts{};
  ::clock_gettime(CLOCK_MONOTONIC, &ts);
  return static_cast<uint64_t>(ts.tv_sec) * 1'000'000'000u + static_cast<uint64_t>(ts.tv_nsec);
}

int failures = 0;
void check(bool ok, const std::string& what) {
  if (!ok) {
    std::fprintf(stderr, "tsan_sealing_pipeline: FAILED: %s\n", what.c_str());
    ++failures;
  }
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 2) {
    std::fprintf(stderr, "usage: tsan_sealing_pipeline DIR [SECONDS]\n");
    return 2;
  }
  const std::string dir = argv[1];
  const double seconds = argc > 2 ? std::atof(argv[2]) : 3.0;
  fs::remove_all(dir);

  // Shared with the background thread on purpose: the log callback is
  // promised never to run concurrently, and the appendix counts seals.
  std::string log_text;
  std::atomic<uint64_t> appendices{0};
  SegmentOptions o;
  o.dir = dir;
  o.stem = "tsan";
  o.max_file_size = 96 << 10;             // rotate by size every few chunks
  o.max_total_size = 512 << 10;           // retention deletes the oldest
  o.rotation_period_ns = 50'000'000;      // and by time
  o.chunk_bytes = 8 << 10;
  o.flush_interval_ns = 5'000'000;
  o.queue_chunks = 2;                     // small: some chunks are dropped
  o.on_seal = "test -s {}";
  o.on_seal_wait_ns = 5'000'000'000;
  o.metadata = {{"command", "tsan_sealing_pipeline"}};
  o.log = [&](const std::string& line) { log_text += line + "\n"; };
  o.seal_appendix = [&](const std::string& active) {
    struct stat st{};
    if (::stat(active.c_str(), &st) != 0) return std::vector<uint8_t>{};
    TraceWriter tw;
    ClockSync cs;
    cs.realtime_ns = appendices.fetch_add(1) + 1;
    tw.clock_sync(now_ns(), cs);
    return tw.take();
  };
  auto writer = SegmentWriter::open(o);
  if (!writer) {
    std::fprintf(stderr, "tsan_sealing_pipeline: %s\n", writer.error().message().c_str());
    return 1;
  }

  // The recording thread: batches of polls with a unique task id each, so
  // the read-back can tell an appended event from anything else.
  std::set<uint64_t> appended;
  TraceWriter tw;
  const uint64_t end = now_ns() + static_cast<uint64_t>(seconds * 1e9);
  uint64_t task = 0, batches = 0;
  while (now_ns() < end) {
    uint64_t first = now_ns(), last = first;
    for (int i = 0; i < 64; ++i) {
      PollStart p;
      p.worker_id = 0;
      p.task_id = ++task;
      p.spawn_loc = "sealing_pipeline.cpp:1:1";
      last = now_ns();
      tw.poll_start(last, p);
      appended.insert(task);
    }
    (*writer)->append(tw.bytes(), first, last, 64);  // records: drops are reported as LostEvents
    tw.reset();
    ++batches;
    if (batches % 16 == 0) {
      TraceWriter pre;
      ThreadName tn;
      tn.tid = static_cast<uint32_t>(batches);
      tn.name = "worker-" + std::to_string(batches);
      pre.thread_name(last, tn);
      (*writer)->set_preamble(pre.take());
    }
    if (batches % 7 == 0) (*writer)->flush();
    if (batches % 5 == 0) (void)(*writer)->stats();
    if (batches % 3 == 0) ::usleep(200);  // let the queue drain at times
  }
  auto closed = (*writer)->close();
  check(static_cast<bool>(closed), "close(): " + (closed ? std::string() : closed.error().message()));
  const SegmentStats st = (*writer)->stats();
  std::printf("batches %llu, dropped %llu, sealed %llu, deleted by retention %llu, appendices %llu\n",
              static_cast<unsigned long long>(st.batches), static_cast<unsigned long long>(st.dropped_batches),
              static_cast<unsigned long long>(st.segments_sealed),
              static_cast<unsigned long long>(st.segments_deleted),
              static_cast<unsigned long long>(appendices.load()));
  check(st.batches == batches, "stats().batches counts every append");
  check(st.segments_sealed >= 3, "the run sealed several segments (rotation)");
  check(st.segments_deleted >= 1, "retention deleted a segment");
  check(appendices.load() == st.segments_sealed, "one appendix per sealed segment");

  uint64_t read_back = 0;
  for (const auto& e : fs::directory_iterator(dir)) {
    const std::string path = e.path().string();
    check(path.find(".active") == std::string::npos, "no .active file after close: " + path);
    auto summary = read_trace_file(path, [&](const Event& ev) {
      if (ev.builtin() == Builtin::kPollStart) {
        check(appended.count(as_poll_start(ev).task_id) == 1, "a poll read back was appended: " + path);
        ++read_back;
      }
    });
    check(summary && !summary->truncated && summary->container_error.empty() &&
              summary->diagnostic_count == 0,
          "segment decodes whole: " + path);
  }
  check(read_back > 0, "events were read back");
  std::printf("polls read back: %llu of %llu appended\n", static_cast<unsigned long long>(read_back),
              static_cast<unsigned long long>(task));
  if (!log_text.empty()) std::printf("writer's log:\n%s", log_text.c_str());
  fs::remove_all(dir);
  return failures == 0 ? 0 : 1;
}
