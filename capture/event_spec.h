// What to sample, as the user says it (`-e cycles -F 999`), turned into a
// perf_event_attr. Event names are resolved through libpfm4: perf's generic
// names (cycles, instructions, cpu-clock, task-clock, page-faults, ...) and,
// where the CPU has them, PMU-specific names (`amd64_fam17h::RETIRED_INSTRUCTIONS`).
//
// build_attr() is a pure function of the spec and libpfm4's tables, so it is
// tested with golden values without privileges; opening the event is the
// session's business.
#pragma once

#include <linux/perf_event.h>

#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "base/result.h"

namespace dial9::capture {

// "libpfm4 (API X.Y)", for `dial9 --version` (the library reports its API
// version, not its package version).
std::string pfm_library_version();

struct SamplingSpec {
  std::string event = "cpu-clock";
  uint64_t frequency_hz = 999;  // samples per second per thread; or
  uint64_t period = 0;          // every `period` events (used when non-zero)
  bool kernel = true;           // kernel samples and kernel callchains
  bool callchain = true;        // user (and, with `kernel`, kernel) callchains
  // Bytes of user stack (and the registers unwinding starts from) copied
  // with each sample, so the controller can unwind through code without
  // frame pointers; 0 for frame pointers only. A multiple of 8, at most
  // kMaxUserStackBytes.
  uint32_t user_stack_bytes = 0;
  bool inherit = true;          // follow threads and child processes
  bool enable_on_exec = false;  // start counting at the target's exec
};

// Fields of every sample dial9 asks for, in the order the kernel writes them.
inline constexpr uint64_t kSampleType = PERF_SAMPLE_IDENTIFIER | PERF_SAMPLE_IP | PERF_SAMPLE_TID |
                                        PERF_SAMPLE_TIME | PERF_SAMPLE_CPU | PERF_SAMPLE_PERIOD;

// The kernel's limit on PERF_SAMPLE_STACK_USER (it must also fit, with the
// rest of the sample, in a 64 KiB record).
inline constexpr uint32_t kMaxUserStackBytes = 65528;

// The user registers an unwinder starts from, taken from a sample's
// PERF_SAMPLE_REGS_USER values (see user_regs_mask()).
struct UserRegs {
  uint64_t ip = 0, sp = 0, bp = 0;
};
// The sample_regs_user mask asking for those registers on this
// architecture; 0 where dial9 cannot unwind from a stack copy (not x86-64).
uint64_t user_regs_mask();
// Picks ip, sp and bp out of values recorded with user_regs_mask(); false
// when the sample carried no user registers.
bool user_regs_from(std::span<const uint64_t> values, UserRegs& out);

// How callchains are taken (`--call-graph`):
//   fp          the kernel's frame-pointer walk only;
//   auto        that, plus a small stack copy per sample, unwound with CFI
//               where frame pointers are missing (the default);
//   dwarf[,N]   a larger copy (N bytes, default 8192, as perf), so CFI
//               unwinding alone reaches deeper.
inline constexpr uint32_t kAutoStackBytes = 2048;
inline constexpr uint32_t kDwarfStackBytes = 8192;
struct CallGraph {
  std::string mode = "auto";
  uint32_t user_stack_bytes = kAutoStackBytes;
};
// Errors name the accepted forms.
Result<CallGraph> parse_call_graph(std::string_view text);

// The perf_event_attr for `spec`. Errors: an unknown event (the message names
// the closest known names), a frequency or period of 0, or both at once, a
// stack copy size the kernel cannot take, or a stack copy on an architecture
// dial9 cannot unwind.
Result<perf_event_attr> build_attr(const SamplingSpec& spec);

// Sampling every CPU instead of the program's threads (as `perf record -a`
// does), keeping only the program's samples. A per-task timer event
// (cpu-clock) arms and cancels a kernel timer at each of the program's
// context switches, which is most of what sampling costs a program that
// switches often (bench_pingpong: 1.35x with per-task cpu-clock, 1.03-1.08x
// with a per-task dummy event, 0.9-1.0x with perf -a). So when this is
// allowed (CAP_PERFMON, or kernel.perf_event_paranoid <= 0), the session
// samples with `cpu_wide_sampling_attr` on every CPU.
// Only for cpu-clock: counting events (page faults, or instructions with a
// period) would then sample every process's occurrences, and hardware
// events cost little to switch.
bool cpu_wide_sampling_suits(const perf_event_attr& sampling);
// Where the program's side band (mmap, comm, fork and exit records) comes
// from when sampling every CPU. Any per-task event, even one that samples
// nothing, makes the kernel switch the program's perf context at each of
// its context switches (the 1.03-1.08x above), so the side band comes from
// every CPU too, every process's, and the session keeps the program's
// process tree (fork records whose parent it follows). Except when
// `sampling` asks for switch records (scheduler capture): only a per-task
// event gives those of the program's threads alone, so it carries the side
// band (`tracking_attr`).
bool side_band_every_cpu(const perf_event_attr& sampling);
// `sampling` on every process of one CPU: not inherited, enabled at once
// (the session drops what precedes the program's exec), no samples of the
// idle task, and the side-band records when side_band_every_cpu().
perf_event_attr cpu_wide_sampling_attr(const perf_event_attr& sampling);
// The program's side band (mmap, comm, fork and exit records, and switch
// records) on a software dummy event with `sampling`'s inheritance, exec
// and clock settings and sample layout, so its records share rings with
// cpu_wide_sampling_attr's samples. User-only, as it samples nothing: that
// needs no privilege.
perf_event_attr tracking_attr(const perf_event_attr& sampling);

// The names build_attr() accepts, lower-case, perf's generic ones first.
const std::vector<std::string>& known_event_names();

// Up to `n` known names closest to `unknown` (edit distance), best first.
std::vector<std::string> closest_event_names(std::string_view unknown, size_t n);

// Splits "a,b,c" into names, rejecting empty items.
Result<std::vector<std::string>> split_event_list(std::string_view list);

// Re-reads libpfm4's tables and its LIBPFM_* environment (LIBPFM_FORCE_PMU
// makes a machine encode another CPU's events, for tests).
void reinitialize_event_tables();

}  // namespace dial9::capture
