// The controller's end of the agent protocol (format/agent_protocol.h): a
// listening abstract Unix socket whose name goes into the program's
// environment, one connection per process whose agent connected, and the
// messages on them. The session's epoll loop watches listen_fd() and each
// connection's fd; this class owns them all.
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <span>
#include <string>
#include <vector>

#include "base/result.h"
#include "base/unique_fd.h"
#include "format/agent_protocol.h"

namespace dial9::capture {

// Whether `pid` is `root` or one of its descendants (its parent chain in
// /proc reaches `root`).
bool descends_from(pid_t pid, pid_t root);

class AgentLink {
 public:
  // Listens on "@dial9-agent-<pid>-<random>".
  static Result<std::unique_ptr<AgentLink>> listen();

  // For the program's environment (format::agent::kSocketEnv).
  const std::string& name() const { return name_; }
  int listen_fd() const { return listen_.get(); }

  // What each agent that says hello is told to do.
  void set_start(const format::agent::Start& start) { start_ = start; }

  // Accepts one pending connection. Only a process `is_ours` says belongs
  // to the recording, running as this user (or any user when dial9 runs as
  // root), is kept; returns its fd to watch, or -1.
  int accept(const std::function<bool(pid_t)>& is_ours);

  // Reads the messages waiting on connection `fd`, calling `on_batch` with
  // each batch's TRC stream. Returns false once the agent hung up or broke
  // the protocol (the connection is then closed and forgotten).
  bool read(int fd, const std::function<void(pid_t pid, std::span<const uint8_t> stream)>& on_batch);

  // Tells every agent to stop (they then send their last batch and bye).
  void stop_all();

  struct Counters {
    uint32_t connected = 0;  // processes whose agent said hello
    uint64_t samples = 0, dropped_samples = 0, dropped_batches = 0;
    uint64_t handler_ns = 0;  // the timer sampler's signal handlers, all samples
    uint32_t signal = 0;      // the timer sampler's signal, as the last agent to start reported it
    uint32_t no_signal = 0;   // agents that could not start the timer sampler
    // The app API (dial9/dial9.h): events sent, events lost in the target,
    // and processes that use it.
    uint64_t api_events = 0, api_dropped = 0;
    uint32_t api_processes = 0;
    // Agents that reported but never said bye, their process having ended
    // by _exit, exec or a signal: what each gathered since its last report,
    // one drain interval (20 ms), is missing.
    uint32_t unreported = 0;
    // Agents still connected without a bye: their process goes on running
    // but did not send its last report in time (stopped, or its agent's
    // thread starved): what it gathered since its last report is missing,
    // 20 ms of it or, for a starved agent, more.
    uint32_t pending = 0;
  };
  Counters counters() const;

 private:
  AgentLink() = default;
  struct Peer {
    UniqueFd fd;
    pid_t pid = 0;
    bool hello = false;
    bool reported = false;  // sent its counts at least once (it is active)
    bool bye = false;       // said its last word
    format::agent::Stats stats;
  };
  UniqueFd listen_;
  std::string name_;
  format::agent::Start start_;
  std::map<int, Peer> peers_;
  uint32_t connected_ = 0;
  uint32_t signal_ = 0, no_signal_ = 0;
  Counters closed_;  // totals of connections already gone
  // One message as read (kMaxMessage + 1 bytes, so an oversized one is
  // seen as such); a member, so two links in one process share nothing.
  std::vector<uint8_t> read_buf_;
};

}  // namespace dial9::capture
