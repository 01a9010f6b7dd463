// Scheduler capture's pure parts: tracepoint formats, raw fields, the
// wakeup filter, switch-out states, schedstat text and the events' attrs.
#include <catch2/catch.hpp>

#include <cstring>
#include <string>

#include "capture/event_spec.h"
#include "capture/sched_capture.h"
#include "capture/tracefs.h"

using namespace dial9::capture;
using dial9::format::ThreadState;

namespace {

// As Linux 6.1 prints it (tabs and all).
constexpr const char* kSwitchFormat =
    "name: sched_switch\n"
    "ID: 372\n"
    "format:\n"
    "\tfield:unsigned short common_type;\toffset:0;\tsize:2;\tsigned:0;\n"
    "\tfield:unsigned char common_flags;\toffset:2;\tsize:1;\tsigned:0;\n"
    "\tfield:unsigned char common_preempt_count;\toffset:3;\tsize:1;\tsigned:0;\n"
    "\tfield:int common_pid;\toffset:4;\tsize:4;\tsigned:1;\n"
    "\n"
    "\tfield:char prev_comm[16];\toffset:8;\tsize:16;\tsigned:0;\n"
    "\tfield:pid_t prev_pid;\toffset:24;\tsize:4;\tsigned:1;\n"
    "\tfield:int prev_prio;\toffset:28;\tsize:4;\tsigned:1;\n"
    "\tfield:long prev_state;\toffset:32;\tsize:8;\tsigned:1;\n"
    "\tfield:char next_comm[16];\toffset:40;\tsize:16;\tsigned:0;\n"
    "\tfield:pid_t next_pid;\toffset:56;\tsize:4;\tsigned:1;\n"
    "\tfield:int next_prio;\toffset:60;\tsize:4;\tsigned:1;\n"
    "\n"
    "print fmt: \"prev_comm=%s prev_pid=%d\", REC->prev_comm, REC->prev_pid\n";

}  // namespace

TEST_CASE("a tracepoint format file gives the id and each field's place") {
  auto tp = parse_tracepoint_format(kSwitchFormat);
  REQUIRE(tp);
  CHECK(tp->id == 372);
  const TracepointField* state = tp->field("prev_state");
  REQUIRE(state != nullptr);
  CHECK((state->offset == 32 && state->size == 8 && state->is_signed));
  const TracepointField* comm = tp->field("next_comm");
  REQUIRE(comm != nullptr);
  CHECK((comm->offset == 40 && comm->size == 16 && !comm->is_signed));
  CHECK(tp->field("common_pid") != nullptr);
  CHECK(tp->field("nothing") == nullptr);
  CHECK_FALSE(parse_tracepoint_format("name: x\nformat:\n"));
}

TEST_CASE("raw fields are read at their offset, sign-extended, and never past the end") {
  std::vector<uint8_t> raw(64, 0);
  int32_t pid = 4242;
  std::memcpy(raw.data() + 24, &pid, 4);
  int64_t state = 0x100;
  std::memcpy(raw.data() + 32, &state, 8);
  int32_t neg = -3;
  std::memcpy(raw.data() + 56, &neg, 4);
  CHECK(read_raw_field(raw, {"prev_pid", 24, 4, true}) == 4242);
  CHECK(read_raw_field(raw, {"prev_state", 32, 8, true}) == 0x100);
  CHECK(read_raw_field(raw, {"next_pid", 56, 4, true}) == -3);
  CHECK(read_raw_field(raw, {"next_pid", 56, 4, false}) == 0xfffffffd);
  CHECK_FALSE(read_raw_field(raw, {"far", 62, 4, true}));
  CHECK_FALSE(read_raw_field(raw, {"comm", 8, 16, false}));  // not an integer
}

TEST_CASE("the wakeup filter names each thread, with runs of ids as ranges") {
  CHECK(tid_filter("pid", {7}) == "pid == 7");
  CHECK(tid_filter("pid", {9, 7, 7}) == "pid == 7 || pid == 9");
  CHECK(tid_filter("pid", {10, 11}) == "pid == 10 || pid == 11");
  CHECK(tid_filter("pid", {5, 10, 11, 12, 13, 20}) == "pid == 5 || (pid >= 10 && pid <= 13) || pid == 20");
  // A page of filter is the kernel's limit: past it, no filter at all.
  std::vector<uint32_t> scattered;
  for (uint32_t i = 0; i < 2000; ++i) scattered.push_back(100000 + 2 * i);
  CHECK(tid_filter("pid", scattered).empty());
  // The same number of threads in one run is one range.
  std::vector<uint32_t> pool;
  for (uint32_t i = 0; i < 2000; ++i) pool.push_back(100000 + i);
  CHECK(tid_filter("pid", pool) == "(pid >= 100000 && pid <= 101999)");
}

