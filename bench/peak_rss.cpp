// peak_rss CMD [ARGS...]: runs CMD and prints its peak resident set size in
// KiB (from wait4's rusage) on stderr as "peak_rss_kib N"; exits with CMD's
// status. For measuring the recorder's own memory.
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>

int main(int argc, char** argv) {
  if (argc < 2) {
    std::fprintf(stderr, "usage: peak_rss CMD [ARGS...]\n");
    return 2;
  }
  pid_t pid = fork();
  if (pid == 0) {
    execvp(argv[1], argv + 1);
    _exit(127);
  }
  int status = 0;
  rusage ru{};
  wait4(pid, &status, 0, &ru);
  std::fprintf(stderr, "peak_rss_kib %ld\n", ru.ru_maxrss);
  return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}
