// Two threads bouncing one byte over a pair of pipes N times (argv[1],
// default 200000): every round trip is two context switches, the workload
// where per-task perf events cost the most.
#include <unistd.h>

#include <cstdlib>
#include <thread>

int main(int argc, char** argv) {
  long n = argc > 1 ? std::atol(argv[1]) : 200000;
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
  return 0;
}
