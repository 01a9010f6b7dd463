// A load generator for the echo server: --connections threads, each with a
// blocking TCP connection to 127.0.0.1:--port, send a --size-byte message and
// wait for its echo, again and again, for --duration seconds or until
// --requests requests in all. Prints
//   requests N throughput X/s p50 Y us p99 Z us
// Plain threads and blocking sockets: it does not use dial9.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <thread>
#include <vector>

namespace {

using Clock = std::chrono::steady_clock;

struct Options {
  unsigned short port = 0;
  unsigned connections = 8;
  double duration_s = 5;
  uint64_t requests = 0;  // 0: run for duration_s
  size_t size = 64;
};

struct Result {
  std::vector<uint32_t> latencies_us;
  std::string error;
};

bool send_all(int fd, const char* p, size_t n) {
  while (n > 0) {
    ssize_t w = ::send(fd, p, n, MSG_NOSIGNAL);
    if (w < 0 && errno == EINTR) continue;
    if (w <= 0) return false;
    p += w;
    n -= static_cast<size_t>(w);
  }
  return true;
}

bool recv_all(int fd, char* p, size_t n) {
  while (n > 0) {
    ssize_t r = ::recv(fd, p, n, 0);
    if (r < 0 && errno == EINTR) continue;
    if (r <= 0) return false;
    p += r;
    n -= static_cast<size_t>(r);
  }
  return true;
}

void run_connection(const Options& o, Clock::time_point deadline, std::atomic<uint64_t>& claimed, Result& out) {
  int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) {
    out.error = std::string("socket: ") + std::strerror(errno);
    return;
  }
  int one = 1;
  ::setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(o.port);
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) {
    out.error = std::string("connect to 127.0.0.1:") + std::to_string(o.port) + ": " + std::strerror(errno);
    ::close(fd);
    return;
  }
  std::vector<char> message(o.size, 'x');
  std::vector<char> reply(o.size);
  for (uint64_t i = 0;; ++i) {
    if (o.requests != 0) {
      if (claimed.fetch_add(1, std::memory_order_relaxed) >= o.requests) break;
    } else if (Clock::now() >= deadline) {
      break;
    }
    std::memcpy(message.data(), &i, std::min(sizeof i, message.size()));
    auto start = Clock::now();
    if (!send_all(fd, message.data(), message.size()) || !recv_all(fd, reply.data(), reply.size())) {
      out.error = "connection closed by the server";
      break;
    }
    auto us = std::chrono::duration_cast<std::chrono::microseconds>(Clock::now() - start).count();
    out.latencies_us.push_back(static_cast<uint32_t>(std::min<int64_t>(us, UINT32_MAX)));
  }
  ::close(fd);
}

bool parse_number(const char* s, double max, double* out) {
  char* end = nullptr;
  errno = 0;
  double v = std::strtod(s, &end);
  if (errno != 0 || end == s || *end != '\0' || !(v >= 0) || v > max) return false;
  *out = v;
  return true;
}

int usage(const char* argv0) {
  std::fprintf(stderr,
               "usage: %s --port P [--connections C] [--duration SECONDS | --requests N] [--size BYTES]\n"
               "  --connections C   concurrent connections, one thread each (default 8)\n"
               "  --duration D      seconds to run (default 5)\n"
               "  --requests N      stop after N requests in all instead\n"
               "  --size B          bytes per message, as the server's --message-size (default 64)\n",
               argv0);
  return 2;
}

uint32_t percentile(const std::vector<uint32_t>& sorted, double p) {
  if (sorted.empty()) return 0;
  size_t i = static_cast<size_t>(p * static_cast<double>(sorted.size() - 1) + 0.5);
  return sorted[std::min(i, sorted.size() - 1)];
}

}  // namespace

int main(int argc, char** argv) {
  Options o;
  bool have_port = false;
  for (int i = 1; i < argc; ++i) {
    std::string arg = argv[i];
    if (arg == "--help" || arg == "-h") {
      usage(argv[0]);
      return 0;
    }
    double v = 0;
    if (i + 1 >= argc) return usage(argv[0]);
    const char* value = argv[++i];
    if (arg == "--port" && parse_number(value, 65535, &v) && v >= 1) {
      o.port = static_cast<unsigned short>(v);
      have_port = true;
    } else if (arg == "--connections" && parse_number(value, 10000, &v) && v >= 1) {
      o.connections = static_cast<unsigned>(v);
    } else if (arg == "--duration" && parse_number(value, 1e6, &v) && v > 0) {
      o.duration_s = v;
    } else if (arg == "--requests" && parse_number(value, 1e15, &v) && v >= 1) {
      o.requests = static_cast<uint64_t>(v);
    } else if (arg == "--size" && parse_number(value, 1 << 20, &v) && v >= 1) {
      o.size = static_cast<size_t>(v);
    } else {
      std::fprintf(stderr, "%s: bad option %s %s\n", argv[0], arg.c_str(), value);
      return usage(argv[0]);
    }
  }
  if (!have_port) return usage(argv[0]);

  std::atomic<uint64_t> claimed{0};
  std::vector<Result> results(o.connections);
  std::vector<std::thread> threads;
  auto start = Clock::now();
  auto deadline = start + std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>(o.duration_s));
  for (unsigned c = 0; c < o.connections; ++c) {
    threads.emplace_back(run_connection, std::cref(o), deadline, std::ref(claimed), std::ref(results[c]));
  }
  for (auto& t : threads) t.join();
  double elapsed = std::chrono::duration<double>(Clock::now() - start).count();

  std::vector<uint32_t> all;
  for (const Result& r : results) {
    if (!r.error.empty()) std::fprintf(stderr, "dial9-load-gen: %s\n", r.error.c_str());
    all.insert(all.end(), r.latencies_us.begin(), r.latencies_us.end());
  }
  std::sort(all.begin(), all.end());
  std::printf("requests %zu throughput %.0f/s p50 %u us p99 %u us\n", all.size(),
              elapsed > 0 ? static_cast<double>(all.size()) / elapsed : 0.0, percentile(all, 0.50),
              percentile(all, 0.99));
  for (const Result& r : results) {
    if (!r.error.empty()) return 1;
  }
  return 0;
}
