// The recording `dial9 record` and `dial9 attach` share (recording.h). See
// man/dial9-record.1 and man/dial9-attach.1.
#include "cli/recording.h"

#include <CLI/CLI.hpp>

#include <signal.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/utsname.h>
#include <unistd.h>

#include <cerrno>
#include <cinttypes>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <ctime>
#include <filesystem>
#include <functional>
#include <future>
#include <memory>
#include <optional>
#include <string>
#include <system_error>
#include <vector>

#include "capture/agent_link.h"
#include "capture/event_spec.h"
#include "capture/session.h"
#include "cli/agent_path.h"
#include "cli/commands.h"
#include "cli/exit_codes.h"
#include "cli/stack_unwinding.h"
#include "cli/units.h"
#include "base/io.h"
#include "format/segment_writer.h"
#include "report/symbols/segment_symbols.h"
#include "inject/attach.h"
#include "inject/launch.h"
#include "inject/preflight.h"

namespace dial9::cli {
namespace {

// Whether process `pid` has ended, by preflight's reading of /proc (a
// zombie main thread with other threads alive has not): an attach that
// fails because its /proc files vanished mid-way says that, not which file.
bool process_gone(pid_t pid) {
  const inject::ProcessFacts f = inject::read_process_facts(pid);
  return !f.exists || !f.live_threads;
}

std::string exited_while_attaching(pid_t pid) {
  return "process " + std::to_string(pid) + " exited while dial9 was attaching; nothing was recorded";
}

constexpr const char* kKallsyms = "/proc/kallsyms";

// The running kernel's symbols; empty when /proc/kallsyms cannot be read
// (kallsyms_problem says why) or `stop` was requested meanwhile.
report::KernelSymbols read_kernel_symbols(std::stop_token stop = {}) {
  // A line at a time: the text is 5 MB and more, twice the table it becomes.
  report::KernelSymbols::Builder b;
  auto read = for_each_line(kKallsyms, [&b](std::string_view line) { b.add_line(line); }, stop);
  return read ? std::move(b).finish() : report::KernelSymbols{};
}

// Reads the kernel's symbols on a thread of its own from the start of a
// recording that will need them: the kernel takes ~60 ms to format the
// 100k+ lines of /proc/kallsyms, and a short program's only segment is
// sealed as it exits, so reading them then would add that to its run.
// get() waits for them (once). Destroyed unused (the recording had no
// kernel frames after all), it stops the read at the next chunk instead of
// waiting for the rest.
class KernelSymbolsPrefetch {
 public:
  KernelSymbolsPrefetch()
      : result_(promise_.get_future()),
        thread_([this](std::stop_token stop) { promise_.set_value(read_kernel_symbols(stop)); }) {}
  report::KernelSymbols get() { return result_.get(); }

