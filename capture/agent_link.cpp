#include "capture/agent_link.h"

#include <fcntl.h>
#include <sys/random.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <vector>

#include "base/io.h"
#include "base/proc_maps.h"

namespace dial9::capture {

namespace proto = format::agent;

bool descends_from(pid_t pid, pid_t root) {
  for (int depth = 0; depth < 64 && pid > 1; ++depth) {
    if (pid == root) return true;
    auto stat = read_proc_stat(pid);
    if (!stat) return false;
    pid = stat->ppid;
  }
  return pid == root;
}

Result<std::unique_ptr<AgentLink>> AgentLink::listen() {
  std::unique_ptr<AgentLink> link(new AgentLink());
  uint64_t nonce = 0;
  if (::getrandom(&nonce, sizeof nonce, 0) != static_cast<ssize_t>(sizeof nonce)) nonce = static_cast<uint64_t>(::getpid()) * 2654435761u;
  char name[64];
  std::snprintf(name, sizeof name, "@dial9-agent-%d-%016llx", static_cast<int>(::getpid()), static_cast<unsigned long long>(nonce));
  link->name_ = name;
  UniqueFd fd(::socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC | SOCK_NONBLOCK, 0));
  if (!fd) return fail(Error::from_errno("socket for the agent"));
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  size_t len = link->name_.size();
  std::memcpy(addr.sun_path, link->name_.data(), len);
  addr.sun_path[0] = '\0';  // abstract: nothing on disk to clean up
  if (::bind(fd.get(), reinterpret_cast<sockaddr*>(&addr), static_cast<socklen_t>(offsetof(sockaddr_un, sun_path) + len)) != 0) {
    return fail(Error::from_errno("binding the agent socket"));
  }
  if (::listen(fd.get(), 64) != 0) return fail(Error::from_errno("listening on the agent socket"));
  link->listen_ = std::move(fd);
  return link;
}

int AgentLink::accept(const std::function<bool(pid_t)>& is_ours) {
  UniqueFd fd(::accept4(listen_.get(), nullptr, nullptr, SOCK_CLOEXEC | SOCK_NONBLOCK));
  if (!fd) return -1;
  ucred cred{};
  socklen_t len = sizeof cred;
  if (::getsockopt(fd.get(), SOL_SOCKET, SO_PEERCRED, &cred, &len) != 0) return -1;
  // Anyone who can see the abstract name can connect: keep only the
  // recording's processes, and only this user's unless dial9 is root.
  if ((::geteuid() != 0 && cred.uid != ::geteuid()) || !is_ours(cred.pid)) return -1;
  int raw = fd.get();
  Peer& p = peers_[raw];
  p.fd = std::move(fd);
  p.pid = cred.pid;
  return raw;
}

bool AgentLink::read(int fd, const std::function<void(pid_t, std::span<const uint8_t>)>& on_batch) {
  auto it = peers_.find(fd);
  if (it == peers_.end()) return false;
  Peer& p = it->second;
  std::vector<uint8_t>& buf = read_buf_;
  buf.resize(proto::kMaxMessage + 1);
  auto close_peer = [&] {
    closed_.samples += p.stats.samples;
    closed_.dropped_samples += p.stats.dropped_samples;
    closed_.dropped_batches += p.stats.dropped_batches;
    closed_.handler_ns += p.stats.handler_ns;
    closed_.api_events += p.stats.api_events;
    closed_.api_dropped += p.stats.api_dropped;
    closed_.api_processes += p.stats.api_slots > 0;
    // No bye: the process ended by _exit, exec or a signal, which its
    // agent cannot see coming; what it gathered since its last report is
    // missing.
    closed_.unreported += p.reported && !p.bye;
    peers_.erase(it);
    return false;
  };
  for (;;) {
    ssize_t n = ::recv(fd, buf.data(), buf.size(), MSG_DONTWAIT);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0 && errno == EAGAIN) return true;
    if (n <= 0) return close_peer();
    if (static_cast<size_t>(n) < sizeof(proto::MessageHeader) || static_cast<size_t>(n) > proto::kMaxMessage) return close_peer();
    proto::MessageHeader h;
    std::memcpy(&h, buf.data(), sizeof h);
    if (h.magic != proto::kMagic || h.version != proto::kVersion) return close_peer();
    switch (static_cast<proto::MessageType>(h.type)) {
      case proto::MessageType::kHello: {
        if (p.hello || static_cast<size_t>(n) < sizeof(proto::Hello)) return close_peer();
        p.hello = true;
        ++connected_;
        // Always answered at once: the program waits for it (in the
        // agent's constructor) before it runs.
        (void)::send(fd, &start_, sizeof start_, MSG_DONTWAIT | MSG_NOSIGNAL);
        break;
      }
      case proto::MessageType::kBatch:
        if (!p.hello) return close_peer();
        on_batch(p.pid, std::span<const uint8_t>(buf.data() + sizeof h, static_cast<size_t>(n) - sizeof h));
        break;
      case proto::MessageType::kStats: {
        if (static_cast<size_t>(n) < sizeof(proto::Stats)) return close_peer();
        proto::Stats s;
        std::memcpy(&s, buf.data(), sizeof s);
        if (s.signal != 0) signal_ = s.signal;
        if (s.sampler_state == static_cast<uint32_t>(proto::SamplerState::kFailed) &&
            p.stats.sampler_state != s.sampler_state) {
          ++no_signal_;
        }
        p.stats = s;
        p.reported = true;
        break;
      }
      case proto::MessageType::kBye:
        p.bye = true;
        return close_peer();
      default:
        return close_peer();
    }
  }
}

void AgentLink::stop_all() {
  proto::MessageHeader stop{proto::kMagic, proto::kVersion, static_cast<uint16_t>(proto::MessageType::kStop)};
  for (auto& [fd, p] : peers_) (void)::send(fd, &stop, sizeof stop, MSG_DONTWAIT | MSG_NOSIGNAL);
}

AgentLink::Counters AgentLink::counters() const {
  Counters c = closed_;
  c.connected = connected_;
  c.signal = signal_;
  for (const auto& [fd, p] : peers_) {
    c.samples += p.stats.samples;
    c.dropped_samples += p.stats.dropped_samples;
    c.dropped_batches += p.stats.dropped_batches;
    c.handler_ns += p.stats.handler_ns;
    c.api_events += p.stats.api_events;
    c.api_dropped += p.stats.api_dropped;
    c.api_processes += p.stats.api_slots > 0;
    c.pending += p.reported;
  }
  c.no_signal = no_signal_;
  return c;
}

}  // namespace dial9::capture
