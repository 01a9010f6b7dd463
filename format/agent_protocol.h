// What the in-process agent (libdial9-agent.so) and the controller say to
// each other: messages on a SOCK_SEQPACKET Unix socket, one message per
// send, each starting with a MessageHeader. Compiled into the agent, so
// header-only, no allocation, nothing beyond libc.
//
// The controller listens on an abstract socket whose name it passes to the
// program in kSocketEnv; each process with the agent loaded connects once
// (a program's exec'd children connect too; a forked child without exec
// stays quiet). Both sides check the other's credentials (SO_PEERCRED): the
// controller accepts only the processes it records, the agent only a
// controller running as root or as its own user.
//
//   agent -> controller   kHello (once), kBatch (a self-contained TRC
//                         stream), kStats (counters), kBye (stopping)
//   controller -> agent   kStart (the answer to kHello: what to sample;
//                         kNone with no app API in the process sends the
//                         agent back to sleep), kStop
//
// A full socket never blocks the agent: the batch is dropped and counted.
#pragma once

#include <cstdint>

namespace dial9::format::agent {

inline constexpr uint32_t kMagic = 0x41473944;  // "D9GA" little-endian
inline constexpr uint16_t kVersion = 1;
// The environment variable that names the controller's socket
// ("@name" for an abstract socket). Not a configuration variable: there is
// no [internal] section.
inline constexpr const char* kSocketEnv = "DIAL9_INTERNAL_AGENT_SOCKET";
// Set to "timer" when the controller wants the timer sampler: a preloaded
// agent connects when it is set, or when the process uses the app API, and
// otherwise stays out of the way (no connection, no thread, no wait).
inline constexpr const char* kSamplerEnv = "DIAL9_INTERNAL_AGENT_SAMPLER";
// The ELF note through which the agent finds a program's app API slot
// (written by dial9/dial9.h): owner "dial9", this type, and a descriptor
// of the slot's offset from the descriptor (i64) and the API version (u32).
inline constexpr const char* kApiNoteOwner = "dial9";
inline constexpr uint32_t kApiNoteType = 0x64396c31;

// The name the agent gives its own thread: the controller leaves that
// thread's samples and scheduler events out of the recording.
inline constexpr const char* kAgentThreadName = "dial9-agent";

// Largest message either side sends; batches are cut below it.
inline constexpr uint32_t kMaxMessage = 64 * 1024;

enum class MessageType : uint16_t { kHello = 1, kBatch = 2, kStats = 3, kBye = 4, kStart = 16, kStop = 17 };

struct MessageHeader {
  uint32_t magic = kMagic;
  uint16_t version = kVersion;
  uint16_t type = 0;  // a MessageType
};

struct Hello {
  MessageHeader header{kMagic, kVersion, static_cast<uint16_t>(MessageType::kHello)};
  uint32_t pid = 0;
  uint32_t how = 0;  // 0: preloaded at start, 1: loaded into a running process
};

// Counters since the agent started.
struct Stats {
  MessageHeader header{kMagic, kVersion, static_cast<uint16_t>(MessageType::kStats)};
  uint64_t samples = 0;          // taken by the timer sampler
  uint64_t dropped_samples = 0;  // the sample buffer was full
  uint64_t dropped_batches = 0;  // the socket was full
  uint32_t threads = 0;          // threads with a sampling timer now
  uint32_t signal = 0;           // the signal the sampler uses (0: none)
  uint32_t sampler_state = 0;    // a SamplerState
  uint32_t reserved = 0;
  uint64_t handler_ns = 0;       // time spent in the sampler's signal handler, all samples
  // The app API (dial9/dial9.h): events sent, and lost (a full per-thread
  // buffer, or a call that broke its event type's rules).
  uint64_t api_events = 0;
  uint64_t api_dropped = 0;
  uint32_t api_slots = 0;  // executables and libraries of the process built with the API
  uint32_t api_threads = 0;  // threads that made an API call, live now
};

enum class Sampler : uint32_t { kNone = 0, kTimer = 1 };
// kFailed: no signal could be used (see inject/agent/timer_sampler.h).
enum class SamplerState : uint32_t { kOff = 0, kRunning = 1, kFailed = 2 };

struct Start {
  MessageHeader header{kMagic, kVersion, static_cast<uint16_t>(MessageType::kStart)};
  uint32_t sampler = 0;       // a Sampler
  uint32_t frequency_hz = 0;  // per thread, of thread CPU time
};

}  // namespace dial9::format::agent
