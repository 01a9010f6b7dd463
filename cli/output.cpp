#include "cli/output.h"

#include <signal.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <string>

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

bool stdout_wants_colour() {
  const char* no_color = std::getenv("NO_COLOR");
  const char* term = std::getenv("TERM");
  if (no_color && *no_color) return false;
  if (term && std::string(term) == "dumb") return false;
  return ::isatty(1) == 1;
}

}  // namespace dial9::cli
