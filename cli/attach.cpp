// `dial9 attach [options] PID`: record a running process until Ctrl-C,
// SIGTERM or --duration, then leave it running as before (the recording
// itself: recording.cpp; loading the agent: inject/attach.h). See
// man/dial9-attach.1.
#include <CLI/CLI.hpp>

#include <memory>

#include "cli/commands.h"
#include "cli/recording.h"

namespace dial9::cli {

RunFn add_attach_command(CLI::App& app) {
  auto o = std::make_shared<RecordingOptions>();
  CLI::App* cmd = app.add_subcommand("attach", "Record a running process until Ctrl-C, and leave it running.");
  cmd->footer("Usage: dial9 attach [OPTIONS] PID. Needs the right to ptrace the process (the same user, or root).");
  cmd->add_option("pid", o->pid, "The process to record")->required()->type_name("PID");
  auto given = add_recording_options(cmd, *o, Mode::kAttach);
  return [o, given] {
    given();
    return run_recording(*o, Mode::kAttach);
  };
}

}  // namespace dial9::cli
