#include "inject/preflight.h"

#include <linux/capability.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cstdlib>
#include <set>
#include <sstream>

#include "base/elf_file.h"
#include "base/io.h"
#include "base/proc_maps.h"
#include "format/agent_protocol.h"

namespace dial9::inject {
namespace {

std::string proc(pid_t pid, const std::string& rest) { return "/proc/" + std::to_string(pid) + "/" + rest; }

}  // namespace

ProcessFacts read_process_facts(pid_t pid) {
  ProcessFacts f;
  f.pid = pid;
  if (pid <= 0) return f;
  auto status = read_small_file(proc(pid, "status"), 1 << 16);
  if (!status) return f;
  f.exists = true;
  const std::string& s = *status;
  f.comm = status_field(s, "Name");
  f.tgid = static_cast<pid_t>(std::atoi(status_field(s, "Tgid").c_str()));
  f.zombie = status_field(s, "State").rfind("Z", 0) == 0;
  f.seccomp = std::atoi(status_field(s, "Seccomp").c_str());
  {
    std::istringstream uids(status_field(s, "Uid"));
    unsigned real = 0, eff = 0;
    uids >> real >> eff;
    f.uid = real;
    f.euid = eff;
  }
  // Kernel threads: PF_KTHREAD in the flags.
  if (auto stat = read_proc_stat(pid)) f.kernel_thread = (stat->flags & kPfKthread) != 0;
  // A process whose main thread has exited shows as a zombie; it is still
  // attachable while another thread lives.
  f.live_threads = !f.zombie || std::atoi(status_field(s, "Threads").c_str()) > 1;
  f.maps_readable = open_read(proc(pid, "maps")).has_value();
  if (auto y = read_small_file("/proc/sys/kernel/yama/ptrace_scope", 64)) f.yama_scope = std::atoi(y->c_str());
  // The executable through a live thread (a zombie main thread has none).
  const std::string exe = proc(pid, "task/" + std::to_string(address_space_thread(pid)) + "/exe");
  struct stat self {}, target {};
  if (::stat("/proc/self/exe", &self) == 0 && ::stat(exe.c_str(), &target) == 0) {
    f.is_dial9 = self.st_dev == target.st_dev && self.st_ino == target.st_ino;
  }
  if (auto elf = ElfFile::open(exe)) {
    f.elf_class = elf->elf_class();
    f.dynamic = elf->has_interpreter();
  }
  f.app_api = uses_app_api(pid);
  return f;
}

bool uses_app_api(pid_t pid) {
  auto maps = read_maps(pid);
  if (!maps) return false;
  // The files as the process sees them (its root may differ from ours).
  const std::string root = proc(pid, "task/" + std::to_string(address_space_thread(pid)) + "/root");
  std::set<std::string> seen;
  for (const MapsEntry& m : *maps) {
    if (!m.exec || m.path.empty() || m.path[0] != '/' || !seen.insert(m.path).second) continue;
    auto elf = ElfFile::open(root + m.path);
    if (elf && !elf->note(format::agent::kApiNoteOwner, format::agent::kApiNoteType).empty()) return true;
  }
  return false;
}

Verdict judge(const ProcessFacts& f, const Caller& me) {
  Verdict v;
  const std::string pid = std::to_string(f.pid);
  auto refuse = [&](int code, std::string why) {
    v.refuse = code;
    v.refusal = std::move(why);
    return v;
  };
  if (f.pid <= 0) return refuse(2, "'" + pid + "' is not a process id");
  if (!f.exists) return refuse(2, "no process " + pid + " (see 'ps -e' or 'pgrep NAME' for the right one)");
  if (f.tgid != 0 && f.tgid != f.pid) {
    return refuse(2, pid + " is a thread of process " + std::to_string(f.tgid) + ", not a process: run dial9 attach " +
                         std::to_string(f.tgid));
  }
  if (f.kernel_thread) return refuse(2, pid + " (" + f.comm + ") is a kernel thread: there is no user program to record");
  if (f.pid == me.pid || f.is_dial9) return refuse(2, pid + " is dial9 itself: attach to the program it records instead");
  if (!f.live_threads) return refuse(2, "process " + pid + " has exited");
  const bool privileged = me.euid == 0 || me.cap_sys_ptrace;
  if (!privileged && (f.uid != me.euid || f.euid != me.euid)) {
    return refuse(1, "process " + pid + " (" + f.comm + ") belongs to user " + std::to_string(f.euid) +
                         ": run dial9 as that user, or as root (or with CAP_SYS_PTRACE)");
  }
  if (!f.maps_readable) {
    return refuse(1, "cannot read process " + pid + "'s memory map: it is not dumpable (prctl PR_SET_DUMPABLE 0, "
                     "or setuid); run dial9 as root or with CAP_SYS_PTRACE");
  }
  // What keeps the agent out (attach then samples with perf alone).
  if (!privileged && f.yama_scope >= 1) {
    v.no_agent = f.yama_scope >= 3 ? "Yama forbids ptrace on this host (kernel.yama.ptrace_scope=3)"
                 : f.yama_scope == 2 ? "Yama allows ptrace only with CAP_SYS_PTRACE (kernel.yama.ptrace_scope=2); "
                                       "fix: run as root"
                                     : "Yama allows ptrace only of descendants (kernel.yama.ptrace_scope=1); fix: "
                                       "sudo sysctl kernel.yama.ptrace_scope=0, or run as root";
  } else if (f.seccomp == 1) {
    v.no_agent = "the process is in seccomp strict mode: it may make no system call the agent needs";
  } else if (f.seccomp == 2 && !me.force) {
    v.no_agent = "the process runs under a seccomp filter that could kill it for a system call the agent makes; "
                 "--force loads the agent anyway";
  } else if (f.elf_class == 32) {
    v.no_agent = "the program is a 32-bit binary; the agent is 64-bit";
  } else if (f.elf_class == 64 && !f.dynamic) {
    v.no_agent = "the program is statically linked: there is no dynamic loader to load the agent with";
  }
  return v;
}

Caller current_caller() {
  Caller c;
  c.pid = ::getpid();
  c.euid = ::geteuid();
  __user_cap_header_struct hdr{_LINUX_CAPABILITY_VERSION_3, 0};
  __user_cap_data_struct data[2]{};
  if (::syscall(SYS_capget, &hdr, data) == 0) {
    c.cap_sys_ptrace = (data[CAP_SYS_PTRACE / 32].effective & (1u << (CAP_SYS_PTRACE % 32))) != 0;
  }
  return c;
}

}  // namespace dial9::inject
