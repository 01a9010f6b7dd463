#include "capture/doctor_checks.h"

#include <algorithm>
#include <cstdio>

#include "base/text.h"

namespace dial9::capture {

const char* status_name(CheckStatus s) {
  switch (s) {
    case CheckStatus::ok: return "ok";
    case CheckStatus::degraded: return "degraded";
    case CheckStatus::unavailable: return "unavailable";
  }
  return "?";
}

namespace {
Check make(const char* name, CheckStatus s, std::string detail, std::string fallback = "", std::string fix = "") {
  Check c;
  c.name = name;
  c.status = s;
  c.detail = std::move(detail);
  c.fallback = std::move(fallback);
  c.fix = std::move(fix);
  return c;
}
std::string paranoid_text(int p) { return p < -1 ? "unreadable" : std::to_string(p); }
}  // namespace

Check decide_perf_events(const PerfProbe& p) {
  std::string level = "kernel.perf_event_paranoid=" + paranoid_text(p.paranoid);
  Check c;
  // Not a loss either way, so not a status: per task, a program that
  // switches often pays more for the same samples.
  const std::string scope = p.every_cpu_ok ? "; cpu-clock samples every CPU, the program's kept"
                                           : "; cpu-clock samples per task (every CPU needs CAP_PERFMON or "
                                             "kernel.perf_event_paranoid<=0), which costs a program that switches "
                                             "often more";
  if (p.user_ok && p.kernel_ok) {
    c = make("perf_events", CheckStatus::ok, level + "; user and kernel samples can be taken" + scope);
  } else if (p.user_ok) {
    c = make("perf_events", CheckStatus::degraded, level + "; user-space samples only" + scope,
             "kernel samples and kernel stacks are off (record as with --no-kernel)",
             "sudo sysctl kernel.perf_event_paranoid=1");
  } else {
    // paranoid 2 still allows user-space sampling of one's own processes, so
    // a failure there means something else (seccomp, a container) is in the way.
    std::string fix = p.paranoid > 2 ? "sudo sysctl kernel.perf_event_paranoid=2 (or 1 for kernel samples)"
                                     : "allow perf_event_open (container seccomp profile), or grant CAP_PERFMON: "
                                       "sudo setcap cap_perfmon+ep $(command -v dial9)";
    c = make("perf_events", CheckStatus::unavailable,
             level + "; perf_event_open failed" + (p.user_error.empty() ? "" : ": " + p.user_error),
             "dial9 record samples with the in-process agent's timer sampler (at most CONFIG_HZ per thread); "
             "no scheduler capture or kernel stacks",
             fix);
  }
  c.required_group = "samples";
  return c;
}

Check decide_agent(const AgentProbe& p, bool perf_ok) {
  Check c = p.found ? make("agent", CheckStatus::ok,
                           "libdial9-agent.so at " + p.path_or_error +
                               (perf_ok ? "; its timer sampler stands in should perf events be denied"
                                        : "; its timer sampler stands in for perf events"))
                    : make("agent", CheckStatus::unavailable, p.path_or_error,
                           perf_ok ? "perf events alone (record --no-agent)" : "nothing can sample", "reinstall dial9");
  c.required_group = "samples";
  return c;
}

Check decide_kallsyms(const KallsymsProbe& p) {
  std::string level = "kernel.kptr_restrict=" + (p.kptr_restrict < 0 ? std::string("unreadable")
                                                                      : std::to_string(p.kptr_restrict));
  if (p.readable && p.addresses_visible) return make("kallsyms", CheckStatus::ok, level + "; /proc/kallsyms shows addresses");
  return make("kallsyms", CheckStatus::degraded,
              level + (p.readable ? "; /proc/kallsyms hides kernel addresses from this user"
                                  : "; /proc/kallsyms is not readable"),
              "kernel frames stay unnamed (shown as addresses)",
              // The kernel shows kallsyms values to an unprivileged reader only
              // when kptr_restrict is 0 *and* perf_event_paranoid is at most 1.
              p.kptr_restrict == 0 && p.paranoid > 1
                  ? "sudo sysctl kernel.perf_event_paranoid=1 (kptr_restrict=0 shows addresses only then), or record as root"
                  : "sudo sysctl kernel.kptr_restrict=0 kernel.perf_event_paranoid=1, or record as root");
}

// What scheduler capture loses without tracefs (capture/sched_capture.h).
constexpr const char* kNoTracefs =
    "no wakers (who woke whom) and no kind of wait; blocked time and off-CPU stacks come from context-switch "
    "records and events";

Check decide_tracefs(const TracefsProbe& p) {
  if (p.path.empty()) {
    return make("tracefs", CheckStatus::degraded, "tracefs is not mounted or not readable",
                kNoTracefs, "sudo mount -t tracefs nodev /sys/kernel/tracing");
  }
  if (!p.sched_switch_id) {
    return make("tracefs", CheckStatus::degraded, p.path + " found but events/sched/sched_switch/id is not readable",
                kNoTracefs,
                "record as root, or: sudo chmod -R go+rX " + p.path + "/events/sched");
  }
  return make("tracefs", CheckStatus::ok, p.path + "; sched_switch tracepoint id readable");
}

Check decide_ptrace(const PtraceProbe& p) {
  std::string scope = p.ptrace_scope < 0 ? "Yama absent" : "kernel.yama.ptrace_scope=" + std::to_string(p.ptrace_scope);
  std::string cap = p.cap_sys_ptrace ? "CAP_SYS_PTRACE held" : "no CAP_SYS_PTRACE";
  std::string detail = scope + "; " + cap;
  const char* fallback = "dial9 attach cannot load the recorder; use dial9 record to launch the program instead";
  if (p.target_pid > 0 && p.dumpable == 0 && !p.cap_sys_ptrace) {
    return make("ptrace", CheckStatus::unavailable, detail + "; pid " + std::to_string(p.target_pid) + " is not dumpable",
                fallback, "attach as root (sudo dial9 attach " + std::to_string(p.target_pid) + ")");
  }
  if (p.target_pid > 0 && !p.same_user && !p.cap_sys_ptrace) {
    return make("ptrace", CheckStatus::unavailable, detail + "; pid " + std::to_string(p.target_pid) + " belongs to another user",
                fallback, "attach as root or as the target's user");
  }
  if (p.ptrace_scope >= 3) {
    return make("ptrace", CheckStatus::unavailable, detail + "; ptrace is disabled until reboot", fallback,
                "reboot, then keep kernel.yama.ptrace_scope<=1");
  }
  if (p.ptrace_scope >= 1 && !p.cap_sys_ptrace) {
    return make("ptrace", CheckStatus::unavailable, detail + "; only descendants may be traced", fallback,
                "sudo sysctl kernel.yama.ptrace_scope=0, or grant CAP_SYS_PTRACE: sudo setcap cap_sys_ptrace+ep $(command -v dial9)");
  }
  if (p.target_pid > 0 && p.dumpable >= 0) detail += "; pid " + std::to_string(p.target_pid) + " dumpable=" + std::to_string(p.dumpable);
  return make("ptrace", CheckStatus::ok, detail);
}

Check decide_seccomp(int target_pid, int mode) {
  if (target_pid <= 0) return make("seccomp", CheckStatus::ok, "no target given (pass PID to check one)");
  std::string who = "pid " + std::to_string(target_pid);
  if (mode <= 0) return make("seccomp", CheckStatus::ok, who + " runs without seccomp");
  if (mode == 1) {
    return make("seccomp", CheckStatus::unavailable, who + " runs in seccomp strict mode",
                "the recorder cannot run inside it; only perf samples from outside",
                "run the program without strict seccomp");
  }
  return make("seccomp", CheckStatus::degraded, who + " runs under a seccomp filter",
              "the in-process recorder may be refused syscalls (timers, sockets); perf sampling from outside is unaffected",
              "allow timer_create, socket and sendmsg in the program's seccomp profile");
}

uint64_t ring_pages_per_cpu(const MlockProbe& p) {
  if (p.privileged) return UINT64_MAX;
  uint64_t page_kb = std::max<uint64_t>(p.page_size / 1024, 1);
  // The kernel's per-user allowance is perf_event_mlock_kb for each CPU
  // (one page of it is the ring's header); beyond it, RLIMIT_MEMLOCK pays.
  uint64_t budget_kb = p.mlock_kb < 0 ? 516 : static_cast<uint64_t>(p.mlock_kb);
  uint64_t pages = budget_kb / page_kb;
  uint64_t extra = p.rlimit_memlock == UINT64_MAX ? UINT64_MAX : p.rlimit_memlock / p.page_size / std::max(p.cpus, 1u);
  if (extra == UINT64_MAX) return UINT64_MAX;
  pages += extra;
  return pages > 0 ? pages - 1 : 0;  // minus the header page
}

Check decide_mlock(const MlockProbe& p) {
  std::string detail = "kernel.perf_event_mlock_kb=" + (p.mlock_kb < 0 ? std::string("unreadable") : std::to_string(p.mlock_kb)) +
                       ", RLIMIT_MEMLOCK=" + (p.rlimit_memlock == UINT64_MAX ? std::string("unlimited")
                                                                          : std::to_string(p.rlimit_memlock / 1024) + " KiB");
  uint64_t pages = ring_pages_per_cpu(p);
  if (pages == UINT64_MAX) return make("mlock", CheckStatus::ok, detail + "; no limit on ring pages");
  detail += "; " + std::to_string(pages) + " ring pages per CPU fit";
  if (pages >= p.wanted_pages) return make("mlock", CheckStatus::ok, detail);
  // Rings are a power of two in data pages; under 1 nothing can be mapped.
  auto c = make("mlock", pages >= 1 ? CheckStatus::degraded : CheckStatus::unavailable, detail,
                pages >= 1 ? "smaller perf rings (more lost samples under load)" : "no perf rings; in-agent timer sampling",
                "sudo sysctl kernel.perf_event_mlock_kb=" + std::to_string((p.wanted_pages + 1) * (p.page_size / 1024)) +
                    ", or raise the limit: ulimit -l unlimited");
  return c;
}

Check decide_pmu(const PmuProbe& p) {
  if (p.cycles_ok) return make("pmu", CheckStatus::ok, "hardware PMU present; -e cycles works");
  std::string detail = p.cpu_device ? "/sys/bus/event_source/devices/cpu exists but `cycles` cannot be opened"
                                    : "no hardware PMU (/sys/bus/event_source/devices/cpu is absent; usual in VMs)";
  if (!p.error.empty()) detail += ": " + p.error;
  return make("pmu", CheckStatus::degraded, detail, "hardware events unavailable; cpu-clock (the default) is used",
              "run on bare metal or enable the virtual PMU (e.g. KVM -cpu host, EC2 metal instances)");
}

Check decide_debug_info(const DebugInfoProbe& p) {
  if (p.target_pid <= 0) return make("debug_info", CheckStatus::ok, "no target given (pass PID to check one)");
  if (p.exe.empty()) {
    return make("debug_info", CheckStatus::degraded, "cannot read /proc/" + std::to_string(p.target_pid) + "/exe",
                "frames are named from symbols found at report time, if any", "run dial9 doctor as the target's user or root");
  }
  if (p.debug_info) return make("debug_info", CheckStatus::ok, p.exe + " has DWARF (.debug_info)");
  if (!p.separate_file.empty()) return make("debug_info", CheckStatus::ok, p.exe + ": debug info in " + p.separate_file);
  return make("debug_info", CheckStatus::degraded, p.exe + " has no DWARF and no separate debug file was found",
              "functions named from the symbol table only: no source lines, no inlined frames",
              "install the program's debug package (-dbg/-debuginfo), build with -g, or set DEBUGINFOD_URLS");
}

bool basic_recording_works(const std::vector<Check>& checks) {
  for (const Check& c : checks) {
    if (c.required_group.empty()) continue;
    bool any = std::any_of(checks.begin(), checks.end(), [&](const Check& o) {
      return o.required_group == c.required_group && o.status != CheckStatus::unavailable;
    });
    if (!any) return false;
  }
  return true;
}

std::string render_checks_text(const std::vector<Check>& checks, bool colour) {
  size_t width = 0;
  for (const auto& c : checks) width = std::max(width, c.name.size());
  std::string out;
  for (const auto& c : checks) {
    char name[64];
    std::snprintf(name, sizeof name, "%-*s  ", static_cast<int>(width), c.name.c_str());
    std::string status = status_name(c.status);
    const char* code = c.status == CheckStatus::ok ? "32" : c.status == CheckStatus::degraded ? "33" : "1;31";
    out += name + sgr(status, code, colour) + std::string(13 - status.size(), ' ') + c.detail + "\n";
    std::string indent(width + 2, ' ');
    if (!c.fallback.empty()) out += indent + "instead: " + c.fallback + "\n";
    if (!c.fix.empty()) out += indent + "fix: " + c.fix + "\n";
  }
  return out;
}

std::string render_checks_json(const std::vector<Check>& checks) {
  std::string out = "{\"checks\":[";
  for (size_t i = 0; i < checks.size(); ++i) {
    const auto& c = checks[i];
    out += (i ? "," : "");
    out += "{\"name\":" + json_quote(c.name) + ",\"status\":" + json_quote(status_name(c.status)) +
           ",\"detail\":" + json_quote(c.detail) + ",\"fallback\":" + json_quote(c.fallback) +
           ",\"fix\":" + json_quote(c.fix) + "}";
  }
  return out + "]}\n";
}

}  // namespace dial9::capture
