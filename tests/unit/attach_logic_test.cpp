// The pure parts of `dial9 attach`: /proc/PID/maps lines, the ELF reader
// the loader's addresses come from, which system calls a thread may be
// hijacked in and how it resumes, and the preflight's verdicts.
#include <catch2/catch.hpp>

#include <dlfcn.h>
#include <sys/syscall.h>

#include <cerrno>

#include "base/elf_file.h"
#include "base/proc_maps.h"
#include "inject/attach.h"
#include "inject/preflight.h"

using namespace dial9;

TEST_CASE("maps lines: addresses, permissions, offset, inode and path") {
  auto m = parse_maps_line("7f1c2a400000-7f1c2a428000 r-xp 00028000 08:01 1835114                    /usr/lib/x86_64-linux-gnu/libc.so.6");
  REQUIRE(m);
  CHECK(m->start == 0x7f1c2a400000);
  CHECK(m->end == 0x7f1c2a428000);
  CHECK((m->read && !m->write && m->exec && !m->shared));
  CHECK(m->offset == 0x28000);
  CHECK(m->inode == 1835114);
  CHECK(m->path == "/usr/lib/x86_64-linux-gnu/libc.so.6");
  auto anon = parse_maps_line("7ffd1000-7ffd2000 rw-p 00000000 00:00 0");
  REQUIRE(anon);
  CHECK(anon->path.empty());
  CHECK(parse_maps_line("7ffd1000-7ffd3000 r-xp 00000000 00:00 0                          [vdso]")->path == "[vdso]");
  CHECK(parse_maps_line("1000-2000 r-xs 00000000 00:05 7 /tmp/with space (deleted)")->path == "/tmp/with space (deleted)");
  CHECK(parse_maps_line("1000-2000 r-xs 00000000 00:05 7 /tmp/x")->shared);
  CHECK(!parse_maps_line(""));
  CHECK(!parse_maps_line("zz-2000 r-xp 00000000 00:05 7 /x"));
  CHECK(!parse_maps_line("2000-1000 r-xp 00000000 00:05 7 /x"));  // end before start
  CHECK(!parse_maps_line("1000-2000 r-xp"));
  CHECK(parse_maps("1000-2000 r-xp 0 00:01 1 /a\nnot a line\n3000-4000 rw-p 0 00:00 0\n").size() == 2);
}

TEST_CASE("status fields: the value after the colon, by whole key") {
  const std::string status = "Name:\tserver\nTgid:\t4242\nThreads:\t3\nSigPnd:\t0000000000000200\nShdPnd:\t0\n";
  CHECK(status_field(status, "Name") == "server");
  CHECK(status_field(status, "Tgid") == "4242");
  CHECK(status_field(status, "SigPnd") == "0000000000000200");
  CHECK(status_field(status, "Pnd").empty());  // not a key, only the end of one
  CHECK(status_field(status, "Seccomp").empty());
}

TEST_CASE("stat lines: state, parent and flags after a name that may hold spaces and parentheses") {
  auto st = parse_proc_stat("4242 (my (odd) name) S 17 4242 4242 0 -1 4194560 120 0 0 0 5 3 0 0 20 0 1 0\n");
  REQUIRE(st);
  CHECK(st->state == 'S');
  CHECK(st->ppid == 17);
  CHECK(st->flags == 4194560u);
  CHECK_FALSE(st->flags & kPfKthread);
  auto kthread = parse_proc_stat("2 (kthreadd) S 0 0 0 0 -1 2129984 0");
  REQUIRE(kthread);
  CHECK(kthread->flags & kPfKthread);
  CHECK(parse_proc_stat("9 (z) Z 1 9 9 0 -1 4227084")->state == 'Z');
  CHECK_FALSE(parse_proc_stat("no parenthesis S 1 2 3 4 5 6"));
  CHECK_FALSE(parse_proc_stat("9 (cut) S 1 9"));           // too few fields
  CHECK_FALSE(parse_proc_stat("9 (x) S one 9 9 0 -1 64"));  // ppid not a number
  CHECK_FALSE(parse_proc_stat("9 (x) SS 1 9 9 0 -1 64"));   // state is one letter
}

TEST_CASE("stat of this process: its parent, not a kernel thread, and none for a pid that never was") {
  auto me = read_proc_stat(::getpid());
  REQUIRE(me);
  CHECK(me->ppid == ::getppid());
  CHECK_FALSE(me->flags & kPfKthread);
  CHECK_FALSE(read_proc_stat(0x7fffffff));
}

TEST_CASE("the ELF reader finds libc's dlopen where the dynamic linker put it") {
  void* dlopen_here = ::dlsym(RTLD_DEFAULT, "dlopen");
  Dl_info info{};
  REQUIRE(::dladdr(dlopen_here, &info) != 0);
  auto libc = ElfFile::open(info.dli_fname);
  REQUIRE(libc);
  CHECK(libc->elf_class() == 64);
  CHECK(!libc->build_id().empty());
  // The bias of a shared library whose first segment is at address 0 is
  // where it was loaded (dladdr's base).
  REQUIRE(!libc->segments().empty());
  CHECK(libc->segments().front().vaddr == 0);
  auto value = libc->dynamic_symbol("dlopen");
  REQUIRE(value);
  CHECK(reinterpret_cast<uintptr_t>(info.dli_fbase) + *value == reinterpret_cast<uintptr_t>(dlopen_here));
  auto missing = libc->dynamic_symbol("no_such_function_here");
  REQUIRE(!missing);
  CHECK(missing.error().message().find("does not define no_such_function_here") != std::string::npos);
  auto self = ElfFile::open("/proc/self/exe");
  REQUIRE(self);
  CHECK(self->has_interpreter());
  CHECK(!ElfFile::open("/proc/self/status"));  // not ELF
}

