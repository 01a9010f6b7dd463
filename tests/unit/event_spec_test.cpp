#include <catch2/catch.hpp>

#include <cstdlib>
#include <ctime>

#include "capture/event_spec.h"

using namespace dial9::capture;

namespace {

perf_event_attr attr_of(SamplingSpec s) {
  auto a = build_attr(s);
  INFO((a ? std::string() : a.error().message()));
  REQUIRE(a);
  return *a;
}

}  // namespace

TEST_CASE("perf's generic event names encode to their fixed type and config") {
  struct Golden {
    const char* name;
    uint32_t type;
    uint64_t config;
  };
  const Golden golden[] = {
      {"cpu-clock", PERF_TYPE_SOFTWARE, PERF_COUNT_SW_CPU_CLOCK},
      {"task-clock", PERF_TYPE_SOFTWARE, PERF_COUNT_SW_TASK_CLOCK},
      {"page-faults", PERF_TYPE_SOFTWARE, PERF_COUNT_SW_PAGE_FAULTS},
      {"cycles", PERF_TYPE_HARDWARE, PERF_COUNT_HW_CPU_CYCLES},
      {"cpu-cycles", PERF_TYPE_HARDWARE, PERF_COUNT_HW_CPU_CYCLES},
      {"instructions", PERF_TYPE_HARDWARE, PERF_COUNT_HW_INSTRUCTIONS},
      {"CPU-CLOCK", PERF_TYPE_SOFTWARE, PERF_COUNT_SW_CPU_CLOCK},  // case does not matter
  };
  for (const Golden& g : golden) {
    INFO(g.name);
    SamplingSpec s;
    s.event = g.name;
    perf_event_attr a = attr_of(s);
    CHECK(a.type == g.type);
    CHECK(a.config == g.config);
    CHECK(a.size == sizeof(perf_event_attr));
  }
}

TEST_CASE("sampling settings: frequency or period, kernel, callchains, inheritance") {
  SamplingSpec s;
  s.event = "cpu-clock";
  perf_event_attr a = attr_of(s);
  CHECK(a.freq == 1);
  CHECK(a.sample_freq == 999);
  CHECK(a.sample_type == (kSampleType | PERF_SAMPLE_CALLCHAIN));
  CHECK(a.exclude_kernel == 0);
  CHECK(a.exclude_callchain_kernel == 0);
  CHECK(a.inherit == 1);
  CHECK(a.sample_id_all == 1);
  CHECK((a.use_clockid == 1 && a.clockid == CLOCK_MONOTONIC));
  CHECK(a.read_format == PERF_FORMAT_LOST);
  CHECK(a.build_id == 1);
  CHECK((a.mmap2 == 1 && a.comm == 1 && a.comm_exec == 1 && a.task == 1));
  CHECK((a.disabled == 0 && a.enable_on_exec == 0));

  s.period = 10000;
  s.kernel = false;
  s.callchain = false;
  s.inherit = false;
  s.enable_on_exec = true;
  a = attr_of(s);
  CHECK(a.freq == 0);
  CHECK(a.sample_period == 10000);
  CHECK(a.sample_type == kSampleType);
  CHECK((a.exclude_kernel == 1 && a.exclude_callchain_kernel == 1));
  CHECK(a.inherit == 0);
  CHECK((a.disabled == 1 && a.enable_on_exec == 1));  // armed, counting from exec

  SamplingSpec zero;
  zero.frequency_hz = 0;
  auto bad = build_attr(zero);
  REQUIRE_FALSE(bad);
  CHECK_THAT(bad.error().message(), Catch::Contains("positive"));
}

TEST_CASE("cpu-clock may sample every CPU, with the side band there too or on a dummy event following the program") {
  SamplingSpec s;
  s.event = "cpu-clock";
  s.user_stack_bytes = 2048;
  s.enable_on_exec = true;
  const perf_event_attr a = attr_of(s);
  CHECK(cpu_wide_sampling_suits(a));
  for (const char* other : {"task-clock", "page-faults"}) {
    SamplingSpec o;
    o.event = other;
    CHECK_FALSE(cpu_wide_sampling_suits(attr_of(o)));
  }

  const perf_event_attr c = cpu_wide_sampling_attr(a);
  CHECK((c.type == a.type && c.config == a.config && c.freq == 1 && c.sample_freq == 999));
  CHECK(c.sample_type == a.sample_type);  // it shares the tracking event's rings
  CHECK(c.sample_stack_user == 2048);
  CHECK((c.inherit == 0 && c.enable_on_exec == 0 && c.disabled == 0));
  CHECK(c.exclude_idle == 1);
  CHECK((c.use_clockid == 1 && c.clockid == CLOCK_MONOTONIC && c.sample_id_all == 1));
  // Without switch records, the side band comes from every CPU as well:
  // no per-task event at all.
  REQUIRE(side_band_every_cpu(a));
  CHECK((c.mmap == 1 && c.mmap2 == 1 && c.comm == 1 && c.comm_exec == 1 && c.task == 1 && c.build_id == 1));
  CHECK(c.context_switch == 0);

  // Switch records only come per task: the dummy event carries the side band.
  perf_event_attr with_switches = a;
  with_switches.context_switch = 1;
  REQUIRE_FALSE(side_band_every_cpu(with_switches));
  const perf_event_attr cs = cpu_wide_sampling_attr(with_switches);
  CHECK((cs.mmap == 0 && cs.mmap2 == 0 && cs.comm == 0 && cs.task == 0 && cs.context_switch == 0 && cs.build_id == 0));
  const perf_event_attr t = tracking_attr(with_switches);
  CHECK((t.type == PERF_TYPE_SOFTWARE && t.config == PERF_COUNT_SW_DUMMY));
  CHECK((t.freq == 0 && t.sample_period == 1));
  CHECK(t.sample_type == a.sample_type);
  CHECK((t.inherit == 1 && t.enable_on_exec == 1 && t.disabled == 1));
  CHECK((t.mmap2 == 1 && t.build_id == 1 && t.comm == 1 && t.comm_exec == 1 && t.task == 1 && t.context_switch == 1));
  CHECK(t.exclude_kernel == 1);  // samples nothing: no privilege needed
  CHECK((t.use_clockid == 1 && t.clockid == CLOCK_MONOTONIC && t.sample_id_all == 1));
  CHECK(t.read_format == PERF_FORMAT_LOST);
}

