// A producer writing one byte into a pipe at a fixed rate (argv[1] messages
// per second, default 25000) for argv[2] seconds (default 2), pacing by
// spinning on the clock, and a consumer blocked in read() between messages:
// each message is one blocking switch-out, one wakeup and one switch-in of
// the consumer, so bench/run_sched.sh can hold the scheduler event rate
// where it wants it (about four recorded events a message) and look for
// losses below a given rate.
#include <time.h>
#include <unistd.h>

#include <cstdlib>
#include <thread>

namespace {

long now_ns() {
  timespec t{};
  clock_gettime(CLOCK_MONOTONIC, &t);
  return t.tv_sec * 1'000'000'000L + t.tv_nsec;
}

}  // namespace

int main(int argc, char** argv) {
  long rate = argc > 1 ? std::atol(argv[1]) : 25000;
  double seconds = argc > 2 ? std::atof(argv[2]) : 2;
  if (rate <= 0 || seconds <= 0) return 2;
  int p[2];
  if (pipe(p) != 0) return 1;
  std::thread consumer([&] {
    char c;
    while (read(p[0], &c, 1) == 1) {
    }
  });
  const long n = static_cast<long>(static_cast<double>(rate) * seconds);
  const long start = now_ns();
  char c = 'x';
  for (long i = 0; i < n; ++i) {
    const long due = start + i * 1'000'000'000L / rate;
    while (now_ns() < due) {
    }
    if (write(p[1], &c, 1) != 1) return 1;
  }
  close(p[1]);
  consumer.join();
  return 0;
}
