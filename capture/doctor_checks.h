// `dial9 doctor`'s decisions: given what was probed on this host (and in a
// target process), whether each capability dial9 needs is there, what dial9
// does without it, and the exact command that fixes it. Pure functions, so
// every permission combination is unit-tested without privileges; the
// probing itself lives in cli/doctor.cpp.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace dial9::capture {

enum class CheckStatus { ok, degraded, unavailable };
const char* status_name(CheckStatus s);

struct Check {
  std::string name;
  CheckStatus status = CheckStatus::ok;
  std::string detail;    // what was found
  std::string fallback;  // what dial9 does instead ("" when ok)
  std::string fix;       // the command that fixes it ("" when ok)
  // Basic recording needs one check of each required group to work: CPU
  // samples come from perf events or from the agent's timer sampler.
  std::string required_group;
};

// perf_event_open of a user-space cpu-clock event on this process, and of
// one that includes kernel samples. `paranoid` < -1 when unreadable.
struct PerfProbe {
  int paranoid = -100;
  bool user_ok = false;
  std::string user_error;
  bool kernel_ok = false;
  bool every_cpu_ok = false;  // cpu-clock on every process of a CPU (record's SAMPLING SCOPE)
};
Check decide_perf_events(const PerfProbe& p);

// kptr_restrict (-1 when unreadable) and whether /proc/kallsyms shows
// non-zero addresses to this user.
struct KallsymsProbe {
  int kptr_restrict = -1;
  int paranoid = -100;  // kptr_restrict=0 shows addresses only when paranoid <= 1
  bool readable = false;
  bool addresses_visible = false;
};
Check decide_kallsyms(const KallsymsProbe& p);

struct TracefsProbe {
  std::string path;          // the tracefs root found, "" when none
  bool sched_switch_id = false;  // events/sched/sched_switch/id was readable
};
Check decide_tracefs(const TracefsProbe& p);

// ptrace_scope is -1 when Yama is absent; dumpable is -1 without a target.
struct PtraceProbe {
  int ptrace_scope = -1;
  bool cap_sys_ptrace = false;
  int target_pid = 0;
  int dumpable = -1;
  bool same_user = true;
};
Check decide_ptrace(const PtraceProbe& p);

// The target's /proc/PID/status Seccomp field: 0 off, 1 strict, 2 filter;
// -1 without a target or when absent.
Check decide_seccomp(int target_pid, int seccomp_mode);

// How many data pages per CPU the locked-memory budget allows: the kernel
// charges perf_event_mlock_kb per user (per CPU), then RLIMIT_MEMLOCK.
struct MlockProbe {
  int64_t mlock_kb = -1;           // perf_event_mlock_kb, -1 unknown
  uint64_t rlimit_memlock = 0;     // bytes; UINT64_MAX for unlimited
  unsigned cpus = 1;
  uint64_t page_size = 4096;
  bool privileged = false;         // root or CAP_IPC_LOCK: no limit applies
  uint64_t wanted_pages = 128;     // what dial9 record asks for by default (--call-graph auto)
};
uint64_t ring_pages_per_cpu(const MlockProbe& p);
Check decide_mlock(const MlockProbe& p);

struct PmuProbe {
  bool cpu_device = false;  // /sys/bus/event_source/devices/cpu exists
  bool cycles_ok = false;   // a `cycles` event opened
  std::string error;
};
Check decide_pmu(const PmuProbe& p);

// The target's main binary: whether it carries DWARF (.debug_info) or a
// separate debug file was found for it. Only asked with a target.
struct DebugInfoProbe {
  int target_pid = 0;
  std::string exe;             // /proc/PID/exe's target, "" when unreadable
  bool debug_info = false;     // the binary has .debug_info
  std::string separate_file;   // a matching file under /usr/lib/debug, or ""
};
Check decide_debug_info(const DebugInfoProbe& p);

// Whether libdial9-agent.so was found (its path, or why not), so that the
// timer sampler can stand in for perf events.
struct AgentProbe {
  bool found = false;
  std::string path_or_error;
};
Check decide_agent(const AgentProbe& p, bool perf_ok);

// Exit status: 0 when each required group has a check that is not
// unavailable.
bool basic_recording_works(const std::vector<Check>& checks);
// With `colour`, statuses are green, yellow or red.
std::string render_checks_text(const std::vector<Check>& checks, bool colour = false);
std::string render_checks_json(const std::vector<Check>& checks);

}  // namespace dial9::capture
