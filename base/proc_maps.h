// /proc/PID/maps, /proc/PID/task and status files, read from outside the process: what
// `attach` needs to know about a running program before its first sample
// (its mappings, threads and their names) and where to put the injected
// loader. Parsing is pure; the readers are thin.
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "base/result.h"

namespace dial9 {

struct MapsEntry {
  uint64_t start = 0, end = 0;  // [start, end)
  bool read = false, write = false, exec = false, shared = false;
  uint64_t offset = 0;
  uint64_t inode = 0;
  std::string path;  // "" for anonymous; "[vdso]", "[stack]", ...; " (deleted)" kept
};

// One line of /proc/PID/maps, or nullopt when it is not one.
std::optional<MapsEntry> parse_maps_line(std::string_view line);
// Every line of a maps file's text (lines that do not parse are skipped).
std::vector<MapsEntry> parse_maps(std::string_view text);

// A thread of process `pid` through which /proc shows its address space:
// `pid` itself, or, once its main thread has exited (a zombie whose maps
// and mem are empty while other threads run on), the first live thread.
pid_t address_space_thread(pid_t pid);

// The mappings of process `pid` (through address_space_thread). The error
// names the file.
Result<std::vector<MapsEntry>> read_maps(pid_t pid);

// The thread ids of /proc/PID/task, ascending.
Result<std::vector<pid_t>> list_threads(pid_t pid);

// The value of field `key` ("Tgid", "SigPnd") in the text of a /proc
// status file, without the spaces after its colon; "" when absent.
std::string status_field(std::string_view status, std::string_view key);

// The fields of a /proc/PID/stat (or task/TID/stat) line that dial9 reads.
struct ProcStat {
  char state = '?';         // R, S, D, Z (zombie), X (dead), ...
  pid_t ppid = 0;
  unsigned long flags = 0;  // the kernel's PF_* bits
};
constexpr unsigned long kPfKthread = 0x200000;  // a kernel thread
// The text of a stat file, or nullopt when it is not one. The name in
// parentheses may itself hold spaces and parentheses.
std::optional<ProcStat> parse_proc_stat(std::string_view text);
// /proc/PID/stat, or nullopt when the process is gone.
std::optional<ProcStat> read_proc_stat(pid_t pid);

// /proc/PID/task/TID/comm without its newline, or "" when the thread is gone.
std::string thread_comm(pid_t pid, pid_t tid);

}  // namespace dial9
