// The agent's timer sampler: a POSIX CPU-time timer per thread
// (CLOCK_THREAD_CPUTIME_ID of that thread, SIGEV_THREAD_ID) whose signal
// handler takes the interrupted instruction pointer and walks the frame
// pointers, into a preallocated lock-free buffer the agent thread drains.
//
// Signal-handler discipline: the handler allocates nothing, takes no lock,
// saves errno, and loads stack memory only inside the mapping that holds
// the interrupted stack pointer (a snapshot of /proc/self/maps the agent
// thread refreshes), so a corrupt frame chain ends the walk instead of
// faulting. A thread on a stack the snapshot does not know yet gets a
// leaf-only sample and a refresh.
//
// Everything but the handler runs on the agent thread.
#pragma once

#include <signal.h>
#include <sys/types.h>

#include <cstddef>
#include <cstdint>

namespace dial9::agent {

inline constexpr size_t kMaxDepth = 64;

struct Sample {
  uint64_t ts_ns = 0;  // CLOCK_MONOTONIC
  int32_t tid = 0;
  uint32_t depth = 0;
  uint64_t frames[kMaxDepth];  // leaf first: the instruction pointer, then return addresses
};

struct SamplerCounters {
  uint64_t samples = 0;
  uint64_t dropped = 0;  // the buffer was full
  uint32_t threads = 0;
  uint64_t handler_ns = 0;  // spent inside the handler (signal delivery not included)
};

// Installs the handler on a signal the program does not handle (SIGURG or
// SIGWINCH, whose default is to ignore, so a late signal after stop() is
// harmless); when both are handled, shares SIGURG and passes every signal
// that is not its own to the program's handler. Returns the signal, or 0
// (and leaves everything as it was) when none can be used.
int sampler_start(uint32_t frequency_hz);

// Creates timers for threads that have none, deletes those of threads that
// are gone (a rescan of /proc/self/task), and refreshes the maps snapshot
// when the handler asked for it or every second. Returns how many threads
// got a timer.
size_t sampler_rescan();

// Moves up to `max` samples out of the buffer; returns how many.
size_t sampler_drain(Sample* out, size_t max);

SamplerCounters sampler_counters();

// Deletes every timer, then restores the signal's previous disposition.
void sampler_stop();

}  // namespace dial9::agent