TEST_CASE("a thread interrupted in a system call resumes by making the call again, as the kernel's restart would") {
  using inject::resume_after_stop;
  const uint64_t rip = 0x1002;
  // -ERESTARTSYS, -ERESTARTNOINTR, -ERESTARTNOHAND and our interrupt's EINTR.
  for (long code : {-512L, -513L, -514L, static_cast<long>(-EINTR)}) {
    auto r = resume_after_stop(rip, SYS_read, code);
    CHECK(r.rip == rip - 2);
    CHECK(r.rax == SYS_read);
  }
  auto sleep = resume_after_stop(rip, SYS_clock_nanosleep, -516);  // -ERESTART_RESTARTBLOCK
  CHECK(sleep.rip == rip - 2);
  CHECK(sleep.rax == SYS_restart_syscall);
  auto done = resume_after_stop(rip, SYS_read, 8);  // finished: goes on after it
  CHECK(done.rip == rip);
  CHECK(done.rax == 8);
  auto error = resume_after_stop(rip, SYS_read, -EAGAIN);
  CHECK(error.rip == rip);
  CHECK(static_cast<long>(error.rax) == -EAGAIN);
  auto user = resume_after_stop(rip, -1, -512);  // not in a system call
  CHECK(user.rip == rip);
}

TEST_CASE("the loader runs only from blocking calls in which the C library holds no lock") {
  for (long nr : {long{SYS_read}, long{SYS_futex}, long{SYS_nanosleep}, long{SYS_clock_nanosleep}, long{SYS_epoll_wait}, long{SYS_accept4}, long{SYS_poll}}) {
    CHECK(inject::loadable_from_syscall(nr));
  }
  // malloc holds its arena lock around these.
  for (long nr : {long{SYS_mmap}, long{SYS_munmap}, long{SYS_brk}, long{SYS_madvise}, long{SYS_mprotect}, -1L}) CHECK(!inject::loadable_from_syscall(nr));
}

TEST_CASE("preflight: each refusal names the problem and the fix") {
  using namespace inject;
  ProcessFacts ok;
  ok.pid = 4242;
  ok.exists = true;
  ok.tgid = 4242;
  ok.uid = ok.euid = 1000;
  ok.maps_readable = true;
  ok.elf_class = 64;
  ok.dynamic = true;
  ok.comm = "server";
  Caller me;
  me.pid = 100;
  me.euid = 1000;
  CHECK(judge(ok, me).refuse == 0);
  CHECK(judge(ok, me).no_agent.empty());

  auto refusal = [&](ProcessFacts f, Caller c = Caller{100, 1000, false, false}) { return judge(f, c); };
  ProcessFacts f = ok;
  f.exists = false;
  CHECK(refusal(f).refuse == 2);
  CHECK(refusal(f).refusal.find("no process 4242") != std::string::npos);
  f = ok;
  f.tgid = 4000;
  CHECK(refusal(f).refusal == "4242 is a thread of process 4000, not a process: run dial9 attach 4000");
  f = ok;
  f.kernel_thread = true;
  CHECK(refusal(f).refuse == 2);
  f = ok;
  f.is_dial9 = true;
  CHECK(refusal(f).refusal.find("dial9 itself") != std::string::npos);
  f = ok;
  f.zombie = true;
  f.live_threads = false;
  CHECK(refusal(f).refusal == "process 4242 has exited");
  f.live_threads = true;  // its main thread exited, others run on
  CHECK(refusal(f).refuse == 0);
  f = ok;
  f.euid = f.uid = 0;
  CHECK(refusal(f).refuse == 1);
  CHECK(refusal(f).refusal.find("CAP_SYS_PTRACE") != std::string::npos);
  CHECK(refusal(f, Caller{100, 0, false, false}).refuse == 0);  // root may
  CHECK(refusal(f, Caller{100, 1000, true, false}).refuse == 0);  // so may CAP_SYS_PTRACE
  f = ok;
  f.maps_readable = false;
  CHECK(refusal(f).refusal.find("not dumpable") != std::string::npos);

  // What keeps only the agent out.
  f = ok;
  f.seccomp = 2;
  CHECK(refusal(f).refuse == 0);
  CHECK(refusal(f).no_agent.find("--force") != std::string::npos);
  CHECK(refusal(f, Caller{100, 1000, false, true}).no_agent.empty());
  f = ok;
  f.elf_class = 32;
  CHECK(refusal(f).no_agent.find("32-bit") != std::string::npos);
  f = ok;
  f.dynamic = false;
  CHECK(refusal(f).no_agent.find("statically linked") != std::string::npos);
  f = ok;
  f.yama_scope = 1;
  CHECK(refusal(f).no_agent.find("ptrace_scope=1") != std::string::npos);
  CHECK(refusal(f, Caller{100, 0, false, false}).no_agent.empty());
}