 private:
  std::promise<report::KernelSymbols> promise_;
  std::future<report::KernelSymbols> result_;
  std::jthread thread_;  // last: stopped and joined before the promise goes
};

// Why kernel frames will stay unnamed, or nullopt when /proc/kallsyms shows
// this user real addresses. kernel.kptr_restrict shows zeros to users
// without CAP_SYSLOG (1) or to everyone (2).
std::optional<std::string> kallsyms_problem() {
  auto fd = open_read(kKallsyms);
  uint8_t buf[64];
  auto n = fd ? read_full(fd->get(), buf) : Result<size_t>(fail(fd.error()));
  if (!n) return std::string("kernel frames stay unnamed: cannot read ") + kKallsyms + " (" + n.error().message() + ")";
  std::string head(reinterpret_cast<const char*>(buf), *n);
  if (head.rfind("0000000000000000 ", 0) == 0) {
    std::string level = "?";
    if (auto r = read_small_file("/proc/sys/kernel/kptr_restrict", 64)) level = r->substr(0, r->find('\n'));
    // With kptr_restrict 0 the kernel still hides them from users without
    // CAP_SYSLOG unless perf_event_paranoid is 1 or less.
    std::string fix = level == "0" ? "sudo sysctl kernel.perf_event_paranoid=1" : "sudo sysctl kernel.kptr_restrict=0";
    return "kernel frames stay unnamed: " + std::string(kKallsyms) + " hides kernel addresses from this user "
           "(kernel.kptr_restrict=" + level + "); fix: " + fix + ", or record as root";
  }
  return std::nullopt;
}


// The kernel's tick rate (CONFIG_HZ), which caps a CPU-time timer's rate
// per thread; 0 when the kernel's config is not readable.
int kernel_hz() {
  struct utsname u {};
  if (::uname(&u) != 0) return 0;
  auto config = read_small_file(std::string("/boot/config-") + u.release, size_t{1} << 22);
  if (!config) return 0;
  size_t at = config->find("\nCONFIG_HZ=");
  return at == std::string::npos ? 0 : std::atoi(config->c_str() + at + 11);
}

// perf_event_open refused for lack of permission, or blocked (seccomp's
// ENOSYS): the cases the timer sampler stands in for.
bool perf_denied(const Error& e) {
  int n = e.errno_value();
  return n == EACCES || n == EPERM || n == ENOSYS;
}

struct UsageError {
  std::string message;
};

std::string join(const std::vector<std::string>& v) {
  std::string out;
  for (const auto& s : v) out += (out.empty() ? "" : " ") + s;
  return out;
}

// Like execvp's search: does `program` name an executable file?
std::string check_runnable(const std::string& program) {
  auto runnable = [](const std::string& path) -> int {
    struct stat st {};
    if (::stat(path.c_str(), &st) != 0) return errno;
    if (S_ISDIR(st.st_mode)) return EISDIR;
    return ::access(path.c_str(), X_OK) == 0 ? 0 : errno;
  };
  int err = ENOENT;
  if (program.find('/') != std::string::npos) {
    err = runnable(program);
  } else {
    const char* path = std::getenv("PATH");
    std::string dirs = path ? path : "/usr/local/bin:/usr/bin:/bin";
    for (size_t start = 0; start <= dirs.size();) {
      size_t colon = dirs.find(':', start);
      std::string dir = dirs.substr(start, colon == std::string::npos ? std::string::npos : colon - start);
      int e = runnable((dir.empty() ? "." : dir) + "/" + program);
      if (e == 0) return "";
      if (e != ENOENT) err = e;
      if (colon == std::string::npos) break;
      start = colon + 1;
    }
  }
  return err == 0 ? "" : "cannot run '" + program + "': " + std::strerror(err);
}

// Checks before starting anything that the output directory can be made.
std::string check_output(const std::string& dir) {
  namespace fs = std::filesystem;
  std::error_code ec;
  fs::path p(dir);
  if (fs::exists(p, ec)) {
    if (!fs::is_directory(p, ec)) return "'" + dir + "' exists and is not a directory; choose another -o";
    if (::access(dir.c_str(), W_OK | X_OK) != 0) {
      return "cannot write to '" + dir + "': " + std::strerror(errno) + "; choose another -o";
    }
    return "";
  }
  fs::path parent = fs::absolute(p, ec).parent_path();
  while (!parent.empty() && !fs::exists(parent, ec)) parent = parent.parent_path();
  if (::access(parent.c_str(), W_OK | X_OK) != 0) {
    return "cannot create '" + dir + "' in '" + parent.string() + "': " + std::strerror(errno) + "; choose another -o";
  }
  return "";
}

std::string default_output(const std::string& program) {
  char stamp[32];
  std::time_t now = std::time(nullptr);
  std::strftime(stamp, sizeof stamp, "%Y%m%d-%H%M%S", std::localtime(&now));
  return "./dial9-" + std::filesystem::path(program).filename().string() + "-" + stamp;
}

std::string human_bytes(uint64_t b) {
  char buf[32];
  if (b >= (1u << 20)) {
    std::snprintf(buf, sizeof buf, "%.1f MiB", static_cast<double>(b) / (1 << 20));
  } else {
    std::snprintf(buf, sizeof buf, "%.1f KiB", static_cast<double>(b) / 1024);
  }
  return buf;
}

// The process's command line, arguments separated by spaces.
std::string command_line(pid_t pid) {
  auto raw = read_small_file("/proc/" + std::to_string(pid) + "/cmdline", size_t{1} << 20);
  if (!raw) return "";
  std::string out = *raw;
  while (!out.empty() && out.back() == '\0') out.pop_back();
  std::replace(out.begin(), out.end(), '\0', ' ');
  return out;
}

// Attaching opens an event per thread and CPU: a process with thousands of
// threads needs more descriptors than the usual soft limit of 1024.
void raise_fd_limit() {
  rlimit r{};
  if (::getrlimit(RLIMIT_NOFILE, &r) == 0 && r.rlim_cur < r.rlim_max) {
    r.rlim_cur = r.rlim_max;
    (void)::setrlimit(RLIMIT_NOFILE, &r);
  }
}

}  // namespace

int run_recording(const RecordingOptions& o, Mode mode) {
  const bool attach = mode == Mode::kAttach;
  const std::string who = attach ? "dial9 attach" : "dial9 record";
  timespec begun{};
  ::clock_gettime(CLOCK_MONOTONIC, &begun);  // the clock of the trace's timestamps
  auto say = [&](const std::string& line) {
    if (!o.quiet) std::fprintf(stderr, "%s: %s\n", who.c_str(), line.c_str());
  };
  auto error = [&](int code, const std::string& line) {
    std::fprintf(stderr, "%s: %s\n", who.c_str(), line.c_str());
    return code;
  };
  try {
    // ---- usage: everything checked before anything starts ----
    if (!attach && o.command.empty()) throw UsageError{"no program to record; usage: dial9 record [options] -- PROGRAM [ARGS...]"};
    pid_t target = 0;
    inject::ProcessFacts facts;
    std::string no_agent_why;  // attach: why the agent cannot be loaded
    if (attach) {
      char* end = nullptr;
      long v = o.pid.empty() ? 0 : std::strtol(o.pid.c_str(), &end, 10);
      if (o.pid.empty() || *end != '\0' || v <= 0 || v > INT32_MAX) {
        throw UsageError{"'" + o.pid + "' is not a process id; usage: dial9 attach [options] PID"};
      }
      target = static_cast<pid_t>(v);
      facts = inject::read_process_facts(target);
      inject::Caller me = inject::current_caller();
      me.force = o.force;
      inject::Verdict verdict = inject::judge(facts, me);
      if (verdict.refuse == kExitUsage) throw UsageError{verdict.refusal};
      if (verdict.refuse) return error(verdict.refuse, verdict.refusal);
      no_agent_why = verdict.no_agent;
    }
    if (o.frequency <= 0) {
      throw UsageError{"-F/--frequency must be a positive number of Hz, not " + std::to_string(o.frequency)};
    }
    if (o.quiet && o.verbose) throw UsageError{"-q/--quiet and -v/--verbose exclude each other"};
    if (o.no_agent && o.sampler == "timer") {
      throw UsageError{"--sampler timer runs in the in-process agent, which --no-agent leaves out"};
    }
    if (o.period_given && o.frequency_given) {
      throw UsageError{"-F/--frequency and -c/--period exclude each other: sample at a rate or every N events, not both"};
    }
    if (o.period_given && o.period <= 0) {
      throw UsageError{"-c/--period must be a positive count, not " + std::to_string(o.period)};
    }
    if (o.mmap_pages < 0 || (o.mmap_pages & (o.mmap_pages - 1)) != 0) {
      throw UsageError{"--mmap-pages must be a power of two, not " + std::to_string(o.mmap_pages)};
    }
    auto size_of = [](const std::string& flag, const std::string& v) {
      auto r = parse_size(v);
      if (!r) throw UsageError{flag + ": " + r.error().message()};
      return *r;
    };
    auto time_of = [](const std::string& flag, const std::string& v) -> uint64_t {
      if (v.empty()) return 0;
      auto r = parse_duration(v);
      if (!r) throw UsageError{flag + ": " + r.error().message()};
      if (*r == 0) throw UsageError{flag + " must be longer than 0"};
      return *r;
    };
    format::SegmentOptions seg;
    seg.max_file_size = size_of("--max-file-size", o.max_file_size);
    seg.max_total_size = size_of("--max-total-size", o.max_total_size);
    seg.rotation_period_ns = time_of("--rotation-period", o.rotation_period);
    if (seg.max_file_size < 4096) throw UsageError{"--max-file-size must be at least 4KiB"};
    if (seg.max_total_size != 0 && seg.max_file_size > seg.max_total_size) {
      throw UsageError{"--max-file-size (" + o.max_file_size + ") must not exceed --max-total-size (" + o.max_total_size + ")"};
    }
    uint64_t duration = time_of("--duration", o.duration);
    seg.compression = o.compression == "gzip"   ? format::Compression::kGzip
                      : o.compression == "none" ? format::Compression::kNone
                                                : format::Compression::kZstd;
    seg.level = seg.compression == format::Compression::kGzip ? 6 : 3;
    seg.on_seal = o.on_seal;
    report::SymbolizerOptions seal_symbols;
    seal_symbols.max_debug_bytes = size_of("--max-debug-info", o.max_debug_info);

    auto call_graph = capture::parse_call_graph(o.call_graph);
    if (!call_graph) throw UsageError{call_graph.error().message()};
    capture::SessionOptions so;
    so.sampling.user_stack_bytes = call_graph->user_stack_bytes;
    // Stack copies make samples bigger: a ring holds as many of them as the
    // frame-pointer ring holds of its own.
    int64_t mmap_pages = o.mmap_pages ? o.mmap_pages : call_graph->user_stack_bytes > 4096 ? 256
                                                     : call_graph->user_stack_bytes ? 128 : 64;
    so.mmap_pages = static_cast<size_t>(mmap_pages);
    so.shrink_rings_to_fit = o.mmap_pages == 0;
    if (call_graph->user_stack_bytes) so.unwinder = make_cfi_stack_unwinder();
    so.duration_ns = duration;
    so.sampling.frequency_hz = static_cast<uint64_t>(o.frequency);
    so.sampling.period = static_cast<uint64_t>(o.period);
    so.sampling.kernel = !o.no_kernel;
    if (o.waker_stacks < 0) throw UsageError{"--waker-stacks must be 0 (off) or a positive N, not " + std::to_string(o.waker_stacks)};
    so.sched.enabled = !o.no_sched;
    so.sched.waker_stack_every = static_cast<uint32_t>(o.waker_stacks);
    // Test hook: record as on a host without tracefs access.
    if (const char* v = std::getenv("DIAL9_TEST_NO_TRACEFS"); v && *v && std::string(v) != "0") so.sched.use_tracefs = false;
    std::vector<std::string> notes;
    std::string event_note;  // said only when perf samples
    if (o.event.empty()) {
      so.sampling.event = capture::can_sample_cycles() ? "cycles" : "cpu-clock";
      if (so.sampling.event == "cpu-clock") {
        event_note = "the hardware cycles event cannot sample here (no PMU, as in most VMs): sampling cpu-clock";
      }
    } else {
      auto events = capture::split_event_list(o.event);
      if (!events) throw UsageError{"-e: " + events.error().message()};
      if (events->size() > 1) throw UsageError{"-e: record samples one event at a time; choose one of " + o.event};
      so.sampling.event = events->front();
    }
    if (auto attr = capture::build_attr(so.sampling); !attr) throw UsageError{attr.error().message()};
    if (!attach) {
      if (std::string why = check_runnable(o.command.front()); !why.empty()) throw UsageError{why};
    }
    const std::string program = attach ? facts.comm : std::filesystem::path(o.command.front()).filename().string();
    std::string out = o.output.empty() ? default_output(program) : o.output;
    if (std::string why = check_output(out); !why.empty()) {
      if (why.find("is not a directory") != std::string::npos) throw UsageError{why};
      return error(kExitRuntimeError, why);  // a permission problem, not a typo
    }

    // ---- launch suspended (record), arm the events, start ----
    // Ctrl-C reaches a launched program through the terminal; dial9 takes
    // these signals only through the session's signalfd. Blocked before any
    // thread starts (the segment writer's), since a thread that left them
    // unblocked would take them and die; the program gets a clean mask
    // (inject/).
    sigset_t sigs;
    sigemptyset(&sigs);
    sigaddset(&sigs, SIGINT);
    sigaddset(&sigs, SIGTERM);
    sigaddset(&sigs, SIGHUP);
    ::pthread_sigmask(SIG_BLOCK, &sigs, nullptr);
    // The in-process agent has two jobs: the timer sampler, when perf
    // events are denied (tried here first, with this process's credentials
    // and seccomp filter, which a launched program inherits) or --sampler
    // timer; and the app API (dial9/dial9.h), for programs built with it.
    // record preloads it (appended to the user's LD_PRELOAD) with the
    // socket's name; the agent connects only when it has a job, so
    // otherwise it stays inert: no thread, no wait, nothing in the
    // recording. attach loads it only when it has a job.
    inject::LaunchSpec launch{o.command, {}};
    std::unique_ptr<capture::AgentLink> agents;
    so.timer_sampler = o.sampler == "timer";
    if (o.sampler == "auto" && !o.no_agent) {
      capture::SamplingSpec probe = so.sampling;
      probe.kernel = false;
      if (auto ok = capture::probe_sampling(probe); !ok && perf_denied(ok.error())) {
        if (attach && !no_agent_why.empty()) {
          return error(kExitRuntimeError, "perf events are denied (" + ok.error().message() +
                                              ") and the timer sampler cannot be loaded: " + no_agent_why);
        }
        notes.push_back("perf events are denied (" + ok.error().message() +
                        "): sampling with the in-process timer sampler instead, without scheduler capture or "
                        "kernel stacks");
        so.timer_sampler = true;
      }
    }
    if (attach && so.timer_sampler && !no_agent_why.empty()) {
      throw UsageError{"--sampler timer needs the agent in the process, and " + no_agent_why};
    }
    // Every off-CPU stack starts with kernel frames, and any program that
    // makes system calls or faults pages in gets kernel samples: with
    // kernel stacks on, a recording nearly always needs the kernel's symbols.
    std::shared_ptr<KernelSymbolsPrefetch> kallsyms_early;
    if (!so.timer_sampler && so.sampling.kernel) {
      try {
        kallsyms_early = std::make_shared<KernelSymbolsPrefetch>();
      } catch (const std::system_error&) {
        // no thread to spare: read them at the first seal that needs them
      }
    }
    std::string agent_path;
    const bool serve_api = attach && facts.app_api && no_agent_why.empty();
    if (attach && facts.app_api && !no_agent_why.empty() && !o.no_agent) {
      notes.push_back("the process uses the app API (dial9/dial9.h), but its events are not recorded: " + no_agent_why);
    }
    if (!o.no_agent && (!attach || so.timer_sampler || serve_api)) {
      auto path = agent_library_path();
      auto preload = !path   ? Result<std::string>(fail(path.error()))
                     : attach ? Result<std::string>(std::string())
                              : preload_with_agent(std::getenv("LD_PRELOAD"), *path);
      auto link = preload ? capture::AgentLink::listen() : Result<std::unique_ptr<capture::AgentLink>>(fail(preload.error()));
      if (preload && link) {
        agents = std::move(*link);
        agent_path = *path;
        if (!attach) {
          launch.env = {{"LD_PRELOAD", *preload}, {format::agent::kSocketEnv, agents->name()}};
          if (so.timer_sampler) launch.env.emplace_back(format::agent::kSamplerEnv, "timer");
        }
      } else if (so.timer_sampler) {
        return error(kExitRuntimeError, "the timer sampler needs the in-process agent: " +
                                            (preload ? link.error() : preload.error()).message());
      } else {
        notes.push_back("recording without the in-process agent: " + preload.error().message());
      }
    }
    so.agents = agents.get();
    std::optional<inject::SuspendedProcess> child;
    if (attach) {
      raise_fd_limit();
      so.stop_on_interrupt = true;
    } else {
      auto spawned = inject::SuspendedProcess::spawn(launch, "/proc/self/exe");
      if (!spawned) return error(kExitRuntimeError, spawned.error().message());
      child.emplace(std::move(*spawned));
      target = child->pid();
      so.program_name = program;
    }
    so.note = say;
    auto session = attach ? capture::Session::attach(target, so) : capture::Session::open(target, so);
    if (!session) {
      if (attach && (session.error().errno_value() == ESRCH || process_gone(target))) {
        return error(kExitRuntimeError, exited_while_attaching(target));
      }
      return error(kExitRuntimeError, session.error().message());
    }
    if (!so.timer_sampler && !event_note.empty()) notes.insert(notes.begin(), event_note);
    for (const auto& d : (*session)->degraded()) notes.push_back(d);
    const int hz = kernel_hz();
    if (so.timer_sampler) {
      format::agent::Start start;
      start.sampler = static_cast<uint32_t>(format::agent::Sampler::kTimer);
      start.frequency_hz = static_cast<uint32_t>(o.frequency);
      agents->set_start(start);
      if (hz > 0 && o.frequency > hz) {
        notes.push_back("the timer sampler takes at most " + std::to_string(hz) + " samples per second per thread "
                        "(the kernel's CONFIG_HZ), not " + std::to_string(o.frequency));
      } else if (hz == 0 && o.frequency > 100) {
        notes.push_back("the timer sampler takes at most CONFIG_HZ samples per second per thread (100 to 1000, "
                        "often 250), whatever -F asks");
      }
    }
    const std::string command = attach ? command_line(target) : join(o.command);

    seg.dir = out;
    seg.stem = "dial9";
    seg.metadata = {{"command", command},
                    {"pid", std::to_string(target)},
                    {"started_by", attach ? "attach" : "record"},
                    {"event", so.timer_sampler ? "thread CPU time (timer sampler)" : so.sampling.event},
                    {"sampler", so.timer_sampler ? "timer" : "perf"},
                    {"sample_scope", so.timer_sampler ? "thread" : (*session)->samples_every_cpu() ? "cpu" : "task"},
                    {"agent", o.no_agent || (attach && !agents) ? "none" : attach ? "injected" : "preloaded"},
                    {o.period ? "period" : "frequency_hz", std::to_string(o.period ? o.period : o.frequency)},
                    {"kernel_samples", so.timer_sampler || (*session)->attr().exclude_kernel ? "false" : "true"},
                    {"call_graph", o.call_graph},
                    {"mmap_pages", std::to_string((*session)->mmap_pages())},
                    {"sched", so.timer_sampler ? "off" : capture::sched_metadata((*session)->sched())}};
    // Kernel frames are named from /proc/kallsyms when segments are sealed;
    // a kernel that hides its addresses from this user leaves them unnamed.
    if (!so.timer_sampler && !(*session)->attr().exclude_kernel) {
      if (auto why = kallsyms_problem()) notes.push_back(*why);
    }
    std::string degraded;
    for (const auto& n : notes) degraded += (degraded.empty() ? "" : "; ") + n;
    if (!degraded.empty()) seg.metadata.emplace_back("degraded", degraded);
    bool created = !std::filesystem::exists(out);
    seg.log = [&](const std::string& l) { std::fprintf(stderr, "%s: %s\n", who.c_str(), l.c_str()); };
    // Each sealed segment gets the names of its addresses while the
    // binaries are surely there (see report/symbols/segment_symbols.h).
    std::function<report::KernelSymbols()> kernel_symbols = [] { return read_kernel_symbols(); };
    if (kallsyms_early) kernel_symbols = [kallsyms_early] { return kallsyms_early->get(); };
    auto symbol_table = std::make_shared<report::SegmentSymbolTable>(seal_symbols, std::move(kernel_symbols));
    seg.seal_appendix = [table = symbol_table](const std::string& path) { return table->build(path); };
    auto writer = format::SegmentWriter::open(seg);
    if (!writer) return error(kExitRuntimeError, writer.error().message());

    if (child) {
      if (auto started = child->start(); !started) {
        (void)(*writer)->close();
        std::error_code ec;
        if (created) std::filesystem::remove(out, ec);  // leave nothing behind
        int code = started.error().errno_value() == ENOENT || started.error().errno_value() == EACCES ||
                           started.error().errno_value() == ENOEXEC
                       ? kExitUsage
                       : kExitRuntimeError;
        return error(code, started.error().message());
      }
    }
    for (const auto& n : notes) say(n);
    if (o.verbose && !so.timer_sampler) {
      for (const auto& d : (*session)->describe()) say(d);
    }
    if (attach && agents) {
      inject::AgentLoad how;
      how.agent_path = agent_path;
      how.agent_socket = agents->name();
      auto loaded = inject::load_agent(target, how);
      if (!loaded) {
        (void)(*writer)->close();
        std::error_code ec;
        if (created) std::filesystem::remove_all(out, ec);
        return error(kExitRuntimeError, process_gone(target) ? exited_while_attaching(target) : loaded.error().message());
      }
      if (o.verbose) {
        char line[200];
        std::snprintf(line, sizeof line, "agent loaded in %.1f ms through thread %d (stopped for %.0f us), loader in %s",
                      static_cast<double>(loaded->total_ns) / 1e6, loaded->tid,
                      static_cast<double>(loaded->stopped_ns) / 1e3, loaded->module.c_str());
        say(line);
      }
    }
    if (attach) {
      say("recording process " + std::to_string(target) + " (" + program + ") into " + out +
          (o.duration.empty() ? "; Ctrl-C stops recording and leaves it running" : ""));
    } else {
      say("recording " + command + " (pid " + std::to_string(target) + ") into " + out);
    }

    auto res = (*session)->run(**writer);
    auto closed = (*writer)->close();
    auto st = (*writer)->stats();
    if (!res) return error(kExitRuntimeError, res.error().message());

    // ---- summary ----
    uint64_t total = res->samples + res->lost;
    double lost_pct = total ? 100.0 * static_cast<double>(res->lost) / static_cast<double>(total) : 0;
    char line[256];
    std::snprintf(line, sizeof line,
                  "%" PRIu64 " samples (%s) from %" PRIu64 " thread(s) in %" PRIu64 " process(es); lost %" PRIu64 " (%.1f%%)",
                  res->samples, so.timer_sampler ? "timer sampler" : so.sampling.event.c_str(), res->threads,
                  res->processes, res->lost, lost_pct);
    say(line);
    if (agents) {
      auto a = agents->counters();
      if (so.timer_sampler && a.connected == 0) {
        say("warning: the in-process agent never started in " + program +
            " (a static or setuid binary, or LD_PRELOAD cleared): nothing was sampled; run it under a privileged "
            "user for perf sampling, or see 'dial9 doctor'");
      } else if (so.timer_sampler) {
        const char* abbrev = a.signal ? sigabbrev_np(static_cast<int>(a.signal)) : nullptr;
        std::string sig = abbrev ? std::string("SIG") + abbrev : "none";
        std::snprintf(line, sizeof line, "timer sampler: %u process(es), signal %s%s%s", a.connected, sig.c_str(),
                      a.dropped_samples ? (", " + std::to_string(a.dropped_samples) + " dropped (buffer full)").c_str() : "",
                      hz > 0 ? (", at most " + std::to_string(hz) + " Hz per thread").c_str() : "");
        say(line);
        if (a.no_signal) say("warning: " + std::to_string(a.no_signal) + " process(es) could not use a signal for the timer sampler");
      }
      if (a.api_processes > 0 || a.api_events > 0) {
        std::snprintf(line, sizeof line, "app API: %" PRIu64 " event(s) from %u process(es)", a.api_events, a.api_processes);
        say(line + (a.api_dropped ? ", " + std::to_string(a.api_dropped) +
                                        " lost in the program (a thread's buffer was full, or a call broke dial9(3)'s rules)"
                                  : std::string()));
      }
      if (o.verbose && so.timer_sampler && a.samples) {
        std::snprintf(line, sizeof line, "timer sampler: %.2f us per sample in the signal handler (%" PRIu64 " samples)",
                      static_cast<double>(a.handler_ns) / 1000.0 / static_cast<double>(a.samples), a.samples);
        say(line);
      }
      if (o.verbose) {
        say("agent: " + std::to_string(a.connected) + " process(es) connected, " + std::to_string(res->agent_batches) +
            " batch(es) appended, " + std::to_string(res->agent_rejected) + " rejected, " +
            std::to_string(a.dropped_batches) + " dropped in the target (socket full)");
      }
      if (a.dropped_batches) {
        say("warning: the agent dropped " + std::to_string(a.dropped_batches) +
            " batch(es) of the program's events: dial9 record fell behind (the machine's CPUs busy, or more app API "
            "events than it keeps up with; docs/BENCHMARKS.md has the rates), and those events are missing");
      }
      if (a.unreported) {
        say(std::to_string(a.unreported) +
            " process(es) ended without their agent's last report (_exit, exec or a signal): each may miss its last "
            "samples and app API events (20 ms of them, more if dial9 record was behind), in the trace and in the "
            "counts above");
      }
      if (a.pending) {
        say(std::to_string(a.pending) +
            " process(es) still running did not send their agent's last report within 1 s of the stop (stopped, or "
            "too busy to run it): each may miss its last samples and app API events (20 ms of them, more if it was "
            "starved), in the trace and in the counts above");
      }
    }
    if (res->lost && (*session)->samples_every_cpu()) {
      say("lost samples include other processes': cpu-clock sampled every CPU (dial9-record(1), SAMPLING SCOPE)");
    }
    if (lost_pct >= 5) {
      say("warning: " + std::to_string(static_cast<int>(lost_pct)) +
          "% of samples were lost: use a larger ring (--mmap-pages " + std::to_string((*session)->mmap_pages() * 4) +
          ") or sample less often (a lower -F or a larger -c)");
    }
    if (o.verbose && res->first_sample_ns) {
      const uint64_t begun_ns = static_cast<uint64_t>(begun.tv_sec) * 1'000'000'000u + static_cast<uint64_t>(begun.tv_nsec);
      std::snprintf(line, sizeof line, "first sample %.1f ms after dial9 started",
                    static_cast<double>(res->first_sample_ns - begun_ns) / 1e6);
      say(line);
    }
    if (res->unwound) {
      std::snprintf(line, sizeof line, "call graph %s: %" PRIu64 " stacks completed from %u-byte stack copies, %.1f us each",
                    o.call_graph.c_str(), res->unwound, so.sampling.user_stack_bytes,
                    static_cast<double>(res->unwind_ns) / 1000.0 / static_cast<double>(res->unwound));
      say(line);
    }
    if (!o.no_sched && !so.timer_sampler) {
      std::snprintf(line, sizeof line,
                    "scheduler: %" PRIu64 " switch-outs, %" PRIu64 " off-CPU stacks, %" PRIu64
                    " wakeups (captured: %s)",
                    res->switches, res->offcpu_stacks, res->wakeups, capture::sched_metadata((*session)->sched()).c_str());
      say(line);
      if (res->sched_lost) {
        say("warning: " + std::to_string(res->sched_lost) + " scheduler events were lost: use a larger ring (--mmap-pages " +
            std::to_string((*session)->mmap_pages() * 4) + ") or --waker-stacks 0");
      }
    }
    if (o.verbose) {
      say("controller: " + std::to_string(res->refilters) + " wakeup filter rebuild(s) for new threads or other processes' threads, " +
          std::to_string(res->outsider_wakeups) + " wakeup(s) of other processes' threads dropped, " +
          std::to_string(res->switch_samples) + " switch-out stack(s) taken, " +
          std::to_string(res->found_after_loss) + " process(es) of the program found in /proc after lost records, " +
          std::to_string(res->long_conversions) + " conversion(s) longer than one 10 ms slice, at most " +
          std::to_string(res->peak_records) + " records held between the rings and the trace");
    }
    {
      // Read once the writer's thread, which seals, has ended (close()).
      size_t over = 0;
      for (const report::ModuleOutcome& m : symbol_table->module_outcomes()) {
        if (m.dwarf_skipped == 0) continue;
        ++over;
        if (!o.verbose) continue;
        std::string file = !m.debug_file.empty() ? m.debug_file : m.symbols_from;
        std::string in = file == m.path ? "" : " (in " + file + ")";
        say("symbols: " + m.path + ": " + human_bytes(m.dwarf_skipped) + " of DWARF" + in + ", over --max-debug-info " +
            o.max_debug_info + ": frames named without source lines or inlined calls");
      }
      if (over) {
        say("symbols: " + std::to_string(over) + " module(s) named without source lines or inlined calls (DWARF over "
            "--max-debug-info " + o.max_debug_info + (o.verbose ? "" : "; -v names them") +
            "); dial9 report adds them where it finds the files, --max-debug-info 0 keeps them in the trace");
      }
    }
    if (res->throttles) say("the kernel throttled sampling " + std::to_string(res->throttles) + " times (kernel.perf_event_max_sample_rate)");
    say(std::to_string(st.segments_sealed) + " segment(s), " + human_bytes(st.bytes_written) + " in " + out);
    if (st.dropped_batches) {
      say("warning: " + std::to_string(st.dropped_batches) + " batches (" + std::to_string(st.dropped_records) +
          " records) could not be written and were dropped; the trace counts them (LostEvent source 2)");
    }
    if (res->detached) say("the program goes on running (pid " + std::to_string(target) + ")");
    if (attach && res->exited) say("process " + std::to_string(target) + " exited while recorded");
    if (st.segments_sealed > 0) say("next: dial9 report " + out);
    // The writer said why when it failed (SegmentOptions::log); once is enough.
    if (!closed) return kExitRuntimeError;
    return res->exited && !attach ? res->exit_status : kExitOk;
  } catch (const UsageError& u) {
    return error(kExitUsage, u.message);
  }
}


std::function<void()> add_recording_options(CLI::App* cmd, RecordingOptions& o, Mode mode) {
  const bool attach = mode == Mode::kAttach;
  cmd->add_option("-o,--output", o.output,
                  attach ? "Trace directory (default ./dial9-NAME-YYYYmmdd-HHMMSS, NAME the process's)"
                         : "Trace directory (default ./dial9-PROGRAM-YYYYmmdd-HHMMSS)")
      ->type_name("DIR");
  CLI::Option* frequency =
      cmd->add_option("-F,--frequency", o.frequency, "Samples per second per thread")->capture_default_str()->type_name("HZ");
  CLI::Option* period = cmd->add_option("-c,--period", o.period, "Sample every N events instead of at a frequency (excludes -F)")->type_name("N");
  cmd->add_option("-e,--event", o.event, "Event to sample: cycles, cpu-clock, task-clock, instructions, or a PMU event (default: cycles where the CPU can sample it, else cpu-clock)")->type_name("NAME");
  cmd->add_flag("--no-kernel", o.no_kernel, "Do not sample the kernel or record kernel stacks");
  cmd->add_option("--call-graph", o.call_graph,
                  "How user stacks are taken: fp (frame pointers only), auto (frame pointers, completed from a 2 KiB "
                  "stack copy unwound with .eh_frame where they are missing), dwarf[,BYTES] (a larger copy, default 8192)")
      ->capture_default_str()->type_name("MODE");
  cmd->add_option("--duration", o.duration,
                  attach ? "Stop recording after this long (e.g. 30s; default: until Ctrl-C or SIGTERM)"
                         : "Stop recording after this long and leave the program running (e.g. 30s)")
      ->type_name("TIME");
  cmd->add_option("--max-file-size", o.max_file_size, "Rotate segments at this size")->capture_default_str()->type_name("SIZE");
  cmd->add_option("--max-total-size", o.max_total_size, "Delete the oldest segments beyond this total (0 = keep all)")->capture_default_str()->type_name("SIZE");
  cmd->add_option("--rotation-period", o.rotation_period, "Also rotate at every multiple of this wall-clock period (e.g. 1m)")->type_name("TIME");
  cmd->add_option("--max-debug-info", o.max_debug_info,
                  "Read a module's source lines and inlined calls, when sealing a segment, only if its DWARF is at "
                  "most this size once decompressed (bounds the memory naming frames takes; 0 = any size); "
                  "larger modules get names only, and dial9 report adds their lines where it has the file")
      ->capture_default_str()->type_name("SIZE");
  cmd->add_option("--compression", o.compression, "Segment compression")->check(CLI::IsMember({"zstd", "gzip", "none"}))->capture_default_str();
  cmd->add_option("--on-seal", o.on_seal, "Run this shell command for each sealed segment, {} replaced by its path")->type_name("CMD");
  cmd->add_option("--mmap-pages", o.mmap_pages, "Perf ring size per CPU, in pages (a power of two; default 64 for fp, 128 for auto, 256 for dwarf)")->type_name("N");
  cmd->add_flag("--no-sched", o.no_sched, "Do not record scheduler activity (thread states, off-CPU stacks, wakeups)");
  cmd->add_option("--waker-stacks", o.waker_stacks, "Record the waker's stack for one wakeup in N (0: none)")->capture_default_str()->type_name("N");
  cmd->add_option("--sampler", o.sampler,
                  "How CPU samples are taken: perf (perf events), timer (the in-process agent's per-thread CPU-time "
                  "timers: no scheduler capture or kernel stacks), auto (perf, else timer when perf events are denied)")
      ->check(CLI::IsMember({"auto", "perf", "timer"}))
      ->capture_default_str();
  cmd->add_flag("--no-agent", o.no_agent,
                attach ? "Never load the in-process agent (libdial9-agent.so) into the process: perf alone"
                       : "Do not preload the in-process agent (libdial9-agent.so): perf alone");
  if (attach) {
    cmd->add_flag("--force", o.force,
                  "Load the agent even into a process running under a seccomp filter (which could kill it for a "
                  "system call the agent makes)");
  }
  cmd->add_flag("-q,--quiet", o.quiet, "Print only errors");
  cmd->add_flag("-v,--verbose", o.verbose,
                "Also print the perf events opened (what, how often, ring sizes), the wakeup filter, and how the "
                "recorder kept up");
  return [&o, frequency, period] {
    o.frequency_given = frequency->count() > 0;
    o.period_given = period->count() > 0;
  };
}

}  // namespace dial9::cli
