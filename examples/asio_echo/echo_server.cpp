// A Boost.Asio TCP echo server instrumented with dial9/asio.h, for trying
// dial9's event-loop view on a C++ program. Every handler is a task, every
// handler run a poll; one request in --slow-every (default 50) calls
// slow_lookup(), which blocks its worker thread for 30 ms, so the handlers
// queued behind it wait: the scheduling delay dial9 shows.
//
//   ./build/examples/asio_echo/dial9-echo-server --port 0 &   # prints the port
//   ./build/examples/asio_echo/dial9-load-gen --port PORT --duration 5
//   dial9 record -o echo.trc -- ./build/examples/asio_echo/dial9-echo-server
//
// Each request is framed as --message-size bytes (default 64, as the load
// generator sends), read with async_read and echoed with async_write. Each
// request also writes a RequestCompleted event and a handle_request span.
// SIGINT or SIGTERM stop it; it prints "served N requests".
#define DIAL9_IMPLEMENTATION
#include <dial9/asio.h>  // before any Boost.Asio header

#include <boost/asio.hpp>
#include <cerrno>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <ctime>
#include <memory>
#include <string>
#include <thread>
#include <vector>

namespace net = boost::asio;
using net::ip::tcp;

namespace {

struct Options {
  unsigned threads = 2;
  unsigned short port = 0;
  uint64_t slow_every = 50;  // 0: never slow
  size_t message_size = 64;
};

std::atomic<uint64_t> g_requests{0};

// One event per request and a span around its handling (dial9(3)).
dial9::EventType<uint64_t, uint32_t, bool> g_request_completed("RequestCompleted",
                                                               {"request_id", "bytes", "slow"});
dial9::SpanSite g_handle_site("handle_request", {"kind"});

// The deliberate problem: a blocking call on an event-loop thread, as a
// synchronous cache or DNS lookup would be. Not inlined, so stacks name it.
__attribute__((noinline)) void slow_lookup() {
  timespec ts{0, 30 * 1000 * 1000};
  while (nanosleep(&ts, &ts) == -1 && errno == EINTR) {
  }
}

__attribute__((noinline)) uint32_t checksum(const std::vector<char>& data, size_t n) {
  uint32_t h = 2166136261u;
  for (size_t i = 0; i < n; ++i) h = (h ^ static_cast<uint8_t>(data[i])) * 16777619u;
  return h;
}

class Session : public std::enable_shared_from_this<Session> {
 public:
  Session(tcp::socket socket, const Options& options)
      : socket_(std::move(socket)), options_(options), buffer_(options.message_size) {}

  void start() {
    boost::system::error_code ignored;
    socket_.set_option(tcp::no_delay(true), ignored);  // small replies: no Nagle delay
    read();
  }

 private:
  void read() {
    // The location dial9 gives this read's handlers (and its composed steps).
    BOOST_ASIO_HANDLER_LOCATION((__FILE__, __LINE__, __func__));
    net::async_read(socket_, net::buffer(buffer_),
                    [self = shared_from_this()](const boost::system::error_code& ec, size_t n) {
                      self->on_read(ec, n);
                    });
  }

  void on_read(const boost::system::error_code& ec, size_t n) {
    if (ec) return;  // the client closed: the session ends with its last handler
    uint64_t id = g_requests.fetch_add(1, std::memory_order_relaxed) + 1;
    bool slow = options_.slow_every != 0 && id % options_.slow_every == 0;
    {
      dial9::Span span(g_handle_site, {slow ? "slow" : "fast"});
      handle_request(n, slow);
    }
    g_request_completed.emit(id, static_cast<uint32_t>(n), slow);
    write(n);
  }

  void handle_request(size_t n, bool slow) {
    checksum_ ^= checksum(buffer_, n);
    if (slow) slow_lookup();
  }

  void write(size_t n) {
    BOOST_ASIO_HANDLER_LOCATION((__FILE__, __LINE__, __func__));
    net::async_write(socket_, net::buffer(buffer_, n),
                     [self = shared_from_this()](const boost::system::error_code& ec, size_t) {
                       if (!ec) self->read();
                     });
  }

  tcp::socket socket_;
  const Options& options_;
  std::vector<char> buffer_;
  uint32_t checksum_ = 0;
};

class Server {
 public:
  Server(net::io_context& io, const Options& options)
      : acceptor_(io, tcp::endpoint(net::ip::address_v4::loopback(), options.port)), options_(options) {}

  unsigned short port() const { return acceptor_.local_endpoint().port(); }

  void accept() {
    BOOST_ASIO_HANDLER_LOCATION((__FILE__, __LINE__, __func__));
    acceptor_.async_accept([this](const boost::system::error_code& ec, tcp::socket socket) {
      if (ec == net::error::operation_aborted) return;  // stopping
      if (!ec) std::make_shared<Session>(std::move(socket), options_)->start();
      accept();
    });
  }

 private:
  tcp::acceptor acceptor_;
  const Options& options_;
};

bool parse_number(const char* s, uint64_t max, uint64_t* out) {
  char* end = nullptr;
  errno = 0;
  unsigned long long v = std::strtoull(s, &end, 10);
  if (errno != 0 || end == s || *end != '\0' || v > max) return false;
  *out = v;
  return true;
}

int usage(const char* argv0) {
  std::fprintf(stderr,
               "usage: %s [--threads N] [--port P] [--slow-every N] [--message-size BYTES]\n"
               "  --threads N        threads running the io_context (default 2)\n"
               "  --port P           TCP port on 127.0.0.1, 0 picks one (default 0)\n"
               "  --slow-every N     every Nth request blocks 30 ms in slow_lookup(), 0: never (default 50)\n"
               "  --message-size B   bytes per request, as the load generator sends (default 64)\n",
               argv0);
  return 2;
}

}  // namespace

int main(int argc, char** argv) {
  Options options;
  for (int i = 1; i < argc; ++i) {
    std::string arg = argv[i];
    uint64_t v = 0;
    if (arg == "--help" || arg == "-h") {
      usage(argv[0]);
      return 0;
    }
    if (i + 1 >= argc) return usage(argv[0]);
    const char* value = argv[++i];
    if (arg == "--threads" && parse_number(value, 254, &v) && v > 0) {
      options.threads = static_cast<unsigned>(v);
    } else if (arg == "--port" && parse_number(value, 65535, &v)) {
      options.port = static_cast<unsigned short>(v);
    } else if (arg == "--slow-every" && parse_number(value, UINT64_MAX, &v)) {
      options.slow_every = v;
    } else if (arg == "--message-size" && parse_number(value, 1 << 20, &v) && v > 0) {
      options.message_size = static_cast<size_t>(v);
    } else {
      std::fprintf(stderr, "%s: bad option %s %s\n", argv[0], arg.c_str(), value);
      return usage(argv[0]);
    }
  }

  try {
    net::io_context io(static_cast<int>(options.threads));
    Server server(io, options);
    server.accept();

    net::signal_set signals(io, SIGINT, SIGTERM);
    signals.async_wait([&io](const boost::system::error_code&, int) { io.stop(); });

    std::printf("listening on %u\n", server.port());
    std::fflush(stdout);

    std::vector<std::thread> threads;
    for (unsigned i = 1; i < options.threads; ++i) threads.emplace_back([&io] { io.run(); });
    io.run();
    for (auto& t : threads) t.join();
  } catch (const std::exception& e) {
    std::fprintf(stderr, "dial9-echo-server: %s\n", e.what());
    return 1;
  }
  std::printf("served %llu requests\n", static_cast<unsigned long long>(g_requests.load()));
  return 0;
}