TEST_CASE("an unknown event names the closest known ones") {
  SamplingSpec s;
  s.event = "cyclez";
  auto a = build_attr(s);
  REQUIRE_FALSE(a);
  CHECK_THAT(a.error().message(), Catch::StartsWith("unknown event 'cyclez'; closest known events: cycles"));
  auto near = closest_event_names("task-clok", 3);
  REQUIRE_FALSE(near.empty());
  CHECK(near[0] == "task-clock");
  const auto& names = known_event_names();
  CHECK(std::find(names.begin(), names.end(), "cpu-clock") != names.end());
  CHECK(std::find(names.begin(), names.end(), "perf_count_sw_cpu_clock") == names.end());
}

TEST_CASE("PMU-specific names encode as raw events (LIBPFM_FORCE_PMU)") {
  // Encode another CPU's events on this machine, whatever PMU it has.
  struct Golden {
    const char* pmu;
    const char* event;
    uint64_t config;
  };
  const Golden golden[] = {
      // config = event | umask << 8, as in the vendors' manuals; privilege
      // and enable bits are the kernel's (exclude_user/exclude_kernel).
      {"amd64_fam17h", "amd64_fam17h::RETIRED_INSTRUCTIONS", 0xc0},  // PPR: event 0xC0
      {"skl", "skl::INST_RETIRED:ANY_P", 0xc0},                      // SDM: 0xC0, umask 0x00
      {"skl", "skl::MEM_LOAD_RETIRED:L1_MISS", 0x8d1},               // SDM: 0xD1, umask 0x08
  };
  for (const Golden& g : golden) {
    INFO(g.event);
    ::setenv("LIBPFM_FORCE_PMU", g.pmu, 1);
    reinitialize_event_tables();
    SamplingSpec s;
    s.event = g.event;
    auto a = build_attr(s);
    ::unsetenv("LIBPFM_FORCE_PMU");
    reinitialize_event_tables();
    INFO((a ? std::string() : a.error().message()));
    REQUIRE(a);
    CHECK(a->type == PERF_TYPE_RAW);
    CHECK(a->config == g.config);
  }
  // Back to this machine's tables.
  SamplingSpec s;
  CHECK(build_attr(s));
}

TEST_CASE("event lists") {
  CHECK(split_event_list("cycles").value() == std::vector<std::string>{"cycles"});
  CHECK(split_event_list("cycles,cpu-clock").value() == std::vector<std::string>{"cycles", "cpu-clock"});
  CHECK_FALSE(split_event_list("cycles,,x"));
  CHECK_FALSE(split_event_list(""));
}

TEST_CASE("call graph modes: fp, auto and dwarf with an optional stack size") {
  auto fp = parse_call_graph("fp");
  REQUIRE(fp);
  CHECK(fp->user_stack_bytes == 0);
  auto au = parse_call_graph("auto");
  REQUIRE(au);
  CHECK(au->user_stack_bytes == kAutoStackBytes);
  auto dw = parse_call_graph("dwarf");
  REQUIRE(dw);
  CHECK(dw->user_stack_bytes == kDwarfStackBytes);
  auto sized = parse_call_graph("dwarf,1001");
  REQUIRE(sized);
  CHECK(sized->user_stack_bytes == 1008);  // whole u64 words, as perf rounds
  for (const char* bad : {"", "lbr", "fp,64", "dwarf,", "dwarf,0", "dwarf,x", "dwarf,70000", "dwarf,-8"}) {
    INFO(bad);
    auto r = parse_call_graph(bad);
    REQUIRE_FALSE(r);
    CHECK(r.error().message().find("expected fp, auto, dwarf") != std::string::npos);
  }
}

TEST_CASE("a stack copy asks for user registers and stack bytes") {
  SamplingSpec s;
  s.user_stack_bytes = 2048;
  auto attr = build_attr(s);
  REQUIRE(attr);
  CHECK((attr->sample_type & PERF_SAMPLE_REGS_USER) != 0);
  CHECK((attr->sample_type & PERF_SAMPLE_STACK_USER) != 0);
  CHECK(attr->sample_stack_user == 2048);
  CHECK(attr->sample_regs_user == user_regs_mask());
  CHECK(attr->sample_regs_user != 0);
  s.user_stack_bytes = 12;  // not whole words
  CHECK_FALSE(build_attr(s));
  s.user_stack_bytes = 0;
  auto plain = build_attr(s);
  REQUIRE(plain);
  CHECK((plain->sample_type & (PERF_SAMPLE_REGS_USER | PERF_SAMPLE_STACK_USER)) == 0);
}
