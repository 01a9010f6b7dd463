// Whether `dial9 attach PID` may attach to a process, and whether it may
// load the agent into it: facts read from /proc (read_process_facts), then a
// pure decision (judge) with one specific line for each refusal.
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <string>

namespace dial9::inject {

struct ProcessFacts {
  pid_t pid = 0;
  bool exists = false;
  pid_t tgid = 0;           // the process a thread id belongs to
  bool kernel_thread = false;
  // The main thread shows as a zombie once it has exited, even while other
  // threads run on: the process is still attachable through them.
  bool zombie = false;
  bool live_threads = true;
  bool is_dial9 = false;    // the same executable as this one
  uid_t uid = 0;            // real and effective
  uid_t euid = 0;
  bool maps_readable = false;  // /proc/PID/maps opened (dumpable, permitted)
  int seccomp = 0;          // 0 none, 1 strict, 2 filter
  int yama_scope = -1;      // kernel.yama.ptrace_scope, -1 when Yama is absent
  int elf_class = 0;        // of /proc/PID/exe: 32, 64, 0 unknown
  bool dynamic = false;     // has an ELF interpreter (can dlopen)
  bool app_api = false;     // a mapped executable or library uses the app API (dial9/dial9.h)
  std::string comm;
};

ProcessFacts read_process_facts(pid_t pid);

// Whether an executable or library mapped in `pid` carries the app API's
// ELF note (format/agent_protocol.h): then attach loads the agent to serve
// it, whatever samples.
bool uses_app_api(pid_t pid);

struct Verdict {
  // 0: may attach; else the exit code (2: the pid is not something to
  // attach to; 1: not permitted here) and a one-line refusal with the fix.
  int refuse = 0;
  std::string refusal;
  // Why the agent cannot be loaded (attach then records with perf alone),
  // or "" when it can.
  std::string no_agent;
};

struct Caller {
  pid_t pid = 0;
  uid_t euid = 0;
  bool cap_sys_ptrace = false;
  bool force = false;  // --force: inject despite a seccomp filter
};

Verdict judge(const ProcessFacts& f, const Caller& me);

// This process's effective uid and whether it has CAP_SYS_PTRACE.
Caller current_caller();

}  // namespace dial9::inject
