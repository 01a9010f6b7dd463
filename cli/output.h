// Writing a command's whole result to standard output, for report and
// doctor, and whether it may be coloured. A reader that went away (`| head`) is normal use, any other
// failure (a full disk) is one line on stderr and exit status 1.
#pragma once

#include <string>

namespace dial9::cli {

// Returns kExitOk, or kExitRuntimeError after printing "dial9 CMD: cannot
// write to standard output: ...".
int write_stdout(const std::string& out, const char* cmd);

// Whether text for standard output may be coloured: only on a terminal,
// never with NO_COLOR set to anything (https://no-color.org) or TERM=dumb.
bool stdout_wants_colour();

}  // namespace dial9::cli
