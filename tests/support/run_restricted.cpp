// Runs a command with less than root has, the way users and containers run
// dial9: `run_restricted [--user NAME] [--memlock BYTES] [--deny-perf]
// -- PROGRAM ARGS...`. --deny-perf installs a seccomp filter that fails
// perf_event_open with ENOSYS, as container runtimes' default profiles do.
#include <errno.h>
#include <grp.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <pwd.h>
#include <stddef.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>

namespace {

int die(const char* what) {
  std::fprintf(stderr, "run_restricted: %s: %s\n", what, std::strerror(errno));
  return 125;
}

bool deny_perf_event_open() {
  sock_filter filter[] = {
      BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(seccomp_data, nr)),
      BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, SYS_perf_event_open, 0, 1),
      BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ERRNO | (ENOSYS & SECCOMP_RET_DATA)),
      BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
  };
  sock_fprog prog{static_cast<unsigned short>(sizeof filter / sizeof filter[0]), filter};
  return ::prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) == 0 && ::prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, &prog) == 0;
}

}  // namespace

int main(int argc, char** argv) {
  int i = 1;
  for (; i < argc && std::strcmp(argv[i], "--") != 0; ++i) {
    std::string a = argv[i];
    if (a == "--memlock" && i + 1 < argc) {
      rlimit r{};
      r.rlim_cur = r.rlim_max = std::strtoull(argv[++i], nullptr, 10);
      if (::setrlimit(RLIMIT_MEMLOCK, &r) != 0) return die("setrlimit");
    } else if (a == "--user" && i + 1 < argc) {
      const passwd* pw = ::getpwnam(argv[++i]);
      if (pw == nullptr) return die("getpwnam");
      if (::setgroups(0, nullptr) != 0 || ::setgid(pw->pw_gid) != 0 || ::setuid(pw->pw_uid) != 0) return die("setuid");
    } else if (a == "--deny-perf") {
      if (!deny_perf_event_open()) return die("seccomp");
    } else {
      std::fprintf(stderr, "run_restricted: unknown option %s\n", a.c_str());
      return 125;
    }
  }
  if (i + 1 >= argc) {
    std::fprintf(stderr, "usage: run_restricted [--user NAME] [--memlock BYTES] [--deny-perf] -- PROGRAM ARGS...\n");
    return 125;
  }
  ::execvp(argv[i + 1], argv + i + 1);
  return die(argv[i + 1]);
}
