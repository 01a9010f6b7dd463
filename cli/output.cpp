#include "cli/output.h"

#include <signal.h>

#include <cerrno>
#include <cstdio>

#include "base/io.h"
#include "cli/exit_codes.h"

namespace dial9::cli {

int write_stdout(const std::string& out, const char* cmd) {
  ::signal(SIGPIPE, SIG_IGN);
  auto w = write_all(1, {reinterpret_cast<const uint8_t*>(out.data()), out.size()});
  if (!w && w.error().errno_value() != EPIPE) {
    std::fprintf(stderr, "dial9 %s: cannot write to standard output: %s\n", cmd, w.error().message().c_str());
    return kExitRuntimeError;
  }
  return kExitOk;
}

}  // namespace dial9::cli
