// What `dial9 record` and `dial9 attach` share: their sampling, scheduler,
// segment and agent options, and the recording itself, from the checks
// before anything starts to the summary at the end. record launches the
// program (inject/launch.h); attach records a running one (its preflight in
// inject/preflight.h, the agent loaded by inject/attach.h).
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "capture/sched_capture.h"

namespace CLI {
class App;
}

namespace dial9::cli {

enum class Mode { kLaunch, kAttach };

struct RecordingOptions {
  std::vector<std::string> command;  // record: the program and its arguments
  std::string pid;                   // attach: the process, as typed
  bool force = false;                // attach --force: load the agent despite a seccomp filter
  std::string output;
  // Signed, so that -F -5 is refused rather than wrapped to a huge number.
  int64_t frequency = 999;
  int64_t period = 0;         // used when period_given
  bool period_given = false;  // -c: 0 is then an error, not "use -F"
  bool frequency_given = false;
  std::string event;
  bool no_kernel = false;
  std::string call_graph = "auto";
  std::string duration;
  std::string max_file_size = "64MiB";
  std::string max_total_size = "1GiB";
  std::string rotation_period;
  std::string compression = "zstd";
  // The most DWARF (decompressed) a module's lines and inlined calls are
  // read from when segments are sealed; 0: no limit.
  std::string max_debug_info = "4MiB";
  std::string on_seal;
  int64_t mmap_pages = 0;  // 0: chosen from the call graph
  bool no_sched = false;
  int64_t waker_stacks = capture::kDefaultWakerStackEvery;
  bool quiet = false;
  bool verbose = false;  // -v: the perf events opened, and how the controller kept up
  std::string sampler = "auto";  // auto: perf, else the agent's timer sampler
  bool no_agent = false;
};

// Registers the options both commands take on `cmd`; the returned function
// reads which of -F and -c the command line gave (call it before running).
std::function<void()> add_recording_options(CLI::App* cmd, RecordingOptions& o, Mode mode);

// Records; returns the exit code (record: the program's status).
int run_recording(const RecordingOptions& o, Mode mode);

}  // namespace dial9::cli
