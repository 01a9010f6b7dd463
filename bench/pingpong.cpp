// Two threads bouncing one byte over a pair of pipes N times (argv[1],
// default 200000): every round trip is two context switches, the workload
// where per-task perf events cost the most. With DIAL9_BENCH_ELAPSED set it
// prints the round trips' own time ("elapsed_ns N") on stderr, so a
// benchmark can leave the recorder's start-up and shutdown out.
#include <time.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <thread>

int main(int argc, char** argv) {
  long n = argc > 1 ? std::atol(argv[1]) : 200000;
  timespec t0{}, t1{};
  clock_gettime(CLOCK_MONOTONIC, &t0);
  int a[2], b[2];
  if (pipe(a) != 0 || pipe(b) != 0) return 1;
  std::thread echo([&] {
    char c;
    for (long i = 0; i < n; ++i) {
      if (read(a[0], &c, 1) != 1 || write(b[1], &c, 1) != 1) return;
    }
  });
  char c = 'x';
  for (long i = 0; i < n; ++i) {
    if (write(a[1], &c, 1) != 1 || read(b[0], &c, 1) != 1) return 1;
  }
  echo.join();
  clock_gettime(CLOCK_MONOTONIC, &t1);
  if (std::getenv("DIAL9_BENCH_ELAPSED")) {
    long long ns = (t1.tv_sec - t0.tv_sec) * 1000000000LL + (t1.tv_nsec - t0.tv_nsec);
    std::fprintf(stderr, "elapsed_ns %lld\n", ns);
  }
  return 0;
}
