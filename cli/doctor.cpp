// `dial9 doctor [PID]`: probes this host (and a target process) for each
// capability dial9 needs and explains, per check, what dial9 does without it
// and the fix. The decisions are capture/doctor_checks.h; this file only
// reads /proc and /sys and tries perf_event_open. See man/dial9-doctor.1.
#include <CLI/CLI.hpp>

#include <elf.h>
#include <fcntl.h>
#include <signal.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "base/io.h"
#include "capture/doctor_checks.h"
#include "capture/event_spec.h"
#include "capture/perf_ring.h"
#include "cli/agent_path.h"
#include "cli/commands.h"
#include "cli/exit_codes.h"
#include "cli/output.h"
#include "report/symbols/elf_module.h"

namespace dial9::cli {
namespace {

struct DoctorOptions {
  std::string pid;
  std::string format = "text";
  bool quiet = false;
};

std::optional<std::string> read_line(const std::string& path) {
  auto r = read_small_file(path, 4096);
  if (!r) return std::nullopt;
  return r->substr(0, r->find('\n'));
}

std::optional<long long> read_number(const std::string& path) {
  auto line = read_line(path);
  if (!line || line->empty()) return std::nullopt;
  char* end = nullptr;
  long long v = std::strtoll(line->c_str(), &end, 10);
  if (end == line->c_str()) return std::nullopt;
  return v;
}

// A field of /proc/PID/status ("Seccomp:", "CapEff:", "Uid:"), trimmed.
std::optional<std::string> status_field(const std::string& pid, const std::string& field) {
  auto r = read_small_file("/proc/" + pid + "/status", 1 << 16);
  if (!r) return std::nullopt;
  size_t at = r->find("\n" + field + ":");
  if (at == std::string::npos) return std::nullopt;
  at += field.size() + 2;
  size_t end = r->find('\n', at);
  std::string v = r->substr(at, end - at);
  v.erase(0, v.find_first_not_of(" \t"));
  return v;
}

bool has_cap(int cap) {
  auto eff = status_field("self", "CapEff");
  if (!eff) return false;
  unsigned long long bits = std::strtoull(eff->c_str(), nullptr, 16);
  return (bits >> cap) & 1ULL;
}

// Whether an ELF64 file has a .debug_info section, and its GNU build id.
// Reads only the section headers and the notes, not the whole binary.
void elf_debug_facts(const std::string& path, bool& debug_info, std::vector<uint8_t>& build_id) {
  auto fd = open_read(path);
  if (!fd) return;
  auto pread_all = [&](void* buf, size_t n, uint64_t off) {
    return ::pread(fd->get(), buf, n, static_cast<off_t>(off)) == static_cast<ssize_t>(n);
  };
  Elf64_Ehdr eh{};
  if (!pread_all(&eh, sizeof eh, 0) || std::memcmp(eh.e_ident, ELFMAG, SELFMAG) != 0 ||
      eh.e_ident[EI_CLASS] != ELFCLASS64 || eh.e_shentsize != sizeof(Elf64_Shdr) || eh.e_shnum == 0 ||
      eh.e_shstrndx >= eh.e_shnum || eh.e_shnum > 4096) {
    return;
  }
  std::vector<Elf64_Shdr> sh(eh.e_shnum);
  if (!pread_all(sh.data(), sh.size() * sizeof(Elf64_Shdr), eh.e_shoff)) return;
  const Elf64_Shdr& strtab = sh[eh.e_shstrndx];
  if (strtab.sh_size > (1u << 20)) return;
  std::string names(strtab.sh_size, '\0');
  if (!pread_all(names.data(), names.size(), strtab.sh_offset)) return;
  for (const auto& s : sh) {
    if (s.sh_name >= names.size()) continue;
    std::string name = names.c_str() + s.sh_name;
    if (name == ".debug_info" && s.sh_type != SHT_NOBITS && s.sh_size > 0) debug_info = true;
    if (name == ".note.gnu.build-id" && s.sh_size >= sizeof(Elf64_Nhdr) && s.sh_size < 256) {
      std::vector<uint8_t> note(s.sh_size);
      if (!pread_all(note.data(), note.size(), s.sh_offset)) continue;
      Elf64_Nhdr nh;
      std::memcpy(&nh, note.data(), sizeof nh);
      size_t desc = sizeof nh + ((nh.n_namesz + 3) & ~3u);
      if (nh.n_type == NT_GNU_BUILD_ID && desc + nh.n_descsz <= note.size()) {
        build_id.assign(note.begin() + static_cast<ptrdiff_t>(desc),
                        note.begin() + static_cast<ptrdiff_t>(desc + nh.n_descsz));
      }
    }
  }
}

// Opens (and closes) a one-page ring for `spec` on this process.
std::string try_open(const capture::SamplingSpec& spec) {
  auto ok = capture::probe_sampling(spec);
  return ok ? "" : ok.error().message();
}

std::vector<capture::Check> probe(const std::string& pid) {
  std::vector<capture::Check> checks;
  constexpr int kCapIpcLock = 14, kCapSysPtrace = 19;

  capture::PerfProbe perf;
  perf.paranoid = static_cast<int>(read_number("/proc/sys/kernel/perf_event_paranoid").value_or(-100));
  capture::SamplingSpec user;
  user.kernel = false;
  perf.user_error = try_open(user);
  perf.user_ok = perf.user_error.empty();
  perf.kernel_ok = perf.user_ok && try_open(capture::SamplingSpec{}).empty();
  perf.every_cpu_ok = perf.user_ok && capture::probe_sampling(capture::SamplingSpec{}, true);
  checks.push_back(capture::decide_perf_events(perf));
  capture::AgentProbe agent;
  auto agent_path = agent_library_path();
  agent.found = static_cast<bool>(agent_path);
  agent.path_or_error = agent_path ? *agent_path : agent_path.error().message();
  checks.push_back(capture::decide_agent(agent, perf.user_ok));

  capture::KallsymsProbe ks;
  ks.kptr_restrict = static_cast<int>(read_number("/proc/sys/kernel/kptr_restrict").value_or(-1));
  ks.paranoid = perf.paranoid;
  if (auto fd = open_read("/proc/kallsyms")) {
    uint8_t buf[64];
    if (auto n = read_full(fd->get(), buf); n && *n > 0) {
      ks.readable = true;
      std::string head(reinterpret_cast<const char*>(buf), *n);
      ks.addresses_visible = head.rfind("0000000000000000 ", 0) != 0;
    }
  }
  checks.push_back(capture::decide_kallsyms(ks));

  capture::TracefsProbe tf;
  for (const char* root : {"/sys/kernel/tracing", "/sys/kernel/debug/tracing"}) {
    std::error_code ec;
    if (std::filesystem::exists(std::string(root) + "/events", ec)) {
      tf.path = root;
      tf.sched_switch_id = read_number(std::string(root) + "/events/sched/sched_switch/id").has_value();
      break;
    }
  }
  checks.push_back(capture::decide_tracefs(tf));

  capture::PtraceProbe pt;
  pt.ptrace_scope = static_cast<int>(read_number("/proc/sys/kernel/yama/ptrace_scope").value_or(-1));
  pt.cap_sys_ptrace = has_cap(kCapSysPtrace);
  int seccomp = -1;
  if (!pid.empty()) {
    pt.target_pid = std::atoi(pid.c_str());
    // The kernel's dumpable flag is not in /proc; a non-dumpable process's
    // /proc/PID files are owned by root, which is how it shows.
    struct stat sb {};
    if (::stat(("/proc/" + pid + "/environ").c_str(), &sb) == 0) {
      auto uid = status_field(pid, "Uid");
      unsigned real_uid = uid ? static_cast<unsigned>(std::strtoul(uid->c_str(), nullptr, 10)) : sb.st_uid;
      pt.dumpable = sb.st_uid == real_uid ? 1 : 0;
      pt.same_user = real_uid == ::geteuid() || ::geteuid() == 0;
    }
    if (auto s = status_field(pid, "Seccomp")) seccomp = std::atoi(s->c_str());
  }
  checks.push_back(capture::decide_ptrace(pt));
  checks.push_back(capture::decide_seccomp(pt.target_pid, seccomp));

  capture::MlockProbe ml;
  ml.mlock_kb = read_number("/proc/sys/kernel/perf_event_mlock_kb").value_or(-1);
  struct rlimit rl {};
  if (::getrlimit(RLIMIT_MEMLOCK, &rl) == 0) ml.rlimit_memlock = rl.rlim_cur == RLIM_INFINITY ? UINT64_MAX : rl.rlim_cur;
  long cpus = ::sysconf(_SC_NPROCESSORS_ONLN);
  ml.cpus = cpus > 0 ? static_cast<unsigned>(cpus) : 1;
  long page = ::sysconf(_SC_PAGESIZE);
  ml.page_size = page > 0 ? static_cast<uint64_t>(page) : 4096;
  ml.privileged = ::geteuid() == 0 || has_cap(kCapIpcLock);
  checks.push_back(capture::decide_mlock(ml));

  capture::PmuProbe pmu;
  std::error_code ec;
  pmu.cpu_device = std::filesystem::exists("/sys/bus/event_source/devices/cpu", ec);
  capture::SamplingSpec cycles;
  cycles.event = "cycles";
  cycles.kernel = false;
  pmu.error = try_open(cycles);
  pmu.cycles_ok = pmu.error.empty();
  checks.push_back(capture::decide_pmu(pmu));

  capture::DebugInfoProbe dbg;
  dbg.target_pid = pt.target_pid;
  if (!pid.empty()) {
    std::error_code link_ec;
    dbg.exe = std::filesystem::read_symlink("/proc/" + pid + "/exe", link_ec).string();
    std::vector<uint8_t> build_id;
    if (!dbg.exe.empty()) elf_debug_facts("/proc/" + pid + "/exe", dbg.debug_info, build_id);
    if (!dbg.debug_info && !build_id.empty()) {
      std::string candidate = report::debug_file_path("/usr/lib/debug", build_id);
      if (std::filesystem::exists(candidate, ec)) dbg.separate_file = candidate;
    }
  }
  checks.push_back(capture::decide_debug_info(dbg));
  return checks;
}

int run_doctor(const DoctorOptions& o) {
  if (!o.pid.empty()) {
    bool digits = o.pid.find_first_not_of("0123456789") == std::string::npos;
    std::error_code ec;
    if (!digits || o.pid.empty() || o.pid.size() > 10) {
      std::fprintf(stderr, "dial9 doctor: '%s' is not a process id (a number, as ps -e shows)\n", o.pid.c_str());
      return kExitUsage;
    }
    if (!std::filesystem::exists("/proc/" + o.pid + "/status", ec)) {
      std::fprintf(stderr, "dial9 doctor: no process %s (ps -p %s shows whether it still runs)\n", o.pid.c_str(),
                   o.pid.c_str());
      return kExitUsage;
    }
  }
  auto checks = probe(o.pid);
  int code = capture::basic_recording_works(checks) ? kExitOk : kExitRuntimeError;
  if (o.quiet) std::erase_if(checks, [](const capture::Check& c) { return c.status == capture::CheckStatus::ok; });
  std::string out = o.format == "json" ? capture::render_checks_json(checks) : capture::render_checks_text(checks, stdout_wants_colour());
  int written = write_stdout(out, "doctor");
  return written != kExitOk ? written : code;
}

}  // namespace

RunFn add_doctor_command(CLI::App& app) {
  auto opt = std::make_shared<DoctorOptions>();
  CLI::App* cmd = app.add_subcommand(
      "doctor", "Check this host (and PID, when given) for what dial9 needs: perf events, kernel symbols, "
                "tracefs, ptrace, seccomp, locked memory, hardware PMU; explain fallbacks and fixes.");
  cmd->add_option("pid", opt->pid, "A process to check (ptrace, dumpable, seccomp)");
  cmd->add_option("-f,--format", opt->format, "text or json")
      ->check(CLI::IsMember({"text", "json"}))
      ->capture_default_str();
  cmd->add_flag("-q,--quiet", opt->quiet, "Print only the checks that are not ok (the exit status still covers all)");
  return [opt] { return run_doctor(*opt); };
}

}  // namespace dial9::cli
