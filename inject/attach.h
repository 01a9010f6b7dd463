// Loading the agent into a running process (`dial9 attach`).
//
// How, and why it cannot harm the target:
//  1. dial9 finds, without stopping anything, the addresses of
//     pthread_create, dlopen, dlsym and dlerror in the target's own libc
//     (its link map, read from /proc/PID/maps and the ELF files), and a
//     stretch of unused bytes at the end of one of its code mappings (past
//     the end of a code segment, inside the last page). It writes the
//     loader (injected_code.S) and its data there through /proc/PID/mem.
//  2. It picks one thread that is blocked in a system call such as a sleep,
//     a read or a futex wait (read from /proc/PID/task/TID/syscall), seizes
//     it (PTRACE_SEIZE + PTRACE_INTERRUPT: no SIGSTOP, no exit-kill),
//     saves its registers into a frame below its stack pointer, and points
//     it at the loader with system-call restart disabled (orig_rax = -1).
//     The frame holds the registers the thread must resume with: when the
//     call was interrupted it is rewound to be made again (rax = the call's
//     number, rip - 2), exactly what the kernel does for a restart, or
//     restart_syscall for a sleep. It detaches at once: the thread was
//     stopped for that long only.
//  3. The thread runs the loader: it starts one new thread and restores
//     itself (every register and the extended FPU state), and goes on with
//     its call. From the moment its registers are set, dial9 plays no part
//     in that, so dial9 dying at any instant cannot break it.
//  4. The new thread connects to a socket dial9 listens on, receives the
//     agent library as a file descriptor (so the target's mount namespace
//     does not matter), dlopen()s it (as /proc/thread-self/fd/N), reports, and calls
//     dial9_agent_connect(), which connects to the session's agent socket.
// A thread in a system call holds none of the C library's internal locks
// that pthread_create takes (allocations, the stack cache), which is why
// running threads are never chosen.
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <string>

#include "base/result.h"

namespace dial9::inject {

struct AgentLoad {
  std::string agent_path;    // libdial9-agent.so, opened by dial9
  std::string agent_socket;  // what dial9_agent_connect connects to ("@name")
  uint64_t timeout_ns = 3'000'000'000;
};

struct AgentLoaded {
  pid_t tid = 0;            // the thread that ran the loader
  uint64_t stopped_ns = 0;  // how long it was stopped
  uint64_t total_ns = 0;    // from the start to the agent reporting itself loaded
  std::string module;       // where the loader was written
};

// Loads the agent into `pid` (see above). The error says why, with the fix
// where there is one; the target is left as it was.
Result<AgentLoaded> load_agent(pid_t pid, const AgentLoad& how);

// Whether `orig_rax` (the system call a stopped thread is in) is one the
// loader may run from: a call that blocks waiting for something, inside
// which the C library holds no internal lock.
bool loadable_from_syscall(long orig_rax);

struct ResumeRegs {
  uint64_t rip = 0, rax = 0;
};
// Where and with what rax a thread stopped inside system call `orig_rax`
// (which returned `rax`) must resume so that the call is made again when it
// was interrupted, as the kernel's own restart would (the -ERESTART* codes,
// and -EINTR, which only our interrupt caused), or goes on after it.
ResumeRegs resume_after_stop(uint64_t rip, long orig_rax, long rax);

}  // namespace dial9::inject