TEST_CASE("the wakeup filter admits a window of ids after the newest thread, for threads not yet seen") {
  CHECK(tid_filter("pid", {7}, 3) == "(pid >= 7 && pid <= 10)");
  CHECK(tid_filter("pid", {20, 5}, 2) == "pid == 5 || (pid >= 20 && pid <= 22)");
  CHECK(tid_filter("pid", {20, 5}, 0) == "pid == 5 || pid == 20");
  // Never past the largest id Linux hands out (2^22).
  CHECK(tid_filter("pid", {(1u << 22) - 2}, 64) == "pid == 4194302 || pid == 4194303");
}

TEST_CASE("the switch-out filter keeps switch-outs whose prev_state has a TASK_REPORT bit") {
  CHECK(blocking_switch_filter("prev_state") == "prev_state & 255");
  // The converter's reading of the same field agrees on what passes:
  // a preempted switch-out (a bit above 0xff, or 0) is runnable.
  bool dead = false;
  CHECK(state_from_prev_state(0x100, dead) == ThreadState::kRunnable);
  CHECK(state_from_prev_state(0, dead) == ThreadState::kRunnable);
  CHECK(state_from_prev_state(0x1, dead) == ThreadState::kSleeping);
}

TEST_CASE("the wakeup filter's window leaves out other processes' threads it let through") {
  const std::vector<uint32_t> outsiders{12, 13, 30};
  CHECK(tid_filter("pid", {7}, 8, outsiders) == "(pid >= 7 && pid <= 11) || pid == 14 || pid == 15");
  // Only the window loses them: a thread of the target is always named.
  CHECK(tid_filter("pid", {7, 12}, 2, outsiders) == "pid == 7 || pid == 12 || pid == 14");
}

TEST_CASE("a switch-out's prev_state says runnable, sleeping, uninterruptible, stopped or dead") {
  bool dead = false;
  CHECK(state_from_prev_state(0, dead) == ThreadState::kRunnable);       // R (yield)
  CHECK(state_from_prev_state(0x100, dead) == ThreadState::kRunnable);   // R+ (preempted)
  CHECK(state_from_prev_state(0x1, dead) == ThreadState::kSleeping);     // S
  CHECK(state_from_prev_state(0x2, dead) == ThreadState::kUninterruptible);  // D
  CHECK(state_from_prev_state(0x4, dead) == ThreadState::kStopped);      // T
  CHECK(state_from_prev_state(0x8, dead) == ThreadState::kStopped);      // t
  CHECK(state_from_prev_state(0x80, dead) == ThreadState::kSleeping);    // I
  CHECK(state_from_prev_state(0x40, dead) == ThreadState::kBlocked);     // P
  CHECK_FALSE(dead);
  state_from_prev_state(0x10, dead);  // X
  CHECK(dead);
  state_from_prev_state(0x20, dead);  // Z
  CHECK(dead);
}

TEST_CASE("schedstat text gives run, wait and timeslices") {
  dial9::format::SchedStat st;
  REQUIRE(parse_schedstat("1234567 89012 345\n", st));
  CHECK((st.run_ns == 1234567 && st.wait_ns == 89012 && st.timeslices == 345));
  CHECK_FALSE(parse_schedstat("12 34\n", st));
  CHECK_FALSE(parse_schedstat("", st));
}

TEST_CASE("the sched metadata lists what was captured") {
  SchedCapabilities c;
  CHECK(sched_metadata(c) == "off");
  c.switches = c.schedstat = true;
  CHECK(sched_metadata(c) == "switches,schedstat");
  c.stacks = SwitchStackSource::kContextSwitchEvent;
  CHECK(sched_metadata(c) == "switches,stacks,schedstat");
  c.stacks = SwitchStackSource::kSchedSwitchTracepoint;
  c.wakers = c.waker_stacks = true;
  CHECK(sched_metadata(c) == "switches,stacks,states,wakers,waker_stacks,schedstat");
}

TEST_CASE("switch-out events follow the sampling event and sample every switch") {
  SamplingSpec spec;
  spec.user_stack_bytes = kAutoStackBytes;
  spec.kernel = false;  // --no-kernel: no kernel frames, but the event itself must still fire
  spec.enable_on_exec = true;
  auto sampling = build_attr(spec);
  REQUIRE(sampling);
  sampling->context_switch = 1;
  perf_event_attr tp = switch_out_attr(*sampling, SwitchStackSource::kSchedSwitchTracepoint, 372);
  CHECK((tp.type == PERF_TYPE_TRACEPOINT && tp.config == 372));
  CHECK((tp.sample_type & PERF_SAMPLE_RAW) != 0);
  CHECK((tp.sample_period == 1 && tp.freq == 0));
  CHECK(tp.exclude_kernel == 0);
  CHECK(tp.exclude_callchain_kernel == 1);
  CHECK(tp.sample_stack_user == kSwitchStackBytes);
  CHECK((tp.inherit == 1 && tp.enable_on_exec == 1 && tp.use_clockid == 1));
  CHECK((tp.mmap == 0 && tp.comm == 0 && tp.task == 0 && tp.context_switch == 0));
  perf_event_attr cs = switch_out_attr(*sampling, SwitchStackSource::kContextSwitchEvent, 0);
  CHECK((cs.type == PERF_TYPE_SOFTWARE && cs.config == PERF_COUNT_SW_CONTEXT_SWITCHES));
  CHECK((cs.sample_type & PERF_SAMPLE_RAW) == 0);
}

