// Exit codes of the dial9 executable (see man/dial9.1, EXIT STATUS).
#pragma once

namespace dial9::cli {

inline constexpr int kExitOk = 0;
inline constexpr int kExitRuntimeError = 1;  // the command ran and failed
inline constexpr int kExitUsage = 2;         // bad command line

}  // namespace dial9::cli
