#include "capture/event_spec.h"

#if defined(__x86_64__)
#include <asm/perf_regs.h>
#endif

#include <perfmon/pfmlib_perf_event.h>

#include <algorithm>
#include <cctype>
#include <cstdlib>
#include <cstring>
#include <ctime>
#include <mutex>

#include "base/text.h"

namespace dial9::capture {
namespace {

std::mutex g_pfm_mu;
bool g_pfm_ready = false;
std::vector<std::string> g_names;

std::string lower(std::string_view s) {
  std::string out(s);
  for (char& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

// Caller holds g_pfm_mu.
void init_locked() {
  if (g_pfm_ready) return;
  g_pfm_ready = pfm_initialize() == PFM_SUCCESS;
  g_names.clear();
  if (!g_pfm_ready) return;
  std::vector<std::string> generic, specific;
  for (int p = PFM_PMU_NONE; p < PFM_PMU_MAX; ++p) {
    pfm_pmu_info_t pmu{};
    pmu.size = sizeof pmu;
    if (pfm_get_pmu_info(static_cast<pfm_pmu_t>(p), &pmu) != PFM_SUCCESS || !pmu.is_present) continue;
    bool is_perf = p == PFM_PMU_PERF_EVENT;
    for (int i = pmu.first_event; i != -1; i = pfm_get_event_next(i)) {
      pfm_event_info_t ev{};
      ev.size = sizeof ev;
      if (pfm_get_event_info(i, PFM_OS_PERF_EVENT_EXT, &ev) != PFM_SUCCESS) continue;
      std::string name = lower(ev.name);
      // perf's own canonical spellings (PERF_COUNT_HW_...) are noise next
      // to their aliases; PMU-specific events are written with their PMU.
      if (is_perf) {
        if (name.rfind("perf_count_", 0) != 0) generic.push_back(name);
      } else if (p != PFM_PMU_PERF_EVENT_RAW) {
        specific.push_back(std::string(pmu.name) + "::" + ev.name);
      }
    }
  }
  g_names = generic;
  g_names.insert(g_names.end(), specific.begin(), specific.end());
}

}  // namespace

void reinitialize_event_tables() {
  std::lock_guard<std::mutex> lk(g_pfm_mu);
  if (g_pfm_ready) pfm_terminate();
  g_pfm_ready = false;
  init_locked();
}

const std::vector<std::string>& known_event_names() {
  std::lock_guard<std::mutex> lk(g_pfm_mu);
  init_locked();
  return g_names;
}

std::vector<std::string> closest_event_names(std::string_view unknown, size_t n) {
  return closest_names(unknown, known_event_names(), n);
}

Result<std::vector<std::string>> split_event_list(std::string_view list) {
  std::vector<std::string> out;
  size_t start = 0;
  for (;;) {
    size_t comma = list.find(',', start);
    std::string_view item = list.substr(start, comma == std::string_view::npos ? list.npos : comma - start);
    if (item.empty()) return fail("empty event name in '" + std::string(list) + "'");
    out.emplace_back(item);
    if (comma == std::string_view::npos) break;
    start = comma + 1;
  }
  return out;
}

Result<CallGraph> parse_call_graph(std::string_view text) {
  auto bad = [&] {
    return fail("--call-graph: expected fp, auto, dwarf or dwarf,BYTES (8 to " + std::to_string(kMaxUserStackBytes) +
                "), not '" + std::string(text) + "'");
  };
  std::string_view mode = text.substr(0, text.find(','));
  CallGraph cg;
  cg.mode = std::string(mode);
  if (mode == "fp") {
    cg.user_stack_bytes = 0;
  } else if (mode == "auto") {
    cg.user_stack_bytes = kAutoStackBytes;
  } else if (mode == "dwarf") {
    cg.user_stack_bytes = kDwarfStackBytes;
  } else {
    return bad();
  }
  if (mode.size() < text.size()) {
    if (mode == "fp") return bad();
    std::string_view size = text.substr(mode.size() + 1);
    uint64_t n = 0;
    if (size.empty() || size.size() > 6) return bad();
    for (char ch : size) {
      if (ch < '0' || ch > '9') return bad();
      n = n * 10 + static_cast<uint64_t>(ch - '0');
    }
    // The kernel takes whole u64 words, as perf rounds.
    n = (n + 7) / 8 * 8;
    if (n == 0 || n > kMaxUserStackBytes) return bad();
    cg.user_stack_bytes = static_cast<uint32_t>(n);
  }
  return cg;
}

uint64_t user_regs_mask() {
#if defined(__x86_64__)
  // CFI on x86-64 defines the caller's frame from rsp or rbp; the other
  // registers are not needed to find return addresses.
  return (1ull << PERF_REG_X86_BP) | (1ull << PERF_REG_X86_SP) | (1ull << PERF_REG_X86_IP);
#else
  return 0;
#endif
}

bool user_regs_from(std::span<const uint64_t> values, UserRegs& out) {
#if defined(__x86_64__)
  // Values come in mask bit order: BP (6), SP (7), IP (8).
  if (values.size() != 3) return false;
  out.bp = values[0];
  out.sp = values[1];
  out.ip = values[2];
  return true;
#else
  (void)values;
  (void)out;
  return false;
#endif
}

Result<perf_event_attr> build_attr(const SamplingSpec& spec) {
  if (spec.period == 0 && spec.frequency_hz == 0) {
    return fail("the sampling frequency must be a positive number of Hz (for example -F 999)");
  }
  perf_event_attr attr{};
  int r;
  {
    std::lock_guard<std::mutex> lk(g_pfm_mu);
    init_locked();
    if (!g_pfm_ready) return fail("cannot initialise libpfm4's event tables");
    pfm_perf_encode_arg_t arg{};
    arg.attr = &attr;
    arg.size = sizeof arg;
    // Privilege levels are set below from spec.kernel, not by libpfm4.
    r = pfm_get_os_event_encoding(spec.event.c_str(), PFM_PLM0 | PFM_PLM3, PFM_OS_PERF_EVENT_EXT, &arg);
  }
  if (r != PFM_SUCCESS) {
    std::string msg = r == PFM_ERR_NOTFOUND
                          ? "unknown event '" + spec.event + "'"
                          : "cannot use event '" + spec.event + "': " + pfm_strerror(r);
    std::string hint;
    for (const auto& n : closest_event_names(spec.event, 5)) hint += (hint.empty() ? "" : ", ") + n;
    return fail(msg + (hint.empty() ? "" : "; closest known events: " + hint));
  }
  attr.size = sizeof attr;
  attr.sample_type = kSampleType;
  if (spec.callchain) attr.sample_type |= PERF_SAMPLE_CALLCHAIN;
  if (spec.user_stack_bytes != 0) {
    if (spec.user_stack_bytes % 8 != 0 || spec.user_stack_bytes > kMaxUserStackBytes) {
      return fail("the stack copy size must be a multiple of 8 bytes up to " + std::to_string(kMaxUserStackBytes) +
                  ", not " + std::to_string(spec.user_stack_bytes));
    }
    if (user_regs_mask() == 0) return fail("DWARF unwinding is supported on x86-64 only; use --call-graph fp");
    attr.sample_type |= PERF_SAMPLE_REGS_USER | PERF_SAMPLE_STACK_USER;
    attr.sample_regs_user = user_regs_mask();
    attr.sample_stack_user = spec.user_stack_bytes;
  }
  if (spec.period != 0) {
    attr.freq = 0;
    attr.sample_period = spec.period;
  } else {
    attr.freq = 1;
    attr.sample_freq = spec.frequency_hz;
  }
  attr.exclude_kernel = spec.kernel ? 0 : 1;
  attr.exclude_callchain_kernel = spec.kernel ? 0 : 1;
  attr.exclude_hv = 1;
  attr.exclude_guest = 1;
  attr.inherit = spec.inherit ? 1 : 0;
  attr.enable_on_exec = spec.enable_on_exec ? 1 : 0;
  attr.disabled = spec.enable_on_exec ? 1 : 0;
  // Side-band records (mmap, comm, fork/exit) carry tid, time and cpu too,
  // so they can be ordered with the samples.
  // Timestamps in CLOCK_MONOTONIC, the clock of every TRC timestamp.
  attr.use_clockid = 1;
  attr.clockid = CLOCK_MONOTONIC;
  attr.sample_id_all = 1;
  // read() then returns the samples the event lost, including those the
  // kernel never got to report as PERF_RECORD_LOST (Linux 6.0+; the session
  // retries without it on older kernels).
  attr.read_format = PERF_FORMAT_LOST;
  attr.mmap = 1;
  attr.mmap2 = 1;
  // Build ids in mmap records (Linux 5.12+), so a trace can be symbolized
  // after the binaries changed or on another machine.
  attr.build_id = 1;
  attr.comm = 1;
  attr.comm_exec = 1;
  attr.task = 1;
  attr.wakeup_events = 0;
  attr.watermark = 1;
  attr.wakeup_watermark = 0;  // set by the session from its ring size
  return attr;
}

bool cpu_wide_sampling_suits(const perf_event_attr& sampling) {
  return sampling.type == PERF_TYPE_SOFTWARE && sampling.config == PERF_COUNT_SW_CPU_CLOCK;
}

perf_event_attr cpu_wide_sampling_attr(const perf_event_attr& sampling) {
  perf_event_attr a = sampling;
  a.inherit = 0;
  a.enable_on_exec = 0;
  a.disabled = 0;
  a.exclude_idle = 1;
  if (!side_band_every_cpu(sampling)) a.mmap = a.mmap2 = a.build_id = a.comm = a.comm_exec = a.task = 0;
  a.context_switch = 0;
  return a;
}

bool side_band_every_cpu(const perf_event_attr& sampling) { return sampling.context_switch == 0; }

perf_event_attr tracking_attr(const perf_event_attr& sampling) {
  perf_event_attr a = sampling;
  a.type = PERF_TYPE_SOFTWARE;
  a.config = PERF_COUNT_SW_DUMMY;
  a.config1 = a.config2 = 0;
  // A dummy event never overflows; a period keeps the kernel from treating
  // it as a frequency to reach.
  a.freq = 0;
  a.sample_period = 1;
  a.exclude_kernel = 1;
  a.exclude_callchain_kernel = 1;
  return a;
}

std::string pfm_library_version() {
  int v = pfm_get_version();
  return "libpfm4 (API " + std::to_string(PFM_MAJ_VERSION(v)) + "." + std::to_string(PFM_MIN_VERSION(v)) + ")";
}

}  // namespace dial9::capture
