// What `report` and `export` share: the trace inputs, the selection options
// (--tid, --thread, --pid, --from, --to), --debug-dir, and loading the
// selected part of a trace with warnings and a progress line on stderr.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "report/model/trace_model.h"
#include "report/symbols/symbolizer.h"
#include "report/symbols/trace_resolver.h"

namespace CLI {
class App;
}

namespace dial9::cli {

struct TraceArgs {
  std::vector<std::string> inputs;
  std::vector<uint32_t> tids, pids;
  std::vector<std::string> thread_names;
  std::string from, to;
  std::vector<std::string> debug_dirs;
  bool verbose = false;  // -v: how the trace was read, and each module's symbols
};

// Registers the inputs (positional) and the options above on `cmd`.
// With --verbose, load_selected says on stderr what it read and how long it
// took, and describe_modules where each module's symbols came from.
void add_trace_options(CLI::App* cmd, TraceArgs& args);

// A loaded trace, restricted to the selection. The model holds its own
// copies of every name; the symbolizer stays for exporters that need more
// (such as the mapped files behind the frames).
struct LoadedTrace {
  std::unique_ptr<report::Symbolizer> symbolizer;
  std::unique_ptr<report::TraceResolver> resolver;
  report::TraceModel model;
};

// Loads and restricts. On failure prints one line prefixed "dial9 CMD: " and
// returns the exit code (1: nothing readable; 2: a selection the trace does
// not have or cannot parse) in *exit_code, with nullptr.
std::unique_ptr<LoadedTrace> load_selected(const TraceArgs& args, const char* cmd, int* exit_code);

// With args.verbose, one stderr line per module the command looked up:
// the file its symbols came from (and its separate debug file), or why it
// has none. Called once the command has named every frame it prints.
void describe_modules(const TraceArgs& args, const LoadedTrace& t, const char* cmd);

}  // namespace dial9::cli