TEST_CASE("wakeup events: raw records on every CPU, callchains only for the sampled ones") {
  SamplingSpec spec;
  spec.event = "cpu-clock";
  spec.kernel = false;
  auto sampling = build_attr(spec);
  REQUIRE(sampling);
  perf_event_attr every = waking_attr(375, 1, false, *sampling);
  CHECK((every.type == PERF_TYPE_TRACEPOINT && every.config == 375 && every.sample_period == 1));
  CHECK((every.sample_type & PERF_SAMPLE_RAW) != 0);
  CHECK((every.sample_type & (PERF_SAMPLE_CALLCHAIN | PERF_SAMPLE_STACK_USER)) == 0);
  CHECK((every.inherit == 0 && every.use_clockid == 1 && every.sample_id_all == 1));
  perf_event_attr stacks = waking_attr(375, 8, true, *sampling);
  CHECK(stacks.sample_period == 8);
  // PERF_SAMPLE_PERIOD would make the kernel sample every occurrence.
  CHECK((stacks.sample_type & PERF_SAMPLE_PERIOD) == 0);
  CHECK((stacks.sample_type & PERF_SAMPLE_CALLCHAIN) != 0);
  CHECK(stacks.exclude_callchain_kernel == 1);
  // Frame-pointer sampling: no stack copy for the waker either.
  CHECK((stacks.sample_type & PERF_SAMPLE_STACK_USER) == 0);
}

TEST_CASE("waker stacks copy a little user stack when sampling does, so the unwinder finds the caller") {
  SamplingSpec spec;
  spec.event = "cpu-clock";
  spec.user_stack_bytes = 2048;
  auto sampling = build_attr(spec);
  REQUIRE(sampling);
  REQUIRE((sampling->sample_type & PERF_SAMPLE_STACK_USER) != 0);
  perf_event_attr stacks = waking_attr(375, 8, true, *sampling);
  CHECK((stacks.sample_type & (PERF_SAMPLE_REGS_USER | PERF_SAMPLE_STACK_USER)) ==
        (PERF_SAMPLE_REGS_USER | PERF_SAMPLE_STACK_USER));
  CHECK(stacks.sample_regs_user == sampling->sample_regs_user);
  CHECK(stacks.sample_stack_user == kSwitchStackBytes);
  CHECK(stacks.exclude_callchain_kernel == 0);
  // The every-wakeup event never carries a stack.
  CHECK((waking_attr(375, 1, false, *sampling).sample_type & PERF_SAMPLE_STACK_USER) == 0);
}

TEST_CASE("the two records of one wakeup pair up, and a different CPU, thread, waker or a later wakeup does not") {
  const WakingHit w{1'000'000, 1, 42, 7};
  WakingHit s = w;
  s.time = w.time - 3'000;  // the stack record, taken a few microseconds earlier
  CHECK(same_wakeup(w, s));
  CHECK(same_wakeup(s, w));
  WakingHit other = s;
  other.cpu = 0;
  CHECK_FALSE(same_wakeup(w, other));
  other = s;
  other.woken = 43;
  CHECK_FALSE(same_wakeup(w, other));
  other = s;
  other.waker_tid = 0;
  CHECK_FALSE(same_wakeup(w, other));
  other = s;
  other.time = w.time + kSameWakeupNs + 1;
  CHECK_FALSE(same_wakeup(w, other));
}

TEST_CASE("a wakeup in interrupt context names the interrupt, not the bystander thread") {
  CHECK(interrupt_context(0) == nullptr);
  CHECK(interrupt_context(0x01 | 0x04) == nullptr);  // irqs off, need-resched: still a thread
  CHECK(std::string(interrupt_context(0x08)) == "hardirq");
  CHECK(std::string(interrupt_context(0x10)) == "softirq");
  CHECK(std::string(interrupt_context(0x48)) == "nmi");
}

TEST_CASE("rings of stack records grow to 4x the sampling rings within a budget over all CPUs") {
  // 2 CPUs, 4 KiB pages, 128-page sampling rings: 512 pages (2 MiB) each.
  CHECK(sched_ring_pages(128, 2, 4096) == 512);
  // 8 CPUs: 4 MiB / 8 = 128 pages each, no more than the sampling rings.
  CHECK(sched_ring_pages(128, 8, 4096) == 128);
  // Many CPUs: never below the sampling rings.
  CHECK(sched_ring_pages(128, 64, 4096) == 128);
  CHECK(sched_ring_pages(64, 4, 4096) == 256);
  CHECK(sched_ring_pages(8, 1, 4096) == 32);
}
