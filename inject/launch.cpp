#include "inject/launch.h"

#include <boost/process/args.hpp>
#include <boost/process/child.hpp>
#include <boost/process/exe.hpp>
#include <fcntl.h>
#include <signal.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>

#include "base/io.h"

namespace bp = boost::process;

namespace dial9::inject {
namespace {

// The trampoline's first byte on the status pipe: loaded, waiting for go.
constexpr char kReady = 'r';

// A write to a pipe whose reader is gone fails with EPIPE instead of
// raising SIGPIPE, which would kill dial9: the signal is blocked for the
// call and, if raised, taken. errno is the write's.
bool write_without_sigpipe(int fd, const void* buf, size_t n) {
  sigset_t pipe_only, old;
  sigemptyset(&pipe_only);
  sigaddset(&pipe_only, SIGPIPE);
  ::pthread_sigmask(SIG_BLOCK, &pipe_only, &old);
  auto w = write_all(fd, {static_cast<const uint8_t*>(buf), n});
  const int err = w ? 0 : w.error().errno_value();
  if (err == EPIPE && !sigismember(&old, SIGPIPE)) {
    timespec now{};
    (void)::sigtimedwait(&pipe_only, nullptr, &now);
  }
  ::pthread_sigmask(SIG_SETMASK, &old, nullptr);
  errno = err;
  return w.has_value();
}

bool read_exact(int fd, void* buf, size_t n) {
  size_t done = 0;
  while (done < n) {
    ssize_t r = ::read(fd, static_cast<char*>(buf) + done, n - done);
    if (r < 0 && errno == EINTR) continue;
    if (r <= 0) return false;
    done += static_cast<size_t>(r);
  }
  return true;
}

}  // namespace

SuspendedProcess::SuspendedProcess(pid_t pid, UniqueFd go, UniqueFd status, std::string program)
    : pid_(pid), go_(std::move(go)), status_(std::move(status)), program_(std::move(program)) {}

SuspendedProcess::SuspendedProcess(SuspendedProcess&& o) noexcept
    : pid_(std::exchange(o.pid_, -1)), go_(std::move(o.go_)), status_(std::move(o.status_)),
      program_(std::move(o.program_)), started_(o.started_) {}

SuspendedProcess::~SuspendedProcess() {
  if (pid_ > 0 && !started_) {
    ::kill(pid_, SIGKILL);
    int st;
    while (::waitpid(pid_, &st, 0) < 0 && errno == EINTR) {
    }
  }
}

Result<SuspendedProcess> SuspendedProcess::spawn(const LaunchSpec& spec, const std::string& self_exe) {
  if (spec.argv.empty()) return fail("no program to run");
  // The trampoline's ends must survive its exec (not close-on-exec); ours
  // must not leak into it.
  int go[2], status[2];
  if (::pipe2(go, O_CLOEXEC) != 0 || ::pipe2(status, O_CLOEXEC) != 0) {
    return fail(Error::from_errno("cannot create a pipe"));
  }
  UniqueFd go_read(go[0]), go_write(go[1]), status_read(status[0]), status_write(status[1]);
  ::fcntl(go_read.get(), F_SETFD, 0);
  ::fcntl(status_write.get(), F_SETFD, 0);

  // The program's own variables go to the trampoline as arguments and into
  // the environment only at the exec: a preloaded agent must not load into
  // the trampoline, which is dial9 itself.
  std::vector<std::string> args = {kTrampolineArg, std::to_string(go_read.get()),
                                   std::to_string(status_write.get()), std::to_string(spec.env.size())};
  for (const auto& [k, v] : spec.env) args.push_back(k + "=" + v);
  args.insert(args.end(), spec.argv.begin(), spec.argv.end());
  std::error_code ec;
  bp::child c(bp::exe = self_exe, bp::args = args, ec);
  if (ec) return fail("cannot start the launcher '" + self_exe + "': " + ec.message(), ec.value());
  pid_t pid = c.id();
  c.detach();  // we reap it ourselves; Boost must not kill it on scope exit
  // The trampoline's ends are its own now: with ours closed, its death
  // reads as EOF below, and in start().
  go_read.reset();
  status_write.reset();
  SuspendedProcess child(pid, std::move(go_write), std::move(status_read), spec.argv[0]);
  // Boost returns once the trampoline's exec succeeded, with the dynamic
  // loader still mapping dial9's libraries: wait until it is blocked for
  // `go`, so that events opened on its pid from now on see nothing of
  // dial9 but its last steps to the program's exec.
  char ready = 0;
  if (!read_exact(child.status_.get(), &ready, 1) || ready != kReady) {
    return fail("the launcher for '" + spec.argv[0] + "' exited before it could start it");
  }
  return child;
}

Result<void> SuspendedProcess::start() {
  if (started_) return {};
  started_ = true;
  char go = 'g';
  if (!write_without_sigpipe(go_.get(), &go, 1)) {
    return fail(Error::from_errno("cannot start '" + program_ + "'"));
  }
  go_.reset();
  int err = 0;
  if (read_exact(status_.get(), &err, sizeof err)) {
    int st;
    while (::waitpid(pid_, &st, 0) < 0 && errno == EINTR) {
    }
    pid_ = -1;
    return fail("cannot run '" + program_ + "': " + std::strerror(err), err);
  }
  return {};  // EOF: the exec succeeded and closed the pipe
}

int run_trampoline(int argc, char** argv) {
  if (argc < 6) return 127;
  int go = std::atoi(argv[2]);
  int status = std::atoi(argv[3]);
  int nenv = std::atoi(argv[4]);
  if (nenv < 0 || 5 + nenv >= argc) return 127;
  ::fcntl(go, F_SETFD, FD_CLOEXEC);
  ::fcntl(status, F_SETFD, FD_CLOEXEC);  // closed by a successful exec: EOF for the parent
  if (const char* slow = std::getenv("DIAL9_TEST_LAUNCHER_SLOW"); slow && *slow) {
    // Test hook: a launcher slow to load, still mapping code 100 ms in
    // (dial9's binary once more): the recorder must wait for it to be
    // ready, not record this as the program's.
    ::usleep(100000);
    UniqueFd self(::open("/proc/self/exe", O_RDONLY | O_CLOEXEC));
    if (self) (void)::mmap(nullptr, 4096, PROT_READ | PROT_EXEC, MAP_PRIVATE, self.get(), 0);
  }
  if (::write(status, &kReady, 1) != 1) _exit(127);
  char c;
  if (!read_exact(go, &c, 1)) _exit(127);  // the recorder went away before starting us
  for (int i = 0; i < nenv; ++i) ::putenv(argv[5 + i]);  // "NAME=VALUE", owned by argv for the process's life
  // The program gets a clean signal mask. Until here the trampoline kept
  // dial9's (SIGINT, SIGTERM and SIGHUP blocked): a Ctrl-C while dial9
  // starts ends the launch at this point, where dial9 reads the outcome,
  // not while dial9 still waits for it to load or sends go.
  sigset_t none;
  sigemptyset(&none);
  ::sigprocmask(SIG_SETMASK, &none, nullptr);
  ::execvp(argv[5 + nenv], argv + 5 + nenv);
  int err = errno;
  (void)!::write(status, &err, sizeof err);
  _exit(127);
}

}  // namespace dial9::inject
